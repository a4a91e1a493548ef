"""The emulator tests' Lambda function: the event says what to do, the result says what it saw."""

import importlib
import json
import os
import socket
import stat
import sys
import tempfile
import time
import urllib.request
from urllib.parse import unquote_plus, urlsplit

import boto3  # provided by the Lambda runtime, not packaged with the function

print("probe initialised")  # init-phase output, before the first START line


def handler(event, context):
    if "Records" in event:
        return record_s3_events(event["Records"])
    action = event.get("action", "echo")
    print(f"probe action={action} marker={event.get('marker', '')}")
    if action == "echo":
        return {"event": event}
    if action == "describe":
        return describe(context)
    if action == "raise":
        raise ValueError(event["message"])
    if action == "sleep":
        started = time.time()
        if "touch" in event:  # tells the test that (and where) the handler is running
            with open(event["touch"], "w") as marker:
                marker.write(str(os.getpid()))
        time.sleep(event["seconds"])
        return {"started": started, "finished": time.time(), "pid": os.getpid()}
    if action == "exit":
        os._exit(event.get("code", 1))
    if action == "allocate":
        block = bytearray(event["megabytes"] * 1024 * 1024)
        for offset in range(0, len(block), 4096):  # touch every page so it is resident
            block[offset] = 1
        return {"allocated": len(block)}
    if action == "import":
        module = importlib.import_module(event["module"])
        return {"module": module.__name__, "file": getattr(module, "__file__", None)}
    if action == "runtime":
        return runtime_info()
    if action == "localstack_names":
        return use_localstack_names(event["bucket"], event["key"])
    raise ValueError(f"unknown action {action!r}")


def runtime_info() -> dict:
    """Which Python runs the function, and what it may write."""
    task_root = os.environ["LAMBDA_TASK_ROOT"]
    tmp_file = os.path.join(tempfile.gettempdir(), f"probe-{os.getpid()}")
    with open(tmp_file, "w") as file:
        file.write("scratch")
    try:
        with open(os.path.join(task_root, "written-by-the-function"), "w") as file:
            file.write("x")
        task_root_write_error = None
    except OSError as error:
        task_root_write_error = type(error).__name__
    return {
        "version": list(sys.version_info[:2]),
        "executable": sys.executable,
        "execution_env": os.environ.get("AWS_EXECUTION_ENV"),
        "tmpdir": os.environ.get("TMPDIR"),
        "home": os.environ.get("HOME"),
        "tempfile_dir": tempfile.gettempdir(),
        "tmp_file": tmp_file,
        "task_root_mode": stat.S_IMODE(os.stat(task_root).st_mode),
        "task_root_write_error": task_root_write_error,
        "euid": os.geteuid(),
        "pid": os.getpid(),
    }


def use_localstack_names(bucket: str, key: str) -> dict:
    """boto3 through localhost.localstack.cloud, then the object by its virtual-host-style address."""
    port = urlsplit(os.environ["AWS_ENDPOINT_URL"]).port
    s3 = boto3.client("s3", endpoint_url=f"http://localhost.localstack.cloud:{port}")
    s3.put_object(Bucket=bucket, Key=key, Body=b"written through localhost.localstack.cloud")
    with urllib.request.urlopen(f"http://{bucket}.s3.localhost.localstack.cloud:{port}/{key}") as response:
        body = response.read().decode()
    return {"body": body, "address": socket.gethostbyname(f"{bucket}.s3.localhost.localstack.cloud")}


def describe(context) -> dict:
    names = [
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_ENDPOINT_URL",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
        "_HANDLER",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "PROBE_SETTING",
    ]
    # A real call through the endpoint Lambda hands the function.
    identity = boto3.client("sts").get_caller_identity()
    return {
        "environ": {name: os.environ.get(name) for name in names},
        "context": {
            "aws_request_id": context.aws_request_id,
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": str(context.memory_limit_in_mb),
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining_time_in_millis": context.get_remaining_time_in_millis(),
        },
        "cwd": os.getcwd(),
        "sys_path": sys.path,
        "boto3_version": boto3.__version__,
        "caller_account": identity["Account"],
        "pid": os.getpid(),
    }


def record_s3_events(records: list[dict]) -> dict:
    """Copy each S3 notification record into RESULTS_BUCKET, keyed by the (decoded) object key."""
    s3 = boto3.client("s3")
    for record in records:
        key = unquote_plus(record["s3"]["object"]["key"])
        s3.put_object(
            Bucket=os.environ["RESULTS_BUCKET"],
            Key=f"received/{key}",
            Body=json.dumps(record).encode(),
        )
    return {"records": len(records)}
