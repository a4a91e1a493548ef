"""Docker mode cannot run on machines without a Docker engine (CI among them); keep it honest here."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml
from dotenv import dotenv_values

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
SETTINGS = dotenv_values(REPO_ROOT / "emulator.env")


def localstack_service() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]["localstack"]


def test_compose_file_is_valid_against_the_compose_specification():
    check = subprocess.run(
        [
            Path(sys.executable).parent / "check-jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            COMPOSE_FILE,
        ],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_image_is_the_same_localstack_version_host_mode_installs():
    assert localstack_service()["image"] == "${LOCALSTACK_IMAGE:-localstack/localstack:${LOCALSTACK_VERSION}}"
    constraints = (REPO_ROOT / "requirements" / "constraints.txt").read_text().splitlines()
    assert f"localstack-core=={SETTINGS['LOCALSTACK_VERSION']}" in constraints


def test_compose_reads_the_one_settings_file():
    # Compose reads .env by itself; it is emulator.env, which make and the scripts read too.
    assert (REPO_ROOT / ".env").is_symlink() and (REPO_ROOT / ".env").readlink() == Path("emulator.env")
    used = set(re.findall(r"\$\{([A-Z_]+)", COMPOSE_FILE.read_text()))
    optional = {"LOCALSTACK_IMAGE", "LOCALSTACK_CONTAINER_NAME", "LOCALSTACK_AUTH_TOKEN", "DEBUG"}
    optional |= {
        "RENDITIONS",
        "WATERMARK_TEXT",
        "WATERMARK_LOGO_KEY",
        "KEEP_LOCATION",
        "WORKFLOW",
    }  # stack's own
    assert used - optional <= set(SETTINGS), used - optional - set(SETTINGS)
    environment = localstack_service()["environment"]
    services = "${SERVICES:?set in emulator.env}${EXTRA_SERVICES:+,}${EXTRA_SERVICES:-}"
    assert environment["SERVICES"] == services
    assert environment["STACK_NAME"] == "${STACK_NAME:?set in emulator.env}"


def test_container_runs_the_init_hooks_of_this_repository():
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in localstack_service()["volumes"]}
    assert (REPO_ROOT / mounts["/etc/localstack/init/ready.d"]).resolve() == REPO_ROOT / "init"
    # Lambda containers are started through the host's Docker engine.
    assert mounts["/var/run/docker.sock"] == "/var/run/docker.sock"


def test_gateway_is_published_on_loopback_and_health_waits_for_init_hooks():
    service = localstack_service()
    assert service["ports"] == ["127.0.0.1:${LOCALSTACK_PORT:?set in emulator.env}:4566"]
    # URLs LocalStack hands out name the port published on this machine.
    assert service["environment"]["LOCALSTACK_HOST"] == "localhost.localstack.cloud:${LOCALSTACK_PORT}"
    assert "/_localstack/init/ready" in " ".join(service["healthcheck"]["test"])
    assert service["environment"]["LOCALSTACK_AUTH_TOKEN"] == "${LOCALSTACK_AUTH_TOKEN:-}"
