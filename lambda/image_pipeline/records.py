"""The pipeline's contracts: image ids, thumbnail keys, metadata rows and notifications. Pure."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from image_pipeline.imaging import Thumbnail

THUMBNAIL_PREFIX = "thumbnails/"
THUMBNAIL_CACHE_CONTROL = "public, max-age=31536000, immutable"


class Status(StrEnum):
    PROCESSED = "PROCESSED"


@dataclass(frozen=True)
class SourceObject:
    bucket: str
    key: str
    size: int
    etag: str
    content_type: str


def image_id(bucket: str, key: str) -> str:
    """URL-safe and deterministic: the same object always maps to the same row."""
    return hashlib.sha256(f"s3://{bucket}/{key}".encode()).hexdigest()[:32]


def thumbnail_key(source_key: str, extension: str) -> str:
    """Derived from the full source key, so photos/a.png and photos/a.jpg do not collide."""
    return f"{THUMBNAIL_PREFIX}{source_key}.{extension}"


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def metadata_row(
    source: SourceObject, thumbnail: Thumbnail, thumbnail_bucket: str, thumbnail_key: str, now: str
) -> dict[str, str | int]:
    """The DynamoDB item for a processed image (numbers as numbers). CreatedAt is set by the
    adapter only when the row is new, so re-processing keeps it."""
    return {
        "ImageID": image_id(source.bucket, source.key),
        "SourceBucket": source.bucket,
        "SourceKey": source.key,
        "SourceSize": source.size,
        "SourceFormat": thumbnail.source.format,
        "SourceContentType": source.content_type,
        "SourceETag": source.etag,
        "Width": thumbnail.source.width,
        "Height": thumbnail.source.height,
        "ThumbnailBucket": thumbnail_bucket,
        "ThumbnailKey": thumbnail_key,
        "ThumbnailWidth": thumbnail.width,
        "ThumbnailHeight": thumbnail.height,
        "ThumbnailSize": len(thumbnail.data),
        "ThumbnailContentType": thumbnail.content_type,
        "Status": Status.PROCESSED.value,
        "CreatedAt": now,
        "UpdatedAt": now,
    }


def notification(row: dict[str, str | int]) -> dict[str, str | int]:
    """The SNS message announcing a row's outcome."""
    fields = (
        "ImageID",
        "Status",
        "SourceBucket",
        "SourceKey",
        "ThumbnailBucket",
        "ThumbnailKey",
        "ThumbnailWidth",
        "ThumbnailHeight",
        "UpdatedAt",
    )
    return {field: row[field] for field in fields if field in row}
