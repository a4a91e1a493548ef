"""Where the local emulator is: the environment first, else the emulator.env of the checkout that
the working directory is in (found upwards, as Compose finds its files), else LocalStack's defaults.
"""

from __future__ import annotations

import os
from functools import cache

from dotenv import dotenv_values, find_dotenv

# Outside a checkout: LocalStack's own defaults and the template's stack name.
DEFAULTS = {"LOCALSTACK_PORT": "4566", "AWS_DEFAULT_REGION": "us-east-1", "STACK_NAME": "image-pipeline"}


@cache
def _checkout_settings() -> dict[str, str | None]:
    found = find_dotenv("emulator.env", usecwd=True)
    return dotenv_values(found) if found else {}


def emulator_setting(name: str) -> str:
    return os.environ.get(name) or _checkout_settings().get(name) or DEFAULTS[name]


def emulator_endpoint() -> str:
    """AWS_ENDPOINT_URL when set (the LocalStack convention), else localhost on the emulator's port."""
    return os.environ.get("AWS_ENDPOINT_URL") or f"http://localhost:{emulator_setting('LOCALSTACK_PORT')}"
