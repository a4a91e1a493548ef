"""Host mode: the function's Python version, architecture, /tmp, LocalStack names and hot reload.

These are features of the host-process executor (Docker mode gets them from its images), checked
against the running emulator; the last test starts a short-lived LocalStack of its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest
from localstack_hostmode import runtimes

REPO_ROOT = Path(__file__).resolve().parents[3]
OTHER_ARCHITECTURE = "arm64" if runtimes.host_architecture() == "x86_64" else "x86_64"
# An ELF header of the other architecture is all it takes to be native code.
NATIVE_LIBRARY = b"\x7fELF\x02\x01\x01" + bytes(57)


@pytest.fixture(autouse=True)
def _host_mode_only(emulator_mode: str) -> None:
    if emulator_mode != "host":
        pytest.skip("a host-mode executor feature; Docker mode runs each runtime in its own image")


def missing_python_version() -> str:
    """A Python version Lambda supports that this machine lacks, else the newest (which is found)."""
    for version in reversed(runtimes.SUPPORTED_PYTHON_VERSIONS):
        if runtimes.find_interpreter(version) is None:
            return version
    return runtimes.SUPPORTED_PYTHON_VERSIONS[-1]


def test_python312_function_runs_on_python312(deploy_function, invoke):
    name = deploy_function(runtime="python3.12")
    response, seen = invoke(name, {"action": "runtime"})
    if runtimes.find_interpreter("3.12") is None:
        assert seen["errorType"] == "HostMode.RuntimeUnavailable", seen
        return
    assert "FunctionError" not in response, seen
    assert seen["version"] == [3, 12]
    assert seen["execution_env"] == "AWS_Lambda_python3.12"


def test_runtime_not_on_this_machine_is_unavailable_with_a_remedy(deploy_function, invoke):
    version = missing_python_version()
    name = deploy_function(runtime=f"python{version}")
    response, seen = invoke(name, {"action": "runtime"})
    if runtimes.find_interpreter(version) is not None:  # every version is installed here
        assert seen["version"] == [int(part) for part in version.split(".")], seen
        return
    assert response["FunctionError"] == "Unhandled"
    assert seen["errorType"] == "HostMode.RuntimeUnavailable"
    assert f"needs Python {version}" in seen["errorMessage"]
    assert f"pyenv install {version}" in seen["errorMessage"]


def test_other_architecture_with_native_code_is_refused(deploy_function, invoke):
    native_name = "vendored/_speedups.cpython-313-aarch64-linux-gnu.so"
    name = deploy_function(architecture=OTHER_ARCHITECTURE, files={native_name: NATIVE_LIBRARY})
    response, error = invoke(name, {"action": "echo"})
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "HostMode.UnsupportedArchitecture"
    assert native_name in error["errorMessage"]


def test_other_architecture_pure_python_runs(deploy_function, invoke):
    name = deploy_function(architecture=OTHER_ARCHITECTURE, files={"vendored/helpers.py": b"X = 1\n"})
    response, payload = invoke(name, {"action": "echo", "n": 1})
    assert "FunctionError" not in response, payload
    assert payload == {"event": {"action": "echo", "n": 1}}


def test_each_environment_has_its_own_tmp_gone_with_it_and_a_read_only_task_root(
    aws, deploy_function, invoke
):
    name = deploy_function(timeout=10)
    with ThreadPoolExecutor(max_workers=2) as pool:
        # Two overlapping invocations: two execution environments.
        sleeping = [pool.submit(invoke, name, {"action": "sleep", "seconds": 1}) for _ in range(2)]
        first, second = (invoke(name, {"action": "runtime"})[1] for _ in range(2))
        [future.result() for future in sleeping]
    seen = [first, second]
    for info in seen:
        assert info["tmpdir"] == info["home"] == info["tempfile_dir"], info
        assert "/hostmode/environments/" in info["tmpdir"]
        assert Path(info["tmp_file"]).read_text() == "scratch"  # this host is the function's host
        assert info["task_root_mode"] & 0o222 == 0, oct(info["task_root_mode"])
        if info["euid"] != 0:  # root writes through permission bits (CAP_DAC_OVERRIDE)
            assert info["task_root_write_error"] == "PermissionError"

    # Environments started by the sleepers may serve both runtime calls; ask until two differ.
    tmp_dirs = {info["tmpdir"] for info in seen}
    deadline = time.monotonic() + 10
    while len(tmp_dirs) < 2 and time.monotonic() < deadline:
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(lambda _: invoke(name, {"action": "runtime"})[1], range(2)))
        tmp_dirs |= {info["tmpdir"] for info in results}
    assert len(tmp_dirs) >= 2, "two environments shared a TMPDIR"

    aws("lambda").delete_function(FunctionName=name)  # stops its environments
    deadline = time.monotonic() + 10
    while any(Path(tmp_dir).exists() for tmp_dir in tmp_dirs) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [tmp_dir for tmp_dir in tmp_dirs if Path(tmp_dir).exists()]


def test_localstack_names_resolve_inside_functions(aws, deploy_function, invoke, unique_name):
    bucket = f"{unique_name}-names"
    aws("s3").create_bucket(Bucket=bucket)
    try:
        name = deploy_function()
        response, seen = invoke(name, {"action": "localstack_names", "bucket": bucket, "key": "hello.txt"})
        assert "FunctionError" not in response, seen
        assert seen == {"body": "written through localhost.localstack.cloud", "address": "127.0.0.1"}
    finally:
        aws("s3").delete_object(Bucket=bucket, Key="hello.txt")
        aws("s3").delete_bucket(Bucket=bucket)


def test_hot_reloaded_edit_is_seen_by_the_next_invocation(deploy_function, invoke, tmp_path):
    source, dependencies = tmp_path / "src", tmp_path / "deps"
    source.mkdir()
    dependencies.mkdir()
    (dependencies / "greeting.py").write_text("WORD = 'hello'\n")
    handler = source / "reloadable.py"
    handler.write_text(
        "import os\nimport greeting\nVERSION = 1\n\n"
        "def handler(event, context):\n"
        "    return {'version': VERSION, 'word': greeting.WORD, 'pid': os.getpid()}\n"
    )
    name = deploy_function(
        handler="reloadable.handler",
        hot_reload_dir=source,
        environment={"PYTHONPATH": str(dependencies)},  # dependencies beside, not in, the source
    )
    _, before = invoke(name, {})
    assert before["version"] == 1 and before["word"] == "hello", before
    assert invoke(name, {})[1]["pid"] == before["pid"]  # unchanged code: the warm runtime

    handler.write_text(handler.read_text().replace("VERSION = 1", "VERSION = 2"))  # same size
    _, after = invoke(name, {})
    assert after["version"] == 2, after
    assert after["pid"] != before["pid"]  # a new runtime, not a module reload
    _, unchanged = invoke(name, {})
    assert unchanged["pid"] == after["pid"]  # nothing changed: the warm runtime serves
    assert not list(source.rglob("__pycache__")), "bytecode was written into the source tree"
    assert os.access(handler, os.W_OK)  # the user's tree is not made read-only


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_runtimes_die_when_localstack_is_killed(tmp_path):
    """A LocalStack of its own, killed with SIGKILL while a warm runtime waits for work."""
    runtime_dir = os.environ.get(runtimes.RUNTIME_DIR_VARIABLE) or str(
        REPO_ROOT / ".localstack" / "lambda-runtime"
    )
    port = free_port()
    settings = {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "GATEWAY_LISTEN": f"127.0.0.1:{port}",
        "LOCALSTACK_HOST": f"localhost:{port}",
        "FILESYSTEM_ROOT": str(tmp_path / "filesystem"),
        "OVERRIDE_IN_DOCKER": "0",
        "SERVICES": "lambda,s3,sts,logs,iam",
        "DNS_ADDRESS": "0",
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        "DISABLE_EVENTS": "1",
        "LAMBDA_RUNTIME_EXECUTOR": "host-process",
        runtimes.RUNTIME_DIR_VARIABLE: runtime_dir,
    }
    with open(tmp_path / "localstack.log", "wb") as log:
        localstack = subprocess.Popen(
            [sys.executable, "-m", "localstack.runtime.main"],
            env=settings,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        endpoint = f"http://127.0.0.1:{port}"
        lambda_client = boto3.client(
            "lambda", endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id="test", aws_secret_access_key="test",
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                lambda_client.list_functions()
                break
            except Exception:
                assert time.monotonic() < deadline and localstack.poll() is None, (
                    tmp_path / "localstack.log"
                ).read_text()[-3000:]
                time.sleep(0.2)
        from .conftest import zip_package

        lambda_client.create_function(
            FunctionName="survivor",
            Runtime="python3.13",
            Role="arn:aws:iam::000000000000:role/lambda",
            Handler="probe.handler",
            Code={"ZipFile": zip_package("probe")},
            Timeout=60,
        )
        lambda_client.get_waiter("function_active_v2").wait(
            FunctionName="survivor", WaiterConfig={"Delay": 0.5, "MaxAttempts": 60}
        )
        response = lambda_client.invoke(FunctionName="survivor", Payload=b'{"action": "runtime"}')
        runtime = json.loads(response["Payload"].read())
        # Busy in its handler, the runtime does not notice LocalStack's end through the Runtime API.
        handler_running = Path(runtime["tmpdir"]) / "handler-running"
        sleep_event = {"action": "sleep", "seconds": 50, "touch": str(handler_running)}

        def invoke_until_localstack_dies() -> None:
            with contextlib.suppress(Exception):
                lambda_client.invoke(FunctionName="survivor", Payload=json.dumps(sleep_event).encode())

        threading.Thread(target=invoke_until_localstack_dies, daemon=True).start()
        deadline = time.monotonic() + 10
        while not (handler_running.exists() and handler_running.read_text()):
            assert time.monotonic() < deadline, "the sleeping invocation did not start"
            time.sleep(0.05)
        runtime_pid = int(handler_running.read_text())
        runtime_pidfd = os.pidfd_open(runtime_pid)  # readable once that process has exited

        localstack.send_signal(signal.SIGKILL)  # no shutdown hooks run
        localstack.wait()
        runtime_exited = select.select([runtime_pidfd], [], [], 5)[0]
        os.close(runtime_pidfd)
        assert runtime_exited, f"runtime {runtime_pid} outlived LocalStack"
    finally:
        if localstack.poll() is None:
            os.killpg(localstack.pid, signal.SIGKILL)
            localstack.wait()
