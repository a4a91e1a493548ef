"""Where an invocation's time goes (timings.py): real botocore clients, real threads, the real
Powertools logger; only the HTTP answers are botocore's Stubber (a refused connection is real)."""

from __future__ import annotations

import io
import json
import logging
import threading
import time

import boto3
import pytest
from aws_lambda_powertools import Logger
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import Stubber
from image_pipeline.timings import Timings, timed, timings


def client(service: str, **options):
    return boto3.client(
        service,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        **options,
    )


def names(recorder: Timings) -> list[str]:
    return [span[0] for span in recorder.summary()["spans"]]


def test_every_call_of_an_instrumented_client_is_a_span_named_by_service_and_operation():
    recorder = Timings()
    dynamodb = recorder.instrument(client("dynamodb"))
    with Stubber(dynamodb) as stub:
        stub.add_response("put_item", {})
        stub.add_client_error("update_item", "ConditionalCheckFailedException")
        dynamodb.put_item(TableName="t", Item={"id": {"S": "1"}})
        with pytest.raises(ClientError):
            dynamodb.update_item(TableName="t", Key={"id": {"S": "1"}}, UpdateExpression="SET a = :a")
    assert names(recorder) == ["dynamodb.PutItem", "dynamodb.UpdateItem"]  # a refusal is timed too


def test_a_call_that_never_reaches_the_service_is_timed_until_it_fails():
    recorder = Timings()
    s3 = recorder.instrument(
        client(
            "s3",
            endpoint_url="http://127.0.0.1:9",  # discard port: nothing listens
            config=Config(retries={"max_attempts": 1}, connect_timeout=1),
        )
    )
    with pytest.raises(EndpointConnectionError):
        s3.get_object(Bucket="b", Key="k")
    assert names(recorder) == ["s3.GetObject"]


def test_stages_and_calls_from_several_threads_are_all_kept_in_the_order_they_started():
    recorder = Timings()
    sns = recorder.instrument(client("sns"))
    with Stubber(sns) as stub:
        for _ in range(3):
            stub.add_response("publish", {"MessageId": "m"})

        def publish() -> None:
            sns.publish(TopicArn="arn:aws:sns:us-east-1:000000000000:t", Message="m")

        with recorder.stage("store"):
            writers = [threading.Thread(target=publish) for _ in range(3)]
            for writer in writers:
                writer.start()
            for writer in writers:
                writer.join()
        with recorder.stage("record"):
            time.sleep(0.002)
    summary = recorder.summary()
    assert names(recorder) == ["store", "sns.Publish", "sns.Publish", "sns.Publish", "record"]
    offsets = [offset for _, offset, _ in summary["spans"]]
    assert offsets == sorted(offsets)
    record = summary["spans"][-1]
    assert record[2] >= 2000  # microseconds
    assert record[1] + record[2] <= summary["elapsed_us"]


def test_a_new_invocation_forgets_the_last_ones_spans():
    recorder = Timings()
    with recorder.stage("render"):
        pass
    recorder.start()
    assert recorder.summary()["spans"] == []


class LambdaContext:
    function_name = "f"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:f"
    aws_request_id = "request-1"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def test_a_timed_handler_returns_what_the_handler_returns():
    stream = io.StringIO()

    # (Powertools' loggers of one service share their handlers: one service per test)
    @timed(Logger(service="timings-returns", logger_handler=logging.StreamHandler(stream)))
    def handler(event, context):
        return {"results": [event]}

    assert handler({"a": 1}, LambdaContext()) == {"results": [{"a": 1}]}
    assert json.loads(stream.getvalue().splitlines()[-1])["message"] == "timings"


def test_a_timed_handler_logs_its_spans_and_its_deadline_even_when_it_fails():
    stream = io.StringIO()
    logger = Logger(service="timings-fails", logger_handler=logging.StreamHandler(stream))

    @timed(logger)
    def handler(event, context):
        with timings.stage("render"):
            pass
        raise RuntimeError("boom")

    before_ms = time.time_ns() // 1_000_000
    with pytest.raises(RuntimeError):
        handler({}, LambdaContext())
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["message"] == "timings"
    assert [span[0] for span in line["spans"]] == ["render"]
    assert before_ms + 30_000 <= line["deadline_ms"] <= time.time_ns() // 1_000_000 + 30_000
    assert before_ms * 1_000_000 <= line["started_ns"] <= time.time_ns()
