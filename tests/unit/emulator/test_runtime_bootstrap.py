"""The runtime's first code: LocalStack names resolve locally, no host path leaks, it dies with its parent."""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
from localstack_hostmode import runtime_bootstrap
from localstack_hostmode.runtime_bootstrap import is_localstack_name, resolve_localstack_names_locally

BOOTSTRAP = runtime_bootstrap.__file__


@pytest.mark.parametrize(
    "name",
    [
        "localhost.localstack.cloud",
        "LOCALHOST.LocalStack.Cloud.",
        "photos.s3.localhost.localstack.cloud",
        "abc123.execute-api.localhost.localstack.cloud",
        b"photos.s3.localhost.localstack.cloud",
    ],
)
def test_localstack_names(name):
    assert is_localstack_name(name)


@pytest.mark.parametrize(
    "name",
    ["localstack.cloud", "evillocalhost.localstack.cloud", "localhost.localstack.cloud.evil.com", "", None],
)
def test_other_names(name):
    assert not is_localstack_name(name)


def test_only_localstack_names_are_answered_locally():
    asked: list[object] = []
    resolver = SimpleNamespace(
        getaddrinfo=lambda host, *rest: asked.append(host) or [("resolved", host, *rest)],
        gethostbyname=lambda host: asked.append(host) or "198.51.100.7",
        gethostbyname_ex=lambda host: asked.append(host) or (host, [], ["198.51.100.7"]),
    )
    resolve_localstack_names_locally(resolver)

    assert resolver.getaddrinfo("b.s3.localhost.localstack.cloud", 4566, socket.AF_INET) == [
        ("resolved", "127.0.0.1", 4566, socket.AF_INET, 0, 0, 0)
    ]
    assert resolver.gethostbyname("localhost.localstack.cloud") == "127.0.0.1"
    assert resolver.gethostbyname_ex("x.localhost.localstack.cloud") == (
        "x.localhost.localstack.cloud",
        [],
        ["127.0.0.1"],
    )
    assert asked == ["127.0.0.1"]  # only getaddrinfo reaches the real resolver, with the address
    assert resolver.gethostbyname("example.com") == "198.51.100.7"
    assert resolver.getaddrinfo("example.com", 443)[0][1] == "example.com"


def running(pid: int) -> bool:
    """Whether `pid` is a live process (not gone, not a zombie)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


PROBE_MAIN = textwrap.dedent(
    """
    import json, os, socket, sys
    import handler_module
    print(json.dumps({
        "argv": sys.argv,
        "path0": sys.path[0],
        "path": sys.path,
        "bucket_address": socket.gethostbyname("photos.s3.localhost.localstack.cloud"),
        "getaddrinfo": socket.getaddrinfo("localhost.localstack.cloud", 4566, socket.AF_INET)[0][4][0],
        "module_value": handler_module.VALUE,
        "main_module": sys.modules["__main__"].__file__,
    }))
    """
)


@pytest.fixture
def runtime_with(tmp_path: Path):
    """A runtime dir whose awslambdaric/__main__ is `main_source`, and a task root with a module."""

    def make(main_source: str) -> SimpleNamespace:
        package = tmp_path / "runtime" / "awslambdaric"
        package.mkdir(parents=True, exist_ok=True)
        (package / "__init__.py").write_text("")
        (package / "__main__.py").write_text(main_source)
        task_root = tmp_path / "task"
        task_root.mkdir(exist_ok=True)
        (task_root / "handler_module.py").write_text("VALUE = 1\n")
        env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(tmp_path / "runtime")}  # bytecode allowed
        return SimpleNamespace(task_root=task_root, env=env, runtime=tmp_path / "runtime")

    return make


def run_bootstrap(setup: SimpleNamespace, *options: str) -> dict:
    completed = subprocess.run(
        [sys.executable, "-S", BOOTSTRAP, *options, "handler_module.handler"],
        cwd=setup.task_root,
        env=setup.env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(completed.stdout)


def test_bootstrap_runs_awslambdaric_like_python_dash_m(runtime_with):
    setup = runtime_with(PROBE_MAIN)
    seen = run_bootstrap(setup)
    main_file = str(setup.runtime / "awslambdaric" / "__main__.py")
    assert seen["argv"] == [main_file, "handler_module.handler"]
    assert seen["main_module"] == main_file
    assert seen["path0"] == str(setup.task_root)
    # The plugin package (where the bootstrap lives) is not importable for the function.
    assert str(Path(BOOTSTRAP).parent) not in seen["path"]
    assert seen["bucket_address"] == seen["getaddrinfo"] == "127.0.0.1"
    assert seen["module_value"] == 1
    assert (setup.task_root / "__pycache__").is_dir()  # without --source-only Python caches bytecode


def test_source_only_code_is_never_cached_so_an_edit_is_always_seen(runtime_with):
    setup = runtime_with(PROBE_MAIN)
    assert run_bootstrap(setup, "--source-only", str(setup.task_root))["module_value"] == 1
    assert not (setup.task_root / "__pycache__").exists()
    # Same size, same mtime: a timestamp-checked .pyc would be taken for current.
    module = setup.task_root / "handler_module.py"
    stat = module.stat()
    module.write_text("VALUE = 2\n")
    os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert run_bootstrap(setup, "--source-only", str(setup.task_root))["module_value"] == 2


def test_runtime_and_its_children_die_when_the_parent_side_of_the_pipe_closes(runtime_with):
    setup = runtime_with(
        textwrap.dedent(
            """
            import subprocess, sys, time
            child = subprocess.Popen(["sleep", "3600"])
            print(child.pid, flush=True)
            time.sleep(3600)
            """
        )
    )
    read_fd, write_fd = os.pipe()
    runtime = subprocess.Popen(
        [sys.executable, "-S", BOOTSTRAP, "--parent-fd", str(read_fd), "handler_module.handler"],
        cwd=setup.task_root,
        env=setup.env,
        stdout=subprocess.PIPE,
        pass_fds=(read_fd,),
        start_new_session=True,
    )
    os.close(read_fd)
    try:
        child_pid = int(runtime.stdout.readline())  # it is up and has started a child
        child_pidfd = os.pidfd_open(child_pid)
        assert runtime.poll() is None
        os.close(write_fd)  # what the kernel does when LocalStack dies, even by SIGKILL
        assert runtime.wait(timeout=5) == -9
        # Its child was killed with it: the kernel reports its exit on a pidfd (no reaping needed).
        child_exited = select.select([child_pidfd], [], [], 5)[0]
        os.close(child_pidfd)
        assert child_exited, f"child {child_pid} outlived the runtime"
        assert not running(child_pid)
    finally:
        if runtime.poll() is None:
            os.killpg(runtime.pid, 9)
        runtime.stdout.close()
