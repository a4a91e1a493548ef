"""Configuration from the environment, read once and checked at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


class ConfigurationError(Exception):
    """A required environment variable is missing or malformed."""


@dataclass(frozen=True)
class Settings:
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
        def required(name: str) -> str:
            value = environ.get(name, "").strip()
            if not value:
                raise ConfigurationError(f"environment variable {name} is required")
            return value

        def positive_int(name: str, default: int) -> int:
            text = environ.get(name, "").strip() or str(default)
            if not text.isdigit() or int(text) < 1:
                raise ConfigurationError(
                    f"environment variable {name} must be a positive integer, got {text!r}"
                )
            return int(text)

        width, height = parse_box(environ.get("THUMBNAIL_MAX_SIZE", "256x256"))
        return cls(
            thumbnails_bucket=required("THUMBNAILS_BUCKET"),
            metadata_table=required("IMAGE_METADATA_TABLE"),
            notifications_topic_arn=required("NOTIFICATIONS_TOPIC_ARN"),
            idempotency_table=required("IDEMPOTENCY_TABLE"),
            thumbnail_max_width=width,
            thumbnail_max_height=height,
            max_image_pixels=positive_int("MAX_IMAGE_PIXELS", cls.max_image_pixels),
            max_upload_bytes=positive_int("MAX_UPLOAD_BYTES", cls.max_upload_bytes),
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
