from __future__ import annotations

from botocore.exceptions import ClientError

from image_pipeline.errors import SourceObjectMissingError, StorageError
from image_pipeline.records import THUMBNAIL_CACHE_CONTROL, SourceObject

_MISSING = {"NoSuchKey", "NoSuchBucket", "404", "NotFound"}


class ObjectStore:
    def __init__(self, s3_client) -> None:
        self._s3 = s3_client

    def read_source(self, bucket: str, key: str) -> tuple[SourceObject, bytes]:
        try:
            response = self._s3.get_object(Bucket=bucket, Key=key)
            data = response["Body"].read()
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code in _MISSING:
                raise SourceObjectMissingError(f"s3://{bucket}/{key} does not exist") from error
            raise StorageError(f"reading s3://{bucket}/{key} failed: {code}") from error
        source = SourceObject(
            bucket=bucket,
            key=key,
            size=len(data),
            etag=response.get("ETag", "").strip('"'),
            content_type=response.get("ContentType", ""),
        )
        return source, data

    def write_thumbnail(self, bucket: str, key: str, data: bytes, content_type: str) -> None:
        try:
            self._s3.put_object(
                Bucket=bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                CacheControl=THUMBNAIL_CACHE_CONTROL,
            )
        except ClientError as error:
            code = error.response["Error"]["Code"]
            raise StorageError(f"writing s3://{bucket}/{key} failed: {code}") from error
