"""One line that says what went wrong and what to do, for failures that are not the user's bug:
the emulator is down, something else answers on its port, the stack does not exist."""

from __future__ import annotations

from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
)
from botocore.parsers import ResponseParserError


def explain(error: Exception, endpoint: str | None, cloudformation=None) -> str | None:
    """The line for a failure talking to AWS or the emulator at `endpoint` (None: AWS itself);
    None when the failure is not one of those (a bug: the caller shows it). `cloudformation`, a
    client, lets the line name the stacks that exist."""
    where = f"the emulator at {endpoint}" if endpoint else "AWS"
    if isinstance(error, EndpointConnectionError):
        if endpoint:
            return f"cannot reach {where}: start it with `make up` (see `make status`)"
        return f"cannot reach AWS: {error}"
    if isinstance(error, ResponseParserError):
        return (
            f"something answers at {endpoint or 'the endpoint'}, but not as AWS or LocalStack would: "
            "another server on that port? Point at the emulator with LOCALSTACK_PORT or AWS_ENDPOINT_URL"
        )
    if isinstance(error, NoCredentialsError):
        return "no AWS credentials: configure a profile (aws configure) or pass --profile"
    if isinstance(error, ClientError) and "does not exist" in str(error) and "Stack" in str(error):
        stacks = existing_stacks(cloudformation) if cloudformation else "(not listed)"
        return f"{error.response['Error']['Message']} in {where}; stacks there: {stacks}"
    return None


def existing_stacks(cloudformation) -> str:
    try:
        summaries = cloudformation.list_stacks()["StackSummaries"]
    except Exception:  # only a hint for the message above; its failure must not hide that message
        return "(could not list them)"
    names = sorted({stack["StackName"] for stack in summaries if stack["StackStatus"] != "DELETE_COMPLETE"})
    return ", ".join(names) or "none (run `make up`)"
