"""What happens to an upload or a removal: the core (imaging, records) wired to the adapters.

Every created object ends in one definitive, visible state: a PROCESSED row with every declared
rendition, a FAILED row with an ErrorCode (input that can never succeed: no retry), or, while a
service fails (or anything else goes wrong on our side), a RETRYING row and an exception so that
Lambda retries (and, once retries are exhausted, parks the event in the dead-letter queue).
Results only move forward in time: a late or duplicate event for an older version of the object
never replaces a newer result, and never deletes a rendition the newer row points to.

Direct mode runs an upload in one call (process_upload); the Step Functions workflow runs the same
steps as states of its own (prepare, record, the notification, record_retrying: handlers/workflow_steps.py).

The adapters are reached through the small Protocols in removal.py, so the orchestration is unit-tested
with in-memory fakes (tests/unit/image_pipeline/test_pipeline.py).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from image_pipeline import imaging, records
from image_pipeline.errors import (
    ConcurrentUpdateError,
    ErrorCode,
    ImageRejectedError,
    SourceObjectChangedError,
    SourceObjectMissingError,
    StorageError,
)
from image_pipeline.records import Row, SourceObject, Status, Value
from image_pipeline.removal import (
    ImageRemoval,
    MetadataTable,
    Notifier,
    ObjectStore,
    Outcome,
    OutputKeys,
    Outputs,
    Result,
)
from image_pipeline.settings import Settings
from image_pipeline.timings import timings

__all__ = ["ImagePipeline", "Outcome", "Prepared", "Result"]

logger = Logger(child=True)


@dataclass(frozen=True)
class Prepared:
    """An upload whose renditions are stored: its row, waiting to be recorded."""

    row: Row
    outcome: Outcome  # PROCESSED, or FAILED for input that can never become an image
    written: OutputKeys  # the renditions stored for it, deleted again if the row turns out stale


class ImagePipeline:
    def __init__(
        self, settings: Settings, object_store: ObjectStore, metadata_table: MetadataTable, notifier: Notifier
    ) -> None:
        self._settings = settings
        self._objects = object_store
        self._table = metadata_table
        self._notifier = notifier
        self._outputs = Outputs(settings.thumbnails_bucket, object_store)
        self._removal = ImageRemoval(settings.thumbnails_bucket, object_store, metadata_table, notifier)
        self._watermark: imaging.Watermark | None = None

    def is_own_output(self, bucket: str, key: str) -> bool:
        return self._outputs.is_own(bucket, key)

    def remove_upload(self, bucket: str, key: str, event_time: str) -> Result:
        return self._removal.remove_upload(bucket, key, event_time)

    def process_upload(self, bucket: str, key: str, etag: str | None, event_time: str) -> Result:
        """Direct mode: the whole upload in one invocation (the workflow runs the same steps apart)."""
        try:
            prepared = self.prepare(bucket, key, etag, event_time)
            if isinstance(prepared, Result):
                return prepared
            result, notification = self.record(prepared)
            if notification is not None:
                with timings.stage("announce"):
                    self._notifier.announce(notification)
            return result
        except Exception as error:
            # A service failure, an encoder failing on a valid image, or a bug of ours: never the
            # file's fault, so never FAILED. Visible as RETRYING; Lambda retries, then the DLQ.
            self.record_retrying(bucket, key, etag, event_time, describe_failure(error))
            raise

    def watermark(self) -> imaging.Watermark:
        """The text (and the owner's logo, read once per execution environment)."""
        if self._watermark is None:
            logo_key = self._settings.watermark_logo_key
            logo = self._objects.read(self._outputs.bucket, logo_key) if logo_key else None
            self._watermark = imaging.Watermark(text=self._settings.watermark_text, logo_png=logo)
        return self._watermark

    def prepare(
        self, bucket: str, key: str, etag: str | None, event_time: str, upload_id: str | None = None
    ) -> Result | Prepared:
        """Read the upload, check it, make and store its renditions: the row to record (PROCESSED,
        or FAILED for input that can never become an image), or a Result that ends it here.
        `upload_id`: the S3 request's id, where the event time alone may not tell uploads apart."""
        image_id = records.image_id(bucket, key)
        if self.is_own_output(bucket, key):
            logger.warning("refusing to process the pipeline's own output s3://%s/%s", bucket, key)
            return Result(Outcome.IGNORED, image_id, "renditions are never processed")
        try:
            with timings.stage("read"):
                source, data = self._objects.read_source(
                    bucket, key, etag, event_time, self._settings.max_upload_bytes
                )
        except SourceObjectMissingError as missing:
            return Result(Outcome.GONE, image_id, str(missing))
        except SourceObjectChangedError as changed:
            return Result(Outcome.SUPERSEDED, image_id, str(changed))
        specs = self._settings.renditions
        try:
            if data is None:
                raise ImageRejectedError(
                    ErrorCode.OBJECT_TOO_LARGE,
                    f"{source.size:,} bytes is over the limit of {self._settings.max_upload_bytes:,} bytes",
                )
            watermark = self.watermark() if any(spec.watermark for spec in specs) else None
            with timings.stage("render"):
                rendered = imaging.make_renditions(data, specs, watermark, self._settings.max_image_pixels)
        except ImageRejectedError as rejected:
            row = records.failed_row(
                source, Status.FAILED, rejected.code, rejected.message, records.utc_now()
            )
            return Prepared(row, Outcome.FAILED, written=set())

        keys = {
            rendition.name: records.rendition_key(
                rendition.name, key, source.etag, event_time, rendition.extension, upload_id
            )
            for rendition in rendered.renditions
        }
        with timings.stage("store"):
            self._store(rendered.renditions, keys)
        row = records.processed_row(
            source, rendered, self._outputs.bucket, keys, self._settings.keep_location, records.utc_now()
        )
        return Prepared(
            row, Outcome.PROCESSED, written={(self._outputs.bucket, key) for key in keys.values()}
        )

    def _store(self, renditions: tuple[imaging.Rendition, ...], keys: dict[str, str]) -> None:
        """All renditions at once: each PUT mostly waits for S3, so they overlap (boto3 clients
        are thread-safe). Every write runs to its end; if any failed, the first of the failures
        in declaration order is raised (and the row says RETRYING; the retry writes the same keys)."""
        with ThreadPoolExecutor(max_workers=len(renditions) or 1) as writers:
            writes = [
                writers.submit(
                    self._objects.write_rendition,
                    self._outputs.bucket,
                    keys[rendition.name],
                    rendition.data,
                    rendition.content_type,
                )
                for rendition in renditions
            ]
        for write in writes:
            write.result()

    def record(self, prepared: Prepared) -> tuple[Result, Row | None]:
        """Record the row and tidy the renditions it replaces: the result, and the notification
        to publish (None when a newer version was recorded meanwhile: nothing to announce)."""
        row, outcome, written = prepared.row, prepared.outcome, prepared.written
        image_id, stale = str(row["ImageID"]), records.stale_attributes(row)
        try:
            try:
                with timings.stage("record"):
                    previous = self._table.record(row, remove=stale)
            except ConcurrentUpdateError as other:
                if not self._is_current_of_a_tie(row, other.current):
                    raise
                previous = self._table.record(row, remove=stale, current_version=True)
        except ConcurrentUpdateError as newer:
            # Ours are stale: delete what we wrote, but never a key the newer row points to
            # (keys are per upload, so none should be; this holds even if that ever changes).
            # Without the newer row, keep everything.
            if newer.current is not None:
                self._outputs.delete(written - records.output_keys(newer.current), "a superseded")
            return Result(Outcome.SUPERSEDED, image_id, str(newer)), None
        if previous:
            self._outputs.delete(records.output_keys(previous) - written, "a replaced version's")
        logger.info(
            "%s s3://%s/%s",
            outcome.value,
            row["SourceBucket"],
            row["SourceKey"],
            extra={"image_id": image_id},
        )
        return Result(outcome, image_id, str(row.get("ErrorCode", ""))), records.notification(row)

    def _is_current_of_a_tie(self, row: Row, recorded: Row | None) -> bool:
        """Another version (or a removal) was recorded at the same event time: the object itself
        says which is the newer one (EventBridge's times have whole seconds)."""
        if recorded is None or recorded.get("SourceEventTime") != row["SourceEventTime"]:
            return False
        current = self._objects.current_etag(str(row["SourceBucket"]), str(row["SourceKey"]))
        return current is not None and current == row["SourceETag"]

    def record_retrying(
        self, bucket: str, key: str, etag: str | None, event_time: str, reason: str, **extra: Value
    ) -> None:
        """Best effort: make the row say that this upload is being retried, and why.

        The row keeps what an earlier version had (its renditions among it) until the retry
        settles, so the settled row still knows what to tidy."""
        source = SourceObject(
            bucket=bucket, key=key, size=0, etag=etag or "", content_type="", event_time=event_time
        )
        row = records.failed_row(source, Status.RETRYING, ErrorCode.SERVICE_ERROR, reason, records.utc_now())
        row.pop("SourceSize")
        row.pop("SourceContentType")
        row.update(extra)
        try:
            self._table.record(row)
        except (StorageError, ConcurrentUpdateError) as also:
            logger.warning("could not mark %s as RETRYING: %s", row["ImageID"], also)


def describe_failure(error: Exception) -> str:
    """What a RETRYING row says: our own errors speak for themselves, anything else is named."""
    return str(error) if isinstance(error, StorageError) else f"{type(error).__name__}: {error}"
