from __future__ import annotations

from botocore.exceptions import ClientError

from image_pipeline.adapters import error_code
from image_pipeline.errors import SourceObjectChangedError, SourceObjectMissingError, StorageError
from image_pipeline.records import RENDITION_CACHE_CONTROL, SourceObject

_MISSING = {"NoSuchKey", "NoSuchBucket", "404", "NotFound"}
_CHANGED = {"PreconditionFailed", "412"}


class ObjectStore:
    def __init__(self, s3_client, presigning_client=None) -> None:
        self._s3 = s3_client
        # Presigned URLs are used by browsers and shells, which may reach S3 at another address
        # than the function does (PUBLIC_S3_ENDPOINT); signing needs no network.
        self._presigner = presigning_client or s3_client

    def read_source(
        self, bucket: str, key: str, expected_etag: str | None, event_time: str, max_bytes: int
    ) -> tuple[SourceObject, bytes | None]:
        """The object's facts and bytes; bytes is None (nothing downloaded) when it is over max_bytes.

        With expected_etag, only that version is read: SourceObjectChangedError if the key holds
        other content by now."""
        try:
            response = self._s3.get_object(
                Bucket=bucket, Key=key, **({"IfMatch": expected_etag} if expected_etag else {})
            )
        except ClientError as error:
            code = error_code(error)
            if code in _MISSING:
                raise SourceObjectMissingError(f"s3://{bucket}/{key} does not exist") from error
            if code in _CHANGED:
                raise SourceObjectChangedError(
                    f"s3://{bucket}/{key} no longer has ETag {expected_etag}"
                ) from error
            raise StorageError(f"reading s3://{bucket}/{key} failed: {code}") from error
        source = SourceObject(
            bucket=bucket,
            key=key,
            size=response["ContentLength"],
            etag=response.get("ETag", "").strip('"'),
            content_type=response.get("ContentType", ""),
            event_time=event_time,
        )
        body = response["Body"]
        if source.size > max_bytes:
            body.close()  # the body is a stream: closing it unread downloads nothing more
            return source, None
        try:
            return source, body.read()
        except OSError as error:
            raise StorageError(f"reading s3://{bucket}/{key} was interrupted: {error}") from error

    def exists(self, bucket: str, key: str) -> bool:
        return self.current_etag(bucket, key) is not None

    def current_etag(self, bucket: str, key: str) -> str | None:
        """The object's ETag now (without quotes), or None when there is no such object."""
        try:
            response = self._s3.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if error_code(error) in _MISSING:
                return None
            raise StorageError(f"checking s3://{bucket}/{key} failed: {error_code(error)}") from error
        return str(response.get("ETag", "")).strip('"')

    def read(self, bucket: str, key: str) -> bytes:
        """A whole object (small ones: the watermark logo)."""
        try:
            return self._s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as error:
            if error_code(error) in _MISSING:
                raise StorageError(f"s3://{bucket}/{key} does not exist") from error
            raise StorageError(f"reading s3://{bucket}/{key} failed: {error_code(error)}") from error

    def write_rendition(self, bucket: str, key: str, data: bytes, content_type: str) -> None:
        try:
            self._s3.put_object(
                Bucket=bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                CacheControl=RENDITION_CACHE_CONTROL,
            )
        except ClientError as error:
            raise StorageError(f"writing s3://{bucket}/{key} failed: {error_code(error)}") from error

    def delete(self, bucket: str, key: str) -> None:
        try:
            self._s3.delete_object(Bucket=bucket, Key=key)
        except ClientError as error:
            raise StorageError(f"deleting s3://{bucket}/{key} failed: {error_code(error)}") from error

    def presigned_post(
        self, bucket: str, key: str, content_type: str, max_bytes: int, expires_in: int
    ) -> dict[str, object]:
        """A browser form upload for exactly this key, content type and size range."""
        return self._presigner.generate_presigned_post(
            Bucket=bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
            ExpiresIn=expires_in,
        )

    def presigned_get(self, bucket: str, key: str, expires_in: int) -> str:
        return self._presigner.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_in
        )
