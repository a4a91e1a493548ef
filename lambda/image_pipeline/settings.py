"""Configuration from the environment, read once and checked at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


class ConfigurationError(Exception):
    """A required environment variable is missing or malformed."""


class _Environment:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def required(self, name: str) -> str:
        value = self._environ.get(name, "").strip()
        if not value:
            raise ConfigurationError(f"environment variable {name} is required")
        return value

    def optional(self, name: str) -> str | None:
        return self._environ.get(name, "").strip() or None

    def positive_int(self, name: str, default: int) -> int:
        text = self._environ.get(name, "").strip() or str(default)
        if not text.isdigit() or int(text) < 1:
            raise ConfigurationError(f"environment variable {name} must be a positive integer, got {text!r}")
        return int(text)


@dataclass(frozen=True)
class Settings:
    """The image processor's."""

    thumbnails_bucket: str
    metadata_table: str
    notifications_topic_arn: str
    idempotency_table: str
    thumbnail_max_width: int = 256
    thumbnail_max_height: int = 256
    max_image_pixels: int = 150_000_000
    max_upload_bytes: int = 100 * 1024 * 1024

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        env = _Environment(environ)
        width, height = parse_box(environ.get("THUMBNAIL_MAX_SIZE", "256x256"))
        return cls(
            thumbnails_bucket=env.required("THUMBNAILS_BUCKET"),
            metadata_table=env.required("IMAGE_METADATA_TABLE"),
            notifications_topic_arn=env.required("NOTIFICATIONS_TOPIC_ARN"),
            idempotency_table=env.required("IDEMPOTENCY_TABLE"),
            thumbnail_max_width=width,
            thumbnail_max_height=height,
            max_image_pixels=env.positive_int("MAX_IMAGE_PIXELS", cls.max_image_pixels),
            max_upload_bytes=env.positive_int("MAX_UPLOAD_BYTES", cls.max_upload_bytes),
        )


@dataclass(frozen=True)
class ApiSettings:
    """The REST API's."""

    uploads_bucket: str
    metadata_table: str
    max_upload_bytes: int = 100 * 1024 * 1024
    url_expiry_seconds: int = 300
    # Where browsers and shells reach S3 (presigned URLs); None: where this function does.
    public_s3_endpoint: str | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> ApiSettings:
        env = _Environment(environ)
        return cls(
            uploads_bucket=env.required("UPLOADS_BUCKET"),
            metadata_table=env.required("IMAGE_METADATA_TABLE"),
            max_upload_bytes=env.positive_int("MAX_UPLOAD_BYTES", cls.max_upload_bytes),
            url_expiry_seconds=env.positive_int("URL_EXPIRY_SECONDS", cls.url_expiry_seconds),
            public_s3_endpoint=env.optional("PUBLIC_S3_ENDPOINT"),
        )


def parse_box(text: str) -> tuple[int, int]:
    """'256' or '320x200' -> (width, height), each between 1 and 4096."""
    parts = text.lower().split("x")
    try:
        width, height = (int(parts[0]), int(parts[0])) if len(parts) == 1 else (int(parts[0]), int(parts[1]))
    except (ValueError, IndexError) as error:
        raise ConfigurationError(f"THUMBNAIL_MAX_SIZE must look like 256 or 320x200, got {text!r}") from error
    if len(parts) > 2 or not (0 < width <= 4096 and 0 < height <= 4096):
        raise ConfigurationError(f"THUMBNAIL_MAX_SIZE must look like 256 or 320x200 (1-4096), got {text!r}")
    return width, height
