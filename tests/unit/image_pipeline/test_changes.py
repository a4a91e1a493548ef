"""Both announcements of one change, an S3 notification (direct mode) and an S3 event through
EventBridge (stepfunctions mode), give the pipeline the same change; an execution's name is the
same for every delivery of one change and differs between changes."""

from __future__ import annotations

import pytest
from image_pipeline.changes import execution_name, from_eventbridge, from_s3_record, is_removal

BUCKET = "image-pipeline-uploads-000000000000-us-east-1"


def s3_record(event_name: str, key: str, event_time: str, etag: str | None = "abc") -> dict:
    s3_object = {"key": key, "sequencer": "0055AED6DCD90281E5"}
    if etag:
        s3_object |= {"eTag": etag, "size": 10}
    return {
        "eventName": event_name,
        "eventTime": event_time,
        "s3": {"bucket": {"name": BUCKET}, "object": s3_object},
    }


def eventbridge(detail_type: str, key: str, time: str, reason: str, etag: str | None = "abc") -> dict:
    s3_object = {"key": key, "sequencer": "0055AED6DCD90281E5"}
    if etag:
        s3_object |= {"etag": etag, "size": 10}
    return {
        "version": "0",
        "detail-type": detail_type,
        "source": "aws.s3",
        "time": time,
        "detail": {"bucket": {"name": BUCKET}, "object": s3_object, "request-id": "N4S1", "reason": reason},
    }


def test_an_upload_is_the_same_change_however_it_was_announced():
    direct = from_s3_record(
        s3_record("ObjectCreated:Put", "holiday/beach+day+%281%29.jpg", "2026-12-03T10:00:00.000Z")
    )
    workflow = from_eventbridge(
        eventbridge("Object Created", "holiday/beach+day+%281%29.jpg", "2026-12-03T10:00:00Z", "PutObject")
    )
    assert workflow.pop("request_id") == "N4S1"  # the S3 request (direct mode's key leaves it out)
    assert (
        direct
        == workflow
        == {
            "event_name": "ObjectCreated:Put",
            "bucket": BUCKET,
            "key": "holiday/beach day (1).jpg",  # URL-decoded in both
            "etag": "abc",
            "version_id": None,
            "event_time": "2026-12-03T10:00:00.000Z",  # EventBridge's seconds, as comparable strings
        }
    )
    assert not is_removal(workflow)


@pytest.mark.parametrize(
    ("reason", "deletion_type", "event_name"),
    [
        ("DeleteObject", None, "ObjectRemoved:Delete"),
        ("DeleteObject", "Delete Marker Created", "ObjectRemoved:DeleteMarkerCreated"),
    ],
)
def test_a_removal_through_eventbridge_is_a_removal(reason, deletion_type, event_name):
    event = eventbridge("Object Deleted", "a.jpg", "2026-12-03T10:00:01Z", reason, etag=None)
    if deletion_type:
        event["detail"]["deletion-type"] = deletion_type
    change = from_eventbridge(event)
    assert change["event_name"] == event_name and change["etag"] is None and is_removal(change)


def test_other_eventbridge_events_are_refused():
    with pytest.raises(ValueError, match="not an S3 object event"):
        from_eventbridge(eventbridge("Object Restore Completed", "a.jpg", "2026-12-03T10:00:01Z", ""))


def test_every_delivery_of_a_change_has_one_execution_name_and_other_changes_others():
    event = eventbridge("Object Created", "a.jpg", "2026-12-03T10:00:00Z", "PutObject")
    name = execution_name(from_eventbridge(event))
    assert name == execution_name(from_eventbridge(dict(event)))
    assert len(name) <= 80 and name.startswith("upload-") and name.replace("-", "").isalnum()
    later = execution_name(from_eventbridge({**event, "time": "2026-12-03T10:00:01Z"}))
    other_content = eventbridge("Object Created", "a.jpg", "2026-12-03T10:00:00Z", "PutObject", etag="def")
    removal = eventbridge("Object Deleted", "a.jpg", "2026-12-03T10:00:00Z", "DeleteObject", etag=None)
    names = {
        name,
        later,
        execution_name(from_eventbridge(other_content)),
        execution_name(from_eventbridge(removal)),
    }
    assert len(names) == 4
    assert execution_name(from_eventbridge(removal)).startswith("remove-")
