"""Fixtures for the deployed pipeline: names from the stack Outputs, uploads, waiting for results."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from image_pipeline.records import image_id

from tests.e2e.messaging import subscribe_new_queue

STACK_NAME = os.environ.get("STACK_NAME") or "image-pipeline"
WAIT_SECONDS = 60


@dataclass(frozen=True)
class Stack:
    uploads_bucket: str
    thumbnails_bucket: str
    table: str
    topic_arn: str
    function_name: str


@pytest.fixture(scope="session")
def stack(aws) -> Stack:
    description = aws("cloudformation").describe_stacks(StackName=STACK_NAME)["Stacks"][0]
    outputs = {output["OutputKey"]: output["OutputValue"] for output in description["Outputs"]}
    return Stack(
        uploads_bucket=outputs["UploadsBucketName"],
        thumbnails_bucket=outputs["ThumbnailsBucketName"],
        table=outputs["ImageMetadataTableName"],
        topic_arn=outputs["NotificationsTopicArn"],
        function_name=outputs["ImageProcessorFunctionName"],
    )


class Notifications:
    """An SQS queue subscribed to the pipeline's topic; collects messages by ImageID."""

    def __init__(self, sqs, queue_url: str) -> None:
        self._sqs, self._queue_url = sqs, queue_url
        self._seen: dict[str, list[dict]] = {}

    def wait_for(self, wanted_image_id: str, timeout: float = WAIT_SECONDS) -> tuple[dict, dict]:
        """(message, message attributes) of the first notification about the image."""
        deadline = time.monotonic() + timeout
        while wanted_image_id not in self._seen:
            assert time.monotonic() < deadline, f"no notification for {wanted_image_id} within {timeout} s"
            response = self._sqs.receive_message(
                QueueUrl=self._queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            )
            for received in response.get("Messages", []):
                envelope = json.loads(received["Body"])
                message = json.loads(envelope["Message"])
                self._seen.setdefault(message["ImageID"], []).append(envelope)
                self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=received["ReceiptHandle"])
        envelope = self._seen[wanted_image_id][0]
        return json.loads(envelope["Message"]), envelope.get("MessageAttributes", {})


@pytest.fixture(scope="session")
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
        row = dynamodb.get_item(TableName=stack.table, Key={"ImageID": {"S": item.image_id}}).get("Item")
        if row:
            s3.delete_object(Bucket=row["ThumbnailBucket"]["S"], Key=row["ThumbnailKey"]["S"])
            dynamodb.delete_item(TableName=stack.table, Key={"ImageID": {"S": item.image_id}})


@pytest.fixture
def wait_for_row(aws, stack: Stack) -> Callable[..., dict]:
    """Poll the table until the image's row exists; returns it with plain Python values."""
    dynamodb = aws("dynamodb")

    def wait(wanted_image_id: str, timeout: float = WAIT_SECONDS) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            item = dynamodb.get_item(
                TableName=stack.table, Key={"ImageID": {"S": wanted_image_id}}, ConsistentRead=True
            ).get("Item")
            if item:
                return {name: int(value["N"]) if "N" in value else value["S"] for name, value in item.items()}
            assert time.monotonic() < deadline, f"no row for {wanted_image_id} within {timeout} s"
            time.sleep(0.1)

    return wait
