"""The deployed stack's Outputs, for the scripts that operate on it."""

from __future__ import annotations

import boto3

from scripts import deploy_stack


def stack_name() -> str:
    return deploy_stack.local_setting("STACK_NAME")


def stack_outputs(name: str | None = None) -> dict[str, str]:
    return deploy_stack.stack_outputs(boto3.client("cloudformation"), name or stack_name())
