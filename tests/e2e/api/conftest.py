"""The REST API's local URL, from the stack's ApiId output."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import TARGET_AWS
from tests.e2e.pipeline.conftest import STACK_NAME


@pytest.fixture(scope="session")
def api_url(aws, emulator) -> str:
    stack = aws("cloudformation").describe_stacks(StackName=STACK_NAME)["Stacks"][0]
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}
    if TARGET_AWS:
        return outputs["ApiUrl"]
    return f"{emulator}/_aws/execute-api/{outputs['ApiId']}/api"
