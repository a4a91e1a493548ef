"""The deployed stack's Outputs, for the scripts that operate on it."""

from __future__ import annotations

import os

import boto3


def stack_name() -> str:
    return os.environ.get("STACK_NAME") or "image-pipeline"


def stack_outputs(name: str | None = None) -> dict[str, str]:
    stack = boto3.client("cloudformation").describe_stacks(StackName=name or stack_name())["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
