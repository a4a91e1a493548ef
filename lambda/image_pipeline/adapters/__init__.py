"""Thin wrappers around AWS clients that speak the pipeline's types and exceptions."""

from botocore.exceptions import ClientError


def error_code(error: ClientError) -> str:
    """The AWS error code of a failed call, as the adapters map it to the pipeline's exceptions."""
    return error.response.get("Error", {}).get("Code", "Unknown")
