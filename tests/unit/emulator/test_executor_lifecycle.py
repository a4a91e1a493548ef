"""stop() from another thread at every stage of start() and invoke(): no hang, no orphan process.

LocalStack calls stop() from its timer threads (startup timeout, idle keep-alive) and on shutdown,
whatever start() or invoke() is doing at that moment. Each test drives one interleaving with real
runtime processes (a stand-in awslambdaric behind the real bootstrap, see conftest) and events.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
from localstack.services.lambda_.invocation.executor_endpoint import StatusErrorException
from localstack.services.lambda_.invocation.runtime_executor import LambdaRuntimeException
from localstack_hostmode import lambda_executor
from localstack_hostmode.lambda_executor import HostProcessRuntimeExecutor
from localstack_hostmode.runtime_api import RuntimeApiServer

from .conftest import function_version, process_exists

INVOCATION = {"invoke-id": "req-1", "invoked-function-arn": "arn:aws:lambda:::function:unit", "payload": "{}"}


@pytest.fixture
def make_executor(host_mode_dirs, runtime_signals):
    executors: list[HostProcessRuntimeExecutor] = []

    def make(handler: str, **options) -> HostProcessRuntimeExecutor:
        executor = HostProcessRuntimeExecutor(
            f"env-{len(executors)}", function_version(host_mode_dirs.code, handler)
        )
        executor.start_env = {"SIGNAL_PORT": str(runtime_signals.port), **options}
        executors.append(executor)
        return executor

    yield make
    for executor in executors:
        executor.stop()


def in_thread(call) -> Future:
    future: Future = Future()

    def run() -> None:
        try:
            future.set_result(call())
        except BaseException as error:  # handed to the test
            future.set_exception(error)

    threading.Thread(target=run, daemon=True).start()
    return future


def test_a_started_runtime_answers_invocations(make_executor, runtime_signals):
    executor = make_executor("echo")
    executor.start(executor.start_env)
    pid = runtime_signals.wait_for("started")
    result = executor.invoke({**INVOCATION, "payload": '{"n": 1}'})
    assert json.loads(result.payload) == {"n": 1}
    assert "REPORT RequestId: req-1" in result.logs and "Init Duration" in result.logs
    executor.stop()
    assert not process_exists(pid)


def test_stop_during_init_ends_start_and_kills_the_runtime(make_executor, runtime_signals):
    executor = make_executor("hang-in-init")
    starting = in_thread(lambda: executor.start(executor.start_env))
    pid = runtime_signals.wait_for("started")

    executor.stop()

    with pytest.raises(LambdaRuntimeException, match="stopped during startup"):
        starting.result(timeout=5)
    assert not process_exists(pid)
    assert not executor._environment_dir.exists()


def test_stop_before_start_starts_nothing(make_executor, runtime_signals):
    executor = make_executor("echo")
    executor.stop()
    with pytest.raises(LambdaRuntimeException, match="stopped"):
        executor.start(executor.start_env)
    assert runtime_signals.events.empty()
    assert not executor._environment_dir.exists()


def test_stop_while_the_runtime_is_being_spawned_kills_it(make_executor, monkeypatch):
    executor = make_executor("echo")
    stopping: list[Future] = []
    spawned: list[subprocess.Popen] = []
    start_runtime_api, popen = RuntimeApiServer.start, subprocess.Popen

    def start_then_stop_from_another_thread(runtime_api: RuntimeApiServer) -> None:
        start_runtime_api(runtime_api)
        # The spawning thread holds the executor's lock from here until the process exists.
        stopping.append(in_thread(executor.stop))

    def recording_popen(*args, **kwargs) -> subprocess.Popen:
        spawned.append(popen(*args, **kwargs))
        return spawned[-1]

    monkeypatch.setattr(RuntimeApiServer, "start", start_then_stop_from_another_thread)
    monkeypatch.setattr(subprocess, "Popen", recording_popen)
    with pytest.raises(LambdaRuntimeException, match="stopped during startup"):
        executor.start(executor.start_env)
    stopping[0].result(timeout=5)
    assert len(spawned) == 1
    assert spawned[0].returncode == -signal.SIGKILL  # killed (and reaped) by stop()
    assert not process_exists(spawned[0].pid)


def test_stop_during_invoke_ends_the_invocation_and_kills_the_runtime(make_executor, runtime_signals):
    executor = make_executor("hang-in-invoke")
    executor.start(executor.start_env)
    pid = runtime_signals.wait_for("started")
    invoking = in_thread(lambda: executor.invoke(INVOCATION))
    runtime_signals.wait_for("invoked")

    executor.stop()

    with pytest.raises(LambdaRuntimeException, match="stopped during invocation"):
        invoking.result(timeout=5)
    assert not process_exists(pid)


def test_stop_during_the_reinit_of_a_crashed_runtime(make_executor, runtime_signals, host_mode_dirs):
    hang_flag = host_mode_dirs.tmp / "hang"
    executor = make_executor("exit-in-invoke", HANG_IN_INIT_IF_EXISTS=str(hang_flag))
    executor.start(executor.start_env)
    runtime_signals.wait_for("started")
    crashed = executor.invoke(INVOCATION)
    assert json.loads(crashed.payload)["errorType"] == "Runtime.ExitError"
    runtime_signals.wait_for("invoked")

    hang_flag.touch()  # the replacement runtime will hang in init
    invoking = in_thread(lambda: executor.invoke(INVOCATION))
    replacement = runtime_signals.wait_for("started")
    executor.stop()

    with pytest.raises(LambdaRuntimeException, match="stopped during startup"):
        invoking.result(timeout=5)
    assert not process_exists(replacement)


def test_init_has_a_deadline_reported_like_lambda(make_executor, runtime_signals, monkeypatch):
    # Long enough for the stand-in runtime to start and say so on a loaded 2-core machine.
    monkeypatch.setattr(HostProcessRuntimeExecutor, "init_timeout_seconds", 1.5)
    executor = make_executor("hang-in-init")
    with pytest.raises(StatusErrorException) as raised:
        executor.start(executor.start_env)
    error = json.loads(raised.value.payload)
    assert error["errorType"] == "Sandbox.Timedout"
    assert "Init timed out after 1.50 seconds" in error["errorMessage"]
    assert "Phase: init\tStatus: timeout" in executor.get_logs()
    assert not process_exists(runtime_signals.wait_for("started"))


def test_reinit_after_a_crash_has_the_deadline_too(
    make_executor, runtime_signals, host_mode_dirs, monkeypatch
):
    monkeypatch.setattr(HostProcessRuntimeExecutor, "init_timeout_seconds", 1.5)  # the first init must fit
    hang_flag = host_mode_dirs.tmp / "hang"
    executor = make_executor("exit-in-invoke", HANG_IN_INIT_IF_EXISTS=str(hang_flag))
    executor.start(executor.start_env)
    executor.invoke(INVOCATION)
    hang_flag.touch()
    started = time.monotonic()
    with pytest.raises(StatusErrorException, match="startup timed out"):
        executor.invoke(INVOCATION)
    assert time.monotonic() - started < 5  # the deadline, not the default 10 s


def test_concurrent_stops_return(make_executor, runtime_signals):
    executor = make_executor("echo")
    executor.start(executor.start_env)
    pid = runtime_signals.wait_for("started")
    with ThreadPoolExecutor(max_workers=3) as pool:
        for stopped in [pool.submit(executor.stop) for _ in range(3)]:
            stopped.result(timeout=5)
    assert not process_exists(pid)


def test_runtime_api_shutdown_before_start_returns():
    runtime_api = RuntimeApiServer()
    shutting_down = in_thread(runtime_api.shutdown)
    shutting_down.result(timeout=2)  # socketserver's own shutdown() would wait forever here
    with pytest.raises(RuntimeError):
        runtime_api.start()


def test_each_environment_has_its_own_tmp_removed_with_it(make_executor, runtime_signals):
    first, second = make_executor("echo"), make_executor("echo")
    for executor in (first, second):
        executor.start(executor.start_env)
    tmp_dirs = [executor._process_env["TMPDIR"] for executor in (first, second)]
    assert tmp_dirs[0] != tmp_dirs[1]
    assert all(
        executor._process_env["HOME"] == executor._process_env["TMPDIR"] for executor in (first, second)
    )
    state_dir = lambda_executor.hostmode_state_dir()
    assert all(
        state_dir in executor._tmp_dir.parents and executor._tmp_dir.is_dir() for executor in (first, second)
    )
    first.stop()
    assert not first._environment_dir.exists() and second._tmp_dir.is_dir()
