"""The REST API's rules: upload requests, ids, pages."""

from __future__ import annotations

import pytest
from image_pipeline import gallery
from image_pipeline.errors import InvalidRequestError

LIMIT = 1000


def test_a_valid_upload_request():
    request = gallery.parse_upload_request(
        {"filename": "holiday 1.jpg", "contentType": "image/jpeg", "size": 10}, LIMIT
    )
    assert request == gallery.UploadRequest("holiday 1.jpg", "image/jpeg", 10)
    key = gallery.upload_key(request)
    assert key.startswith("api/") and key.endswith("/holiday 1.jpg")
    assert gallery.upload_key(request) != key  # every upload gets its own key


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("not an object", "INVALID_BODY"),
        ({"filename": "a/b.jpg", "contentType": "image/jpeg", "size": 1}, "INVALID_FILENAME"),
        ({"filename": "..", "contentType": "image/jpeg", "size": 1}, "INVALID_FILENAME"),
        ({"filename": "  ", "contentType": "image/jpeg", "size": 1}, "INVALID_FILENAME"),
        ({"filename": "x\nz.jpg", "contentType": "image/jpeg", "size": 1}, "INVALID_FILENAME"),
        ({"filename": "x" * 201, "contentType": "image/jpeg", "size": 1}, "INVALID_FILENAME"),
        ({"filename": "x.svg", "contentType": "image/svg+xml", "size": 1}, "UNSUPPORTED_CONTENT_TYPE"),
        ({"filename": "x.jpg", "contentType": "image/jpeg", "size": LIMIT + 1}, "INVALID_SIZE"),
        ({"filename": "x.jpg", "contentType": "image/jpeg", "size": True}, "INVALID_SIZE"),
    ],
)
def test_invalid_upload_requests(body, code):
    with pytest.raises(InvalidRequestError) as raised:
        gallery.parse_upload_request(body, LIMIT)
    assert raised.value.code == code


def test_image_ids_and_page_sizes():
    assert gallery.parse_image_id("0123456789abcdef0123456789abcdef")
    for bad in ("", "0123", "0123456789ABCDEF0123456789ABCDEF", "../etc/passwd"):
        with pytest.raises(InvalidRequestError):
            gallery.parse_image_id(bad)
    assert gallery.parse_page_size(None) == gallery.DEFAULT_PAGE_SIZE
    assert gallery.parse_page_size("100") == 100
    for bad in ("0", "101", "-1", "ten"):
        with pytest.raises(InvalidRequestError):
            gallery.parse_page_size(bad)


def test_page_tokens_round_trip_and_reject_forgeries():
    key = {
        "ImageID": {"S": "a" * 32},
        "Gallery": {"S": "all"},
        "CreatedAt": {"S": "2026-11-23T10:00:00.000Z"},
    }
    token = gallery.encode_page_token(key)
    assert token and "=" not in token
    assert gallery.decode_page_token(token) == key
    assert gallery.encode_page_token(None) is None and gallery.decode_page_token(None) is None
    for forged in ("garbage!", gallery.encode_page_token({"ImageID": {"S": "x"}}), "e30"):
        with pytest.raises(InvalidRequestError):
            gallery.decode_page_token(forged)
