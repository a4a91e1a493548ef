"""A change to an uploaded object, however it was announced: an S3 notification (direct mode) or an
S3 event through EventBridge (stepfunctions mode). Pure: both modes hand the pipeline the same thing.

A change is its event name, bucket, key (URL-decoded), ETag, version and event time. A redelivery
of an event repeats all of them; a new upload of the same key does not (its ETag or time differ).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, NotRequired, TypedDict
from urllib.parse import unquote_plus

# EventBridge's detail-types for S3 objects, as the S3 notification event names direct mode sees.
# (`Object Deleted` comes for deletes and delete markers alike; its reason tells them apart.)
_EVENTBRIDGE_EVENT_NAMES = {
    "Object Created": "ObjectCreated",
    "Object Deleted": "ObjectRemoved",
}
_EVENTBRIDGE_REASONS = {
    "PutObject": "Put",
    "POST Object": "Post",
    "CopyObject": "Copy",
    "CompleteMultipartUpload": "CompleteMultipartUpload",
    "DeleteObject": "Delete",
}


class Change(TypedDict):
    event_name: str  # ObjectCreated:Put, ObjectRemoved:Delete, ...
    bucket: str
    key: str
    etag: str | None
    version_id: str | None
    event_time: str  # ISO 8601 UTC: orders versions of a key
    # The S3 request that made the change (EventBridge events carry it): what tells apart two
    # uploads of the same bytes to one key within one second, EventBridge's time's precision.
    request_id: NotRequired[str | None]


def is_removal(change: Change) -> bool:
    return change["event_name"].startswith("ObjectRemoved")


def from_s3_record(record: dict[str, Any]) -> Change:
    """One record of an S3 notification event (the key comes URL-encoded, `+` for a space)."""
    s3_object = record["s3"]["object"]
    return {
        "event_name": record["eventName"],
        "bucket": record["s3"]["bucket"]["name"],
        "key": unquote_plus(s3_object["key"]),
        "etag": s3_object.get("eTag") or None,
        "version_id": s3_object.get("versionId") or None,
        "event_time": record["eventTime"],
    }


def from_eventbridge(event: dict[str, Any]) -> Change:
    """An `aws.s3` event from EventBridge. Its key is URL-encoded too (as S3 sends it), and its
    `sequencer` says nothing about order in LocalStack (a constant): the event time orders."""
    detail = event["detail"]
    s3_object = detail["object"]
    kind = _EVENTBRIDGE_EVENT_NAMES.get(event["detail-type"])
    if kind is None:
        raise ValueError(f"not an S3 object event: {event['detail-type']!r}")
    reason = detail.get("reason") or ""
    if detail.get("deletion-type") == "Delete Marker Created":
        reason = "DeleteMarkerCreated"
    return {
        "event_name": f"{kind}:{_EVENTBRIDGE_REASONS.get(reason, reason or 'Put')}",
        "bucket": detail["bucket"]["name"],
        "key": unquote_plus(s3_object["key"]),
        "etag": s3_object.get("etag") or None,
        "version_id": s3_object.get("version-id") or None,
        "event_time": _milliseconds(event["time"]),
        "request_id": detail.get("request-id"),
    }


def _milliseconds(moment: str) -> str:
    """2026-12-03T10:00:00Z -> 2026-12-03T10:00:00.000Z, so that times compare as strings with the
    millisecond times of direct mode's events and rows."""
    if moment.endswith("Z") and "." not in moment:
        return f"{moment[:-1]}.000Z"
    return moment


def execution_name(change: Change) -> str:
    """The workflow execution's name: the same for every delivery of one change, so a duplicate
    event starts no second execution (Step Functions keeps a STANDARD name for 90 days), and
    another for every other change, even of the same bytes in the same second (its request id)."""
    identity = json.dumps(
        [
            change["event_name"].split(":")[0],
            change["bucket"],
            change["key"],
            change["etag"],
            change["version_id"],
            change["event_time"],
            change.get("request_id"),
        ],
        ensure_ascii=False,
    )
    prefix = "remove" if is_removal(change) else "upload"
    return f"{prefix}-{hashlib.sha256(identity.encode()).hexdigest()[:48]}"
