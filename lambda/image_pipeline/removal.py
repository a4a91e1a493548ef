"""The one delete path, and what every path shares: the outcomes, the adapters' ports, the renditions.

An S3 ObjectRemoved event (pipeline.py) and `DELETE /images/{id}` (handlers/api.py) both remove an
image here. This module does not load Pillow (the API imports it).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from aws_lambda_powertools import Logger

from image_pipeline import records
from image_pipeline.errors import StorageError
from image_pipeline.records import Row, SourceObject

logger = Logger(child=True)


class ObjectStore(Protocol):
    def read_source(
        self, bucket: str, key: str, expected_etag: str | None, event_time: str, max_bytes: int
    ) -> tuple[SourceObject, bytes | None]: ...
    def read(self, bucket: str, key: str) -> bytes: ...
    def exists(self, bucket: str, key: str) -> bool: ...
    def current_etag(self, bucket: str, key: str) -> str | None: ...
    def write_rendition(self, bucket: str, key: str, data: bytes, content_type: str) -> None: ...
    def delete(self, bucket: str, key: str) -> None: ...


class MetadataTable(Protocol):
    def record(self, row: Row, remove: tuple[str, ...] = (), current_version: bool = False) -> Row | None: ...
    def claim_removal(self, image_id: str, removed_at: str, now: str) -> Row | None: ...
    def bury(self, tombstone: Row) -> bool: ...


class Notifier(Protocol):
    def announce(self, message: Row) -> str: ...


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


OutputKeys = set[tuple[str, str]]  # (bucket, key) of renditions


class Outputs:
    """The renditions' side of every path: where they live, what is ours, and tidying them."""

    def __init__(self, renditions_bucket: str, objects: ObjectStore) -> None:
        self.bucket = renditions_bucket
        self._objects = objects

    def is_own(self, bucket: str, key: str) -> bool:
        return bucket == self.bucket or records.is_own_output(key)

    def delete(self, keys: OutputKeys, why: str) -> None:
        """Best effort, for tidying after an upload that is already recorded: a rendition left
        behind costs storage, never correctness (no row points to it), so failing here must not
        fail (and re-run) the upload."""
        for bucket, key in sorted(keys):
            try:
                self._objects.delete(bucket, key)
            except StorageError as error:
                logger.warning("could not delete %s rendition s3://%s/%s: %s", why, bucket, key, error)

    def delete_all(self, keys: OutputKeys) -> None:
        """Every one, or raise: a removal that could not delete them is retried."""
        for bucket, key in sorted(keys):
            self._objects.delete(bucket, key)


class ImageRemoval:
    """The one delete path: an S3 ObjectRemoved event, whoever deleted the object (the S3 console,
    the CLI, the API, which deletes only the original)."""

    def __init__(
        self, renditions_bucket: str, objects: ObjectStore, table: MetadataTable, notifier: Notifier
    ) -> None:
        self._outputs = Outputs(renditions_bucket, objects)
        self._objects = objects
        self._table = table
        self._notifier = notifier

    def remove_upload(self, bucket: str, key: str, event_time: str) -> Result:
        """The source was deleted: delete its renditions, announce it, leave a tombstone row.

        A claim (the row marked DELETING for this removal) comes first and keeps the renditions'
        keys, so a failure midway is retried to the end; a tombstone comes last, so that a late
        event for an older version never brings the image back. Of two removals, one claims."""
        image_id = records.image_id(bucket, key)
        if self._outputs.is_own(bucket, key):
            return Result(Outcome.IGNORED, image_id, "renditions are never processed")
        if self._objects.exists(bucket, key):
            return Result(Outcome.SUPERSEDED, image_id, "the key was uploaded again after this removal")
        now = records.utc_now()
        claimed = self._table.claim_removal(image_id, event_time, now)
        if claimed is None:
            # Nothing this removal may delete; the tombstone still refuses older late events.
            gone = {"ImageID": image_id, "SourceBucket": bucket, "SourceKey": key}
            self._table.bury(records.tombstone(gone, event_time, now))
            return Result(Outcome.NOTHING_TO_DELETE, image_id)
        self._outputs.delete_all(records.output_keys(claimed))
        self._notifier.announce(records.deletion_notice(claimed, now))
        self._table.bury(records.tombstone(claimed, event_time, now))
        return Result(Outcome.DELETED, image_id)
