"""What happens to an upload: the core (imaging, records) wired to the adapters.

Every created object ends in one definitive, visible state: a PROCESSED row with its thumbnail,
a FAILED row with an ErrorCode (input that can never succeed: no retry), or, while a service
fails, a RETRYING row and an exception so that Lambda retries (and, once retries are exhausted,
parks the event in the dead-letter queue). Results only move forward in time: a late or
duplicate event for an older version of the object never replaces a newer result.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from aws_lambda_powertools import Logger

from image_pipeline import imaging, records
from image_pipeline.adapters.dynamodb import MetadataTable
from image_pipeline.adapters.s3 import ObjectStore
from image_pipeline.adapters.sns import Notifier
from image_pipeline.errors import (
    ConcurrentUpdateError,
    ErrorCode,
    ImageRejectedError,
    SourceObjectChangedError,
    SourceObjectMissingError,
    StorageError,
)
from image_pipeline.records import SourceObject, Status
from image_pipeline.settings import Settings

logger = Logger(child=True)


class Outcome(StrEnum):
    PROCESSED = "PROCESSED"
    FAILED = "FAILED"
    DELETED = "DELETED"
    IGNORED = "IGNORED"  # the pipeline's own output: never processed (recursion guard)
    SUPERSEDED = "SUPERSEDED"  # the object changed or was recorded newer meanwhile; a newer event covers it
    GONE = "GONE"  # created, then deleted before we read it; its removal event cleans up
    NOTHING_TO_DELETE = "NOTHING_TO_DELETE"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    image_id: str
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"outcome": self.outcome.value, "image_id": self.image_id, "detail": self.detail}


class ImagePipeline:
    def __init__(
        self, settings: Settings, object_store: ObjectStore, metadata_table: MetadataTable, notifier: Notifier
    ) -> None:
        self._settings = settings
        self._objects = object_store
        self._table = metadata_table
        self._notifier = notifier

    def is_own_output(self, bucket: str, key: str) -> bool:
        return bucket == self._settings.thumbnails_bucket or records.is_own_output(key)

    def process_upload(self, bucket: str, key: str, etag: str | None, event_time: str) -> Result:
        image_id = records.image_id(bucket, key)
        if self.is_own_output(bucket, key):
            logger.warning("refusing to process the pipeline's own output s3://%s/%s", bucket, key)
            return Result(Outcome.IGNORED, image_id, "thumbnails are never processed")
        try:
            return self._process(bucket, key, etag, event_time, image_id)
        except StorageError as error:
            self._record_retrying(bucket, key, etag, event_time, error)
            raise

    def _process(self, bucket: str, key: str, etag: str | None, event_time: str, image_id: str) -> Result:
        try:
            source, data = self._objects.read_source(
                bucket, key, etag, event_time, self._settings.max_upload_bytes
            )
        except SourceObjectMissingError as missing:
            return Result(Outcome.GONE, image_id, str(missing))
        except SourceObjectChangedError as changed:
            return Result(Outcome.SUPERSEDED, image_id, str(changed))
        try:
            if data is None:
                raise ImageRejectedError(
                    ErrorCode.OBJECT_TOO_LARGE,
                    f"{source.size:,} bytes is over the limit of {self._settings.max_upload_bytes:,} bytes",
                )
            thumbnail = imaging.make_thumbnail(
                data,
                self._settings.thumbnail_max_width,
                self._settings.thumbnail_max_height,
                self._settings.max_image_pixels,
            )
        except ImageRejectedError as rejected:
            row = records.failed_row(
                source, Status.FAILED, rejected.code, rejected.message, records.utc_now()
            )
            return self._settle(row, Outcome.FAILED, new_thumbnail=None)

        thumbnail_key = records.thumbnail_key(key, source.etag, thumbnail.extension)
        self._objects.write_thumbnail(
            self._settings.thumbnails_bucket, thumbnail_key, thumbnail.data, thumbnail.content_type
        )
        row = records.processed_row(
            source, thumbnail, self._settings.thumbnails_bucket, thumbnail_key, records.utc_now()
        )
        return self._settle(row, Outcome.PROCESSED, new_thumbnail=thumbnail_key)

    def _settle(self, row: records.Row, outcome: Outcome, new_thumbnail: str | None) -> Result:
        """Record the row, tidy the thumbnail it replaces, announce it."""
        image_id = str(row["ImageID"])
        try:
            previous = self._table.record(row, remove=records.stale_attributes(row))
        except ConcurrentUpdateError as newer:
            if new_thumbnail:
                self._objects.delete(self._settings.thumbnails_bucket, new_thumbnail)
            return Result(Outcome.SUPERSEDED, image_id, str(newer))
        old_thumbnail = previous.get("ThumbnailKey") if previous else None
        if old_thumbnail and old_thumbnail != new_thumbnail:
            self._objects.delete(str(previous["ThumbnailBucket"]), str(old_thumbnail))
        self._notifier.announce(records.notification(row))
        logger.info(
            "%s s3://%s/%s",
            outcome.value,
            row["SourceBucket"],
            row["SourceKey"],
            extra={"image_id": image_id},
        )
        return Result(outcome, image_id, str(row.get("ErrorCode", "")))

    def _record_retrying(
        self, bucket: str, key: str, etag: str | None, event_time: str, error: Exception
    ) -> None:
        """Best effort: make the row say that this upload is being retried, and why."""
        source = SourceObject(
            bucket=bucket, key=key, size=0, etag=etag or "", content_type="", event_time=event_time
        )
        row = records.failed_row(
            source, Status.RETRYING, ErrorCode.SERVICE_ERROR, str(error), records.utc_now()
        )
        row.pop("SourceSize")
        row.pop("SourceContentType")
        try:
            self._table.record(row, remove=records.stale_attributes(row))
        except (StorageError, ConcurrentUpdateError) as also:
            logger.warning("could not mark %s as RETRYING: %s", row["ImageID"], also)

    def remove_upload(self, bucket: str, key: str, event_time: str) -> Result:
        """The source was deleted: delete its row and thumbnail, unless it has been re-uploaded since."""
        image_id = records.image_id(bucket, key)
        if self.is_own_output(bucket, key):
            return Result(Outcome.IGNORED, image_id, "thumbnails are never processed")
        if self._objects.exists(bucket, key):
            return Result(Outcome.SUPERSEDED, image_id, "the key was uploaded again after this removal")
        deleted = self._table.delete(image_id, unless_written_after=event_time)
        if deleted is None:
            return Result(Outcome.NOTHING_TO_DELETE, image_id)
        if "ThumbnailKey" in deleted:
            self._objects.delete(str(deleted["ThumbnailBucket"]), str(deleted["ThumbnailKey"]))
        self._notifier.announce(records.deletion_notice(deleted, records.utc_now()))
        return Result(Outcome.DELETED, image_id)
