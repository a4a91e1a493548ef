"""The orchestration (pipeline.py, removal.py) with real imaging and in-memory fakes of the adapters:
every outcome and the interleavings that once lost or destroyed data, in milliseconds."""

from __future__ import annotations

import hashlib
import io
import threading
from dataclasses import replace

import pytest
from image_pipeline import records
from image_pipeline.errors import (
    ConcurrentUpdateError,
    SourceObjectChangedError,
    SourceObjectMissingError,
    StorageError,
)
from image_pipeline.pipeline import ImagePipeline, Outcome
from image_pipeline.records import Row, SourceObject
from image_pipeline.settings import Settings
from PIL import Image

from tests import images

UPLOADS, RENDITIONS = "uploads", "renditions-bucket"
SETTINGS = Settings(
    thumbnails_bucket=RENDITIONS,
    metadata_table="table",
    notifications_topic_arn="arn:aws:sns:us-east-1:000000000000:topic",
    idempotency_table="idempotency",
    watermark_text="Zoë Müller",
)
T1, T2, T3 = "2026-01-01T00:00:01.000Z", "2026-01-01T00:00:02.000Z", "2026-01-01T00:00:03.000Z"


class FakeObjects:
    """S3 as the pipeline uses it: ETags, If-Match, size without download, failures on demand."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], tuple[bytes, str]] = {}
        self.fail_writes_after: int | None = None
        self.reads: list[tuple[str, str]] = []
        self._writing = threading.Lock()  # the pipeline writes renditions from several threads

    def put(self, bucket: str, key: str, data: bytes) -> str:
        self.objects[(bucket, key)] = (data, "image/jpeg")
        return self.etag(bucket, key)

    def etag(self, bucket: str, key: str) -> str:
        return hashlib.md5(self.objects[(bucket, key)][0]).hexdigest()

    def read_source(self, bucket, key, expected_etag, event_time, max_bytes):
        if (bucket, key) not in self.objects:
            raise SourceObjectMissingError(f"s3://{bucket}/{key} does not exist")
        if expected_etag and expected_etag != self.etag(bucket, key):
            raise SourceObjectChangedError(f"s3://{bucket}/{key} changed")
        data, content_type = self.objects[(bucket, key)]
        source = SourceObject(bucket, key, len(data), self.etag(bucket, key), content_type, event_time)
        return source, (data if len(data) <= max_bytes else None)

    def read(self, bucket: str, key: str) -> bytes:
        self.reads.append((bucket, key))
        if (bucket, key) not in self.objects:
            raise StorageError(f"s3://{bucket}/{key} does not exist")
        return self.objects[(bucket, key)][0]

    def exists(self, bucket: str, key: str) -> bool:
        return (bucket, key) in self.objects

    def current_etag(self, bucket: str, key: str) -> str | None:
        return self.etag(bucket, key) if (bucket, key) in self.objects else None

    def write_rendition(self, bucket: str, key: str, data: bytes, content_type: str) -> None:
        with self._writing:
            if self.fail_writes_after is not None:
                if self.fail_writes_after == 0:
                    raise StorageError(f"writing s3://{bucket}/{key} failed: SlowDown")
                self.fail_writes_after -= 1
            self.objects[(bucket, key)] = (data, content_type)

    def delete(self, bucket: str, key: str) -> None:
        self.objects.pop((bucket, key), None)

    def keys(self, bucket: str) -> set[str]:
        return {key for stored_bucket, key in self.objects if stored_bucket == bucket}


class FakeTable:
    """The metadata table's conditional writes, as the DynamoDB adapter makes them."""

    def __init__(self) -> None:
        self.rows: dict[str, Row] = {}

    def record(self, row: Row, remove: tuple[str, ...] = (), current_version: bool = False) -> Row | None:
        previous = self.rows.get(str(row["ImageID"]))
        if previous and str(previous["SourceEventTime"]) > str(row["SourceEventTime"]):
            raise ConcurrentUpdateError("newer", current=dict(previous))
        same_time = previous and previous["SourceEventTime"] == row["SourceEventTime"]
        if same_time and not current_version and previous.get("SourceETag") != row.get("SourceETag"):
            raise ConcurrentUpdateError("another version at the same time", current=dict(previous))
        updated = {**(previous or {}), **row}
        updated["CreatedAt"] = previous.get("CreatedAt", row["CreatedAt"]) if previous else row["CreatedAt"]
        for name in remove:
            if name not in row:
                updated.pop(name, None)
        self.rows[str(row["ImageID"])] = updated
        return dict(previous) if previous else None

    def claim_removal(self, image_id: str, removed_at: str, now: str) -> Row | None:
        row = self.rows.get(image_id)
        if (
            row is None
            or str(row["SourceEventTime"]) > removed_at
            or row["Status"] == "DELETED"
            or (row["Status"] == "DELETING" and row["SourceEventTime"] != removed_at)
        ):
            return None
        self.rows[image_id] = {
            **{name: value for name, value in row.items() if name not in ("Gallery", "DeleteRequestedAt")},
            "Status": "DELETING",
            "SourceEventTime": removed_at,
            "UpdatedAt": now,
        }
        return dict(row)

    def bury(self, tombstone: Row) -> bool:
        row = self.rows.get(str(tombstone["ImageID"]))
        removed_at = str(tombstone["SourceEventTime"])
        if row is None or (
            (row["Status"] == "DELETED" and str(row["SourceEventTime"]) <= removed_at)
            or (row["Status"] == "DELETING" and row["SourceEventTime"] == removed_at)
        ):
            self.rows[str(tombstone["ImageID"])] = dict(tombstone)
            return True
        return False

    def shown(self) -> dict[str, Row]:
        return {image_id: row for image_id, row in self.rows.items() if records.is_shown(row)}


class FakeNotifier:
    def __init__(self) -> None:
        self.messages: list[Row] = []
        self.failing = False

    def announce(self, message: Row) -> str:
        if self.failing:
            raise StorageError("publishing failed: InternalError")
        self.messages.append(message)
        return str(len(self.messages))


@pytest.fixture
def world():
    objects, table, notifier = FakeObjects(), FakeTable(), FakeNotifier()
    return objects, table, notifier, ImagePipeline(SETTINGS, objects, table, notifier)


def upload(objects: FakeObjects, key: str, data: bytes) -> str:
    return objects.put(UPLOADS, key, data)


def test_an_upload_becomes_every_rendition_one_row_one_notification(world):
    objects, table, notifier, pipeline = world
    etag = upload(objects, "a/photo.jpg", images.jpeg(2000, 1500))

    result = pipeline.process_upload(UPLOADS, "a/photo.jpg", etag, T1)

    assert result.outcome == Outcome.PROCESSED
    row = table.rows[records.image_id(UPLOADS, "a/photo.jpg")]
    assert row["Status"] == "PROCESSED" and set(row["Renditions"]) == {"thumbnail", "web", "proof"}
    assert objects.keys(RENDITIONS) == {entry["Key"] for entry in row["Renditions"].values()}
    assert row["ThumbnailKey"] == f"renditions/thumbnail/a/photo.jpg/{etag}-20260101T000001000Z.jpg"
    assert (row["Renditions"]["web"]["Width"], row["Renditions"]["proof"]["Width"]) == (1600, 1024)
    assert [message["Status"] for message in notifier.messages] == ["PROCESSED"]
    assert set(notifier.messages[0]["Renditions"]) == {"thumbnail", "web", "proof"}


def test_bad_input_is_failed_with_no_rendition(world):
    objects, table, notifier, pipeline = world
    etag = upload(objects, "notes.jpg", images.TEXT)
    assert pipeline.process_upload(UPLOADS, "notes.jpg", etag, T1).outcome == Outcome.FAILED
    row = table.rows[records.image_id(UPLOADS, "notes.jpg")]
    assert row["ErrorCode"] == "NOT_AN_IMAGE" and "Renditions" not in row
    assert objects.keys(RENDITIONS) == set()
    assert [message["Status"] for message in notifier.messages] == ["FAILED"]


def test_an_overwrite_replaces_every_rendition_of_the_old_version(world):
    objects, table, _, pipeline = world
    first = upload(objects, "p.jpg", images.jpeg(800, 600))
    pipeline.process_upload(UPLOADS, "p.jpg", first, T1)
    second = upload(objects, "p.jpg", images.jpeg(600, 800))
    pipeline.process_upload(UPLOADS, "p.jpg", second, T2)

    row = table.rows[records.image_id(UPLOADS, "p.jpg")]
    assert row["SourceETag"] == second
    assert objects.keys(RENDITIONS) == {entry["Key"] for entry in row["Renditions"].values()}
    assert all(second in key for key in objects.keys(RENDITIONS))


def test_a_late_event_never_deletes_what_an_identical_newer_upload_points_to(world):
    """Same content uploaded twice: both versions have the same ETag. The older event, handled
    last, must not delete the renditions the newer row points to."""
    objects, table, notifier, pipeline = world
    data = images.jpeg(900, 600)
    etag = upload(objects, "twice.jpg", data)
    assert pipeline.process_upload(UPLOADS, "twice.jpg", etag, T2).outcome == Outcome.PROCESSED
    late = pipeline.process_upload(UPLOADS, "twice.jpg", etag, T1)

    assert late.outcome == Outcome.SUPERSEDED
    row = table.rows[records.image_id(UPLOADS, "twice.jpg")]
    assert row["SourceEventTime"] == T2
    assert objects.keys(RENDITIONS) == {entry["Key"] for entry in row["Renditions"].values()}
    assert len(notifier.messages) == 1


def test_a_b_a_within_the_processing_window_keeps_the_last_versions_renditions(world, monkeypatch):
    """v1, v2 and v3 = v1's bytes again: v3's renditions are written while v2's event is still
    between its reads and its row. v2 settling must not delete what v3's row points to."""
    objects, table, _, pipeline = world
    first, second = images.jpeg(640, 480), images.jpeg(480, 640)
    etag1 = upload(objects, "aba.jpg", first)
    pipeline.process_upload(UPLOADS, "aba.jpg", etag1, T1)
    etag2 = upload(objects, "aba.jpg", second)

    real_record = table.record

    def v3_lands_first(row, remove=()):
        if row["SourceEventTime"] == T2 and row["Status"] == "PROCESSED":
            table.record = real_record
            etag3 = upload(objects, "aba.jpg", first)  # same bytes as v1: same ETag
            assert pipeline.process_upload(UPLOADS, "aba.jpg", etag3, T3).outcome == Outcome.PROCESSED
        return real_record(row, remove)

    table.record = v3_lands_first
    assert pipeline.process_upload(UPLOADS, "aba.jpg", etag2, T2).outcome == Outcome.SUPERSEDED
    row = table.rows[records.image_id(UPLOADS, "aba.jpg")]
    assert row["SourceEventTime"] == T3
    assert objects.keys(RENDITIONS) == {entry["Key"] for entry in row["Renditions"].values()}


def test_a_late_event_deletes_only_its_own_stale_renditions(world):
    """The older version was read before the newer one was recorded (a race): its renditions are
    orphans the newer row does not point to; they go, the newer row's stay."""
    objects, table, _, pipeline = world
    old = upload(objects, "race.jpg", images.jpeg(500, 400))
    newer_row = {
        **records.failed_row(
            SourceObject(UPLOADS, "race.jpg", 1, "newer-etag", "image/jpeg", T2),
            records.Status.PROCESSED,
            records.ErrorCode.SERVICE_ERROR,
            "",
            T2,
        ),
        "Renditions": {
            "thumbnail": {"Bucket": RENDITIONS, "Key": "renditions/thumbnail/race.jpg/newer-etag.jpg"}
        },
    }
    table.rows[str(newer_row["ImageID"])] = newer_row
    objects.put(RENDITIONS, "renditions/thumbnail/race.jpg/newer-etag.jpg", b"newer thumbnail")

    assert pipeline.process_upload(UPLOADS, "race.jpg", old, T1).outcome == Outcome.SUPERSEDED
    assert objects.keys(RENDITIONS) == {"renditions/thumbnail/race.jpg/newer-etag.jpg"}


@pytest.mark.parametrize("written_before_failing", [0, 1, 2])
def test_a_failing_rendition_write_never_leaves_a_processed_row(world, written_before_failing):
    objects, table, notifier, pipeline = world
    etag = upload(objects, "flaky.jpg", images.jpeg(700, 500))
    objects.fail_writes_after = written_before_failing

    with pytest.raises(StorageError):
        pipeline.process_upload(UPLOADS, "flaky.jpg", etag, T1)
    row = table.rows[records.image_id(UPLOADS, "flaky.jpg")]
    assert row["Status"] == "RETRYING" and row["ErrorCode"] == "SERVICE_ERROR"
    assert notifier.messages == []

    objects.fail_writes_after = None  # the retry succeeds
    assert pipeline.process_upload(UPLOADS, "flaky.jpg", etag, T1).outcome == Outcome.PROCESSED
    row = table.rows[records.image_id(UPLOADS, "flaky.jpg")]
    assert row["Status"] == "PROCESSED" and "ErrorCode" not in row
    assert objects.keys(RENDITIONS) == {entry["Key"] for entry in row["Renditions"].values()}


def test_a_bug_of_ours_is_retried_not_blamed_on_the_file(world, monkeypatch):
    objects, table, _, pipeline = world
    etag = upload(objects, "fine.jpg", images.jpeg(300, 200))

    def broken(*args, **kwargs):
        raise TypeError("a bug in our code")

    monkeypatch.setattr("image_pipeline.imaging.make_renditions", broken)
    with pytest.raises(TypeError):
        pipeline.process_upload(UPLOADS, "fine.jpg", etag, T1)
    row = table.rows[records.image_id(UPLOADS, "fine.jpg")]
    assert row["Status"] == "RETRYING" and row["ErrorCode"] == "SERVICE_ERROR"
    assert "TypeError: a bug in our code" in row["ErrorMessage"]


def test_a_retrying_row_keeps_the_previous_renditions_until_the_retry_settles(world):
    objects, table, _, pipeline = world
    first = upload(objects, "v.jpg", images.jpeg(640, 480))
    pipeline.process_upload(UPLOADS, "v.jpg", first, T1)
    second = upload(objects, "v.jpg", images.jpeg(480, 640))
    objects.fail_writes_after = 0
    with pytest.raises(StorageError):
        pipeline.process_upload(UPLOADS, "v.jpg", second, T2)
    assert table.rows[records.image_id(UPLOADS, "v.jpg")]["Status"] == "RETRYING"

    objects.fail_writes_after = None
    pipeline.process_upload(UPLOADS, "v.jpg", second, T2)
    row = table.rows[records.image_id(UPLOADS, "v.jpg")]
    assert objects.keys(RENDITIONS) == {entry["Key"] for entry in row["Renditions"].values()}  # none orphaned


def test_removal_deletes_every_rendition_announces_once_and_leaves_a_tombstone(world):
    objects, table, notifier, pipeline = world
    etag = upload(objects, "gone.jpg", images.jpeg(640, 480))
    pipeline.process_upload(UPLOADS, "gone.jpg", etag, T1)
    objects.delete(UPLOADS, "gone.jpg")

    assert pipeline.remove_upload(UPLOADS, "gone.jpg", T2).outcome == Outcome.DELETED
    # The same removal delivered again, or another one, finds nothing left to do.
    assert pipeline.remove_upload(UPLOADS, "gone.jpg", T2).outcome == Outcome.NOTHING_TO_DELETE
    assert pipeline.remove_upload(UPLOADS, "gone.jpg", T3).outcome == Outcome.NOTHING_TO_DELETE
    assert table.shown() == {} and objects.keys(RENDITIONS) == set()
    tombstone = table.rows[records.image_id(UPLOADS, "gone.jpg")]
    assert tombstone["Status"] == "DELETED" and tombstone["Expiration"] > 0 and "Gallery" not in tombstone
    assert [message["Status"] for message in notifier.messages] == ["PROCESSED", "DELETED"]


def test_a_late_create_never_brings_a_deleted_image_back(world):
    """Deleted while its upload was being processed: the removal runs first; the upload's
    renditions and row, written after, must not resurrect it."""
    objects, table, notifier, pipeline = world
    etag = upload(objects, "brief.jpg", images.jpeg(640, 480))
    source, data = objects.read_source(UPLOADS, "brief.jpg", etag, T1, 10**9)
    objects.delete(UPLOADS, "brief.jpg")
    assert pipeline.remove_upload(UPLOADS, "brief.jpg", T2).outcome == Outcome.NOTHING_TO_DELETE

    objects.read_source = lambda *args: (source, data)  # the create had read it before the delete
    assert pipeline.process_upload(UPLOADS, "brief.jpg", etag, T1).outcome == Outcome.SUPERSEDED
    assert table.shown() == {} and objects.keys(RENDITIONS) == set()
    assert notifier.messages == []


def test_a_removal_that_fails_midway_is_finished_by_its_retry(world):
    objects, table, notifier, pipeline = world
    etag = upload(objects, "retry.jpg", images.jpeg(640, 480))
    pipeline.process_upload(UPLOADS, "retry.jpg", etag, T1)
    objects.delete(UPLOADS, "retry.jpg")
    notifier.failing = True
    with pytest.raises(StorageError):
        pipeline.remove_upload(UPLOADS, "retry.jpg", T2)
    assert table.shown() == {}  # DELETING: not shown, renditions still known

    notifier.failing = False
    assert pipeline.remove_upload(UPLOADS, "retry.jpg", T2).outcome == Outcome.DELETED  # Lambda's retry
    assert objects.keys(RENDITIONS) == set()
    assert [message["Status"] for message in notifier.messages] == ["PROCESSED", "DELETED"]


def test_an_upload_after_a_delete_is_a_new_image(world):
    objects, table, _, pipeline = world
    etag = upload(objects, "again.jpg", images.jpeg(640, 480))
    pipeline.process_upload(UPLOADS, "again.jpg", etag, T1)
    objects.delete(UPLOADS, "again.jpg")
    pipeline.remove_upload(UPLOADS, "again.jpg", T2)
    etag = upload(objects, "again.jpg", images.jpeg(300, 200))
    assert pipeline.process_upload(UPLOADS, "again.jpg", etag, T3).outcome == Outcome.PROCESSED
    row = table.rows[records.image_id(UPLOADS, "again.jpg")]
    assert records.is_shown(row) and "Expiration" not in row and row["Width"] == 300


def test_a_late_removal_after_a_reupload_changes_nothing(world):
    objects, table, _, pipeline = world
    etag = upload(objects, "back.jpg", images.jpeg(640, 480))
    pipeline.process_upload(UPLOADS, "back.jpg", etag, T2)
    assert pipeline.remove_upload(UPLOADS, "back.jpg", T1).outcome == Outcome.SUPERSEDED
    assert records.image_id(UPLOADS, "back.jpg") in table.shown()


def test_removal_of_a_row_from_before_renditions_deletes_its_thumbnail(world):
    objects, table, _, pipeline = world
    legacy_key = "thumbnails/old.jpg/e1.jpg"
    objects.put("old-thumbnails", legacy_key, b"thumb")
    source = SourceObject(UPLOADS, "old.jpg", 10, "e1", "image/jpeg", T1)
    row = records.failed_row(source, records.Status.PROCESSED, records.ErrorCode.SERVICE_ERROR, "", T1)
    table.rows[str(row["ImageID"])] = {**row, "ThumbnailBucket": "old-thumbnails", "ThumbnailKey": legacy_key}

    assert pipeline.remove_upload(UPLOADS, "old.jpg", T2).outcome == Outcome.DELETED
    assert objects.keys("old-thumbnails") == set() and table.shown() == {}


@pytest.mark.parametrize(
    ("bucket", "key"),
    [(UPLOADS, "renditions/web/x.jpg/e.webp"), (UPLOADS, "thumbnails/x.jpg/e.jpg"), (RENDITIONS, "any.jpg")],
)
def test_the_recursion_guard_covers_every_rendition_prefix(world, bucket, key):
    objects, table, _, pipeline = world
    etag = objects.put(bucket, key, images.jpeg(100, 100))
    assert pipeline.process_upload(bucket, key, etag, T1).outcome == Outcome.IGNORED
    assert pipeline.remove_upload(bucket, key, T1).outcome == Outcome.IGNORED
    assert table.rows == {}


def test_location_is_recorded_only_when_the_owner_opts_in(world):
    objects, table, _, _ = world
    etag = upload(objects, "gps.jpg", images.camera_jpeg(640, 480, location=True))
    for keep, expected in ((False, set()), (True, {"Latitude", "Longitude"})):
        pipeline = ImagePipeline(replace(SETTINGS, keep_location=keep), objects, table, FakeNotifier())
        table.rows.clear()
        pipeline.process_upload(UPLOADS, "gps.jpg", etag, T1)
        row = table.rows[records.image_id(UPLOADS, "gps.jpg")]
        assert {"Latitude", "Longitude"} & set(row) == expected
        assert row["CameraModel"] and row["CapturedAt"]
        for entry in row["Renditions"].values():
            rendition = Image.open(io.BytesIO(objects.objects[(RENDITIONS, entry["Key"])][0]))
            assert not rendition.getexif(), "no EXIF, no GPS in any rendition"


def test_the_watermark_logo_is_read_once_per_environment_and_its_absence_is_visible(world):
    objects, table, _, _ = world
    settings = replace(SETTINGS, watermark_logo_key="branding/logo.png")
    pipeline = ImagePipeline(settings, objects, table, FakeNotifier())
    etag = upload(objects, "one.jpg", images.jpeg(640, 480))
    with pytest.raises(StorageError, match=r"logo\.png"):
        pipeline.process_upload(UPLOADS, "one.jpg", etag, T1)
    assert table.rows[records.image_id(UPLOADS, "one.jpg")]["Status"] == "RETRYING"

    objects.put(
        RENDITIONS, "branding/logo.png", images.encode(Image.new("RGBA", (64, 32), (0, 0, 0, 128)), "PNG")
    )
    pipeline.process_upload(UPLOADS, "one.jpg", etag, T1)
    pipeline.process_upload(UPLOADS, "two.jpg", upload(objects, "two.jpg", images.jpeg(320, 200)), T1)
    assert objects.reads.count((RENDITIONS, "branding/logo.png")) == 2  # the failed try, then once


# EventBridge's event times have whole seconds: two versions of a key (or an upload and its
# delete) can share one. Then the object decides which result is the newer one.
SAME_SECOND = "2026-01-01T00:00:05.000Z"


def test_of_two_versions_in_one_second_the_object_s_current_one_wins_in_either_order(world):
    objects, table, _, pipeline = world
    first = upload(objects, "tie.jpg", images.jpeg(800, 600))
    stale = pipeline.prepare(UPLOADS, "tie.jpg", first, SAME_SECOND, "REQ1")  # read before B landed
    second = upload(objects, "tie.jpg", images.jpeg(600, 800))
    current = pipeline.prepare(UPLOADS, "tie.jpg", second, SAME_SECOND, "REQ2")

    # B records first; A's result, later, is refused although its time is the same.
    assert pipeline.record(current)[0].outcome == Outcome.PROCESSED
    assert pipeline.record(stale)[0].outcome == Outcome.SUPERSEDED
    row = table.rows[records.image_id(UPLOADS, "tie.jpg")]
    assert row["SourceETag"] == second
    assert objects.keys(RENDITIONS) == {entry["Key"] for entry in row["Renditions"].values()}


def test_of_two_versions_in_one_second_the_current_one_replaces_the_stale_one_recorded_first(world):
    objects, table, _, pipeline = world
    first = upload(objects, "tie2.jpg", images.jpeg(800, 600))
    stale = pipeline.prepare(UPLOADS, "tie2.jpg", first, SAME_SECOND, "REQ1")
    second = upload(objects, "tie2.jpg", images.jpeg(600, 800))
    current = pipeline.prepare(UPLOADS, "tie2.jpg", second, SAME_SECOND, "REQ2")

    assert pipeline.record(stale)[0].outcome == Outcome.PROCESSED  # nothing newer known yet
    assert pipeline.record(current)[0].outcome == Outcome.PROCESSED  # the object holds it: it wins
    row = table.rows[records.image_id(UPLOADS, "tie2.jpg")]
    assert row["SourceETag"] == second
    assert objects.keys(RENDITIONS) == {entry["Key"] for entry in row["Renditions"].values()}
    # ...and a RETRYING mark of the stale version cannot take the row over either.
    pipeline.record_retrying(UPLOADS, "tie2.jpg", first, SAME_SECOND, "publishing failed")
    assert table.rows[records.image_id(UPLOADS, "tie2.jpg")]["Status"] == "PROCESSED"


def test_an_upload_and_its_delete_in_one_second_leave_the_image_deleted(world):
    objects, table, _, pipeline = world
    etag = upload(objects, "brief.jpg", images.jpeg(640, 480))
    prepared = pipeline.prepare(UPLOADS, "brief.jpg", etag, SAME_SECOND, "REQ1")
    objects.delete(UPLOADS, "brief.jpg")
    assert pipeline.remove_upload(UPLOADS, "brief.jpg", SAME_SECOND).outcome == Outcome.NOTHING_TO_DELETE

    # The upload's row arrives after the tombstone, with the same time: refused, renditions gone.
    assert pipeline.record(prepared)[0].outcome == Outcome.SUPERSEDED
    assert table.rows[records.image_id(UPLOADS, "brief.jpg")]["Status"] == "DELETED"
    assert objects.keys(RENDITIONS) == set()
