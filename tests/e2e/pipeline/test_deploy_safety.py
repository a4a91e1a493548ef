"""`make deploy` never loses data. LocalStack 4.14 cannot apply a change of the REST API's routes
(it replaces the stage while the old one exists) and reports the failed update as
ROLLBACK_COMPLETE, with the buckets and tables still holding their data. The deploy used to delete
and recreate such a stack; now it refuses, says what to do, and the data stays.

A second, throwaway stack in the same emulator, so the pipeline under test is never touched.
"""

from __future__ import annotations

import copy
import time
import uuid

import pytest

from scripts import deploy_stack
from tests import images
from tests.e2e.conftest import EMULATOR_ENVIRONMENT, REGION, TARGET_AWS

pytestmark = pytest.mark.skipif(TARGET_AWS, reason="provokes an emulator-only failure on purpose")


@pytest.fixture
def throwaway_stack(aws, monkeypatch):
    for name, value in EMULATOR_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    name = f"deploy-safety-{uuid.uuid4().hex[:8]}"
    yield name
    aws("cloudformation").delete_stack(StackName=name)
    s3 = aws("s3")
    artifacts = f"{name}-artifacts-000000000000-{REGION}"  # where the deploy put the function's zip
    for item in s3.list_objects_v2(Bucket=artifacts).get("Contents", []):
        s3.delete_object(Bucket=artifacts, Key=item["Key"])
    s3.delete_bucket(Bucket=artifacts)


def deploy(name: str, template: dict | None = None) -> None:
    parameters = {"Architecture": deploy_stack.host_architecture()}
    deploy_stack.deploy(name, deploy_stack.host_architecture(), parameters, template)


def test_a_deploy_that_fails_over_a_stack_with_data_keeps_the_data(aws, throwaway_stack):
    deploy(throwaway_stack)
    outputs = deploy_stack.stack_outputs(aws("cloudformation"), throwaway_stack)
    uploads, table = outputs["UploadsBucketName"], outputs["ImageMetadataTableName"]
    aws("s3").put_object(Bucket=uploads, Key="client/wedding.jpg", Body=images.jpeg(400, 300))
    deadline = time.monotonic() + 60
    while aws("dynamodb").scan(TableName=table)["Count"] == 0:
        assert time.monotonic() < deadline, "the throwaway stack never processed its upload"
        time.sleep(0.2)

    # A route declared in the template: the change LocalStack 4.14 cannot apply.
    with_route = copy.deepcopy(deploy_stack.load_template(deploy_stack.TEMPLATE))
    with_route["Resources"]["ApiFunction"]["Properties"]["Events"]["Extra"] = {
        "Type": "Api",
        "Properties": {"RestApiId": {"Ref": "PipelineApi"}, "Path": "/extra", "Method": "get"},
    }
    with pytest.raises(deploy_stack.DeployError, match="ROLLBACK_COMPLETE"):
        deploy(throwaway_stack, with_route)

    with pytest.raises(deploy_stack.DeployError, match="not deleted automatically") as refused:
        deploy(throwaway_stack)
    assert "make save" in str(refused.value) and "make reset" in str(refused.value)
    assert deploy_stack.stack_status(aws("cloudformation"), throwaway_stack) == "ROLLBACK_COMPLETE"
    assert [item["Key"] for item in aws("s3").list_objects_v2(Bucket=uploads)["Contents"]] == [
        "client/wedding.jpg"
    ]
    assert aws("dynamodb").scan(TableName=table)["Count"] == 1
