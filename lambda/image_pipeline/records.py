"""The pipeline's contracts: image ids, rendition keys, metadata rows and notifications. Pure."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from image_pipeline.errors import ErrorCode
from image_pipeline.renditions import THUMBNAIL

if TYPE_CHECKING:  # the API imports records and must not pay for loading Pillow
    from image_pipeline.imaging import RenderedImage

RENDITION_PREFIX = "renditions/"
# Keys written before renditions existed (thumbnails/<source key>/<ETag>.<ext>): still the
# pipeline's own output, still deleted with their source.
LEGACY_THUMBNAIL_PREFIX = "thumbnails/"
OWN_OUTPUT_PREFIXES = (RENDITION_PREFIX, LEGACY_THUMBNAIL_PREFIX)
# Each rendition key names one upload of its source (its ETag and event time), so a rendition
# never changes once written and may be cached forever.
RENDITION_CACHE_CONTROL = "public, max-age=31536000, immutable"
THUMBNAIL_ATTRIBUTES = (
    "ThumbnailBucket",
    "ThumbnailKey",
    "ThumbnailWidth",
    "ThumbnailHeight",
    "ThumbnailSize",
    "ThumbnailContentType",
)
ERROR_ATTRIBUTES = ("ErrorCode", "ErrorMessage")
# What the source's EXIF may tell (CameraFacts field -> row attribute); absent facts are absent.
CAMERA_ATTRIBUTES = {
    "captured_at": "CapturedAt",
    "camera_make": "CameraMake",
    "camera_model": "CameraModel",
    "lens_model": "LensModel",
    "focal_length": "FocalLength",
    "f_number": "FNumber",
    "exposure_time": "ExposureTime",
    "iso": "ISO",
    "color_profile": "ColorProfile",
}
LOCATION_ATTRIBUTES = {"latitude": "Latitude", "longitude": "Longitude"}
# Attributes only a PROCESSED row has.
PROCESSED_ATTRIBUTES = (
    *THUMBNAIL_ATTRIBUTES,
    "Renditions",
    "SourceFormat",
    "Width",
    "Height",
    *CAMERA_ATTRIBUTES.values(),
    *LOCATION_ATTRIBUTES.values(),
)
# Attributes of a row on its way out; a new version of the image drops them.
LIFECYCLE_ATTRIBUTES = ("DeleteRequestedAt", "Expiration")
# The Step Functions execution that wrote the row (stepfunctions mode): its steps are its history.
WORKFLOW_ATTRIBUTES = ("ExecutionArn",)
# Every row is in one gallery: the NewestFirst index (partition Gallery, sort CreatedAt) lists them.
# Rows being deleted and tombstones have no Gallery, so the (sparse) index does not list them.
GALLERY = "all"
TOMBSTONE_SECONDS = 24 * 60 * 60  # longer than S3 events live (MaximumEventAgeInSeconds: 6 h)

Value = str | int | float | dict[str, "Value"]
Row = dict[str, Value]


class Status(StrEnum):
    PROCESSED = "PROCESSED"  # every rendition written
    FAILED = "FAILED"  # the upload can never become an image (ErrorCode says why)
    RETRYING = "RETRYING"  # a service failed; Lambda retries, then the dead-letter queue holds it
    DELETING = "DELETING"  # the source was removed; its renditions are being deleted (never shown)
    DELETED = "DELETED"  # the source was removed, and with it the renditions: notifications, and a
    # tombstone row (never shown, expires by TTL) that keeps late events from bringing it back


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


def rendition_key(
    rendition: str,
    source_key: str,
    source_etag: str,
    event_time: str,
    extension: str,
    upload_id: str | None = None,
) -> str:
    """renditions/<rendition>/<source key>/<ETag>-<event time>[-<upload id>].<ext>: the whole key
    and its version.

    The event time makes the key one per upload, not per content: two uploads of the same bytes
    (same ETag) never share a rendition, so tidying after one can never delete the other's. Where
    the time has whole seconds only (EventBridge's, in the workflow), the S3 request's id
    (`upload_id`) keeps two uploads within one second apart.
    A source key that is not safe to repeat (`..`, a leading `/`, empty segments) or too long is
    replaced by its hash: renditions/<rendition>/_/<sha256 of the key>/<ETag>-<time>.<ext>."""
    etag = (
        "".join(character for character in source_etag if character.isalnum() or character == "-") or "none"
    )
    version = f"{etag}-{''.join(character for character in event_time if character.isalnum())}"
    if upload_id:
        version += f"-{''.join(character for character in upload_id if character.isalnum())[:32]}"
    derived = f"{RENDITION_PREFIX}{rendition}/{source_key}/{version}.{extension}"
    if is_safe_key(source_key) and len(derived.encode()) <= MAX_KEY_BYTES:
        return derived
    digest = hashlib.sha256(source_key.encode()).hexdigest()
    return f"{RENDITION_PREFIX}{rendition}/_/{digest}/{version}.{extension}"


def is_own_output(key: str) -> bool:
    return key.startswith(OWN_OUTPUT_PREFIXES)


def output_keys(row: Row) -> set[tuple[str, str]]:
    """Every (bucket, key) the row's renditions occupy (legacy thumbnail-only rows included)."""
    keys = {(str(entry["Bucket"]), str(entry["Key"])) for entry in renditions_of(row).values()}
    if "ThumbnailKey" in row:
        keys.add((str(row["ThumbnailBucket"]), str(row["ThumbnailKey"])))
    return keys


def renditions_of(row: Row | None) -> dict[str, dict[str, Value]]:
    """The row's renditions by name (none for FAILED rows, tombstones and rows from before renditions)."""
    renditions = row.get("Renditions") if row else None
    if not isinstance(renditions, dict):
        return {}
    return {name: entry for name, entry in renditions.items() if isinstance(entry, dict)}


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
    source: SourceObject,
    rendered: RenderedImage,
    bucket: str,
    keys: dict[str, str],
    keep_location: bool,
    now: str,
) -> Row:
    """The DynamoDB item for a processed image (numbers as numbers). CreatedAt is kept by the
    adapter when the row already exists. `keys` maps each rendition's name to its key."""
    renditions: dict[str, Value] = {
        rendition.name: {
            "Bucket": bucket,
            "Key": keys[rendition.name],
            "Width": rendition.width,
            "Height": rendition.height,
            "Format": rendition.format,
            "ContentType": rendition.content_type,
            "Size": len(rendition.data),
        }
        for rendition in rendered.renditions
    }
    thumbnail = renditions[THUMBNAIL]
    assert isinstance(thumbnail, dict)
    facts = rendered.source.camera
    camera: Row = {
        attribute: value
        for field, attribute in CAMERA_ATTRIBUTES.items()
        if (value := getattr(facts, field)) is not None and value != ""
    }
    if keep_location:
        camera |= {
            attribute: value
            for field, attribute in LOCATION_ATTRIBUTES.items()
            if (value := getattr(facts, field)) is not None
        }
    return {
        **_source_attributes(source, now),
        "SourceFormat": rendered.source.format,
        "Width": rendered.source.width,
        "Height": rendered.source.height,
        **camera,
        "Renditions": renditions,
        "ThumbnailBucket": bucket,
        "ThumbnailKey": thumbnail["Key"],
        "ThumbnailWidth": thumbnail["Width"],
        "ThumbnailHeight": thumbnail["Height"],
        "ThumbnailSize": thumbnail["Size"],
        "ThumbnailContentType": thumbnail["ContentType"],
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
    """Attributes an earlier version of the row may have that this one must not keep (a new
    version without EXIF must not keep the old camera, a failure no renditions)."""
    possible = ERROR_ATTRIBUTES + PROCESSED_ATTRIBUTES + LIFECYCLE_ATTRIBUTES + WORKFLOW_ATTRIBUTES
    return tuple(name for name in possible if name not in row)


def is_shown(row: Row | None) -> bool:
    """Whether clients see the row: not a tombstone, not on its way out."""
    return (
        row is not None
        and row.get("Status") not in (Status.DELETING, Status.DELETED)
        and "DeleteRequestedAt" not in row
    )


def tombstone(deleted: Row, removed_at: str, now: str) -> Row:
    """What stays of a removed image until it expires: enough to refuse older events."""
    expires = int(datetime.fromisoformat(now.replace("Z", "+00:00")).timestamp()) + TOMBSTONE_SECONDS
    return {
        "ImageID": deleted["ImageID"],
        "Status": Status.DELETED.value,
        "SourceBucket": deleted["SourceBucket"],
        "SourceKey": deleted["SourceKey"],
        "SourceEventTime": removed_at,
        "UpdatedAt": now,
        "Expiration": expires,
    }


def notification(row: Row) -> Row:
    """The SNS message announcing a row's outcome, naming every rendition."""
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
    message = {field: row[field] for field in fields if field in row}
    renditions = renditions_of(row)
    if renditions:
        message["Renditions"] = {
            name: {field: entry[field] for field in ("Bucket", "Key", "Width", "Height", "Format")}
            for name, entry in renditions.items()
        }
    return message


def deletion_notice(deleted_row: Row, now: str) -> Row:
    return {
        "ImageID": deleted_row["ImageID"],
        "Status": Status.DELETED.value,
        "SourceBucket": deleted_row["SourceBucket"],
        "SourceKey": deleted_row["SourceKey"],
        "UpdatedAt": now,
    }
