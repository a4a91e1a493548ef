"""S3 ObjectCreated on the uploads bucket -> thumbnail, metadata row, notification."""

from __future__ import annotations

from urllib.parse import unquote_plus

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import S3Event, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from image_pipeline import imaging, records
from image_pipeline.adapters.dynamodb import MetadataTable
from image_pipeline.adapters.s3 import ObjectStore
from image_pipeline.adapters.sns import Notifier
from image_pipeline.settings import Settings

logger = Logger()
settings = Settings.from_environment()
# Clients once per execution environment: creating them costs more than a thumbnail.
object_store = ObjectStore(boto3.client("s3"))
metadata_table = MetadataTable(boto3.client("dynamodb"), settings.metadata_table)
notifier = Notifier(boto3.client("sns"), settings.notifications_topic_arn)


def process_upload(bucket: str, key: str) -> dict[str, str | int]:
    source, data = object_store.read_source(bucket, key)
    thumbnail = imaging.make_thumbnail(data, settings.thumbnail_max_width, settings.thumbnail_max_height)
    thumbnail_key = records.thumbnail_key(key, thumbnail.extension)
    object_store.write_thumbnail(
        settings.thumbnails_bucket, thumbnail_key, thumbnail.data, thumbnail.content_type
    )
    row = records.metadata_row(
        source, thumbnail, settings.thumbnails_bucket, thumbnail_key, records.utc_now()
    )
    metadata_table.save(row)
    notifier.announce(records.notification(row))
    logger.info(
        "processed", extra={"image_id": row["ImageID"], "source_key": key, "thumbnail_key": thumbnail_key}
    )
    return row


@logger.inject_lambda_context
@event_source(data_class=S3Event)
def handler(event: S3Event, context: LambdaContext) -> dict[str, list[str]]:
    processed = [
        str(process_upload(record.s3.bucket.name, unquote_plus(record.s3.get_object.key))["ImageID"])
        for record in event.records
    ]
    return {"processed": processed}
