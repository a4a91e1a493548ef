"""Fixtures that deploy the probe functions in functions/ as real zip packages."""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

FUNCTIONS_DIR = Path(__file__).parent / "functions"
TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def zip_package(*modules: str, files: dict[str, bytes] | None = None) -> bytes:
    """A deployment package with the given modules of functions/ (and `files`) at its root."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for module in modules:
            package.write(FUNCTIONS_DIR / f"{module}.py", f"{module}.py")
        for name, content in (files or {}).items():
            package.writestr(name, content)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def lambda_role(aws) -> Iterator[str]:
    iam = aws("iam")
    role = iam.create_role(
        RoleName="emulator-tests-lambda", AssumeRolePolicyDocument=json.dumps(TRUST_POLICY)
    )["Role"]
    yield role["Arn"]
    iam.delete_role(RoleName="emulator-tests-lambda")


@pytest.fixture
def deploy_function(aws, lambda_role: str, unique_name: str) -> Iterator[Callable[..., str]]:
    """Create a function from a zip of functions/ modules and wait until it is Active."""
    lambda_client = aws("lambda")
    created: list[str] = []

    def deploy(
        *modules: str,
        handler: str = "probe.handler",
        runtime: str = "python3.13",
        timeout: int = 3,
        memory: int = 128,
        environment: dict[str, str] | None = None,
        wait: bool = True,
        architecture: str = "x86_64",
        files: dict[str, bytes] | None = None,
        hot_reload_dir: Path | None = None,
    ) -> str:
        """`files` are added to the zip; `hot_reload_dir` replaces the zip (LocalStack's hot reload)."""
        name = f"{unique_name}-{len(created)}"
        if hot_reload_dir is not None:
            code = {"S3Bucket": "hot-reload", "S3Key": str(hot_reload_dir)}
        else:
            code = {"ZipFile": zip_package(*(modules or ("probe",)), files=files)}
        lambda_client.create_function(
            FunctionName=name,
            Runtime=runtime,
            Role=lambda_role,
            Handler=handler,
            Code=code,
            Timeout=timeout,
            MemorySize=memory,
            Environment={"Variables": environment or {}},
            Architectures=[architecture],
        )
        created.append(name)
        if wait:
            lambda_client.get_waiter("function_active_v2").wait(
                FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
            )
        return name

    yield deploy
    for name in created:
        with contextlib.suppress(lambda_client.exceptions.ResourceNotFoundException):  # deleted by the test
            lambda_client.delete_function(FunctionName=name)


@pytest.fixture
def invoke(aws) -> Callable[..., tuple[dict, object]]:
    """Invoke synchronously; returns (response metadata, decoded payload)."""
    lambda_client = aws("lambda")

    def call(function_name: str, event: dict) -> tuple[dict, object]:
        response = lambda_client.invoke(FunctionName=function_name, Payload=json.dumps(event).encode())
        payload = json.loads(response["Payload"].read() or b"null")
        return response, payload

    return call


@pytest.fixture(autouse=True)
def _needs_the_emulator(emulator: str) -> None:
    """These tests are about the emulator itself, never about a real AWS account."""
