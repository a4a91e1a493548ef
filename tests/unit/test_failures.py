"""Make targets fail in one line that says what to do; the traceback only with DEBUG=1."""

from __future__ import annotations

import pytest
from botocore.exceptions import EndpointConnectionError

from scripts import failures


def unreachable() -> int:
    raise EndpointConnectionError(endpoint_url="http://localhost:4566/")


def test_an_unreachable_emulator_is_one_line_that_names_the_fix(capsys, monkeypatch):
    monkeypatch.delenv("DEBUG", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:4566")
    assert failures.run(unreachable) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "make up" in error and "Traceback" not in error


def test_debug_shows_the_traceback(monkeypatch):
    monkeypatch.setenv("DEBUG", "1")
    with pytest.raises(EndpointConnectionError):
        failures.run(unreachable)


def test_anything_else_is_named_with_the_way_to_see_more(capsys, monkeypatch):
    monkeypatch.delenv("DEBUG", raising=False)

    def broken() -> int:
        raise ValueError("the manifest is not JSON")

    assert failures.run(broken) == 1
    assert (
        capsys.readouterr().err
        == "error: ValueError: the manifest is not JSON (DEBUG=1 shows the traceback)\n"
    )
