from __future__ import annotations

import pytest
from image_pipeline.renditions import DEFAULT_RENDITIONS, parse_renditions
from image_pipeline.settings import ApiSettings, ConfigurationError, Settings

ENVIRONMENT = {
    "THUMBNAILS_BUCKET": "thumbs",
    "IMAGE_METADATA_TABLE": "table",
    "NOTIFICATIONS_TOPIC_ARN": "arn:aws:sns:us-east-1:000000000000:topic",
    "IDEMPOTENCY_TABLE": "idempotency",
}


def test_settings_from_environment():
    settings = Settings.from_environment(
        {
            **ENVIRONMENT,
            "RENDITIONS": "thumbnail:320x200:png,big:3000x3000:avif:50",
            "WATERMARK_TEXT": "Łukasz Studio",
            "KEEP_LOCATION": "true",
        }
    )
    assert settings.thumbnails_bucket == "thumbs"
    assert [spec.describe() for spec in settings.renditions] == [
        "thumbnail:320x200:png:100",
        "big:3000x3000:avif:50",
    ]
    assert settings.watermark_text == "Łukasz Studio" and settings.keep_location is True
    defaults = Settings.from_environment(ENVIRONMENT)
    assert defaults.renditions == parse_renditions(DEFAULT_RENDITIONS)
    assert defaults.keep_location is False and defaults.watermark_logo_key is None


def test_an_invalid_declaration_fails_the_cold_start_with_a_clear_message():
    with pytest.raises(ConfigurationError, match=r"RENDITIONS is invalid: .*'thumbnail' is required"):
        Settings.from_environment({**ENVIRONMENT, "RENDITIONS": "web:1600x1600:webp"})
    with pytest.raises(ConfigurationError, match="KEEP_LOCATION must be true or false"):
        Settings.from_environment({**ENVIRONMENT, "KEEP_LOCATION": "yes"})


def test_api_settings_read_the_share_links_base():
    environment = {
        "UPLOADS_BUCKET": "u",
        "IMAGE_METADATA_TABLE": "t",
        "SHARES_TABLE": "s",
    }
    assert ApiSettings.from_environment(environment).public_api_url is None
    configured = ApiSettings.from_environment(
        {**environment, "PUBLIC_API_URL": "http://localhost:4566/x/api/"}
    )
    assert configured.public_api_url == "http://localhost:4566/x/api"


@pytest.mark.parametrize("missing", sorted(ENVIRONMENT))
def test_a_missing_variable_fails_fast_naming_it(missing):
    environment = {name: value for name, value in ENVIRONMENT.items() if name != missing}
    with pytest.raises(ConfigurationError, match=missing):
        Settings.from_environment(environment, direct_mode=True)


def test_the_workflow_steps_need_no_idempotency_table():
    steps = Settings.from_environment({k: v for k, v in ENVIRONMENT.items() if k != "IDEMPOTENCY_TABLE"})
    assert steps.idempotency_table is None
    assert (
        Settings.from_environment(ENVIRONMENT, direct_mode=True).idempotency_table
        == ENVIRONMENT["IDEMPOTENCY_TABLE"]
    )


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
