"""Fixtures for the deployed pipeline: names from the stack Outputs, uploads, waiting for results.

The suite runs once per workflow mode (README: workflow modes): against the emulator's stack
(STACK_NAME, whatever its Workflow) and against a second stack of the other mode in the same
emulator, `<STACK_NAME>-<mode>`, which the first test that needs it deploys (make deploy's script;
a no-op when it is up to date). A test for one mode only says so: @pytest.mark.workflows("direct").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import quote_plus

import pytest
import requests
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError
from image_pipeline.records import RENDITION_PREFIX, image_id, output_keys
from image_pipeline.renditions import RenditionSpec, parse_renditions

from tests.e2e.conftest import (
    EMULATOR_ENVIRONMENT,
    REPO_ROOT,
    STACK_NAME,
    TARGET_AWS,
    api_key_of,
    stack_outputs,
)
from tests.e2e.messaging import subscribe_new_queue

WAIT_SECONDS = 60
WORKFLOWS = ("direct", "stepfunctions")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that uses the stack runs in each workflow mode it is marked for (default: both)."""
    if "workflow" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("workflows")
        modes = marker.args if marker else WORKFLOWS
        if TARGET_AWS:  # against AWS: the one stack deployed there
            modes = modes[:1]
        metafunc.parametrize("workflow", modes, scope="session")


@dataclass(frozen=True)
class Stack:
    name: str
    workflow: str
    uploads_bucket: str
    thumbnails_bucket: str
    table: str
    topic_arn: str
    # direct mode's image processor; stepfunctions mode's steps function (its logs, its settings)
    function_name: str
    dead_letter_queue_url: str
    idempotency_table: str | None  # direct mode's
    renditions: tuple[RenditionSpec, ...]
    state_machine_arn: str | None  # stepfunctions mode's
    start_function_name: str | None  # stepfunctions mode's


def read_stack(aws, stack_name: str = STACK_NAME) -> Stack:
    outputs = stack_outputs(aws, stack_name)
    workflow = outputs.get("Workflow", "direct")
    return Stack(
        name=stack_name,
        workflow=workflow,
        uploads_bucket=outputs["UploadsBucketName"],
        thumbnails_bucket=outputs["ThumbnailsBucketName"],
        table=outputs["ImageMetadataTableName"],
        topic_arn=outputs["NotificationsTopicArn"],
        function_name=outputs[
            "WorkflowStepsFunctionName" if workflow == "stepfunctions" else "ImageProcessorFunctionName"
        ],
        dead_letter_queue_url=outputs["DeadLetterQueueUrl"],
        idempotency_table=outputs.get("IdempotencyTableName"),
        renditions=parse_renditions(outputs["Renditions"]),
        state_machine_arn=outputs.get("StateMachineArn"),
        start_function_name=outputs.get("StartWorkflowFunctionName"),
    )


def stack_of_workflow(aws, workflow: str) -> str:
    """The name of the emulator's stack in that mode: STACK_NAME's, or the second stack, deployed
    (or brought up to date) here on first use in a session, and again after a restart lost it."""
    main_workflow = stack_outputs(aws).get("Workflow", "direct")
    if TARGET_AWS or workflow == main_workflow:
        return STACK_NAME
    name = f"{STACK_NAME}-{workflow}"
    if name not in _deployed:
        deploy = subprocess.run(
            [sys.executable, "scripts/deploy_stack.py", "deploy", "--stack-name", name],
            cwd=REPO_ROOT,
            env={**os.environ, **EMULATOR_ENVIRONMENT, "WORKFLOW": workflow, "HOT_RELOAD": ""},
            capture_output=True,
            text=True,
        )
        assert deploy.returncode == 0, deploy.stdout + deploy.stderr
        _deployed.add(name)
    try:
        stack_outputs(aws, name)
    except ClientError:  # gone with a restart: deploy it again
        _deployed.discard(name)
        return stack_of_workflow(aws, workflow)
    return name


_deployed: set[str] = set()


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
def stack(aws, workflow: str) -> Stack:
    """Read per test: a test may restart the emulator, which deploys the stack anew."""
    return read_stack(aws, stack_of_workflow(aws, workflow))


@pytest.fixture
def api_url(aws, stack: Stack, emulator) -> str:
    """The REST API of the test's stack."""
    return f"{emulator}/_aws/execute-api/{stack_outputs(aws, stack.name)['ApiId']}/api"


@pytest.fixture
def api(aws, stack: Stack) -> Iterator[requests.Session]:
    """HTTP to the test's stack's REST API with its key."""
    with requests.Session() as session:
        session.headers["x-api-key"] = api_key_of(aws, stack.name)
        yield session


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
    name: str,
    bucket: str,
    key: str,
    event_time: str,
    etag: str | None = None,
    size: int = 0,
    request_id: str | None = None,
) -> dict:
    """An S3 notification event as S3 sends it (the key URL-encoded), for invoking the function.
    `request_id`: the S3 request that made the change (another delivery of one event repeats it)."""
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
                "responseElements": {"x-amz-request-id": request_id or uuid.uuid4().hex[:16].upper()},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": s3_object,
                },
            }
        ]
    }


def eventbridge_event(s3_notification: dict) -> dict:
    """The event S3 sends EventBridge for the same change (stepfunctions mode's input)."""
    record = s3_notification["Records"][0]
    s3_object = record["s3"]["object"]
    removed = record["eventName"].startswith("ObjectRemoved")
    detail_object = {"key": s3_object["key"], "sequencer": s3_object.get("sequencer", "0")}
    if "eTag" in s3_object:
        detail_object.update({"etag": s3_object["eTag"], "size": s3_object.get("size", 0)})
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Object Deleted" if removed else "Object Created",
        "source": "aws.s3",
        "account": "000000000000",
        "time": record["eventTime"][:19] + "Z",  # EventBridge's times have whole seconds
        "region": record["awsRegion"],
        "resources": [record["s3"]["bucket"]["arn"]],
        "detail": {
            "version": "0",
            "bucket": {"name": record["s3"]["bucket"]["name"]},
            "object": detail_object,
            "request-id": record["responseElements"]["x-amz-request-id"],
            "reason": "DeleteObject" if removed else "PutObject",
        },
    }


def wait_for_execution(aws, execution_arn: str, timeout: float = WAIT_SECONDS) -> dict:
    """describe_execution once it has ended."""
    sfn = aws("stepfunctions")
    deadline = time.monotonic() + timeout
    while (execution := sfn.describe_execution(executionArn=execution_arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, f"{execution_arn} still running after {timeout} s"
        time.sleep(0.1)
    return execution


def recorded_request_id(aws, row: dict) -> str | None:
    """The S3 request behind the row's version, where the row names its execution (the execution's
    input has it); direct mode's rows do not keep it (its idempotency key leaves it out)."""
    if "ExecutionArn" not in row:
        return None
    execution = aws("stepfunctions").describe_execution(executionArn=row["ExecutionArn"])
    return json.loads(execution["input"]).get("request_id")


def execution_arn(stack: Stack, name: str) -> str:
    assert stack.state_machine_arn
    return stack.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"


def start_workflow(aws, stack: Stack, s3_notification: dict) -> dict:
    """Deliver the change as EventBridge would: the starter function, synchronously."""
    response = aws("lambda").invoke(
        FunctionName=stack.start_function_name,
        Payload=json.dumps(eventbridge_event(s3_notification)).encode(),
    )
    payload = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, payload
    return payload


@pytest.fixture
def invoke_function(aws, stack: Stack) -> Callable[[dict], dict]:
    """Deliver an S3 event and wait for its outcome: {"results": [{"outcome", "image_id", "detail"}]}.
    Direct mode: the function, synchronously. Stepfunctions mode: the same change as EventBridge
    delivers it, to the starter, then the execution's output (a duplicate's is the first one's)."""

    def invoke(event: dict) -> dict:
        if stack.workflow == "stepfunctions":
            started = start_workflow(aws, stack, event)
            execution = wait_for_execution(aws, execution_arn(stack, started["executionName"]))
            assert execution["status"] == "SUCCEEDED", execution
            return {"results": [json.loads(execution["output"])]}
        response = aws("lambda").invoke(FunctionName=stack.function_name, Payload=json.dumps(event).encode())
        payload = json.loads(response["Payload"].read())
        assert "FunctionError" not in response, payload
        return payload

    return invoke


@pytest.fixture
def topic_outage(aws, stack):
    """A real SNS outage: the pipeline's topic is gone until `restore()` creates it again."""
    sns = aws("sns")
    topic_name = stack.topic_arn.rsplit(":", 1)[1]
    sns.delete_topic(TopicArn=stack.topic_arn)

    class Outage:
        @staticmethod
        def restore() -> None:
            assert sns.create_topic(Name=topic_name)["TopicArn"] == stack.topic_arn

    yield Outage
    Outage.restore()
