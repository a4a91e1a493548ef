"""What a make target says when it cannot do its job: one line and what to do, not a traceback
(DEBUG=1 shows the traceback)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

import boto3
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError


def explain(error: Exception) -> str:
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or "AWS"
    if isinstance(error, EndpointConnectionError):
        return f"cannot reach the emulator at {endpoint}: start it with `make up` (see `make status`)"
    if isinstance(error, NoCredentialsError):
        return "no AWS credentials: run this through make, or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
    if isinstance(error, ClientError) and "does not exist" in str(error) and "Stack" in str(error):
        return f"{error.response['Error']['Message']} at {endpoint}; stacks there: {existing_stacks()}"
    return f"{type(error).__name__}: {error} (DEBUG=1 shows the traceback)"


def existing_stacks() -> str:
    try:
        summaries = boto3.client("cloudformation").list_stacks()["StackSummaries"]
    except Exception:  # only a hint for the message above; its failure must not hide that message
        return "(could not list them)"
    names = sorted({stack["StackName"] for stack in summaries if stack["StackStatus"] != "DELETE_COMPLETE"})
    return ", ".join(names) or "none (run `make up`)"


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
