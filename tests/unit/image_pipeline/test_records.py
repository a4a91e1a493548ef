"""Contracts of the pipeline: ids, keys, rows, notifications."""

from __future__ import annotations

import re

from image_pipeline import records
from image_pipeline.imaging import make_thumbnail

from tests import images

SOURCE = records.SourceObject(
    bucket="uploads", key="holiday/straße 1.jpg", size=12345, etag="abc123", content_type="image/jpeg"
)


def test_image_id_is_deterministic_url_safe_and_distinct():
    first = records.image_id("uploads", "a/b c.jpg")
    assert first == records.image_id("uploads", "a/b c.jpg")
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != records.image_id("uploads", "a/b c.png")
    assert first != records.image_id("other-bucket", "a/b c.jpg")


def test_thumbnail_key_is_derived_from_the_whole_source_key():
    assert records.thumbnail_key("photos/cat.png", "png") == "thumbnails/photos/cat.png.png"
    assert records.thumbnail_key("photos/cat.jpg", "jpg") != records.thumbnail_key("photos/cat.png", "jpg")


def test_metadata_row_has_every_contract_field_with_numbers_as_numbers():
    thumbnail = make_thumbnail(images.jpeg(4000, 3000, orientation=6))
    row = records.metadata_row(SOURCE, thumbnail, "thumbs", "thumbnails/x.jpg", "2026-11-23T10:00:00.000Z")
    assert row == {
        "ImageID": records.image_id("uploads", "holiday/straße 1.jpg"),
        "SourceBucket": "uploads",
        "SourceKey": "holiday/straße 1.jpg",
        "SourceSize": 12345,
        "SourceFormat": "JPEG",
        "SourceContentType": "image/jpeg",
        "SourceETag": "abc123",
        "Width": 3000,  # upright: orientation 6 swaps the stored 4000x3000
        "Height": 4000,
        "ThumbnailBucket": "thumbs",
        "ThumbnailKey": "thumbnails/x.jpg",
        "ThumbnailWidth": 192,
        "ThumbnailHeight": 256,
        "ThumbnailSize": len(thumbnail.data),
        "ThumbnailContentType": "image/jpeg",
        "Status": "PROCESSED",
        "CreatedAt": "2026-11-23T10:00:00.000Z",
        "UpdatedAt": "2026-11-23T10:00:00.000Z",
    }


def test_notification_carries_the_announced_fields():
    thumbnail = make_thumbnail(images.jpeg(100, 100))
    row = records.metadata_row(SOURCE, thumbnail, "thumbs", "thumbnails/x.jpg", records.utc_now())
    message = records.notification(row)
    for field in ("ImageID", "Status", "SourceBucket", "SourceKey", "ThumbnailBucket", "ThumbnailKey"):
        assert message[field] == row[field]


def test_utc_now_is_iso_8601_utc():
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", records.utc_now())
