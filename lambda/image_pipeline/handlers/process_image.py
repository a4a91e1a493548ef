"""S3 events on the uploads bucket -> the pipeline, once per event (duplicates are no-ops)."""

from __future__ import annotations

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import S3Event, event_source
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from image_pipeline.adapters.dynamodb import MetadataTable
from image_pipeline.adapters.s3 import ObjectStore
from image_pipeline.adapters.sns import Notifier
from image_pipeline.changes import Change, from_s3_record, is_removal
from image_pipeline.pipeline import ImagePipeline
from image_pipeline.settings import Settings
from image_pipeline.timings import timed, timings

logger = Logger()
settings = Settings.from_environment(direct_mode=True)
# Clients once per execution environment: creating them costs more than a thumbnail.
dynamodb = timings.instrument(boto3.client("dynamodb"))
pipeline = ImagePipeline(
    settings,
    ObjectStore(timings.instrument(boto3.client("s3"))),
    MetadataTable(dynamodb, settings.metadata_table),
    Notifier(timings.instrument(boto3.client("sns")), settings.notifications_topic_arn),
)
# S3 delivers events at least once. A change is one event name, object version and time: a
# redelivery repeats all of them (however its key is URL-encoded), a new upload of the key does not.
idempotency = IdempotencyConfig(raise_on_no_idempotency_key=True, expires_after_seconds=24 * 60 * 60)


@idempotent_function(
    data_keyword_argument="change",
    config=idempotency,
    persistence_store=DynamoDBPersistenceLayer(
        table_name=str(settings.idempotency_table), boto3_client=dynamodb
    ),
)
def handle_change(change: Change) -> dict[str, str]:
    bucket, key, event_time = change["bucket"], change["key"], change["event_time"]
    if is_removal(change):
        result = pipeline.remove_upload(bucket, key, event_time)
    else:
        result = pipeline.process_upload(bucket, key, change["etag"], event_time)
    logger.info("handled", extra={"source_key": key, "event_name": change["event_name"], **result.as_dict()})
    return result.as_dict()


@timed(logger)
@logger.inject_lambda_context
@event_source(data_class=S3Event)
def handler(event: S3Event, context: LambdaContext) -> dict[str, list[dict[str, str]]]:
    idempotency.register_lambda_context(context)
    return {"results": [handle_change(change=from_s3_record(record.raw_event)) for record in event.records]}
