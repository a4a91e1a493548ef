"""Stepfunctions mode: an S3 event from EventBridge -> one execution of the pipeline's workflow.

The execution is named after the change (changes.execution_name), so a duplicate delivery of an
event starts no second execution. Its input is the change, URL-decoded, as direct mode sees it.
"""

from __future__ import annotations

import os

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from image_pipeline import changes
from image_pipeline.adapters.workflow import Executions

logger = Logger()
executions = Executions(boto3.client("stepfunctions"), os.environ["STATE_MACHINE_ARN"])


@logger.inject_lambda_context
def handler(event: dict, context: LambdaContext) -> dict[str, str | bool]:
    change = changes.from_eventbridge(event)
    name = changes.execution_name(change)
    started = executions.start(name, change)
    logger.info(
        "execution started (or running already)" if started else "duplicate event: its execution has run",
        extra={"execution_name": name, "source_key": change["key"], "event_name": change["event_name"]},
    )
    return {"executionName": name, "started": started}
