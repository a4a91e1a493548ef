"""Nothing lost, nothing twice: duplicates, ordering, deletes, the recursion guard, transient
failures with retries, the dead-letter queue and redrive."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from image_pipeline.records import image_id, iso_utc

from tests import images
from tests.e2e.pipeline.conftest import get_row, recorded_request_id, renditions_in_bucket, s3_event

REPO_ROOT = Path(__file__).resolve().parents[3]


def created_event(stack, row: dict, event_time: str | None = None, request_id: str | None = None) -> dict:
    """The ObjectCreated event S3 sent for the version the row records (with the request id it
    had), or a new one at event_time."""
    return s3_event(
        "ObjectCreated:Put",
        stack.uploads_bucket,
        row["SourceKey"],
        event_time or row["SourceEventTime"],
        etag=row["SourceETag"],
        size=row["SourceSize"],
        request_id=request_id,
    )


def thumbnails_of(aws, stack, key: str) -> list[str]:
    """Every rendition object of the source key (any version)."""
    return renditions_in_bucket(aws, stack, key)


def keys_of(row: dict) -> list[str]:
    """The rendition keys the row points to."""
    return sorted(entry["Key"] for entry in row["Renditions"].values())


def wait_until(condition, timeout: float = 60, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"{what} not reached within {timeout} s"
        time.sleep(interval)
    return result


def test_duplicate_event_yields_one_row_one_thumbnail_write_one_notification(
    aws, stack, upload, wait_for_row, notifications, invoke_function
):
    uploaded = upload("duplicate.jpg", images.jpeg(800, 600))
    row = wait_for_row(uploaded.image_id)
    notifications.wait_for(uploaded.image_id, "PROCESSED")
    thumbnail_before = aws("s3").head_object(Bucket=row["ThumbnailBucket"], Key=row["ThumbnailKey"])

    # S3 delivers the very same event again, twice.
    for _ in range(2):
        result = invoke_function(created_event(stack, row, request_id=recorded_request_id(aws, row)))
        assert result["results"][0]["outcome"] == "PROCESSED"  # the recorded result, not a new run

    assert get_row(aws, stack, uploaded.image_id) == row  # UpdatedAt and everything else unchanged
    thumbnail_after = aws("s3").head_object(Bucket=row["ThumbnailBucket"], Key=row["ThumbnailKey"])
    assert thumbnail_after["LastModified"] == thumbnail_before["LastModified"]
    assert thumbnails_of(aws, stack, uploaded.key) == keys_of(row)
    # A later upload's notification proves the queue has caught up; still one for ours.
    sentinel = upload("sentinel.jpg", images.jpeg(100, 100))
    notifications.wait_for(sentinel.image_id)
    assert len(notifications.about(uploaded.image_id)) == 1


@pytest.mark.workflows("direct")  # stepfunctions mode: test_workflow.py
def test_concurrent_duplicates_are_processed_once(aws, stack, upload, wait_for_row, notifications):
    uploaded = upload("concurrent.jpg", images.jpeg(800, 600))
    first = wait_for_row(uploaded.image_id)
    notifications.wait_for(uploaded.image_id, "PROCESSED")
    # A new event (later time) for the same version, delivered three times at once.
    event = json.dumps(created_event(stack, first, event_time="2099-01-01T00:00:00.000Z")).encode()
    lambda_client = aws("lambda")

    def deliver(_: int) -> dict:
        response = lambda_client.invoke(FunctionName=stack.function_name, Payload=event)
        return {"error": response.get("FunctionError"), "payload": json.loads(response["Payload"].read())}

    with ThreadPoolExecutor(max_workers=3) as pool:
        deliveries = list(pool.map(deliver, range(3)))
    # Each delivery either ran, returned the recorded result, or found the event in progress
    # (an error, so that Lambda would retry it later and then find it done).
    for delivery in deliveries:
        if delivery["error"]:
            assert delivery["payload"]["errorType"] == "IdempotencyAlreadyInProgressError", delivery
        else:
            assert delivery["payload"]["results"][0]["outcome"] == "PROCESSED", delivery
    second = get_row(aws, stack, uploaded.image_id)
    assert second["SourceEventTime"].startswith("2099") and second["UpdatedAt"] > first["UpdatedAt"]
    sentinel = upload("sentinel.jpg", images.jpeg(100, 100))
    notifications.wait_for(sentinel.image_id)
    assert len(notifications.about(uploaded.image_id, "PROCESSED")) == 2  # the upload's, and one of three


def test_overwrite_updates_row_and_thumbnail_and_a_late_event_changes_nothing(
    aws, stack, upload, wait_for_row, invoke_function
):
    first = upload("overwritten.jpg", images.jpeg(800, 600))
    old_row = wait_for_row(first.image_id)
    upload("overwritten.jpg", images.jpeg(600, 900))
    new_row = wait_for_row(first.image_id, until=lambda row: row["SourceETag"] != old_row["SourceETag"])

    assert new_row["UpdatedAt"] > old_row["UpdatedAt"]
    assert new_row["CreatedAt"] == old_row["CreatedAt"]
    assert (new_row["Width"], new_row["Height"]) == (600, 900)
    assert (new_row["ThumbnailWidth"], new_row["ThumbnailHeight"]) == (171, 256)
    wait_until(
        lambda: thumbnails_of(aws, stack, first.key) == keys_of(new_row),
        what="old thumbnail removed",
    )

    # An event for the first version arrives late, for the first time (a redelivery of the event
    # already handled would just return its recorded result).
    late = datetime.fromisoformat(old_row["SourceEventTime"]) + timedelta(milliseconds=1)
    late_time = late.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    result = invoke_function(created_event(stack, old_row, event_time=late_time))
    assert result["results"][0]["outcome"] == "SUPERSEDED"
    assert get_row(aws, stack, first.image_id) == new_row
    assert thumbnails_of(aws, stack, first.key) == keys_of(new_row)


def test_delete_removes_row_and_every_rendition_and_announces_it(
    aws, stack, upload, wait_for_row, notifications
):
    uploaded = upload("deleted.jpg", images.jpeg(640, 480))
    row = wait_for_row(uploaded.image_id)
    aws("s3").delete_object(Bucket=stack.uploads_bucket, Key=uploaded.key)

    assert len(keys_of(row)) == len(stack.renditions)
    # Claimed (DELETING), renditions deleted, announced, then a tombstone that expires by TTL.
    tombstone = wait_until(lambda: is_tombstone(get_row(aws, stack, uploaded.image_id)), what="tombstone")
    assert thumbnails_of(aws, stack, uploaded.key) == []
    assert tombstone["Expiration"] > time.time() and "Gallery" not in tombstone
    message, attributes = notifications.wait_for(uploaded.image_id, "DELETED")
    assert message["SourceKey"] == uploaded.key and attributes["status"]["Value"] == "DELETED"
    assert row["ThumbnailKey"]


def test_a_late_delete_event_does_not_remove_a_newer_upload(
    aws, stack, upload, wait_for_row, invoke_function
):
    uploaded = upload("reuploaded.jpg", images.jpeg(640, 480))
    row = wait_for_row(uploaded.image_id)
    removal = s3_event("ObjectRemoved:Delete", stack.uploads_bucket, uploaded.key, "2000-01-01T00:00:00.000Z")
    assert invoke_function(removal)["results"][0]["outcome"] == "SUPERSEDED"
    assert get_row(aws, stack, uploaded.image_id) == row


@pytest.mark.parametrize("where", ["thumbnails bucket", "own prefix in uploads"])
def test_recursion_guard_refuses_the_pipelines_own_output(aws, stack, wait_for_row, invoke_function, where):
    bucket = stack.thumbnails_bucket if where == "thumbnails bucket" else stack.uploads_bucket
    key = "thumbnails/some/photo.jpg/abc.jpg"
    event = s3_event("ObjectCreated:Put", bucket, key, "2026-01-01T00:00:00.000Z", etag="abc", size=10)
    result = invoke_function(event)["results"][0]
    assert result["outcome"] == "IGNORED"
    assert get_row(aws, stack, image_id(bucket, key)) is None


def test_an_upload_to_the_own_prefix_is_not_processed(aws, stack, upload, notifications):
    key = "thumbnails/trap.jpg"
    aws("s3").put_object(Bucket=stack.uploads_bucket, Key=key, Body=images.jpeg(200, 200))
    try:
        sentinel = upload("after-trap.jpg", images.jpeg(100, 100))
        notifications.wait_for(sentinel.image_id)
        assert get_row(aws, stack, image_id(stack.uploads_bucket, key)) is None
        assert not notifications.about(image_id(stack.uploads_bucket, key))
    finally:
        aws("s3").delete_object(Bucket=stack.uploads_bucket, Key=key)


@pytest.mark.workflows("direct")  # stepfunctions mode: test_workflow.py
def test_transient_failure_is_retried_and_the_row_says_so_meanwhile(
    aws, stack, upload, wait_for_row, topic_outage
):
    uploaded = upload("during-outage.jpg", images.jpeg(800, 600))
    retrying = wait_for_row(uploaded.image_id, until=lambda row: row["Status"] == "RETRYING")
    assert retrying["ErrorCode"] == "SERVICE_ERROR" and "publishing" in retrying["ErrorMessage"]
    topic_outage.restore()
    processed = wait_for_row(uploaded.image_id, until=lambda row: row["Status"] == "PROCESSED")
    assert "ErrorCode" not in processed and "ErrorMessage" not in processed
    assert thumbnails_of(aws, stack, uploaded.key) == keys_of(processed)


def dead_letters(aws, stack) -> int:
    attributes = aws("sqs").get_queue_attributes(
        QueueUrl=stack.dead_letter_queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


@pytest.mark.workflows("direct")  # stepfunctions mode: test_workflow.py
def test_exhausted_retries_land_in_the_dead_letter_queue_and_redrive_finishes_the_job(
    aws, stack, upload, wait_for_row, topic_outage, emulator
):
    before = dead_letters(aws, stack)
    uploaded = upload("parked.jpg", images.jpeg(800, 600))
    wait_until(lambda: dead_letters(aws, stack) > before, timeout=60, interval=0.25, what="a dead letter")
    assert get_row(aws, stack, uploaded.image_id)["Status"] == "RETRYING"

    topic_outage.restore()
    redrive = subprocess.run(
        [sys.executable, "-m", "scripts.redrive"],
        cwd=REPO_ROOT,
        env={
            **os.environ,
            "AWS_ENDPOINT_URL": emulator,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "us-east-1",
        },
        capture_output=True,
        text=True,
    )
    assert redrive.returncode == 0, redrive.stdout + redrive.stderr
    assert redrive.stdout.rstrip().endswith(", 0 still failing"), redrive.stdout
    row = wait_for_row(uploaded.image_id, until=lambda row: row["Status"] == "PROCESSED")
    assert thumbnails_of(aws, stack, uploaded.key) == keys_of(row)
    assert dead_letters(aws, stack) == before


def test_a_delete_through_the_api_takes_the_same_path_and_announces_once(
    aws, stack, upload, wait_for_row, notifications, api, api_url
):
    uploaded = upload("api-deleted.jpg", images.jpeg(640, 480))
    row = wait_for_row(uploaded.image_id)
    assert len(keys_of(row)) == len(stack.renditions)

    assert api.delete(f"{api_url}/images/{uploaded.image_id}").status_code == 204
    # The API deleted the original (and hid the row at once); its S3 event took the one removal path.
    assert api.get(f"{api_url}/images/{uploaded.image_id}").status_code == 404
    wait_until(lambda: is_tombstone(get_row(aws, stack, uploaded.image_id)), what="tombstone")
    assert thumbnails_of(aws, stack, uploaded.key) == []
    message, attributes = notifications.wait_for(uploaded.image_id, "DELETED")
    assert message["SourceKey"] == uploaded.key and attributes["status"]["Value"] == "DELETED"
    time.sleep(1)
    notifications.receive()
    assert len(notifications.about(uploaded.image_id, "DELETED")) == 1


def test_after_a_delete_late_events_change_nothing_and_a_new_upload_is_a_new_image(
    aws, stack, upload, wait_for_row, invoke_function
):
    uploaded = upload("brief.jpg", images.jpeg(640, 480))
    row = wait_for_row(uploaded.image_id)
    aws("s3").delete_object(Bucket=stack.uploads_bucket, Key=uploaded.key)
    tombstone = wait_until(lambda: is_tombstone(get_row(aws, stack, uploaded.image_id)), what="tombstone")

    # A create event from before the delete, delivered late (not the recorded one: a new event).
    late = iso_utc(datetime.fromisoformat(row["SourceEventTime"]) + timedelta(milliseconds=1))
    assert invoke_function(created_event(stack, row, event_time=late))["results"][0]["outcome"] == "GONE"
    assert get_row(aws, stack, uploaded.image_id) == tombstone

    aws("s3").put_object(Bucket=stack.uploads_bucket, Key=uploaded.key, Body=uploaded.data)
    again = wait_for_row(uploaded.image_id, until=lambda current: current["Status"] == "PROCESSED")
    assert "Expiration" not in again and again["CreatedAt"] > row["CreatedAt"]
    assert thumbnails_of(aws, stack, uploaded.key) == keys_of(again)


def is_tombstone(row: dict | None) -> dict | None:
    return row if row and row["Status"] == "DELETED" else None
