"""Lambda execution environments as local OS processes (LocalStack host mode, no Docker).

Each execution environment is one process running the AWS Lambda Runtime Interface Client
(``awslambdaric``, the runtime client in AWS's own Python images) on the host's Python, talking to a
Runtime API that this executor serves on loopback. LocalStack decides how many environments exist,
reuses warm ones and starts more for concurrent invocations, exactly as with its Docker executor.

What the function can import is what Lambda gives it: its unzipped package (``LAMBDA_TASK_ROOT``,
first on ``sys.path``), the runtime directory with awslambdaric and the pinned boto3/botocore the
Lambda Python runtime ships (``LAMBDA_RUNTIME_DIR``, on ``PYTHONPATH``), and the standard library.
The interpreter starts with ``-S``, so the host virtualenv's site-packages are not visible: a
package that forgets a dependency fails with ``Runtime.ImportModuleError`` here as on AWS.

The executor enforces the function's Timeout (the process is killed and the invocation reports
``Sandbox.Timedout``), its MemorySize (peak resident memory of the runtime process; set
``HOSTMODE_LAMBDA_ENFORCE_MEMORY=0`` to only report it), replaces a crashed or killed runtime on the
next invocation, and returns each invocation's stdout/stderr framed by START/END/REPORT lines, which
LocalStack stores in CloudWatch Logs.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import CancelledError
from concurrent.futures import TimeoutError as FutureTimeoutError
from datetime import UTC, datetime
from pathlib import Path

from localstack import config
from localstack.aws.api.lambda_ import PackageType
from localstack.services.lambda_.invocation.executor_endpoint import StatusErrorException
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.runtime_executor import (
    LambdaRuntimeException,
    RuntimeExecutor,
)

from localstack_hostmode.runtime_api import PendingInvocation, RuntimeApiServer, RuntimeResult

LOG = logging.getLogger(__name__)

RUNTIME_DIR_VARIABLE = "HOSTMODE_LAMBDA_RUNTIME_DIR"
ENFORCE_MEMORY_VARIABLE = "HOSTMODE_LAMBDA_ENFORCE_MEMORY"
# The errorType of invocations of functions host mode cannot run (not one of AWS's types).
UNSUPPORTED_ERROR_TYPE = "HostMode.UnsupportedRuntime"
# How often a running invocation is checked for a dead process or exceeded memory.
POLL_INTERVAL_SECONDS = 0.02
# Variables of the host that a runtime process may see; everything else comes from Lambda's set.
HOST_VARIABLES_PASSED_THROUGH = ("PATH", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR")


def runtime_exit_message(returncode: int) -> str:
    """Lambda's wording for a runtime process that ended: by exit status or by signal."""
    if returncode < 0:
        # Lambda's runtime manager is written in Go, which names signals as strsignal(3) does.
        return f"Runtime exited with error: signal: {(signal.strsignal(-returncode) or '').lower()}"
    return f"Runtime exited with error: exit status {returncode}"


def runtime_dir() -> Path:
    """Where awslambdaric and the Lambda runtime's boto3 are installed (``make up`` installs them)."""
    configured = os.environ.get(RUNTIME_DIR_VARIABLE)
    if not configured:
        raise LambdaRuntimeException(
            f"{RUNTIME_DIR_VARIABLE} is not set: it must name the directory holding awslambdaric and "
            "boto3 for Lambda functions (the project's `make up` installs and sets it)"
        )
    path = Path(configured)
    if not (path / "awslambdaric").is_dir():
        raise LambdaRuntimeException(
            f"{RUNTIME_DIR_VARIABLE}={path} does not contain awslambdaric; run `make up` to install it"
        )
    return path


def check_runtime_supported(function_version: FunctionVersion) -> None:
    """Host mode runs Python zip functions only; everything else gets a clear reason."""
    function_config = function_version.config
    if function_config.package_type == PackageType.Image:
        raise LambdaRuntimeException(
            "Container image functions need Docker; host mode runs Python zip functions only "
            "(start the emulator with EMULATOR=docker)"
        )
    runtime = function_config.runtime or ""
    if not runtime.startswith("python3."):
        raise LambdaRuntimeException(
            f"Runtime {runtime!r} is not supported in host mode, which runs every python3.x runtime "
            f"on the host's Python {sys.version_info.major}.{sys.version_info.minor}; other "
            "runtimes need Docker (start the emulator with EMULATOR=docker)"
        )


def peak_memory_mb(pid: int) -> int | None:
    """Peak resident memory of a process (Linux ``VmHWM``), or None when it cannot be read."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return math.ceil(int(line.split()[1]) / 1024)
    except (OSError, ValueError):
        return None
    return None


def timeout_message(timeout_seconds: int) -> str:
    return f"Task timed out after {timeout_seconds:.2f} seconds"


def lambda_error(error_type: str, request_id: str, message: str) -> bytes:
    """An error payload in the shape AWS returns for platform errors."""
    return json.dumps(
        {"errorType": error_type, "errorMessage": f"RequestId: {request_id} Error: {message}"}
    ).encode()


class HostProcessRuntimeExecutor(RuntimeExecutor):
    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id, function_version)
        self._work_dir = Path(tempfile.mkdtemp(prefix=f"lambda-{id}-"))
        self._log_path = self._work_dir / "runtime.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._runtime_api: RuntimeApiServer | None = None
        self._process_env: dict[str, str] = {}
        self._stopped = False
        self._init_duration_ms: float | None = None
        self._last_peak_memory_mb: int | None = None
        self._log_reported_up_to = 0  # offset in the runtime log up to which lines were returned

    # Lifecycle

    def start(self, env_vars: dict[str, str]) -> None:
        try:
            check_runtime_supported(self.function_version)
        except LambdaRuntimeException as unsupported:
            # Reported as the invocation's error (like an init failure), so the caller sees why.
            payload = json.dumps({"errorType": UNSUPPORTED_ERROR_TYPE, "errorMessage": str(unsupported)})
            raise StatusErrorException("Unsupported in host mode", payload=payload.encode()) from unsupported
        self._process_env = self._build_process_env(env_vars)
        self._spawn_runtime()

    def stop(self) -> None:
        self._stopped = True
        self._kill_runtime()
        shutil.rmtree(self._work_dir, ignore_errors=True)

    def _build_process_env(self, env_vars: dict[str, str]) -> dict[str, str]:
        function_config = self.function_version.config
        code_dir = function_config.code.get_unzipped_code_location()
        runtime_path = str(runtime_dir())
        # LocalStack hands over non-string values (memory size, timeout); a process env needs strings.
        env = {name: str(value) for name, value in env_vars.items() if value is not None}
        env.update(
            {
                "LAMBDA_TASK_ROOT": str(code_dir),
                "LAMBDA_RUNTIME_DIR": runtime_path,
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{function_config.runtime}",
                "LANG": "en_US.UTF-8",
                "PYTHONPATH": os.pathsep.join(filter(None, [env_vars.get("PYTHONPATH"), runtime_path])),
            }
        )
        for name in HOST_VARIABLES_PASSED_THROUGH:
            if name in os.environ and name not in env:
                env[name] = os.environ[name]
        return env

    def _spawn_runtime(self) -> None:
        """Start a runtime process and wait until it has initialised (or failed to)."""
        self._kill_runtime()
        started = time.perf_counter()
        self._last_peak_memory_mb = None
        self._runtime_api = RuntimeApiServer()
        self._runtime_api.start()
        env = dict(self._process_env, AWS_LAMBDA_RUNTIME_API=self._runtime_api.address)
        with open(self._log_path, "ab") as log_file:
            self._process = subprocess.Popen(
                # -S: no site-packages of the host; -m: the task root becomes sys.path[0].
                [sys.executable, "-S", "-m", "awslambdaric", self.function_version.config.handler],
                cwd=env["LAMBDA_TASK_ROOT"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so that we can kill all of it
            )
        self._wait_until_initialised()
        self._init_duration_ms = (time.perf_counter() - started) * 1000

    def _wait_until_initialised(self) -> None:
        runtime_api, process = self._runtime_api, self._process
        while not runtime_api.ready.is_set():
            if self._stopped:
                raise LambdaRuntimeException(f"Execution environment {self.id} stopped during startup")
            if runtime_api.init_failed.wait(POLL_INTERVAL_SECONDS):
                break
            if process.poll() is not None:
                # The runtime may have posted its init error just before it exited.
                if runtime_api.init_failed.is_set():
                    break
                LOG.warning("Lambda runtime %s exited during init:\n%s", self.id, self.get_logs())
                raise StatusErrorException(
                    "Environment startup failed",
                    payload=lambda_error("Runtime.ExitError", "", runtime_exit_message(process.returncode)),
                )
        if runtime_api.init_failed.is_set():
            LOG.warning(
                "Lambda init failed for %s:\n%s", self.function_version.qualified_arn, self.get_logs()
            )
            self._kill_runtime()
            raise StatusErrorException("Environment startup failed", payload=runtime_api.init_error)

    def _kill_runtime(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        if process is not None:
            process.wait()
        runtime_api, self._runtime_api = self._runtime_api, None
        if runtime_api is not None:
            runtime_api.shutdown()

    # Invocation

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        request_id = payload["invoke-id"]
        function_config = self.function_version.config
        init_duration_ms: float | None = None
        if self._process is None or self._process.poll() is not None:
            # After a timeout or crash Lambda starts a fresh runtime (INIT) for the next invocation.
            LOG.debug("Restarting the runtime of execution environment %s", self.id)
            self._spawn_runtime()
        if self._init_duration_ms is not None:
            init_duration_ms, self._init_duration_ms = self._init_duration_ms, None

        invocation_log_offset = self._log_size()
        started = time.perf_counter()
        deadline = time.time() + function_config.timeout
        future = self._runtime_api.submit(
            PendingInvocation(
                request_id=request_id,
                payload=payload["payload"].encode(),
                invoked_function_arn=payload["invoked-function-arn"],
                deadline_epoch_ms=int(deadline * 1000),
                trace_id=payload.get("trace-id"),
            )
        )
        status, result = self._await_result(request_id, future, deadline)
        duration_ms = (time.perf_counter() - started) * 1000
        peak_mb = peak_memory_mb(self._process.pid) or self._last_peak_memory_mb
        if status != "success":
            self._kill_runtime()

        logs = self._format_logs(
            request_id=request_id,
            init_output=self._read_log(self._log_reported_up_to, invocation_log_offset),
            output=self._read_log(invocation_log_offset),
            status=status,
            duration_ms=duration_ms,
            init_duration_ms=init_duration_ms,
            peak_memory_mb=peak_mb,
        )
        return InvocationResult(request_id, result.payload, is_error=result.is_error, logs=logs)

    def _await_result(self, request_id: str, future, deadline: float) -> tuple[str, RuntimeResult]:
        """Wait for the runtime's answer, enforcing timeout and memory; returns (status, result)."""
        function_config = self.function_version.config
        enforce_memory = os.environ.get(ENFORCE_MEMORY_VARIABLE, "1") not in ("0", "false")
        process = self._process
        while True:
            try:
                return "success", future.result(timeout=POLL_INTERVAL_SECONDS)
            except FutureTimeoutError:
                pass
            except CancelledError as cancelled:
                message = f"Execution environment {self.id} stopped during invocation"
                raise LambdaRuntimeException(message) from cancelled
            if self._stopped:
                raise LambdaRuntimeException(f"Execution environment {self.id} stopped during invocation")
            if time.time() >= deadline:
                self._runtime_api.forget(request_id)
                message = timeout_message(function_config.timeout)
                return "timeout", RuntimeResult(lambda_error("Sandbox.Timedout", request_id, message), True)
            peak_mb = peak_memory_mb(process.pid)
            self._last_peak_memory_mb = peak_mb or self._last_peak_memory_mb
            if enforce_memory and peak_mb is not None and peak_mb > function_config.memory_size:
                self._runtime_api.forget(request_id)
                message = "Runtime exited with error: signal: killed"
                return "error", RuntimeResult(lambda_error("Runtime.OutOfMemory", request_id, message), True)
            if process.poll() is not None:
                # A result posted just before the exit still counts.
                if future.done():
                    continue
                self._runtime_api.forget(request_id)
                message = runtime_exit_message(process.returncode)
                return "error", RuntimeResult(lambda_error("Runtime.ExitError", request_id, message), True)

    # Logs

    def _log_size(self) -> int:
        try:
            return self._log_path.stat().st_size
        except FileNotFoundError:
            return 0

    def _read_log(self, start: int, end: int | None = None) -> str:
        try:
            with open(self._log_path, "rb") as log_file:
                log_file.seek(start)
                data = log_file.read() if end is None else log_file.read(end - start)
        except FileNotFoundError:
            return ""
        if end is None:
            self._log_reported_up_to = start + len(data)
        return data.decode(errors="replace")

    def _format_logs(
        self,
        *,
        request_id: str,
        init_output: str,
        output: str,
        status: str,
        duration_ms: float,
        init_duration_ms: float | None,
        peak_memory_mb: int | None,
    ) -> str:
        """The invocation's lines as Lambda writes them to CloudWatch Logs."""
        function_config = self.function_version.config
        lines = [init_output.rstrip("\n")] if init_output else []
        lines.append(f"START RequestId: {request_id} Version: {self.function_version.id.qualifier}")
        if output:
            lines.append(output.rstrip("\n"))
        if status == "timeout":
            timestamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            lines.append(f"{timestamp} {request_id} {timeout_message(function_config.timeout)}")
        lines.append(f"END RequestId: {request_id}")
        report = [
            f"REPORT RequestId: {request_id}",
            f"Duration: {duration_ms:.2f} ms",
            f"Billed Duration: {math.ceil(duration_ms)} ms",
            f"Memory Size: {function_config.memory_size} MB",
            f"Max Memory Used: {peak_memory_mb if peak_memory_mb is not None else '-'} MB",
        ]
        if init_duration_ms is not None:
            report.append(f"Init Duration: {init_duration_ms:.2f} ms")
        if status != "success":
            report.append(f"Status: {status}")
        lines.append("\t".join(report) + "\t")
        return "\n".join(lines) + "\n"

    def get_logs(self) -> str:
        try:
            return self._log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    # Addresses: everything runs on this host.

    def get_address(self) -> str:
        return "127.0.0.1"

    def get_endpoint_from_executor(self) -> str:
        host = config.GATEWAY_LISTEN[0].host
        return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host

    def get_runtime_endpoint(self) -> str:
        port = config.GATEWAY_LISTEN[0].port
        return f"http://{self.get_endpoint_from_executor()}:{port}/_localstack_lambda/{self.id}"

    # Versions

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        # An unsupported function is still created (so that it can be updated or deleted, also by
        # CloudFormation); its invocations fail with the reason. Say so early in the emulator log.
        try:
            check_runtime_supported(function_version)
        except LambdaRuntimeException as unsupported:
            LOG.warning("%s: %s", function_version.qualified_arn, unsupported)
            return
        runtime_dir()
        function_version.config.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        """Nothing to clean: unzipped code is LocalStack's, processes belong to environments."""

    @classmethod
    def validate_environment(cls) -> bool:
        try:
            runtime_dir()
        except LambdaRuntimeException as error:
            LOG.warning("Lambda host-process executor: %s", error)
            return False
        return True
