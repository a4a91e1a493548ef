"""Fixtures for the deployed pipeline: names from the stack Outputs, uploads, waiting for results."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import quote_plus

import pytest
from boto3.dynamodb.types import TypeDeserializer
from image_pipeline.records import RENDITION_PREFIX, image_id, output_keys
from image_pipeline.renditions import RenditionSpec, parse_renditions

from tests.e2e.conftest import stack_outputs
from tests.e2e.messaging import subscribe_new_queue

WAIT_SECONDS = 60


@dataclass(frozen=True)
class Stack:
    uploads_bucket: str
    thumbnails_bucket: str
    table: str
    topic_arn: str
    function_name: str
    dead_letter_queue_url: str
    idempotency_table: str
    renditions: tuple[RenditionSpec, ...]


def read_stack(aws) -> Stack:
    outputs = stack_outputs(aws)
    return Stack(
        uploads_bucket=outputs["UploadsBucketName"],
        thumbnails_bucket=outputs["ThumbnailsBucketName"],
        table=outputs["ImageMetadataTableName"],
        topic_arn=outputs["NotificationsTopicArn"],
        function_name=outputs["ImageProcessorFunctionName"],
        dead_letter_queue_url=outputs["DeadLetterQueueUrl"],
        idempotency_table=outputs["IdempotencyTableName"],
        renditions=parse_renditions(outputs["Renditions"]),
    )


def renditions_in_bucket(aws, stack: Stack, source_key: str) -> list[str]:
    """Every rendition object of any version of the source key, sorted."""
    s3 = aws("s3")
    return sorted(
        listed["Key"]
        for spec in stack.renditions
        for listed in s3.list_objects_v2(
            Bucket=stack.thumbnails_bucket, Prefix=f"{RENDITION_PREFIX}{spec.name}/{source_key}/"
        ).get("Contents", [])
    )


@pytest.fixture
def stack(aws) -> Stack:
    """Read per test: a test may restart the emulator, which deploys the stack anew."""
    return read_stack(aws)


class Notifications:
    """An SQS queue subscribed to the pipeline's topic; collects messages by ImageID."""

    def __init__(self, sqs, queue_url: str) -> None:
        self._sqs, self._queue_url = sqs, queue_url
        self._seen: dict[str, list[dict]] = {}

    def wait_for(
        self, wanted_image_id: str, status: str | None = None, timeout: float = WAIT_SECONDS
    ) -> tuple[dict, dict]:
        """(message, message attributes) of the first notification about the image (with that status)."""
        deadline = time.monotonic() + timeout
        while not (found := self.about(wanted_image_id, status)):
            assert time.monotonic() < deadline, (
                f"no {status or ''} notification for {wanted_image_id} in {timeout} s"
            )
            self.receive()
        return found[0]

    def about(self, wanted_image_id: str, status: str | None = None) -> list[tuple[dict, dict]]:
        """Every notification received so far about the image (with that status)."""
        found = [
            (json.loads(envelope["Message"]), envelope.get("MessageAttributes", {}))
            for envelope in self._seen.get(wanted_image_id, [])
        ]
        return [(message, attributes) for message, attributes in found if status in (None, message["Status"])]

    def receive(self) -> None:
        response = self._sqs.receive_message(
            QueueUrl=self._queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        )
        for received in response.get("Messages", []):
            envelope = json.loads(received["Body"])
            message = json.loads(envelope["Message"])
            self._seen.setdefault(message["ImageID"], []).append(envelope)
            self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=received["ReceiptHandle"])


@pytest.fixture
def notifications(aws, stack: Stack) -> Iterator[Notifications]:
    sqs, sns = aws("sqs"), aws("sns")
    queue_name = f"pipeline-tests-{uuid.uuid4().hex[:8]}"
    queue_url, subscription = subscribe_new_queue(sqs, sns, stack.topic_arn, queue_name)
    yield Notifications(sqs, queue_url)
    sns.unsubscribe(SubscriptionArn=subscription)
    sqs.delete_queue(QueueUrl=queue_url)


@dataclass(frozen=True)
class Upload:
    key: str
    image_id: str
    data: bytes


@pytest.fixture
def upload(aws, stack: Stack, unique_name: str) -> Iterator[Callable[..., Upload]]:
    """Put an object into the uploads bucket under a prefix unique to the test; cleaned up after."""
    s3 = aws("s3")
    uploaded: list[Upload] = []

    def put(name: str, data: bytes, content_type: str = "image/jpeg") -> Upload:
        key = f"e2e/{unique_name}/{name}"
        s3.put_object(Bucket=stack.uploads_bucket, Key=key, Body=data, ContentType=content_type)
        result = Upload(key=key, image_id=image_id(stack.uploads_bucket, key), data=data)
        uploaded.append(result)
        return result

    yield put
    dynamodb = aws("dynamodb")
    for item in uploaded:
        s3.delete_object(Bucket=stack.uploads_bucket, Key=item.key)
        row = get_row(aws, stack, item.image_id)
        for bucket, key in output_keys(row) if row else ():
            s3.delete_object(Bucket=bucket, Key=key)
        if row:
            dynamodb.delete_item(TableName=stack.table, Key={"ImageID": {"S": item.image_id}})


_deserialize = TypeDeserializer().deserialize


def plain(value):
    """A deserialised DynamoDB value with Python numbers (int where whole) instead of Decimal."""
    if isinstance(value, dict):
        return {name: plain(item) for name, item in value.items()}
    if hasattr(value, "as_integer_ratio") and not isinstance(value, int | float):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def get_row(aws, stack: Stack, wanted_image_id: str) -> dict | None:
    item = (
        aws("dynamodb")
        .get_item(TableName=stack.table, Key={"ImageID": {"S": wanted_image_id}}, ConsistentRead=True)
        .get("Item")
    )
    return {name: plain(_deserialize(value)) for name, value in item.items()} if item else None


@pytest.fixture
def wait_for_row(aws, stack: Stack) -> Callable[..., dict]:
    """Poll the table until the image's row exists (and satisfies `until`); returns it as plain values."""

    def wait(
        wanted_image_id: str, timeout: float = WAIT_SECONDS, until: Callable[[dict], bool] = bool
    ) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            row = get_row(aws, stack, wanted_image_id)
            if row and until(row):
                return row
            assert time.monotonic() < deadline, (
                f"no matching row for {wanted_image_id} within {timeout} s: {row}"
            )
            time.sleep(0.1)

    return wait


def s3_event(
    name: str, bucket: str, key: str, event_time: str, etag: str | None = None, size: int = 0
) -> dict:
    """An S3 notification event as S3 sends it (the key URL-encoded), for invoking the function."""
    s3_object: dict = {"key": quote_plus(key, safe="/"), "sequencer": "0055AED6DCD90281E5"}
    if etag is not None:
        s3_object.update({"eTag": etag, "size": size})
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": event_time,
                "eventName": name,
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": s3_object,
                },
            }
        ]
    }


@pytest.fixture
def invoke_function(aws, stack: Stack) -> Callable[[dict], dict]:
    """Invoke the pipeline's function synchronously with an event; returns its decoded result."""

    def invoke(event: dict) -> dict:
        response = aws("lambda").invoke(FunctionName=stack.function_name, Payload=json.dumps(event).encode())
        payload = json.loads(response["Payload"].read())
        assert "FunctionError" not in response, payload
        return payload

    return invoke
