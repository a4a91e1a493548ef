"""Lambda execution environments as local OS processes (LocalStack host mode, no Docker).

Each execution environment is one process running the AWS Lambda Runtime Interface Client
(``awslambdaric``, the runtime client in AWS's own Python images) on a Python of this machine of the
function's version (see ``runtimes``), talking to a Runtime API that this executor serves on loopback.
LocalStack decides how many environments exist, reuses warm ones and starts more for concurrent
invocations, exactly as with its Docker executor.

What the function can import is what Lambda gives it: its unzipped package (``LAMBDA_TASK_ROOT``,
first on ``sys.path``), the runtime directory of its Python version with awslambdaric and the pinned
boto3/botocore the Lambda Python runtime ships (``LAMBDA_RUNTIME_DIR``, on ``PYTHONPATH`` after the
function's own ``PYTHONPATH``), and the standard library. The interpreter starts with ``-S``, so no
site-packages of the host are visible: a package that forgets a dependency fails with
``Runtime.ImportModuleError`` here as on AWS. The process starts in ``runtime_bootstrap``, which
resolves ``*.localhost.localstack.cloud`` to 127.0.0.1 and dies with LocalStack, then runs awslambdaric.

Files live under LocalStack's temporary directory (``config.dirs.tmp``, which LocalStack clears at
start and stop): unzipped code in ``hostmode/code`` (read-only for the function, removed by
``cleanup_version``), each environment's directory in ``hostmode/environments/<id>`` with its own
``tmp`` (the function's ``TMPDIR`` and ``HOME``), removed when the environment stops.

The executor enforces the function's Timeout (the process is killed and the invocation reports
``Sandbox.Timedout``), its MemorySize (peak resident memory of the runtime process; set
``HOSTMODE_LAMBDA_ENFORCE_MEMORY=0`` to only report it), an init deadline of 10 s as on-demand Lambda
(``INIT_REPORT ... Status: timeout``), replaces a crashed or killed runtime on the next invocation,
replaces the runtime of hot-reloaded code (``S3Bucket: hot-reload``) when a file of it changed, and
returns each invocation's stdout/stderr framed by START/END/REPORT lines, which LocalStack stores in
CloudWatch Logs. ``stop()`` may come from LocalStack's timer threads at any moment of ``start()`` or
``invoke()``: one lock guards the process and Runtime API state, so no runtime outlives its environment.
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
import threading
import time
from concurrent.futures import CancelledError, Future
from concurrent.futures import TimeoutError as FutureTimeoutError
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from localstack import config
from localstack.aws.api.lambda_ import PackageType
from localstack.services.lambda_.invocation.executor_endpoint import StatusErrorException
from localstack.services.lambda_.invocation.lambda_models import (
    FunctionVersion,
    InvocationResult,
    S3Code,
)
from localstack.services.lambda_.invocation.runtime_executor import (
    LambdaRuntimeException,
    RuntimeExecutor,
)
from localstack.utils.files import chmod_r

from localstack_hostmode import runtime_bootstrap, runtimes
from localstack_hostmode.hot_reload import Fingerprint, code_fingerprint
from localstack_hostmode.runtime_api import PendingInvocation, RuntimeApiServer, RuntimeResult

LOG = logging.getLogger(__name__)

RUNTIME_DIR_VARIABLE = runtimes.RUNTIME_DIR_VARIABLE
ENFORCE_MEMORY_VARIABLE = "HOSTMODE_LAMBDA_ENFORCE_MEMORY"
# The errorType of invocations of functions host mode cannot run (not one of AWS's types).
UNSUPPORTED_ERROR_TYPE = "HostMode.UnsupportedRuntime"
# How often a running invocation is checked for a dead process or exceeded memory.
POLL_INTERVAL_SECONDS = 0.02
# Lambda's limit for the init phase of on-demand functions.
INIT_TIMEOUT_SECONDS = 10.0
# Variables of the host that a runtime process may see; everything else comes from Lambda's set.
HOST_VARIABLES_PASSED_THROUGH = ("PATH", "SSL_CERT_FILE", "SSL_CERT_DIR")


def hostmode_state_dir() -> Path:
    """Host mode's files, below LocalStack's temporary directory (under FILESYSTEM_ROOT on a host)."""
    return Path(config.dirs.tmp) / "hostmode"


def _unzipped_code_location(code: S3Code) -> Path:
    return hostmode_state_dir() / "code" / code.s3_bucket / code.id / "code"


# LocalStack unzips code to {tempfile.gettempdir()}/lambda/<bucket>/<id>/code, the host's /tmp
# outside the emulator's state; every user of the location (prepare_for_execution, destroy_cached,
# this executor) asks get_unzipped_code_location. Loading this executor means host mode is on.
S3Code.get_unzipped_code_location = _unzipped_code_location


_parent_watch_lock = threading.Lock()
_parent_watch_read_fd: int | None = None


def parent_watch_fd() -> int:
    """Read end of a pipe whose write end this process keeps until it dies, however it dies.

    Runtimes get the read end and exit on EOF (runtime_bootstrap). PR_SET_PDEATHSIG would not do:
    it fires when the forking *thread* ends, and LocalStack starts environments from short-lived ones.
    Both ends are non-inheritable: only the runtimes get the read end (pass_fds), nobody the write end.
    """
    global _parent_watch_read_fd
    with _parent_watch_lock:
        if _parent_watch_read_fd is None:
            _parent_watch_read_fd, _write_fd = os.pipe()  # the write end is deliberately never closed
        return _parent_watch_read_fd


class HostModeError(LambdaRuntimeException):
    """A function host mode cannot run; its invocations fail with `error_type` and the reason."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def runtime_exit_message(returncode: int) -> str:
    """Lambda's wording for a runtime process that ended: by exit status or by signal."""
    if returncode < 0:
        # Lambda's runtime manager is written in Go, which names signals as strsignal(3) does.
        return f"Runtime exited with error: signal: {(signal.strsignal(-returncode) or '').lower()}"
    return f"Runtime exited with error: exit status {returncode}"


def runtime_dir() -> Path:
    """The directory of runtime directories (``make up`` installs them), checked for the host's Python."""
    try:
        return runtimes.runtime_dir_for(runtimes.host_python_version()).parent
    except runtimes.RuntimeUnavailable as unavailable:
        raise LambdaRuntimeException(str(unavailable)) from unavailable


def check_runtime_supported(function_version: FunctionVersion) -> None:
    """Host mode runs Python zip functions only; everything else gets a clear reason."""
    function_config = function_version.config
    if function_config.package_type == PackageType.Image:
        raise HostModeError(
            UNSUPPORTED_ERROR_TYPE,
            "Container image functions need Docker; host mode runs Python zip functions only "
            "(start the emulator with EMULATOR=docker)",
        )
    runtime = function_config.runtime or ""
    if not runtime.startswith("python3."):
        raise HostModeError(
            UNSUPPORTED_ERROR_TYPE,
            f"Runtime {runtime!r} is not supported in host mode, which runs python3.x runtimes on this "
            "machine's Python of that version; other runtimes need Docker (start the emulator with "
            "EMULATOR=docker)",
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
    init_timeout_seconds: float = INIT_TIMEOUT_SECONDS
    # Versions whose unzipped code this executor prepared, by code location: code shared by
    # versions (publishing $LATEST shares it) is removed when the last of them is cleaned up.
    _prepared_versions: ClassVar[dict[Path, list[FunctionVersion]]] = {}
    _prepared_versions_lock = threading.Lock()

    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id, function_version)
        self._environment_dir = hostmode_state_dir() / "environments" / id
        self._tmp_dir = self._environment_dir / "tmp"
        self._log_path = self._environment_dir / "runtime.log"
        # Guards _process, _runtime_api, _stopped and _init_duration_ms: stop() comes from other threads.
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._runtime_api: RuntimeApiServer | None = None
        self._stopped = False
        self._init_duration_ms: float | None = None
        self._command: list[str] = []
        self._process_env: dict[str, str] = {}
        self._code_fingerprint: Fingerprint | None = None
        self._fallback_warning: str | None = None
        self._last_peak_memory_mb: int | None = None
        self._log_reported_up_to = 0  # offset in the runtime log up to which lines were returned

    # Lifecycle

    def start(self, env_vars: dict[str, str]) -> None:
        try:
            interpreter, runtime_path = self._resolve_runtime()
        except HostModeError as unavailable:
            # Reported as the invocation's error (like an init failure), so the caller sees why.
            payload = json.dumps({"errorType": unavailable.error_type, "errorMessage": str(unavailable)})
            raise StatusErrorException("Unsupported in host mode", payload=payload.encode()) from unavailable
        with self._lock:
            if self._stopped:
                raise LambdaRuntimeException(f"Execution environment {self.id} stopped before it started")
            self._tmp_dir.mkdir(parents=True, exist_ok=True)
            if self._fallback_warning:
                self._append_to_log(self._fallback_warning + "\n")  # in the function's log too
        self._process_env = self._build_process_env(env_vars, runtime_path)
        self._command = self._build_command(interpreter)
        self._spawn_runtime()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
        self._discard_runtime()
        shutil.rmtree(self._environment_dir, ignore_errors=True)

    def _resolve_runtime(self) -> tuple[Path, Path]:
        """(interpreter, runtime directory) for the function, or HostModeError saying why not."""
        check_runtime_supported(self.function_version)
        function_config = self.function_version.config
        code = function_config.code
        code.prepare_for_execution()  # a no-op when prepare_version did it
        try:
            runtimes.check_architecture(function_config.architectures[0], code.get_unzipped_code_location())
            interpreter, runtime_path, fallback = runtimes.resolve_python(function_config.runtime)
        except (runtimes.RuntimeUnavailable, runtimes.UnsupportedArchitecture) as unavailable:
            raise HostModeError(unavailable.error_type, str(unavailable)) from unavailable
        if fallback:
            self._fallback_warning = (
                f"HostMode: Python {runtimes.python_version_of_runtime(function_config.runtime)} was not "
                f"found; {function_config.runtime} runs on Python {runtimes.host_python_version()} "
                f"({runtimes.FALLBACK_VARIABLE}=1)"
            )
            LOG.warning("%s: %s", self.function_version.qualified_arn, self._fallback_warning)
        return interpreter, runtime_path

    def _build_process_env(self, env_vars: dict[str, str], runtime_path: Path) -> dict[str, str]:
        function_config = self.function_version.config
        code_dir = function_config.code.get_unzipped_code_location()
        # LocalStack hands over non-string values (memory size, timeout); a process env needs strings.
        env = {name: str(value) for name, value in env_vars.items() if value is not None}
        env.update(
            {
                "LAMBDA_TASK_ROOT": str(code_dir),
                "LAMBDA_RUNTIME_DIR": str(runtime_path),
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{function_config.runtime}",
                "LANG": "en_US.UTF-8",
                # The function's own PYTHONPATH first (how hot-reloaded code finds its dependencies).
                "PYTHONPATH": os.pathsep.join(filter(None, [env_vars.get("PYTHONPATH"), str(runtime_path)])),
                # This environment's /tmp: private to it and removed with it.
                "TMPDIR": str(self._tmp_dir),
                "HOME": str(self._tmp_dir),
            }
        )
        for name in HOST_VARIABLES_PASSED_THROUGH:
            if name in os.environ and name not in env:
                env[name] = os.environ[name]
        return env

    def _build_command(self, interpreter: Path) -> list[str]:
        # -S: no site-packages of the host; the bootstrap makes the task root sys.path[0].
        command = [str(interpreter), "-S", runtime_bootstrap.__file__, "--parent-fd", str(parent_watch_fd())]
        if self._is_hot_reloading():
            command += ["--source-only", self._process_env["LAMBDA_TASK_ROOT"]]
        return [*command, self.function_version.config.handler]

    def _is_hot_reloading(self) -> bool:
        return self.function_version.config.code.is_hot_reloading()

    def _spawn_runtime(self) -> None:
        """Start a runtime process and wait until it has initialised (or failed to)."""
        self._discard_runtime()
        started = time.monotonic()
        self._last_peak_memory_mb = None
        runtime_api = RuntimeApiServer()
        with self._lock:
            # Under the lock, stop() either came before (nothing is started) or comes after (and
            # finds the process to kill): no interleaving leaves a runtime behind.
            if self._stopped:
                runtime_api.shutdown()
                raise LambdaRuntimeException(f"Execution environment {self.id} stopped during startup")
            if self._is_hot_reloading():
                # Taken before the process reads the code: an edit during startup means another start.
                self._code_fingerprint = code_fingerprint(self._process_env["LAMBDA_TASK_ROOT"])
            runtime_api.start()
            with open(self._log_path, "ab") as log_file:
                process = subprocess.Popen(
                    self._command,
                    cwd=self._process_env["LAMBDA_TASK_ROOT"],
                    env=dict(self._process_env, AWS_LAMBDA_RUNTIME_API=runtime_api.address),
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    pass_fds=(parent_watch_fd(),),
                    start_new_session=True,  # its own process group, so that we can kill all of it
                )
            self._process, self._runtime_api = process, runtime_api
        self._wait_until_initialised(process, runtime_api, started)
        with self._lock:
            self._init_duration_ms = (time.monotonic() - started) * 1000

    def _wait_until_initialised(
        self, process: subprocess.Popen[bytes], runtime_api: RuntimeApiServer, started: float
    ) -> None:
        deadline = started + self.init_timeout_seconds
        while not runtime_api.ready.is_set():
            if self._stopped:
                raise LambdaRuntimeException(f"Execution environment {self.id} stopped during startup")
            if runtime_api.init_failed.wait(POLL_INTERVAL_SECONDS):
                break
            if process.poll() is not None:
                if self._stopped:  # killed by stop()
                    raise LambdaRuntimeException(f"Execution environment {self.id} stopped during startup")
                # The runtime may have posted its init error just before it exited.
                if runtime_api.init_failed.is_set():
                    break
                LOG.warning("Lambda runtime %s exited during init:\n%s", self.id, self.get_logs())
                self._discard_runtime(process)
                raise StatusErrorException(
                    "Environment startup failed",
                    payload=lambda_error("Runtime.ExitError", "", runtime_exit_message(process.returncode)),
                )
            if time.monotonic() >= deadline:
                self._discard_runtime(process)
                duration_ms = (time.monotonic() - started) * 1000
                self._append_to_log(
                    f"INIT_REPORT Init Duration: {duration_ms:.2f} ms\tPhase: init\tStatus: timeout\n"
                )
                LOG.warning(
                    "Lambda init of %s timed out after %.2f s:\n%s",
                    self.function_version.qualified_arn,
                    self.init_timeout_seconds,
                    self.get_logs(),
                )
                message = f"Init timed out after {self.init_timeout_seconds:.2f} seconds"
                raise StatusErrorException(
                    "Environment startup timed out", payload=lambda_error("Sandbox.Timedout", "", message)
                )
        if runtime_api.init_failed.is_set():
            LOG.warning(
                "Lambda init failed for %s:\n%s", self.function_version.qualified_arn, self.get_logs()
            )
            self._discard_runtime(process)
            raise StatusErrorException("Environment startup failed", payload=runtime_api.init_error)

    def _discard_runtime(self, expected: subprocess.Popen[bytes] | None = None) -> None:
        """Kill the runtime's process group and stop its Runtime API (only `expected`'s, if given)."""
        with self._lock:
            if expected is not None and self._process is not expected:
                return
            process, self._process = self._process, None
            runtime_api, self._runtime_api = self._runtime_api, None
        if process is not None:
            with contextlib.suppress(ProcessLookupError):  # the group is gone already
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if runtime_api is not None:
            runtime_api.shutdown()

    def _needs_new_runtime(self) -> bool:
        with self._lock:
            process = self._process
        if process is None or process.poll() is not None:
            # After a timeout or crash Lambda starts a fresh runtime (INIT) for the next invocation.
            LOG.debug("Restarting the runtime of execution environment %s", self.id)
            return True
        code_dir = self._process_env["LAMBDA_TASK_ROOT"]
        if self._is_hot_reloading() and code_fingerprint(code_dir) != self._code_fingerprint:
            LOG.info("Code of %s changed: starting a new runtime", self.function_version.qualified_arn)
            return True
        return False

    # Invocation

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        request_id = payload["invoke-id"]
        function_config = self.function_version.config
        if self._needs_new_runtime():
            self._spawn_runtime()
        with self._lock:
            if self._stopped or self._process is None or self._runtime_api is None:
                raise LambdaRuntimeException(f"Execution environment {self.id} stopped during invocation")
            process, runtime_api = self._process, self._runtime_api
            init_duration_ms, self._init_duration_ms = self._init_duration_ms, None

        invocation_log_offset = self._log_size()
        started = time.monotonic()
        deadline = started + function_config.timeout
        future = runtime_api.submit(
            PendingInvocation(
                request_id=request_id,
                payload=payload["payload"].encode(),
                invoked_function_arn=payload["invoked-function-arn"],
                # The runtime's clock is the wall clock: the header is epoch milliseconds.
                deadline_epoch_ms=int((time.time() + function_config.timeout) * 1000),
                trace_id=payload.get("trace-id"),
            )
        )
        status, result = self._await_result(request_id, future, deadline, process, runtime_api)
        duration_ms = (time.monotonic() - started) * 1000
        peak_mb = peak_memory_mb(process.pid) or self._last_peak_memory_mb
        if status != "success":
            self._discard_runtime(process)

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

    def _await_result(
        self,
        request_id: str,
        future: Future[RuntimeResult],
        deadline: float,
        process: subprocess.Popen[bytes],
        runtime_api: RuntimeApiServer,
    ) -> tuple[str, RuntimeResult]:
        """Wait for the runtime's answer, enforcing timeout and memory; returns (status, result)."""
        function_config = self.function_version.config
        enforce_memory = os.environ.get(ENFORCE_MEMORY_VARIABLE, "1") not in ("0", "false")
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
            if time.monotonic() >= deadline:
                runtime_api.forget(request_id)
                message = timeout_message(function_config.timeout)
                return "timeout", RuntimeResult(lambda_error("Sandbox.Timedout", request_id, message), True)
            peak_mb = peak_memory_mb(process.pid)
            self._last_peak_memory_mb = peak_mb or self._last_peak_memory_mb
            if enforce_memory and peak_mb is not None and peak_mb > function_config.memory_size:
                runtime_api.forget(request_id)
                message = "Runtime exited with error: signal: killed"
                return "error", RuntimeResult(lambda_error("Runtime.OutOfMemory", request_id, message), True)
            if process.poll() is not None:
                # A result posted just before the exit still counts.
                if future.done():
                    continue
                if self._stopped:  # killed by stop()
                    raise LambdaRuntimeException(f"Execution environment {self.id} stopped during invocation")
                runtime_api.forget(request_id)
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

    def _append_to_log(self, text: str) -> None:
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._log_path, "a", encoding="utf-8") as log_file:
            log_file.write(text)

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
        code = function_version.config.code
        code.prepare_for_execution()
        if code.is_hot_reloading():
            return  # the user's source tree: neither made read-only nor ever removed
        code_dir = code.get_unzipped_code_location()
        chmod_r(str(code_dir), 0o555)  # read-only for the function, as /var/task is on Lambda
        with cls._prepared_versions_lock:
            versions = cls._prepared_versions.setdefault(code_dir, [])
            if not any(version is function_version for version in versions):
                versions.append(function_version)

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        """Remove the unzipped code once no prepared version uses it (processes go with environments)."""
        code = function_version.config.code
        if not isinstance(code, S3Code):
            return
        code_dir = code.get_unzipped_code_location()
        with cls._prepared_versions_lock:
            versions = cls._prepared_versions.get(code_dir, [])
            versions[:] = [version for version in versions if version is not function_version]
            if versions:
                return
            cls._prepared_versions.pop(code_dir, None)
            if code_dir.exists():
                chmod_r(str(code_dir), 0o755)  # a read-only directory's entries cannot be removed
            code.destroy_cached()

    @classmethod
    def validate_environment(cls) -> bool:
        try:
            runtime_dir()
        except LambdaRuntimeException as error:
            LOG.warning("Lambda host-process executor: %s", error)
            return False
        return True
