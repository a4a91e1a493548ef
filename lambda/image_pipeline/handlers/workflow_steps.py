"""Stepfunctions mode: the workflow's steps (statemachine/pipeline.asl.json), each a few lines over
the same pipeline as direct mode. The state machine orders them, retries what fails with backoff,
takes its Catch path for input that can never become an image, and publishes the notification.

Every step gets {"step": <name>, ...} and returns JSON-able data for the next state.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from image_pipeline.adapters.dynamodb import MetadataTable
from image_pipeline.adapters.s3 import ObjectStore
from image_pipeline.adapters.sns import Notifier
from image_pipeline.adapters.workflow import lambda_error_message
from image_pipeline.pipeline import ImagePipeline, Outcome, Prepared, Result
from image_pipeline.settings import Settings
from image_pipeline.timings import timed, timings

logger = Logger()
settings = Settings.from_environment()
pipeline = ImagePipeline(
    settings,
    ObjectStore(timings.instrument(boto3.client("s3"))),
    MetadataTable(timings.instrument(boto3.client("dynamodb")), settings.metadata_table),
    # Removals announce themselves; an upload's notification is the state machine's own publish.
    Notifier(timings.instrument(boto3.client("sns")), settings.notifications_topic_arn),
)
Data = dict


class ImageRejected(Exception):  # noqa: N818 - the name is the state machine's Catch ErrorEquals
    """Input that can never become an image. The state machine catches it by this name and records
    the FAILED row it carries as JSON (a Lambda error reaches a Catch as its type and message only)."""


def prepare(event: Data) -> Data:
    """Read the upload, check it, make and store its renditions."""
    change = event["change"]
    prepared = pipeline.prepare(
        change["bucket"], change["key"], change["etag"], change["event_time"], change.get("request_id")
    )
    if isinstance(prepared, Result):  # gone, changed meanwhile, or our own output: nothing to record
        return {"result": prepared.as_dict()}
    row = {**prepared.row, "ExecutionArn": event["execution"]}
    if prepared.outcome == Outcome.FAILED:
        raise ImageRejected(json.dumps(row))
    return {"row": row, "outcome": prepared.outcome.value, "written": sorted(map(list, prepared.written))}


def reject(event: Data) -> Data:
    """The Catch path: the FAILED row that prepare's ImageRejected carried."""
    message = lambda_error_message(event["error"]["Cause"])
    if message is None:
        raise ValueError(f"the Catch carried no Lambda error: {event['error']}")
    row = json.loads(message)
    return {"row": row, "outcome": Outcome.FAILED.value, "written": []}


def record(event: Data) -> Data:
    """Write the row (unless a newer version is recorded) and tidy what it replaces."""
    prepared = event["prepared"]
    result, notification = pipeline.record(
        Prepared(prepared["row"], Outcome(prepared["outcome"]), {tuple(key) for key in prepared["written"]})
    )
    # The message as direct mode's Notifier writes it (the state machine publishes it as it is).
    message = json.dumps(notification) if notification is not None else None
    return {"result": result.as_dict(), "notification": notification, "message": message}


def mark_retrying(event: Data) -> Data:
    """Retries are exhausted: the row says RETRYING and why; the execution then fails with the
    cause, and `make redrive` starts it again."""
    change, reason = event["change"], failure_reason(event["error"])
    pipeline.record_retrying(
        change["bucket"],
        change["key"],
        change["etag"],
        change["event_time"],
        reason,
        ExecutionArn=event["execution"],
    )
    return {"Error": event["error"].get("Error", "States.TaskFailed"), "Cause": reason}


def remove(event: Data) -> Data:
    """The one delete path, as in direct mode."""
    change = event["change"]
    return {"result": pipeline.remove_upload(change["bucket"], change["key"], change["event_time"]).as_dict()}


def failure_reason(error: Data) -> str:
    """What the RETRYING row says, as direct mode would: our own errors' messages, others named."""
    name, cause = error.get("Error", ""), error.get("Cause", "")
    if (message := lambda_error_message(cause)) is not None:
        return message if name == "StorageError" else f"{name}: {message}"
    if name.startswith("SNS."):  # the state machine's own publish (an SDK integration)
        return f"publishing to {settings.notifications_topic_arn} failed: {name.removeprefix('SNS.')}"
    return f"{name}: {cause}"[:1000]


STEPS: dict[str, Callable[[Data], Data]] = {
    "prepare": prepare,
    "reject": reject,
    "record": record,
    "mark_retrying": mark_retrying,
    "remove": remove,
}


@timed(logger)
@logger.inject_lambda_context
def handler(event: Data, context: LambdaContext) -> Data:
    step = STEPS[event["step"]]
    change = event.get("change") or {}
    row = (event.get("prepared") or {}).get("row") or {}
    logger.append_keys(
        step=event["step"],
        execution=event.get("execution"),
        source_key=change.get("key") or row.get("SourceKey"),
    )
    result = step(event)
    logger.info("step done", extra={"result": result.get("result")})
    return result
