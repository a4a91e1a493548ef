"""S3 events on the uploads bucket -> the pipeline, once per event (duplicates are no-ops)."""

from __future__ import annotations

from urllib.parse import unquote_plus

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import S3Event, event_source
from aws_lambda_powertools.utilities.data_classes.s3_event import S3EventRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from image_pipeline.adapters.dynamodb import MetadataTable
from image_pipeline.adapters.s3 import ObjectStore
from image_pipeline.adapters.sns import Notifier
from image_pipeline.pipeline import ImagePipeline
from image_pipeline.settings import Settings

logger = Logger()
settings = Settings.from_environment()
# Clients once per execution environment: creating them costs more than a thumbnail.
dynamodb = boto3.client("dynamodb")
pipeline = ImagePipeline(
    settings,
    ObjectStore(boto3.client("s3")),
    MetadataTable(dynamodb, settings.metadata_table),
    Notifier(boto3.client("sns"), settings.notifications_topic_arn),
)
# S3 delivers events at least once. A change is one event name, object version and time: a
# redelivery repeats all of them (however its key is URL-encoded), a new upload of the key does not.
idempotency = IdempotencyConfig(raise_on_no_idempotency_key=True, expires_after_seconds=24 * 60 * 60)


def describe_change(record: S3EventRecord) -> dict[str, str | None]:
    return {
        "event_name": record.event_name,
        "bucket": record.s3.bucket.name,
        "key": unquote_plus(record.s3.get_object.key),
        "etag": record.s3.get_object.etag or None,
        "version_id": record.s3.get_object.version_id,
        "event_time": record.event_time,
    }


@idempotent_function(
    data_keyword_argument="change",
    config=idempotency,
    persistence_store=DynamoDBPersistenceLayer(table_name=settings.idempotency_table, boto3_client=dynamodb),
)
def handle_change(change: dict[str, str | None]) -> dict[str, str]:
    bucket, key, event_time = str(change["bucket"]), str(change["key"]), str(change["event_time"])
    if str(change["event_name"]).startswith("ObjectRemoved"):
        result = pipeline.remove_upload(bucket, key, event_time)
    else:
        result = pipeline.process_upload(bucket, key, change["etag"], event_time)
    logger.info("handled", extra={"source_key": key, "event_name": change["event_name"], **result.as_dict()})
    return result.as_dict()


@logger.inject_lambda_context
@event_source(data_class=S3Event)
def handler(event: S3Event, context: LambdaContext) -> dict[str, list[dict[str, str]]]:
    idempotency.register_lambda_context(context)
    return {"results": [handle_change(change=describe_change(record)) for record in event.records]}
