"""Fixtures for tests against the running emulator (or real AWS for the pipeline tests).

The emulator is started once per test session when it is not already running (and stopped again
at the end), so `make test` works on its own as well as after `make up`.
E2E_TARGET=aws runs tests/e2e/pipeline against a stack deployed to AWS with your usual credentials
(STACK_NAME, AWS_REGION); tests/e2e/emulator only make sense against the emulator.
"""

from __future__ import annotations

import os
import socket
import subprocess
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import requests
from botocore.config import Config
from dotenv import dotenv_values

REPO_ROOT = Path(__file__).resolve().parents[2]
EMULATOR_SCRIPT = REPO_ROOT / "scripts" / "emulator.sh"
MODE_FILE = REPO_ROOT / ".localstack" / "emulator.mode"
# The emulator's settings (emulator.env), overridden by the environment as in make.
SETTINGS = {**dotenv_values(REPO_ROOT / "emulator.env"), **os.environ}
ENDPOINT = os.environ.get("AWS_ENDPOINT_URL") or f"http://localhost:{SETTINGS['LOCALSTACK_PORT']}"
REGION = SETTINGS["AWS_DEFAULT_REGION"]
TARGET_AWS = os.environ.get("E2E_TARGET") == "aws"
STACK_NAME = SETTINGS["STACK_NAME"]
# What code run in-process by a test needs to reach the emulator, as the Makefile sets it.
EMULATOR_ENVIRONMENT = {
    "AWS_ENDPOINT_URL": ENDPOINT,
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": REGION,
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(item.fspath).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.e2e)


def emulator_answers() -> bool:
    try:
        with urllib.request.urlopen(f"{ENDPOINT}/_localstack/init/ready", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@pytest.fixture(scope="session")
def emulator() -> Iterator[str]:
    """The emulator's endpoint URL; `make up` (build, start, provision) when it is not running."""
    if TARGET_AWS:
        pytest.skip("needs the emulator; E2E_TARGET=aws")
    started_here = not emulator_answers()
    if started_here:
        subprocess.run(["make", "--no-print-directory", "-C", str(REPO_ROOT), "up"], check=True)
    yield ENDPOINT
    if started_here:
        subprocess.run([str(EMULATOR_SCRIPT), "down"], check=True)


@pytest.fixture(scope="session")
def emulator_mode(emulator: str) -> str:
    """'host' or 'docker' as recorded by `make up`; 'docker' when it was started some other way."""
    return MODE_FILE.read_text().strip() if MODE_FILE.exists() else "docker"


@pytest.fixture(scope="session")
def aws(request: pytest.FixtureRequest):
    """A factory of boto3 clients bound to the emulator (or to AWS with E2E_TARGET=aws)."""
    config = Config(retries={"max_attempts": 3, "mode": "standard"}, read_timeout=120)
    if TARGET_AWS:
        session, endpoint = boto3.Session(), None
    else:
        endpoint = request.getfixturevalue("emulator")
        session = boto3.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION)

    def client(service: str):
        return session.client(service, endpoint_url=endpoint, config=config)

    return client


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> str:
    """A name no other test (or earlier run) uses: test name plus a random suffix."""
    base = request.node.name.split("[")[0].removeprefix("test_").replace("_", "-")[:30]
    return f"{base}-{uuid.uuid4().hex[:8]}"


def stack_outputs(aws, stack_name: str = STACK_NAME) -> dict[str, str]:
    """The deployed stack's Outputs: the names every test and tool reads."""
    stack = aws("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}


@pytest.fixture
def api_url(aws, emulator) -> str:
    """The REST API's local URL. Read per test: a test may restart the emulator (a new ApiId)."""
    return f"{emulator}/_aws/execute-api/{stack_outputs(aws)['ApiId']}/api"


def api_key_of(aws, stack_name: str = STACK_NAME) -> str:
    """The value of the stack's API key (every route but share links needs it)."""
    key_id = stack_outputs(aws, stack_name)["ApiKeyId"]
    return aws("apigateway").get_api_key(apiKey=key_id, includeValue=True)["value"]


@pytest.fixture
def api(aws) -> Iterator[requests.Session]:
    """HTTP to the REST API with its key, as imgpipe and the web page call it. Read per test: a
    restart deploys a fresh stack, with a new key."""
    with requests.Session() as session:
        session.headers["x-api-key"] = api_key_of(aws)
        yield session


def free_port() -> int:
    """A loopback port that nothing holds, for TCP and UDP alike (a DNS server takes both; a port
    free for UDP alone was once taken for TCP and failed the second emulator's start)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
