"""The README's by-hand walkthrough works as written, with the AWS CLI that `make venv` installs
(v1, whose SQS commands need the endpoint named)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests import images
from tests.e2e.conftest import EMULATOR_ENVIRONMENT, REPO_ROOT, TARGET_AWS

pytestmark = pytest.mark.skipif(TARGET_AWS, reason="the walkthrough is the emulator's")


def readme_block(containing: str) -> str:
    blocks = re.findall(r"```sh\n(.*?)```", (REPO_ROOT / "README.md").read_text(), re.DOTALL)
    [block] = [block for block in blocks if containing in block]
    return block


def test_the_notifications_walkthrough_prints_the_notification(aws, emulator, tmp_path: Path):
    (tmp_path / "photo.jpg").write_bytes(images.jpeg(800, 600))
    environment = {
        **os.environ,
        **EMULATOR_ENVIRONMENT,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",  # .venv/bin/aws
    }
    try:
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", readme_block("my-notifications")],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        received = result.stdout.strip().splitlines()[-1]  # the last command's: bodies, tab-separated
        notifications = [json.loads(body) for body in received.split("\t")]
        assert any(
            notice["SourceKey"] == "holiday/again.jpg" and notice["Status"] == "PROCESSED"
            for notice in notifications
        ), result.stdout
    finally:
        sns, sqs = aws("sns"), aws("sqs")
        for topic in sns.list_topics()["Topics"]:
            for subscription in sns.list_subscriptions_by_topic(TopicArn=topic["TopicArn"])["Subscriptions"]:
                if subscription["Endpoint"].endswith(":my-notifications"):
                    sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])
        queue = sqs.get_queue_url(QueueName="my-notifications")["QueueUrl"]
        sqs.delete_queue(QueueUrl=queue)
