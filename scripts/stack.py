"""The deployed stack's Outputs, for the scripts that operate on it."""

from __future__ import annotations

import os

import boto3

from scripts import deploy_stack


def stack_name() -> str:
    return os.environ.get("STACK_NAME") or "image-pipeline"


def stack_outputs(name: str | None = None) -> dict[str, str]:
    return deploy_stack.stack_outputs(boto3.client("cloudformation"), name or stack_name())
