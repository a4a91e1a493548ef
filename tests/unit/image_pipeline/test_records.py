"""Contracts of the pipeline: ids, keys, rows, notifications."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from image_pipeline import records
from image_pipeline.errors import ErrorCode
from image_pipeline.imaging import Watermark, make_renditions
from image_pipeline.records import Status
from image_pipeline.renditions import DEFAULT_RENDITIONS, parse_renditions

from tests import images

SOURCE = records.SourceObject(
    bucket="uploads",
    key="holiday/straße 1.jpg",
    size=12345,
    etag="abc123",
    content_type="image/jpeg",
    event_time="2026-11-23T09:59:59.500Z",
)
NOW = "2026-11-23T10:00:00.000Z"


def test_image_id_is_deterministic_url_safe_and_distinct():
    first = records.image_id("uploads", "a/b c.jpg")
    assert first == records.image_id("uploads", "a/b c.jpg")
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != records.image_id("uploads", "a/b c.png")
    assert first != records.image_id("other-bucket", "a/b c.jpg")


T = "2026-11-23T09:59:59.500Z"


def test_rendition_key_names_the_rendition_the_source_key_and_version():
    key = records.rendition_key("web", "photos/cat.png", "e1f2", T, "webp")
    assert key == "renditions/web/photos/cat.png/e1f2-20261123T095959500Z.webp"
    assert key != records.rendition_key("proof", "photos/cat.png", "e1f2", T, "webp")
    assert key != records.rendition_key("web", "photos/cat.jpg", "e1f2", T, "webp")
    assert key != records.rendition_key("web", "photos/cat.png", "e1f3", T, "webp")
    # The same bytes uploaded again: another version, another key.
    assert key != records.rendition_key("web", "photos/cat.png", "e1f2", "2026-11-23T10:00:00.000Z", "webp")


@pytest.mark.parametrize(
    "unsafe",
    ["../../etc/passwd", "/absolute/photo.jpg", "a/../b.jpg", "a//b.jpg", "./a.jpg", "a/" * 600 + "b.jpg"],
)
def test_derived_keys_never_carry_dot_dot_absolute_paths_or_exceed_s3s_limit(unsafe):
    key = records.rendition_key("thumbnail", unsafe, "e1f2", T, "jpg")
    assert records.is_safe_key(key) and len(key.encode()) <= records.MAX_KEY_BYTES
    assert key.startswith("renditions/thumbnail/_/") and key.endswith("/e1f2-20261123T095959500Z.jpg")
    assert key == records.rendition_key("thumbnail", unsafe, "e1f2", T, "jpg")  # deterministic
    assert key != records.rendition_key("thumbnail", unsafe + "x", "e1f2", T, "jpg")


def test_etag_is_reduced_to_safe_characters():
    assert records.rendition_key("web", "a.jpg", '"abc-3"', T, "jpg").endswith(
        "/a.jpg/abc-3-20261123T095959500Z.jpg"
    )
    assert records.rendition_key("web", "a.jpg", "../x", T, "jpg").endswith(
        "/a.jpg/x-20261123T095959500Z.jpg"
    )


def test_a_tombstone_keeps_only_what_refuses_older_events():
    source = records.failed_row(SOURCE, Status.FAILED, ErrorCode.NOT_AN_IMAGE, "x", NOW)
    stone = records.tombstone(source, "2026-11-23T10:00:01.000Z", NOW)
    assert set(stone) == {
        "ImageID",
        "Status",
        "SourceBucket",
        "SourceKey",
        "SourceEventTime",
        "UpdatedAt",
        "Expiration",
    }
    now = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC).timestamp()
    assert stone["Status"] == "DELETED" and stone["Expiration"] == now + records.TOMBSTONE_SECONDS
    assert not records.is_shown(stone) and records.is_shown(source)
    assert not records.is_shown({**source, "DeleteRequestedAt": NOW}) and not records.is_shown(None)


def test_own_output_is_recognised_by_prefix():
    assert records.is_own_output("renditions/proof/photos/cat.jpg/e1.jpg")
    assert records.is_own_output("thumbnails/photos/cat.jpg/e1.jpg")  # written before renditions
    assert not records.is_own_output("photos/thumbnails/cat.jpg")
    assert not records.is_own_output("web/cat.jpg")  # a photographer's own folder names are theirs


def rendered(data: bytes):
    return make_renditions(data, parse_renditions(DEFAULT_RENDITIONS), Watermark("proof"))


def test_processed_row_has_every_contract_field_with_numbers_as_numbers():
    result = rendered(images.jpeg(4000, 3000, orientation=6))
    keys = {name: f"renditions/{name}/x.jpg/abc123.ext" for name in ("thumbnail", "web", "proof")}
    row = records.processed_row(SOURCE, result, "thumbs", keys, keep_location=False, now=NOW)
    sizes = {rendition.name: len(rendition.data) for rendition in result.renditions}
    assert row == {
        "ImageID": records.image_id("uploads", "holiday/straße 1.jpg"),
        "SourceBucket": "uploads",
        "SourceKey": "holiday/straße 1.jpg",
        "SourceSize": 12345,
        "SourceFormat": "JPEG",
        "SourceContentType": "image/jpeg",
        "SourceETag": "abc123",
        "SourceEventTime": "2026-11-23T09:59:59.500Z",
        "Width": 3000,  # upright: orientation 6 swaps the stored 4000x3000
        "Height": 4000,
        "Renditions": {
            "thumbnail": {
                "Bucket": "thumbs",
                "Key": keys["thumbnail"],
                "Width": 192,
                "Height": 256,
                "Format": "JPEG",
                "ContentType": "image/jpeg",
                "Size": sizes["thumbnail"],
            },
            "web": {
                "Bucket": "thumbs",
                "Key": keys["web"],
                "Width": 1200,
                "Height": 1600,
                "Format": "WEBP",
                "ContentType": "image/webp",
                "Size": sizes["web"],
            },
            "proof": {
                "Bucket": "thumbs",
                "Key": keys["proof"],
                "Width": 768,
                "Height": 1024,
                "Format": "JPEG",
                "ContentType": "image/jpeg",
                "Size": sizes["proof"],
            },
        },
        "ThumbnailBucket": "thumbs",
        "ThumbnailKey": keys["thumbnail"],
        "ThumbnailWidth": 192,
        "ThumbnailHeight": 256,
        "ThumbnailSize": sizes["thumbnail"],
        "ThumbnailContentType": "image/jpeg",
        "Status": "PROCESSED",
        "CreatedAt": NOW,
        "UpdatedAt": NOW,
        "Gallery": "all",
    }
    stale = set(records.stale_attributes(row))
    assert {"ErrorCode", "ErrorMessage", "CameraModel", "CapturedAt", "Latitude", "Expiration"} <= stale
    assert not stale & set(row)
    assert records.output_keys(row) == {("thumbs", key) for key in keys.values()}


def test_failed_row_carries_code_and_message_and_drops_thumbnail_fields():
    row = records.failed_row(SOURCE, Status.FAILED, ErrorCode.NOT_AN_IMAGE, "the file is not an image", NOW)
    assert row["Status"] == "FAILED"
    assert row["ErrorCode"] == "NOT_AN_IMAGE" and row["ErrorMessage"] == "the file is not an image"
    assert not set(records.PROCESSED_ATTRIBUTES) & set(row)
    assert set(records.PROCESSED_ATTRIBUTES) <= set(records.stale_attributes(row))
    assert records.output_keys(row) == set()
    assert (
        len(
            records.failed_row(SOURCE, Status.FAILED, ErrorCode.CORRUPT_IMAGE, "x" * 5000, NOW)[
                "ErrorMessage"
            ]
        )
        == 1000
    )


def test_notifications_carry_the_announced_fields_and_name_every_rendition():
    keys = {name: f"renditions/{name}/x.jpg/e.ext" for name in ("thumbnail", "web", "proof")}
    row = records.processed_row(SOURCE, rendered(images.jpeg(100, 100)), "thumbs", keys, False, NOW)
    message = records.notification(row)
    for field in ("ImageID", "Status", "SourceBucket", "SourceKey", "ThumbnailBucket", "ThumbnailKey"):
        assert message[field] == row[field]
    assert message["Renditions"]["web"] == {
        "Bucket": "thumbs",
        "Key": keys["web"],
        "Width": 100,
        "Height": 100,
        "Format": "WEBP",
    }
    failed = records.notification(
        records.failed_row(SOURCE, Status.FAILED, ErrorCode.EMPTY_OBJECT, "empty", NOW)
    )
    assert (
        failed["Status"] == "FAILED"
        and failed["ErrorCode"] == "EMPTY_OBJECT"
        and "ThumbnailKey" not in failed
    )
    deleted = records.deletion_notice(row, NOW)
    assert deleted == {
        "ImageID": row["ImageID"],
        "Status": "DELETED",
        "SourceBucket": "uploads",
        "SourceKey": "holiday/straße 1.jpg",
        "UpdatedAt": NOW,
    }


def test_utc_now_is_iso_8601_utc():
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", records.utc_now())


def test_uploads_within_one_second_get_their_own_rendition_keys_by_request_id():
    """EventBridge's event time has whole seconds: the same bytes uploaded again within one second
    (after a delete) must not share, and so lose, the first upload's renditions."""
    second = "2026-12-03T10:00:00.000Z"
    first = records.rendition_key("web", "a.jpg", "e1f2", second, "webp", "N4S1")
    again = records.rendition_key("web", "a.jpg", "e1f2", second, "webp", "N4S2")
    assert first != again and first.endswith("-20261203T100000000Z-N4S1.webp")
    assert records.rendition_key("web", "a.jpg", "e1f2", second, "webp") == (
        "renditions/web/a.jpg/e1f2-20261203T100000000Z.webp"  # direct mode's keys, unchanged
    )
