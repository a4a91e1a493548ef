"""scripts/emulator.sh refuses what it cannot honour, in one line, before doing anything."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "emulator.sh"


def run(command: str, **environment: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), command],
        capture_output=True,
        text=True,
        env={**os.environ, **environment},
        timeout=60,
    )


def test_python_of_another_version_is_refused_naming_the_version_found(tmp_path):
    other = shutil.which("python3.11") or shutil.which("python3.12")
    if other is None:  # a machine without them: a program that is no Python at all
        other = str(tmp_path / "python")
        Path(other).write_text("#!/bin/sh\nexit 1\n")
        Path(other).chmod(0o755)
        expected = "is not a Python interpreter that runs"
    else:
        version = subprocess.run([other, "--version"], capture_output=True, text=True).stdout.strip()
        expected = f"is {version};"
    result = run("venv", PYTHON=other)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and expected in result.stderr, result.stderr
    assert "needs Python 3.13" in result.stderr


def test_settings_are_checked(tmp_path):
    result = run("status", LOCALSTACK_PORT="45a")
    assert (result.returncode, result.stderr) == (
        1,
        "error: LOCALSTACK_PORT must be a TCP port number (got '45a')\n",
    )
    result = run("status", EXTRA_SERVICES="events;rm -rf")
    assert result.returncode == 1 and "comma-separated service names" in result.stderr
