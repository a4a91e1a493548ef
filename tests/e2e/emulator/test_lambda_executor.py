"""Lambda functions run in the emulator behave as they do on AWS (host mode: local processes)."""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]


def runtime_pin(package: str) -> str:
    for line in (REPO_ROOT / "requirements" / "lambda-runtime.txt").read_text().splitlines():
        if line.startswith(f"{package}=="):
            return line.split("==", 1)[1]
    raise AssertionError(f"{package} is not pinned in requirements/lambda-runtime.txt")


def wait_for_log_lines(aws, function_name: str, needle: str, timeout: float = 30) -> list[str]:
    """All messages of the function's log group, once one of them contains `needle`."""
    logs = aws("logs")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            events = logs.filter_log_events(logGroupName=f"/aws/lambda/{function_name}")["events"]
        except logs.exceptions.ResourceNotFoundException:
            events = []
        messages = [event["message"].rstrip("\n") for event in events]
        if any(needle in message for message in messages):
            return messages
        time.sleep(0.2)
    raise AssertionError(f"no log line containing {needle!r} for {function_name} within {timeout} s")


def test_invocation_returns_the_handlers_result(deploy_function, invoke):
    name = deploy_function()
    response, payload = invoke(name, {"action": "echo", "photo": "cat.jpg", "sizes": [1, 2]})
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert payload == {"event": {"action": "echo", "photo": "cat.jpg", "sizes": [1, 2]}}


def test_lambda_environment_variables_and_context(deploy_function, invoke):
    name = deploy_function(timeout=7, memory=256, environment={"PROBE_SETTING": "from-the-template"})
    response, seen = invoke(name, {"action": "describe"})
    assert "FunctionError" not in response, seen

    environ, context = seen["environ"], seen["context"]
    assert environ["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert environ["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert environ["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{name}"
    assert environ["AWS_REGION"] == environ["AWS_DEFAULT_REGION"] == "us-east-1"
    assert environ["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.13"
    assert environ["_HANDLER"] == "probe.handler"
    assert environ["PROBE_SETTING"] == "from-the-template"
    assert environ["AWS_ENDPOINT_URL"].startswith("http")
    assert environ["AWS_LAMBDA_RUNTIME_API"]
    for credential in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        assert environ[credential], credential
    # The handler module lives in the task root, which is also the working directory.
    assert Path(seen["cwd"]) == Path(environ["LAMBDA_TASK_ROOT"])
    assert seen["sys_path"][0] == environ["LAMBDA_TASK_ROOT"]
    # boto3 inside the function reached the emulator through AWS_ENDPOINT_URL.
    assert seen["caller_account"] == "000000000000"

    assert context["aws_request_id"] == response["ResponseMetadata"]["RequestId"]
    assert context["function_name"] == name
    assert context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"].endswith(f":function:{name}")
    assert context["memory_limit_in_mb"] == "256"
    assert context["log_group_name"] == f"/aws/lambda/{name}"
    assert context["log_stream_name"] == environ["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert 0 < context["remaining_time_in_millis"] <= 7000


def test_function_sees_only_its_package_the_runtime_and_the_standard_library(deploy_function, invoke):
    name = deploy_function()
    _, seen = invoke(name, {"action": "describe"})
    assert not [entry for entry in seen["sys_path"] if "site-packages" in entry or ".venv" in entry]
    # boto3 is the Lambda runtime's pinned one, not whatever the host has.
    assert seen["boto3_version"] == runtime_pin("boto3")

    # Pillow and pytest are installed where the emulator runs, yet the function cannot import them.
    for host_package in ("PIL", "pytest"):
        response, error = invoke(name, {"action": "import", "module": host_package})
        assert response["FunctionError"] == "Unhandled"
        assert error["errorType"] == "ModuleNotFoundError", error


def test_missing_dependency_fails_with_import_module_error(deploy_function, invoke):
    name = deploy_function("needs_pillow", handler="needs_pillow.handler")
    response, error = invoke(name, {})
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert error["errorMessage"] == "Unable to import module 'needs_pillow': No module named 'PIL'"


def test_handler_exception_comes_back_in_lambdas_error_shape(deploy_function, invoke):
    name = deploy_function()
    response, error = invoke(name, {"action": "raise", "message": "the photo is upside down"})
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "the photo is upside down"
    assert isinstance(error["stackTrace"], list)
    assert any("probe.py" in frame and "raise ValueError" in frame for frame in error["stackTrace"])


def test_timeout_is_enforced_and_the_environment_is_replaced(aws, deploy_function, invoke):
    name = deploy_function(timeout=1)
    started = time.monotonic()
    response, error = invoke(name, {"action": "sleep", "seconds": 10})
    elapsed = time.monotonic() - started
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Sandbox.Timedout"
    assert error["errorMessage"].endswith("Task timed out after 1.00 seconds")
    assert elapsed < 10, "the invocation waited for the sleeping handler instead of killing it"

    # The next invocation gets a fresh runtime and works.
    response, payload = invoke(name, {"action": "echo", "after": "timeout"})
    assert "FunctionError" not in response
    assert payload == {"event": {"action": "echo", "after": "timeout"}}

    messages = wait_for_log_lines(aws, name, "Task timed out after 1.00 seconds")
    assert any(
        message.startswith("REPORT RequestId:") and "Status: timeout" in message for message in messages
    )


def test_crashed_runtime_reports_exit_error_and_is_replaced(deploy_function, invoke):
    name = deploy_function()
    response, error = invoke(name, {"action": "exit", "code": 3})
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.ExitError"
    assert error["errorMessage"].endswith("Runtime exited with error: exit status 3")

    response, payload = invoke(name, {"action": "echo", "after": "crash"})
    assert "FunctionError" not in response
    assert payload == {"event": {"action": "echo", "after": "crash"}}


def test_stdout_of_each_invocation_reaches_cloudwatch_logs(aws, deploy_function, invoke):
    name = deploy_function()
    marker = uuid.uuid4().hex
    response, _ = invoke(name, {"action": "echo", "marker": marker})
    request_id = response["ResponseMetadata"]["RequestId"]

    messages = wait_for_log_lines(aws, name, f"REPORT RequestId: {request_id}")
    assert f"START RequestId: {request_id} Version: $LATEST" in messages
    assert f"probe action=echo marker={marker}" in messages
    assert f"END RequestId: {request_id}" in messages
    assert "probe initialised" in messages  # output of the init phase is kept too
    assert messages.index("probe initialised") < messages.index(
        f"START RequestId: {request_id} Version: $LATEST"
    )


def test_concurrent_invocations_run_in_parallel_environments(deploy_function, invoke):
    name = deploy_function(timeout=10)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: invoke(name, {"action": "sleep", "seconds": 1.5}), range(2)))
    (first_response, first), (second_response, second) = results
    assert "FunctionError" not in first_response and "FunctionError" not in second_response
    assert first["pid"] != second["pid"], "both invocations ran in the same execution environment"
    assert first["started"] < second["finished"] and second["started"] < first["finished"], (
        f"the invocations did not overlap in time: {first} {second}"
    )


def test_warm_environment_is_reused(deploy_function, invoke):
    name = deploy_function()
    pids = {invoke(name, {"action": "describe"})[1]["pid"] for _ in range(3)}
    assert len(pids) == 1


def test_memory_size_is_enforced(emulator_mode, deploy_function, invoke):
    if emulator_mode != "host":
        pytest.skip("memory enforcement is a host-mode executor feature; Docker mode is not checked here")
    name = deploy_function(memory=128, timeout=10)
    response, error = invoke(name, {"action": "allocate", "megabytes": 300})
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.OutOfMemory"

    response, payload = invoke(name, {"action": "allocate", "megabytes": 16})
    assert "FunctionError" not in response, payload
    assert payload == {"allocated": 16 * 1024 * 1024}


def test_non_python_runtime_is_refused_with_a_clear_reason(emulator_mode, deploy_function, invoke):
    if emulator_mode != "host":
        pytest.skip("Docker mode runs every runtime")
    name = deploy_function(runtime="nodejs20.x", handler="index.handler")
    response, error = invoke(name, {})
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "HostMode.UnsupportedRuntime"
    assert "'nodejs20.x' is not supported in host mode" in error["errorMessage"]
    assert "EMULATOR=docker" in error["errorMessage"]


def test_s3_object_created_notification_triggers_the_function(aws, deploy_function, unique_name):
    s3 = aws("s3")
    uploads, results = f"{unique_name}-uploads", f"{unique_name}-results"
    for bucket in (uploads, results):
        s3.create_bucket(Bucket=bucket)
    name = deploy_function(environment={"RESULTS_BUCKET": results})
    function_arn = aws("lambda").get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    aws("lambda").add_permission(
        FunctionName=name,
        StatementId="s3-invoke",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn=f"arn:aws:s3:::{uploads}",
    )
    s3.put_bucket_notification_configuration(
        Bucket=uploads,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": function_arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    key = "holiday 2026/straße/café.jpg"
    s3.put_object(Bucket=uploads, Key=key, Body=b"not really a jpeg")

    s3.get_waiter("object_exists").wait(
        Bucket=results, Key=f"received/{key}", WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    record = json.loads(s3.get_object(Bucket=results, Key=f"received/{key}")["Body"].read())
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"].startswith("ObjectCreated:")
    assert record["s3"]["bucket"]["name"] == uploads
    assert record["s3"]["object"]["size"] == len(b"not really a jpeg")

    for bucket in (uploads, results):
        for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=item["Key"])
        s3.delete_bucket(Bucket=bucket)
