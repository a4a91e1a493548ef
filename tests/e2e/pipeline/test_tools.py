"""The make targets' scripts against the running emulator: a wrong stack name is one line that
names the stacks there is."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.e2e.conftest import EMULATOR_ENVIRONMENT, REPO_ROOT, STACK_NAME, TARGET_AWS


def test_an_unknown_stack_is_one_line_naming_the_stacks_that_exist():
    environment = {**os.environ, **({} if TARGET_AWS else EMULATOR_ENVIRONMENT)}
    environment.pop("DEBUG", None)
    result = subprocess.run(
        [sys.executable, "-m", "scripts.function_logs", "--stack-name", "no-such-stack"],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "no-such-stack" in result.stderr and STACK_NAME in result.stderr.split("stacks there:")[1]
