"""Real processes for the executor's unit tests: a stand-in awslambdaric behind the real bootstrap.

The stand-in speaks the Runtime API like awslambdaric; its "handler" names what it does. It tells the
test what happened (started, received an invocation) over a socket, so that tests wait on events
of the real process instead of sleeping.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import socket
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from localstack import config
from localstack.aws.api.lambda_ import PackageType
from localstack_hostmode import runtimes

FAKE_AWSLAMBDARIC_MAIN = textwrap.dedent(
    """
    import os, socket, sys, time, urllib.request

    API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
    behaviour = sys.argv[1]

    def tell(event):
        with socket.create_connection(("127.0.0.1", int(os.environ["SIGNAL_PORT"]))) as connection:
            connection.sendall(f"{os.getpid()} {event}\\n".encode())

    tell("started")
    hang_flag = os.environ.get("HANG_IN_INIT_IF_EXISTS")
    if behaviour == "hang-in-init" or (hang_flag and os.path.exists(hang_flag)):
        time.sleep(3600)
    while True:
        with urllib.request.urlopen(API + "/invocation/next") as response:
            request_id = response.headers["Lambda-Runtime-Aws-Request-Id"]
            body = response.read()
        tell("invoked")
        if behaviour == "hang-in-invoke":
            time.sleep(3600)
        if behaviour == "exit-in-invoke":
            os._exit(3)
        answer = urllib.request.Request(API + f"/invocation/{request_id}/response", data=body, method="POST")
        urllib.request.urlopen(answer).close()
    """
)


class RuntimeSignals:
    """What the stand-in runtimes report, as (pid, event) in arrival order."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.events: queue.Queue[tuple[int, str]] = queue.Queue()
        self.pids: set[int] = set()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                connection, _ = self._listener.accept()
                with connection:
                    pid, event = connection.makefile().readline().split()
                self.pids.add(int(pid))
                self.events.put((int(pid), event))

    def wait_for(self, expected: str, timeout: float = 10) -> int:
        """The pid of the runtime that reported `expected` next."""
        pid, event = self.events.get(timeout=timeout)
        assert event == expected, f"runtime {pid} reported {event!r}, expected {expected!r}"
        return pid

    def close(self) -> None:
        self._listener.close()


def process_exists(pid: int) -> bool:
    """Whether `pid` is still a process (running or an unreaped zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def runtime_signals() -> Iterator[RuntimeSignals]:
    signals = RuntimeSignals()
    yield signals
    signals.close()
    for pid in signals.pids:  # a failed test must not leave its runtimes behind
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


@pytest.fixture
def host_mode_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """LocalStack's tmp dir, a runtime directory with the stand-in awslambdaric, and a code dir."""
    monkeypatch.setattr(config.dirs, "tmp", str(tmp_path / "localstack-tmp"))
    runtime_base = tmp_path / "lambda-runtime"
    fake_package = runtime_base / f"python{runtimes.host_python_version()}" / "awslambdaric"
    fake_package.mkdir(parents=True)
    (fake_package / "__init__.py").write_text("")
    (fake_package / "__main__.py").write_text(FAKE_AWSLAMBDARIC_MAIN)
    monkeypatch.setenv(runtimes.RUNTIME_DIR_VARIABLE, str(runtime_base))
    code_dir = tmp_path / "code"
    code_dir.mkdir()
    return SimpleNamespace(tmp=tmp_path, code=code_dir, runtime_base=runtime_base)


def function_version(
    code_dir: Path,
    handler: str,
    *,
    runtime: str = "python3.13",
    timeout: int = 3,
    hot_reload: bool = False,
) -> SimpleNamespace:
    """The parts of LocalStack's FunctionVersion the executor reads."""
    code = SimpleNamespace(
        get_unzipped_code_location=lambda: code_dir,
        is_hot_reloading=lambda: hot_reload,
        prepare_for_execution=lambda: None,
    )
    function_config = SimpleNamespace(
        package_type=PackageType.Zip,
        runtime=runtime,
        handler=handler,
        timeout=timeout,
        memory_size=1024,
        architectures=[runtimes.host_architecture()],
        code=code,
    )
    return SimpleNamespace(
        config=function_config,
        id=SimpleNamespace(qualifier="$LATEST"),
        qualified_arn="arn:aws:lambda:us-east-1:000000000000:function:unit:$LATEST",
    )
