"""The pipeline's contracts: image ids, thumbnail keys, metadata rows and notifications. Pure."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from image_pipeline.errors import ErrorCode

if TYPE_CHECKING:  # the API imports records and must not pay for loading Pillow
    from image_pipeline.imaging import Thumbnail

THUMBNAIL_PREFIX = "thumbnails/"
# Each thumbnail key names one version of its source (its ETag), so a thumbnail never changes
# once written and may be cached forever.
THUMBNAIL_CACHE_CONTROL = "public, max-age=31536000, immutable"
THUMBNAIL_ATTRIBUTES = (
    "ThumbnailBucket",
    "ThumbnailKey",
    "ThumbnailWidth",
    "ThumbnailHeight",
    "ThumbnailSize",
    "ThumbnailContentType",
)
ERROR_ATTRIBUTES = ("ErrorCode", "ErrorMessage")
# Every row is in one gallery: the NewestFirst index (partition Gallery, sort CreatedAt) lists them.
GALLERY = "all"

Row = dict[str, str | int]


class Status(StrEnum):
    PROCESSED = "PROCESSED"  # thumbnail written
    FAILED = "FAILED"  # the upload can never become a thumbnail (ErrorCode says why)
    RETRYING = "RETRYING"  # a service failed; Lambda retries, then the dead-letter queue holds it
    DELETED = "DELETED"  # only in notifications: the source was removed, and with it row and thumbnail


@dataclass(frozen=True)
class SourceObject:
    bucket: str
    key: str
    size: int
    etag: str
    content_type: str
    event_time: str  # when S3 announced this version (ISO 8601 UTC, ms): orders versions of a key


def image_id(bucket: str, key: str) -> str:
    """URL-safe and deterministic: the same object always maps to the same row."""
    return hashlib.sha256(f"s3://{bucket}/{key}".encode()).hexdigest()[:32]


MAX_KEY_BYTES = 1024  # S3's limit


def is_safe_key(key: str) -> bool:
    """No absolute path, no empty, `.` or `..` segment: a key that stays inside its folder when
    someone syncs the bucket to a disk."""
    return not key.startswith("/") and all(segment not in ("", ".", "..") for segment in key.split("/"))


def thumbnail_key(source_key: str, source_etag: str, extension: str) -> str:
    """thumbnails/<source key>/<source ETag>.<ext>: derived from the whole key and its version.

    A source key that is not safe to repeat (`..`, a leading `/`, empty segments) or too long is
    replaced by its hash: thumbnails/_/<sha256 of the key>/<ETag>.<ext>."""
    etag = (
        "".join(character for character in source_etag if character.isalnum() or character == "-") or "none"
    )
    derived = f"{THUMBNAIL_PREFIX}{source_key}/{etag}.{extension}"
    if is_safe_key(source_key) and len(derived.encode()) <= MAX_KEY_BYTES:
        return derived
    return f"{THUMBNAIL_PREFIX}_/{hashlib.sha256(source_key.encode()).hexdigest()}/{etag}.{extension}"


def is_own_output(key: str) -> bool:
    return key.startswith(THUMBNAIL_PREFIX)


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_now() -> str:
    return iso_utc(datetime.now(UTC))


def _source_attributes(source: SourceObject, now: str) -> Row:
    return {
        "ImageID": image_id(source.bucket, source.key),
        "SourceBucket": source.bucket,
        "SourceKey": source.key,
        "SourceSize": source.size,
        "SourceContentType": source.content_type,
        "SourceETag": source.etag,
        "SourceEventTime": source.event_time,
        "CreatedAt": now,
        "UpdatedAt": now,
        "Gallery": GALLERY,
    }


def processed_row(
    source: SourceObject, thumbnail: Thumbnail, thumbnail_bucket: str, thumbnail_key: str, now: str
) -> Row:
    """The DynamoDB item for a processed image (numbers as numbers). CreatedAt is kept by the
    adapter when the row already exists."""
    return {
        **_source_attributes(source, now),
        "SourceFormat": thumbnail.source.format,
        "Width": thumbnail.source.width,
        "Height": thumbnail.source.height,
        "ThumbnailBucket": thumbnail_bucket,
        "ThumbnailKey": thumbnail_key,
        "ThumbnailWidth": thumbnail.width,
        "ThumbnailHeight": thumbnail.height,
        "ThumbnailSize": len(thumbnail.data),
        "ThumbnailContentType": thumbnail.content_type,
        "Status": Status.PROCESSED.value,
    }


def failed_row(source: SourceObject, status: Status, code: ErrorCode, message: str, now: str) -> Row:
    """A row for an upload that failed (for good, FAILED) or is being retried (RETRYING)."""
    return {
        **_source_attributes(source, now),
        "Status": status.value,
        "ErrorCode": code.value,
        "ErrorMessage": message[:1000],
    }


def stale_attributes(row: Row) -> tuple[str, ...]:
    """Attributes an earlier version of the row may have that this one must not keep."""
    if row["Status"] == Status.PROCESSED:
        return ERROR_ATTRIBUTES
    return (*THUMBNAIL_ATTRIBUTES, "SourceFormat", "Width", "Height")


def notification(row: Row) -> Row:
    """The SNS message announcing a row's outcome."""
    fields = (
        "ImageID",
        "Status",
        "SourceBucket",
        "SourceKey",
        "SourceETag",
        "ThumbnailBucket",
        "ThumbnailKey",
        "ThumbnailWidth",
        "ThumbnailHeight",
        "ErrorCode",
        "ErrorMessage",
        "UpdatedAt",
    )
    return {field: row[field] for field in fields if field in row}


def deletion_notice(deleted_row: Row, now: str) -> Row:
    return {
        "ImageID": deleted_row["ImageID"],
        "Status": Status.DELETED.value,
        "SourceBucket": deleted_row["SourceBucket"],
        "SourceKey": deleted_row["SourceKey"],
        "UpdatedAt": now,
    }
