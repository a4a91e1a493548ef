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
    thumbnail_max_width: int = 256
    thumbnail_max_height: int = 256

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        def required(name: str) -> str:
            value = environ.get(name, "").strip()
            if not value:
                raise ConfigurationError(f"environment variable {name} is required")
            return value

        width, height = parse_box(environ.get("THUMBNAIL_MAX_SIZE", "256x256"))
        return cls(
            thumbnails_bucket=required("THUMBNAILS_BUCKET"),
            metadata_table=required("IMAGE_METADATA_TABLE"),
            notifications_topic_arn=required("NOTIFICATIONS_TOPIC_ARN"),
            thumbnail_max_width=width,
            thumbnail_max_height=height,
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
