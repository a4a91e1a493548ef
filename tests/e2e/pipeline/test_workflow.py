"""What only the stepfunctions mode has: each upload is one execution of the state machine, whose
history shows every step; input that can never become an image takes the Catch path; a service
failure is retried with backoff; exhausted retries leave a RETRYING row and a FAILED execution that
`make redrive` restarts; a duplicate event starts no second execution; a stack switches modes in
place, keeping its data. (The rest of the pipeline's contract is the same suite as direct mode's,
run against this mode's stack: see conftest.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from image_pipeline.adapters.workflow import steps_of

from scripts import deploy_stack
from tests import images
from tests.e2e.conftest import EMULATOR_ENVIRONMENT, REGION, REPO_ROOT, TARGET_AWS
from tests.e2e.pipeline.conftest import (
    execution_arn,
    get_row,
    recorded_request_id,
    s3_event,
    start_workflow,
    wait_for_execution,
)

pytestmark = pytest.mark.workflows("stepfunctions")


def history(aws, arn: str) -> list[dict]:
    paginator = aws("stepfunctions").get_paginator("get_execution_history")
    return [event for page in paginator.paginate(executionArn=arn) for event in page["events"]]


def entered_states(events: list[dict]) -> list[str]:
    return [
        event["stateEnteredEventDetails"]["name"]
        for event in events
        if event["type"].endswith("StateEntered")
    ]


def executions_named(aws, stack, name: str) -> list[dict]:
    paginator = aws("stepfunctions").get_paginator("list_executions")
    return [
        execution
        for page in paginator.paginate(stateMachineArn=stack.state_machine_arn)
        for execution in page["executions"]
        if execution["name"] == name or execution["name"].startswith(f"{name}-redrive-")
    ]


def make_redrive(stack, emulator: str) -> subprocess.CompletedProcess[str]:
    """`make redrive` for the test's stack."""
    return subprocess.run(
        [sys.executable, "-m", "scripts.redrive"],
        cwd=REPO_ROOT,
        env={**os.environ, **EMULATOR_ENVIRONMENT, "AWS_ENDPOINT_URL": emulator, "STACK_NAME": stack.name},
        capture_output=True,
        text=True,
    )


def test_a_processed_upload_is_one_execution_whose_steps_the_api_shows(
    aws, stack, upload, wait_for_row, notifications, api, api_url
):
    uploaded = upload("steps.jpg", images.jpeg(1200, 800))
    row = wait_for_row(uploaded.image_id, until=lambda row: row["Status"] == "PROCESSED")
    message, _ = notifications.wait_for(uploaded.image_id, "PROCESSED")
    assert message["Renditions"].keys() == row["Renditions"].keys()

    execution = wait_for_execution(aws, row["ExecutionArn"])
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["input"])["key"] == uploaded.key
    assert json.loads(execution["output"]) == {
        "outcome": "PROCESSED",
        "image_id": uploaded.image_id,
        "detail": "",
    }
    events = history(aws, row["ExecutionArn"])
    assert entered_states(events) == [
        "ReadChange",
        "UploadOrRemoval",
        "MakeRenditions",
        "AnythingToRecord",
        "RecordRow",
        "AnythingToAnnounce",
        "Notify",
        "Recorded",
    ]
    assert not [event for event in events if event["type"].endswith("Failed")]

    response = api.get(f"{api_url}/images/{uploaded.image_id}/steps")
    assert response.status_code == 200, response.text
    shown = response.json()
    assert shown["executionArn"] == row["ExecutionArn"] and shown["status"] == "SUCCEEDED"
    assert [(step["name"], step["status"]) for step in shown["steps"]] == [
        ("MakeRenditions", "SUCCEEDED"),
        ("RecordRow", "SUCCEEDED"),
        ("Notify", "SUCCEEDED"),
    ]
    assert all(step["durationMs"] >= 0 and step["error"] is None for step in shown["steps"])


def test_input_that_is_no_image_takes_the_catch_path_to_a_failed_row(
    aws, stack, upload, wait_for_row, api, api_url
):
    uploaded = upload("notes.jpg", images.TEXT)
    row = wait_for_row(uploaded.image_id)
    assert (row["Status"], row["ErrorCode"]) == ("FAILED", "NOT_AN_IMAGE")

    execution = wait_for_execution(aws, row["ExecutionArn"])
    assert execution["status"] == "SUCCEEDED"  # handled: the row says what was wrong
    events = history(aws, row["ExecutionArn"])
    assert entered_states(events)[2:] == [
        "MakeRenditions",
        "RecordRejection",
        "RecordRow",
        "AnythingToAnnounce",
        "Notify",
        "Recorded",
    ]
    failures = [event for event in events if event["type"] == "LambdaFunctionFailed"]
    assert [event["lambdaFunctionFailedEventDetails"]["error"] for event in failures] == ["ImageRejected"]

    steps = api.get(f"{api_url}/images/{uploaded.image_id}/steps").json()["steps"]
    assert steps[0]["name"] == "MakeRenditions" and steps[0]["status"] == "FAILED"
    assert steps[0]["error"].startswith("ImageRejected: NOT_AN_IMAGE: ")  # the row's code and words
    assert [step["name"] for step in steps[1:]] == ["RecordRejection", "RecordRow", "Notify"]


def test_a_service_failure_is_retried_with_backoff_and_then_succeeds(
    aws, stack, upload, wait_for_row, topic_outage
):
    uploaded = upload("retried.jpg", images.jpeg(800, 600))
    sfn = aws("stepfunctions")

    def failed_publish() -> str | None:
        for execution in sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]:
            arn = execution["executionArn"]
            # The input from describe_execution: LocalStack lists an execution a moment before its
            # history holds the ExecutionStarted event.
            if uploaded.key in sfn.describe_execution(executionArn=arn)["input"] and any(
                event["type"] == "TaskFailed" for event in history(aws, arn)
            ):
                return arn
        return None

    deadline = time.monotonic() + 30
    while not (arn := failed_publish()):
        assert time.monotonic() < deadline, "the publish never failed"
        time.sleep(0.05)
    topic_outage.restore()  # before the retries run out (1 s, then 2 s later)

    assert wait_for_execution(aws, arn)["status"] == "SUCCEEDED"
    row = get_row(aws, stack, uploaded.image_id)
    assert row["Status"] == "PROCESSED" and row["ExecutionArn"] == arn and "ErrorCode" not in row
    events = history(aws, arn)
    attempts = [
        event for event in events if event["type"] in ("TaskScheduled", "TaskFailed", "TaskSucceeded")
    ]
    assert [event["type"] for event in attempts][:2] == ["TaskScheduled", "TaskFailed"]
    assert attempts[-1]["type"] == "TaskSucceeded"
    # Backoff honoured: the first retry waits IntervalSeconds (1 s) after the failure.
    retried = attempts[2]["timestamp"] - attempts[1]["timestamp"]
    assert retried.total_seconds() >= 0.9, retried
    shown = [(step.name, step.status) for step in steps_of(events)]
    assert shown[-1] == ("Notify", "SUCCEEDED") and ("Notify", "RETRIED") in shown


def test_exhausted_retries_leave_a_retrying_row_and_make_redrive_finishes_the_job(
    aws, stack, upload, wait_for_row, topic_outage, emulator
):
    uploaded = upload("exhausted.jpg", images.jpeg(800, 600))
    row = wait_for_row(uploaded.image_id, until=lambda row: row["Status"] == "RETRYING")
    assert row["ErrorCode"] == "SERVICE_ERROR" and "publishing" in row["ErrorMessage"]
    failed = wait_for_execution(aws, row["ExecutionArn"])
    assert failed["status"] == "FAILED"
    assert failed["cause"] == row["ErrorMessage"] and failed["error"].startswith("SNS.")

    topic_outage.restore()
    redrive = make_redrive(stack, emulator)
    assert redrive.returncode == 0, redrive.stdout + redrive.stderr
    assert redrive.stdout.rstrip().endswith(", 0 still failing"), redrive.stdout
    processed = wait_for_row(uploaded.image_id, until=lambda row: row["Status"] == "PROCESSED")
    base = failed["name"]
    assert processed["ExecutionArn"] == execution_arn(stack, f"{base}-redrive-1")
    redriven = wait_for_execution(aws, processed["ExecutionArn"])
    assert redriven["input"] == failed["input"]  # the original input, as S3 announced it
    # A second redrive has nothing left to do for it.
    again = make_redrive(stack, emulator)
    assert "redrive-2" not in again.stdout
    assert len(executions_named(aws, stack, base)) == 2


def test_duplicate_events_start_no_second_execution(aws, stack, upload, wait_for_row, notifications):
    uploaded = upload("twice.jpg", images.jpeg(800, 600))
    row = wait_for_row(uploaded.image_id, until=lambda row: row["Status"] == "PROCESSED")
    notifications.wait_for(uploaded.image_id, "PROCESSED")
    name = row["ExecutionArn"].rsplit(":", 1)[1]
    # EventBridge delivers the very event again, three times at once.
    event = s3_event(
        "ObjectCreated:Put",
        stack.uploads_bucket,
        uploaded.key,
        row["SourceEventTime"],
        etag=row["SourceETag"],
        size=row["SourceSize"],
        request_id=recorded_request_id(aws, row),
    )
    with ThreadPoolExecutor(max_workers=3) as pool:
        deliveries = list(pool.map(lambda _: start_workflow(aws, stack, event), range(3)))
    assert {delivery["executionName"] for delivery in deliveries} == {name}
    assert not any(delivery["started"] for delivery in deliveries)
    assert len(executions_named(aws, stack, name)) == 1
    assert get_row(aws, stack, uploaded.image_id) == row
    sentinel = upload("sentinel.jpg", images.jpeg(100, 100))
    notifications.wait_for(sentinel.image_id)
    assert len(notifications.about(uploaded.image_id)) == 1


@pytest.mark.skipif(TARGET_AWS, reason="deploys throwaway stacks into the emulator")
def test_a_stack_switches_workflow_in_place_and_back_keeping_its_data(aws, monkeypatch):
    """`make deploy WORKFLOW=…` over a stack with data: the uploads bucket's notifications move,
    the workflow's resources come and go, the rows and objects stay (LocalStack 4.14 needs host
    mode's fixes for this: emulator/localstack_hostmode/cloudformation.py)."""
    for name, value in EMULATOR_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    name = f"switch-{uuid.uuid4().hex[:8]}"
    architecture = deploy_stack.host_architecture()
    s3, dynamodb = aws("s3"), aws("dynamodb")
    try:
        keys = []
        for number, workflow in enumerate(["direct", "stepfunctions", "direct", "stepfunctions"]):
            deploy_stack.deploy(name, architecture, {"Architecture": architecture, "Workflow": workflow})
            outputs = deploy_stack.stack_outputs(aws("cloudformation"), name)
            assert outputs["Workflow"] == workflow
            machines = [item["name"] for item in aws("stepfunctions").list_state_machines()["stateMachines"]]
            assert (f"{name}-pipeline" in machines) == (workflow == "stepfunctions")
            key = f"switch/{number}-{workflow}.jpg"
            s3.put_object(Bucket=outputs["UploadsBucketName"], Key=key, Body=images.jpeg(300, 200))
            keys.append(key)
            table = outputs["ImageMetadataTableName"]
            deadline = time.monotonic() + 60
            while len(rows := dynamodb.scan(TableName=table)["Items"]) < len(keys):
                assert time.monotonic() < deadline, f"{key} was not processed in {workflow} mode"
                time.sleep(0.2)
            by_key = {item["SourceKey"]["S"]: item for item in rows}
            assert sorted(by_key) == sorted(keys)  # nothing lost across the switches
            assert all(item["Status"]["S"] == "PROCESSED" for item in rows)
            # Each upload went the way its mode goes (and only that way: one row each).
            assert ("ExecutionArn" in by_key[key]) == (workflow == "stepfunctions")
    finally:
        outputs = deploy_stack.stack_outputs(aws("cloudformation"), name)
        buckets = [outputs[f"{kind}BucketName"] for kind in ("Uploads", "Thumbnails", "Web")]
        for bucket in [*buckets, f"{name}-artifacts-000000000000-{REGION}"]:
            for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
                s3.delete_object(Bucket=bucket, Key=item["Key"])
        aws("cloudformation").delete_stack(StackName=name)
