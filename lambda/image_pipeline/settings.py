"""Configuration from the environment, read once and checked at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from image_pipeline.renditions import DEFAULT_RENDITIONS, RenditionsError, RenditionSpec, parse_renditions


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

    def flag(self, name: str, default: bool = False) -> bool:
        text = self._environ.get(name, "").strip().lower() or str(default).lower()
        if text not in ("true", "false"):
            raise ConfigurationError(f"environment variable {name} must be true or false, got {text!r}")
        return text == "true"

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
    # Direct mode's record of handled S3 events (the workflow dedupes by execution name instead).
    idempotency_table: str | None = None
    renditions: tuple[RenditionSpec, ...] = parse_renditions(DEFAULT_RENDITIONS)
    watermark_text: str = "image-pipeline"
    # A PNG in the renditions bucket tiled as the watermark (None: the text only).
    watermark_logo_key: str | None = None
    # GPS coordinates go into the row only when the owner opts in; they never leave the original.
    keep_location: bool = False
    max_image_pixels: int = 150_000_000
    max_upload_bytes: int = 100 * 1024 * 1024

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] = os.environ, *, direct_mode: bool = False
    ) -> Settings:
        """`direct_mode`: the image processor's, which also needs the idempotency table."""
        env = _Environment(environ)
        try:
            renditions = parse_renditions(environ.get("RENDITIONS", "").strip() or DEFAULT_RENDITIONS)
        except RenditionsError as error:
            raise ConfigurationError(f"environment variable RENDITIONS is invalid: {error}") from error
        return cls(
            thumbnails_bucket=env.required("THUMBNAILS_BUCKET"),
            metadata_table=env.required("IMAGE_METADATA_TABLE"),
            notifications_topic_arn=env.required("NOTIFICATIONS_TOPIC_ARN"),
            idempotency_table=env.required("IDEMPOTENCY_TABLE") if direct_mode else None,
            renditions=renditions,
            watermark_text=env.optional("WATERMARK_TEXT") or cls.watermark_text,
            watermark_logo_key=env.optional("WATERMARK_LOGO_KEY"),
            keep_location=env.flag("KEEP_LOCATION"),
            max_image_pixels=env.positive_int("MAX_IMAGE_PIXELS", cls.max_image_pixels),
            max_upload_bytes=env.positive_int("MAX_UPLOAD_BYTES", cls.max_upload_bytes),
        )


@dataclass(frozen=True)
class ApiSettings:
    """The REST API's."""

    uploads_bucket: str
    metadata_table: str
    shares_table: str
    max_upload_bytes: int = 100 * 1024 * 1024
    url_expiry_seconds: int = 300
    # Where browsers and shells reach S3 (presigned URLs); None: where this function does.
    public_s3_endpoint: str | None = None
    # The API's own base URL for share links; None: from the request (https://<domain>/<stage>).
    public_api_url: str | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> ApiSettings:
        env = _Environment(environ)
        return cls(
            uploads_bucket=env.required("UPLOADS_BUCKET"),
            metadata_table=env.required("IMAGE_METADATA_TABLE"),
            shares_table=env.required("SHARES_TABLE"),
            max_upload_bytes=env.positive_int("MAX_UPLOAD_BYTES", cls.max_upload_bytes),
            url_expiry_seconds=env.positive_int("URL_EXPIRY_SECONDS", cls.url_expiry_seconds),
            public_s3_endpoint=env.optional("PUBLIC_S3_ENDPOINT"),
            public_api_url=(env.optional("PUBLIC_API_URL") or "").rstrip("/") or None,
        )
