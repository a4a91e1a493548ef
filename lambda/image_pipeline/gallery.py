"""The REST API's rules, pure: what an upload request may be, how pages are addressed, what an
item looks like to a client."""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from dataclasses import dataclass

from image_pipeline.errors import InvalidRequestError

# What the pipeline processes (see imaging.SUPPORTED_FORMATS), as browsers and the CLI name it.
UPLOAD_CONTENT_TYPES = (
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/gif",
    "image/tiff",
    "image/bmp",
    "image/heic",
    "image/heif",
    "image/avif",
)
UPLOAD_PREFIX = "api/"
IMAGE_ID = re.compile(r"^[0-9a-f]{32}$")
MAX_FILENAME_LENGTH = 200
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# A plain file name: no / or \ or control characters, and not only dots and spaces
# (the same pattern as api/openapi.yaml).
_FILENAME = re.compile(r"^[^/\\\x00-\x1f\x7f]*[^/\\\x00-\x1f\x7f .][^/\\\x00-\x1f\x7f]*$")


@dataclass(frozen=True)
class UploadRequest:
    filename: str
    content_type: str
    size: int


def parse_upload_request(body: object, max_bytes: int) -> UploadRequest:
    if not isinstance(body, dict):
        raise InvalidRequestError("INVALID_BODY", "the body must be a JSON object")
    filename, content_type, size = body.get("filename"), body.get("contentType"), body.get("size")
    if not isinstance(filename, str) or len(filename) > MAX_FILENAME_LENGTH or not _FILENAME.match(filename):
        raise InvalidRequestError(
            "INVALID_FILENAME",
            f"filename must be a plain file name (no / or \\) of at most {MAX_FILENAME_LENGTH} characters",
        )
    if content_type not in UPLOAD_CONTENT_TYPES:
        raise InvalidRequestError(
            "UNSUPPORTED_CONTENT_TYPE", f"contentType must be one of {', '.join(UPLOAD_CONTENT_TYPES)}"
        )
    if not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= max_bytes:
        raise InvalidRequestError(
            "INVALID_SIZE", f"size must be a whole number of bytes from 1 to {max_bytes}"
        )
    return UploadRequest(filename=filename, content_type=content_type, size=size)


def upload_key(request: UploadRequest) -> str:
    """A fresh key per upload: two uploads of cat.jpg never overwrite each other."""
    return f"{UPLOAD_PREFIX}{uuid.uuid4().hex}/{request.filename}"


def parse_image_id(image_id: str) -> str:
    if not IMAGE_ID.match(image_id):
        raise InvalidRequestError("INVALID_IMAGE_ID", "an image id is 32 lowercase hexadecimal digits")
    return image_id


def parse_page_size(text: str | None) -> int:
    if text is None or text == "":
        return DEFAULT_PAGE_SIZE
    if not text.isdigit() or not 0 < int(text) <= MAX_PAGE_SIZE:
        raise InvalidRequestError("INVALID_LIMIT", f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}")
    return int(text)


def encode_page_token(last_key: dict[str, dict[str, str]] | None) -> str | None:
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_page_token(token: str | None) -> dict[str, dict[str, str]] | None:
    """The opaque `next` token back into a DynamoDB start key; anything else is a 400."""
    if not token:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise InvalidRequestError("INVALID_PAGE_TOKEN", "next is not a token this API issued") from error
    expected = {"ImageID", "Gallery", "CreatedAt"}
    if (
        not isinstance(key, dict)
        or set(key) != expected
        or not all(
            isinstance(value, dict) and set(value) == {"S"} and isinstance(value["S"], str)
            for value in key.values()
        )
    ):
        raise InvalidRequestError("INVALID_PAGE_TOKEN", "next is not a token this API issued")
    return key


def public_item(
    row: dict, original_url: str, thumbnail_url: str | None, rendition_urls: dict[str, str] | None = None
) -> dict:
    """A row as clients see it: its attributes (without internal ones) and short-lived links."""
    item = {name: value for name, value in row.items() if name != "Gallery"}
    item["Urls"] = {"Original": original_url, "Thumbnail": thumbnail_url, "Renditions": rendition_urls or {}}
    return item
