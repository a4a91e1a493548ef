from __future__ import annotations

import pytest
from image_pipeline.settings import ConfigurationError, Settings, parse_box

ENVIRONMENT = {
    "THUMBNAILS_BUCKET": "thumbs",
    "IMAGE_METADATA_TABLE": "table",
    "NOTIFICATIONS_TOPIC_ARN": "arn:aws:sns:us-east-1:000000000000:topic",
    "IDEMPOTENCY_TABLE": "idempotency",
}


def test_settings_from_environment():
    settings = Settings.from_environment({**ENVIRONMENT, "THUMBNAIL_MAX_SIZE": "320x200"})
    assert settings.thumbnails_bucket == "thumbs"
    assert (settings.thumbnail_max_width, settings.thumbnail_max_height) == (320, 200)
    assert Settings.from_environment(ENVIRONMENT).thumbnail_max_width == 256


@pytest.mark.parametrize("missing", sorted(ENVIRONMENT))
def test_a_missing_variable_fails_fast_naming_it(missing):
    environment = {name: value for name, value in ENVIRONMENT.items() if name != missing}
    with pytest.raises(ConfigurationError, match=missing):
        Settings.from_environment(environment)


@pytest.mark.parametrize(("text", "box"), [("256", (256, 256)), ("320x200", (320, 200)), ("64X64", (64, 64))])
def test_parse_box(text, box):
    assert parse_box(text) == box


@pytest.mark.parametrize("text", ["", "0", "abc", "10x", "5000x10", "1x2x3"])
def test_parse_box_rejects_nonsense(text):
    with pytest.raises(ConfigurationError):
        parse_box(text)


def test_limits_from_environment_and_defaults():
    settings = Settings.from_environment(
        {**ENVIRONMENT, "MAX_IMAGE_PIXELS": "1000", "MAX_UPLOAD_BYTES": "2048"}
    )
    assert (settings.max_image_pixels, settings.max_upload_bytes) == (1000, 2048)
    defaults = Settings.from_environment(ENVIRONMENT)
    assert (defaults.max_image_pixels, defaults.max_upload_bytes) == (150_000_000, 100 * 1024 * 1024)


@pytest.mark.parametrize("value", ["-1", "0", "lots", "1.5"])
def test_limits_must_be_positive_integers(value):
    with pytest.raises(ConfigurationError, match="MAX_UPLOAD_BYTES"):
        Settings.from_environment({**ENVIRONMENT, "MAX_UPLOAD_BYTES": value})
