"""`make deploy` applies template changes in place and never loses data.

LocalStack 4.14 on its own cannot apply a change of the REST API's routes: it ignores the API's new
body and replaces the stage while the old one exists, and reports the failed update as
ROLLBACK_COMPLETE. Host mode applies such changes in place (emulator/localstack_hostmode/
cloudformation.py). Any update that still fails leaves the stack in ROLLBACK_COMPLETE with its
buckets and tables holding their data: the deploy used to delete and recreate such a stack; now it
refuses, says what to do, and the data stays.

A second, throwaway stack in the same emulator, so the pipeline under test is never touched.
"""

from __future__ import annotations

import copy
import time
import uuid

import pytest
import requests

from scripts import deploy_stack
from tests import images
from tests.e2e.conftest import EMULATOR_ENVIRONMENT, ENDPOINT, REGION, TARGET_AWS, api_key_of

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


def deploy_with_data(aws, name: str) -> tuple[str, str]:
    """Deploy the stack and process one upload; returns its uploads bucket and table."""
    deploy(name)
    outputs = deploy_stack.stack_outputs(aws("cloudformation"), name)
    uploads, table = outputs["UploadsBucketName"], outputs["ImageMetadataTableName"]
    aws("s3").put_object(Bucket=uploads, Key="client/wedding.jpg", Body=images.jpeg(400, 300))
    deadline = time.monotonic() + 60
    while aws("dynamodb").scan(TableName=table)["Count"] == 0:
        assert time.monotonic() < deadline, "the throwaway stack never processed its upload"
        time.sleep(0.2)
    return uploads, table


def assert_data_kept(aws, uploads: str, table: str) -> None:
    assert [item["Key"] for item in aws("s3").list_objects_v2(Bucket=uploads)["Contents"]] == [
        "client/wedding.jpg"
    ]
    assert aws("dynamodb").scan(TableName=table)["Count"] == 1


def with_routes(extra: dict[str, str], drop: tuple[str, ...] = ()) -> dict:
    """The template with more routes on the API function (path -> method) and some removed."""
    template = copy.deepcopy(deploy_stack.load_template(deploy_stack.TEMPLATE))
    events = template["Resources"]["ApiFunction"]["Properties"]["Events"]
    for logical_id in [key for key, event in events.items() if event["Properties"].get("Path") in drop]:
        del events[logical_id]
    for index, (path, method) in enumerate(extra.items()):
        events[f"Extra{index}"] = {
            "Type": "Api",
            "Properties": {"RestApiId": {"Ref": "PipelineApi"}, "Path": path, "Method": method},
        }
    return template


def test_route_changes_deploy_in_place_over_a_stack_with_data(aws, emulator_mode, throwaway_stack):
    if emulator_mode != "host":
        pytest.skip("the in-place update of REST API routes is host mode's (LocalStack in Docker fails it)")
    uploads, table = deploy_with_data(aws, throwaway_stack)
    api = f"{ENDPOINT}/_aws/execute-api/{throwaway_stack}/api"
    apigateway = aws("apigateway")
    key = {"x-api-key": api_key_of(aws, throwaway_stack)}

    deploy(throwaway_stack, with_routes({"/extra": "get"}))  # a route added
    paths = {item["path"] for item in apigateway.get_resources(restApiId=throwaway_stack)["items"]}
    assert paths == {"/", "/extra", "/{proxy+}", "/share", "/share/{token}"}
    deployments = apigateway.get_deployments(restApiId=throwaway_stack)["items"]
    stage = apigateway.get_stage(restApiId=throwaway_stack, stageName="api")
    assert [deployment["id"] for deployment in deployments] == [stage["deploymentId"]]
    assert requests.get(f"{api}/images", headers=key, timeout=30).status_code == 200

    deploy(throwaway_stack, with_routes({}, drop=("/{proxy+}",)))  # routes removed
    paths = {item["path"] for item in apigateway.get_resources(restApiId=throwaway_stack)["items"]}
    assert paths == {"/", "/share", "/share/{token}"}
    gone = requests.get(f"{api}/images", headers=key, timeout=30)
    assert (gone.status_code, gone.json()) == (403, {"message": "Missing Authentication Token"})

    deploy(throwaway_stack)  # and back
    assert (
        requests.get(f"{api}/images", headers=key, timeout=30).json()["items"][0]["SourceKey"]
        == "client/wedding.jpg"
    )
    # One API all along: its id (and so every saved URL and share link) never changed.
    stack_apis = [
        rest_api["id"]
        for rest_api in apigateway.get_rest_apis()["items"]
        if rest_api.get("tags", {}).get("aws:cloudformation:stack-name") == throwaway_stack
    ]
    assert stack_apis == [throwaway_stack]
    assert deploy_stack.stack_outputs(aws("cloudformation"), throwaway_stack)["ApiId"] == throwaway_stack
    assert deploy_stack.stack_status(aws("cloudformation"), throwaway_stack) == "UPDATE_COMPLETE"
    assert_data_kept(aws, uploads, table)


def test_a_deploy_that_fails_over_a_stack_with_data_keeps_the_data(aws, throwaway_stack):
    uploads, table = deploy_with_data(aws, throwaway_stack)

    # A resource that cannot be created (S3 refuses the bucket name): the update fails.
    failing = copy.deepcopy(deploy_stack.load_template(deploy_stack.TEMPLATE))
    failing["Resources"]["Impossible"] = {
        "Type": "AWS::S3::Bucket",
        "Properties": {"BucketName": "Not_A_Valid_Bucket_Name"},
    }
    with pytest.raises(deploy_stack.DeployError, match="ROLLBACK_COMPLETE"):
        deploy(throwaway_stack, failing)

    with pytest.raises(deploy_stack.DeployError, match="not deleted automatically") as refused:
        deploy(throwaway_stack)
    assert "make save" in str(refused.value) and "make reset" in str(refused.value)
    assert deploy_stack.stack_status(aws("cloudformation"), throwaway_stack) == "ROLLBACK_COMPLETE"
    assert_data_kept(aws, uploads, table)
