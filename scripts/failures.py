"""What a make target says when it cannot do its job: one line and what to do, not a traceback
(DEBUG=1 shows the traceback)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

import boto3
from botocore.exceptions import NoCredentialsError
from imgpipe import failures  # the same lines imgpipe prints


def explain(error: Exception) -> str:
    if isinstance(error, NoCredentialsError):
        return "no AWS credentials: run this through make, or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    try:
        cloudformation = boto3.client("cloudformation")  # to name the stacks that exist
    except Exception:  # only for a hint; it must not hide the failure being explained
        cloudformation = None
    line = failures.explain(error, endpoint, cloudformation)
    return line or f"{type(error).__name__}: {error} (DEBUG=1 shows the traceback)"


def run(main: Callable[[], int]) -> int:
    """Run a script's main; an AWS or connection failure becomes one line on stderr and exit 1."""
    try:
        return main()
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        if os.environ.get("DEBUG") == "1":
            raise
        print(f"error: {explain(error)}", file=sys.stderr)
        return 1
