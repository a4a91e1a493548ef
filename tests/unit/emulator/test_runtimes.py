"""Which Python runs a python3.X function, and which packages may run on another architecture."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from localstack_hostmode import runtimes


def fake_python(path: Path, prints: str, exit_status: int = 0) -> Path:
    """An executable that answers the version query the way a Python (or a broken shim) would."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho {prints}\nexit {exit_status}\n")
    path.chmod(0o755)
    return path


def test_candidates_come_from_path_then_pyenv_newest_first_then_uv(tmp_path):
    on_path = fake_python(tmp_path / "bin" / "python3.12", "3.12")
    shim = fake_python(tmp_path / "pyenv" / "shims" / "python3.12", "3.12")
    for release in ("3.12.1", "3.12.10", "3.12.3t", "3.11.7"):
        fake_python(tmp_path / "pyenv" / "versions" / release / "bin" / "python3.12", "3.12")
    uv_build = tmp_path / "uv" / f"cpython-3.12.4-linux-{runtimes.platform.machine().lower()}-gnu"
    search_path = f"{shim.parent}:{on_path.parent}"

    candidates = list(
        runtimes.interpreter_candidates(
            "3.12", search_path=search_path, pyenv_root=tmp_path / "pyenv", uv_python_dir=tmp_path / "uv"
        )
    )
    pyenv_versions = tmp_path / "pyenv" / "versions"
    assert candidates == [  # no shim, no free-threaded build, no other minor version
        on_path,
        pyenv_versions / "3.12.10" / "bin" / "python3.12",
        pyenv_versions / "3.12.1" / "bin" / "python3.12",
    ]
    fake_python(uv_build / "bin" / "python3.12", "3.12")
    assert (
        runtimes.interpreter_candidates(
            "3.12", search_path="", pyenv_root=tmp_path / "none", uv_python_dir=tmp_path / "uv"
        ).__next__()
        == uv_build / "bin" / "python3.12"
    )


def test_only_an_interpreter_that_reports_the_version_is_taken(tmp_path):
    broken_shim = fake_python(tmp_path / "a" / "python3.99", "pyenv: python3.99: command not found", 127)
    wrong_version = fake_python(tmp_path / "b" / "python3.99", "3.98")
    working = fake_python(tmp_path / "c" / "python3.99", "3.99")
    assert not runtimes.reports_version(broken_shim, "3.99")
    assert not runtimes.reports_version(wrong_version, "3.99")
    search_path = ":".join(str(path.parent) for path in (broken_shim, wrong_version, working))
    found = runtimes.find_interpreter(
        "3.99", search_path=search_path, pyenv_root=tmp_path / "pyenv", uv_python_dir=tmp_path / "uv"
    )
    assert found == working


def test_a_version_found_nowhere_is_none(tmp_path):
    assert (
        runtimes.find_interpreter("3.99", search_path="", pyenv_root=tmp_path, uv_python_dir=tmp_path) is None
    )


def test_the_hosts_version_is_the_hosts_interpreter():
    assert runtimes.find_interpreter(runtimes.host_python_version()) == Path(sys.executable)
    assert runtimes.reports_version(Path(sys.executable), runtimes.host_python_version())


def test_missing_python_is_runtime_unavailable_naming_version_and_remedy(monkeypatch, tmp_path):
    monkeypatch.setattr(runtimes, "cached_interpreter", lambda version: None)
    monkeypatch.setenv(runtimes.RUNTIME_DIR_VARIABLE, str(tmp_path))
    monkeypatch.delenv(runtimes.FALLBACK_VARIABLE, raising=False)
    with pytest.raises(runtimes.RuntimeUnavailable) as raised:
        runtimes.resolve_python("python3.99")
    assert "Python 3.99" in str(raised.value)
    assert "pyenv install 3.99" in str(raised.value) and "HOSTMODE_PYTHON_FALLBACK=1" in str(raised.value)


def test_fallback_runs_on_the_hosts_python(monkeypatch, tmp_path):
    monkeypatch.setattr(runtimes, "cached_interpreter", lambda version: None)
    host_runtime = tmp_path / f"python{runtimes.host_python_version()}"
    (host_runtime / "awslambdaric").mkdir(parents=True)
    monkeypatch.setenv(runtimes.RUNTIME_DIR_VARIABLE, str(tmp_path))
    monkeypatch.setenv(runtimes.FALLBACK_VARIABLE, "1")
    assert runtimes.resolve_python("python3.99") == (Path(sys.executable), host_runtime, True)


def test_a_found_python_without_its_runtime_directory_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setattr(runtimes, "cached_interpreter", lambda version: Path("/usr/bin/python3.99"))
    monkeypatch.setenv(runtimes.RUNTIME_DIR_VARIABLE, str(tmp_path))
    with pytest.raises(runtimes.RuntimeUnavailable, match=r"localstack_hostmode\.runtimes install"):
        runtimes.resolve_python("python3.99")


def test_native_code_is_found_by_elf_magic_and_by_extension_module_name(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "handler.py").write_text("def handler(event, context): ...\n")
    (tmp_path / "pkg" / "data.json").write_text("{}")
    assert runtimes.native_code_files(tmp_path) == []
    (tmp_path / "pkg" / "_speedups.cpython-312-aarch64-linux-gnu.so").write_bytes(b"not even ELF")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "tool").write_bytes(b"\x7fELF\x02\x01\x01" + bytes(57))
    (tmp_path / "libs").mkdir()
    (tmp_path / "libs" / "libjpeg.so.62").write_bytes(b"")
    assert sorted(path.name for path in runtimes.native_code_files(tmp_path)) == [
        "_speedups.cpython-312-aarch64-linux-gnu.so",
        "libjpeg.so.62",
        "tool",
    ]


def test_another_architecture_runs_only_pure_python(tmp_path):
    other = "arm64" if runtimes.host_architecture() == "x86_64" else "x86_64"
    (tmp_path / "handler.py").write_text("")
    runtimes.check_architecture(other, tmp_path)  # pure Python: fine
    (tmp_path / "_native.so").write_bytes(b"\x7fELF")
    runtimes.check_architecture(runtimes.host_architecture(), tmp_path)  # the host's: fine
    with pytest.raises(
        runtimes.UnsupportedArchitecture, match=r"built for .* contains native code \(_native.so\)"
    ):
        runtimes.check_architecture(other, tmp_path)


def test_install_is_skipped_when_the_stamp_is_current(tmp_path, monkeypatch):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("awslambdaric==4.2.2\n")
    target = tmp_path / "runtimes" / "python3.12"
    target.mkdir(parents=True)
    stamp = runtimes.install_stamp_text("3.12", requirements.read_text(), runtimes.platform.machine().lower())
    (target / runtimes.INSTALL_STAMP).write_text(stamp)
    monkeypatch.setattr(runtimes.subprocess, "run", lambda *args, **kwargs: pytest.fail("pip ran"))
    assert runtimes.install_runtime("3.12", tmp_path / "runtimes", requirements) is False
    requirements.write_text("awslambdaric==4.2.3\n")  # a changed pin installs again
    with pytest.raises(pytest.fail.Exception, match="pip ran"):
        runtimes.install_runtime("3.12", tmp_path / "runtimes", requirements)
