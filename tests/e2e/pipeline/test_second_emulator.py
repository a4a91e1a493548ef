"""Two emulators side by side: a second checkout runs its own pipeline on another port
(`make up LOCALSTACK_PORT=…`, tests included) while this one keeps running, untouched. The second
one also runs the Step Functions workflow (`make up WORKFLOW=stepfunctions`), runs its functions
from its lambda/ directory (HOT_RELOAD=1: an edit is live on the next invocation), has more
services (EXTRA_SERVICES), runs LocalStack's DNS server on a loopback port (LOCALSTACK_DNS_PORT)
and serves https."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import boto3
import requests
from dnslib import QTYPE, DNSRecord

from tests.e2e.conftest import REPO_ROOT, STACK_NAME, api_key_of, free_port, stack_outputs


def resolve(name: str, dns_port: int) -> list[str]:
    """The A records LocalStack's DNS server answers for a name."""
    reply = DNSRecord.parse(DNSRecord.question(name).send("127.0.0.1", dns_port, timeout=5))
    return [str(record.rdata) for record in reply.rr if record.rtype == QTYPE.A]


def copy_checkout(destination: Path) -> None:
    """What `git clone` would give, plus the already-installed .venv and build/ (to save minutes)."""
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, tracked):
        source, target = REPO_ROOT / name.decode(), destination / name.decode()
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        elif source.is_file():
            shutil.copy2(source, target)  # keeps mtimes, so make sees build/ as up to date
    (destination / ".venv").symlink_to(REPO_ROOT / ".venv")
    shutil.copytree(REPO_ROOT / "build", destination / "build", symlinks=True)
    runtime = Path(".localstack") / "lambda-runtime"  # installed by make venv
    shutil.copytree(REPO_ROOT / runtime, destination / runtime)


def answers(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/_localstack/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def test_a_second_checkout_runs_its_pipeline_and_tests_on_another_port(aws, emulator, tmp_path: Path):
    main_outputs = stack_outputs(aws)
    checkout, port = tmp_path / "checkout", free_port()
    dns_port = next(candidate for candidate in iter(free_port, None) if candidate != port)
    copy_checkout(checkout)
    second = f"http://localhost:{port}"
    environment = {
        **os.environ,
        "LOCALSTACK_PORT": str(port),
        "LOCALSTACK_DNS_PORT": str(dns_port),
        "EXTRA_SERVICES": "events,ses",
        "HOT_RELOAD": "1",
        "EMULATOR": "host",
        "WORKFLOW": "stepfunctions",
    }
    environment.pop("AWS_ENDPOINT_URL", None)  # the second checkout's settings decide

    def make(*arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["make", "--no-print-directory", "-C", str(checkout), *arguments],
            env=environment,
            capture_output=True,
            text=True,
            timeout=600,
        )

    try:
        up = make("up")
        assert up.returncode == 0, up.stdout + up.stderr
        assert f"AWS_ENDPOINT_URL={second}" in up.stdout
        assert f"{second}/_aws/execute-api/{STACK_NAME}/api" in up.stdout
        # (the init hook's deploy writes to the emulator's log)
        log = (checkout / ".localstack" / "emulator.log").read_text()
        assert "Hot reload: the functions run lambda/ from disk" in log
        assert f"  {'Workflow':28} stepfunctions" in up.stdout  # make up WORKFLOW=stepfunctions

        # Hot reload: an edit of the API function's source answers on the very next request.
        api = f"{second}/_aws/execute-api/{STACK_NAME}/api"
        client = boto3.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
        ).client
        key = api_key_of(lambda service: client(service, endpoint_url=second))

        def nowhere() -> requests.Response:
            return requests.get(f"{api}/nowhere", headers={"x-api-key": key}, timeout=30)

        assert nowhere().json()["error"]["message"] == "no route GET /nowhere"
        source = checkout / "lambda" / "image_pipeline" / "handlers" / "api.py"
        source.write_text(source.read_text().replace('f"no route {', 'f"edited: no route {'))
        edited = time.monotonic()
        answer = nowhere().json()["error"]["message"]
        assert answer == "edited: no route GET /nowhere"
        assert time.monotonic() - edited < 2  # the bound: live within 2 s, no deploy
        assert not list((checkout / "lambda").rglob("__pycache__"))  # bytecode stays out of the source

        # Services beyond the pipeline's, asked for on the command line, answer.
        services = requests.get(f"{second}/_localstack/health", timeout=10).json()["services"]
        assert services["events"] in ("available", "running") and services["ses"] in ("available", "running")
        assert client("events", endpoint_url=second).list_event_buses()["EventBuses"][0]["Name"] == "default"
        assert client("ses", endpoint_url=second).list_identities()["Identities"] == []

        # The names LocalStack's docs and samples use, answered offline by its DNS server.
        for name in (
            "localhost.localstack.cloud",
            f"{STACK_NAME}.execute-api.localhost.localstack.cloud",
            "some-bucket.s3.localhost.localstack.cloud",
        ):
            assert set(resolve(name, dns_port)) == {"127.0.0.1"}, name

        # https on the same port, verified against the certificate LocalStack generated.
        certificate = checkout / ".localstack/filesystem/var/lib/localstack/cache/server.test.pem.crt"
        s3 = boto3.client(
            "s3",
            endpoint_url=f"https://localhost:{port}",
            verify=str(certificate),
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        assert any(bucket["Name"].startswith(STACK_NAME) for bucket in s3.list_buckets()["Buckets"])

        # The second checkout's own tests run against its emulator: uploads become rows there.
        tests = make(
            "test",
            "PYTEST_ARGS=tests/e2e/pipeline/test_process_image.py -k "
            "'upload_produces_thumbnail or exif_rotated' -p no:cacheprovider -q",
        )
        assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
        assert " passed" in tests.stdout and " deselected" in tests.stdout, tests.stdout[-2000:]
    finally:
        down = make("down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert not answers(second)

    # This checkout's emulator served throughout and still has its own stack and data.
    assert answers(emulator)
    assert stack_outputs(aws) == main_outputs
    assert not (checkout / ".localstack" / "emulator.pid").exists()
