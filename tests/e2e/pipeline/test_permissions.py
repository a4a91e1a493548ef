"""Least privilege, proven offline: the emulator does not enforce IAM, so a template that forgets
a permission would pass every other local test and fail on AWS with AccessDenied.

The template is translated with the SAM translator (as CloudFormation does), the function's role
is resolved against the deployed stack of its workflow mode, and the function's own code is run
in-process against the emulator through every path it has (direct mode's processor: process,
duplicate, overwrite, reject, oversize, outage, delete; stepfunctions mode's steps and starter:
each step as the state machine calls it, a new change and a duplicate; the API: every route, in
both modes) while every AWS call it makes is recorded. The role must allow exactly those calls on
exactly those resources: nothing missing, nothing unused, no wildcard actions, no `Resource: *`.
The state machine's role is held to what its definition's tasks call.
"""

from __future__ import annotations

import importlib
import json
import sys
import uuid
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import boto3
import pytest
from image_pipeline.changes import from_eventbridge
from image_pipeline.records import image_id
from samtranslator.translator.transform import transform

from scripts.deploy_stack import load_template
from tests import images
from tests.e2e.conftest import EMULATOR_ENVIRONMENT, REGION
from tests.e2e.pipeline.conftest import (
    eventbridge_event,
    execution_arn,
    s3_event,
    wait_for_execution,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
HANDLER_MODULES = {
    "ImageProcessorFunction": "image_pipeline.handlers.process_image",
    "ApiFunction": "image_pipeline.handlers.api",
    "WorkflowStepsFunction": "image_pipeline.handlers.workflow_steps",
    "StartWorkflowFunction": "image_pipeline.handlers.start_workflow",
}

Permission = tuple[str, str]  # (action, resource ARN)


class NoManagedPolicies:
    """The translator asks IAM for managed policy ARNs; the template names none."""

    def load(self) -> dict[str, str]:
        return {}


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int = 1024
    aws_request_id: str = "permissions-test"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


# --- The template, translated and resolved against the deployed stack ----------------------------


NO_VALUE = object()  # AWS::NoValue: the list item or property is left out


class Resolver:
    """Resolves Ref, Fn::GetAtt, Fn::Sub, Fn::Join and Fn::If with the stack's physical resources,
    parameters and conditions."""

    def __init__(self, aws, stack_name: str) -> None:
        self.account = aws("sts").get_caller_identity()["Account"]
        self.pseudo = {
            "AWS::StackName": stack_name,
            "AWS::AccountId": self.account,
            "AWS::Region": REGION,
            "AWS::Partition": "aws",
        }
        stack = aws("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
        self.parameters = {item["ParameterKey"]: item["ParameterValue"] for item in stack["Parameters"]}
        self.conditions = {
            name: self.evaluate(condition)
            for name, condition in load_template(REPO_ROOT / "template.yaml").get("Conditions", {}).items()
        }
        self.refs: dict[str, str] = {}
        self.arns: dict[str, str] = {}
        resources = aws("cloudformation").describe_stack_resources(StackName=stack_name)["StackResources"]
        for resource in resources:
            logical, physical = resource["LogicalResourceId"], resource["PhysicalResourceId"]
            self.refs[logical] = physical
            self.arns[logical] = self._arn(resource["ResourceType"], physical)

    def _arn(self, resource_type: str, physical: str) -> str:
        prefix = f"arn:aws:{{}}:{REGION}:{self.account}"
        return {
            "AWS::S3::Bucket": f"arn:aws:s3:::{physical}",
            "AWS::DynamoDB::Table": prefix.format("dynamodb") + f":table/{physical}",
            "AWS::SQS::Queue": prefix.format("sqs") + f":{physical.rsplit('/', 1)[-1]}",
            "AWS::SNS::Topic": physical,
            "AWS::Logs::LogGroup": prefix.format("logs") + f":log-group:{physical}:*",
            "AWS::Lambda::Function": prefix.format("lambda") + f":function:{physical}",
        }.get(resource_type, physical)

    def attribute(self, logical: str, name: str) -> str:
        if name == "Arn":
            return self.arns[logical]
        if name == "TopicName":
            return self.refs[logical].rsplit(":", 1)[-1]
        raise KeyError(f"{logical}.{name}")

    def evaluate(self, condition: Any) -> Any:
        """The template's conditions: Fn::Not / Fn::Equals over parameters (all it uses)."""
        if isinstance(condition, dict) and "Fn::Not" in condition:
            return not self.evaluate(condition["Fn::Not"][0])
        if isinstance(condition, dict) and "Fn::Equals" in condition:
            left, right = (self.evaluate(side) for side in condition["Fn::Equals"])
            return left == right
        if isinstance(condition, dict) and "Ref" in condition:
            return self.parameters[condition["Ref"]]
        return condition

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in (self.resolve(item) for item in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if value.get("Ref") == "AWS::NoValue":
            return NO_VALUE
        if "Fn::If" in value:
            name, when_true, when_false = value["Fn::If"]
            return self.resolve(when_true if self.conditions[name] else when_false)
        if "Ref" in value:
            return (
                self.pseudo.get(value["Ref"]) or self.parameters.get(value["Ref"]) or self.refs[value["Ref"]]
            )
        if "Fn::GetAtt" in value:
            logical, name = value["Fn::GetAtt"]
            return self.attribute(logical, name)
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return separator.join(self.resolve(parts))
        if "Fn::Sub" in value:
            # SAM's policy templates use the long form: [text, {variable: value}].
            substitution = value["Fn::Sub"]
            text, variables = (substitution, {}) if isinstance(substitution, str) else substitution
            while "${" in text:
                start = text.index("${")
                name = text[start + 2 : text.index("}", start)]
                if name in variables:
                    replacement = self.resolve(variables[name])
                elif name in self.pseudo:
                    replacement = self.pseudo[name]
                elif "." in name:
                    replacement = self.attribute(*name.split(".", 1))
                else:
                    replacement = self.refs[name]
                text = text[:start] + replacement + text[text.index("}", start) + 1 :]
            return text
        return {key: self.resolve(item) for key, item in value.items()}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def packaged_template() -> dict:
    """template.yaml as `make deploy` submits it: local CodeUris and DefinitionUris point at
    uploaded files."""
    template = load_template(REPO_ROOT / "template.yaml")
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = {"Bucket": "artifacts", "Key": "package.zip"}
        if resource["Type"] == "AWS::Serverless::StateMachine":
            resource["Properties"]["DefinitionUri"] = {"Bucket": "artifacts", "Key": "pipeline.asl.json"}
    return template


@pytest.fixture
def translated(monkeypatch) -> dict:
    """The template as CloudFormation's SAM transform makes it (the translator asks boto3 for the
    region)."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    return transform(packaged_template(), {}, NoManagedPolicies())


@pytest.fixture
def resolver(aws, stack) -> Resolver:
    return Resolver(aws, stack_name=stack.name)


def role_statements(translated: dict, logical_id: str, resolver: Resolver) -> list[dict]:
    """The statements of a function's Role (or a state machine's RoleArn)."""
    properties = translated["Resources"][logical_id]["Properties"]
    role_logical_id = (properties.get("Role") or properties["RoleArn"])["Fn::GetAtt"][0]
    role = translated["Resources"][role_logical_id]
    assert not role["Properties"].get("ManagedPolicyArns"), "managed policies are not reviewable here"
    statements = [
        statement
        for policy in role["Properties"].get("Policies", [])
        for statement in resolver.resolve(policy["PolicyDocument"]["Statement"])
    ]
    assert all(statement["Effect"] == "Allow" for statement in statements)
    return statements


def allowed(statements: list[dict], permission: Permission) -> bool:
    action, resource = permission
    return any(
        action in as_list(statement["Action"])
        and any(fnmatchcase(resource, pattern) for pattern in as_list(statement["Resource"]))
        for statement in statements
    )


def missing(statements: list[dict], required: set[Permission]) -> set[Permission]:
    return {permission for permission in required if not allowed(statements, permission)}


# --- What the code does, recorded -----------------------------------------------------------------


class CallRecorder:
    """botocore's before-parameter-build hook: every API call with its parameters."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict]] = []
        self.paused = False

    def __call__(self, params: dict, model, **_: Any) -> None:
        if not self.paused:
            self.calls.append((model.service_model.service_name, model.name, dict(params)))


def required_permissions(calls: list[tuple[str, str, dict]], resolver: Resolver) -> set[Permission]:
    """The IAM action and resource each recorded call needs."""
    arn = "arn:aws:{}:" + REGION + ":" + resolver.account
    required: set[Permission] = set()
    for service, operation, params in calls:
        if service == "s3":
            bucket, key = params["Bucket"], params.get("Key")
            if operation in ("GetObject", "HeadObject"):
                required.add(("s3:GetObject", f"arn:aws:s3:::{bucket}/{key}"))
                # Without ListBucket, S3 answers 403 instead of 404 for a missing key.
                required.add(("s3:ListBucket", f"arn:aws:s3:::{bucket}"))
            else:
                required.add((f"s3:{operation}", f"arn:aws:s3:::{bucket}/{key}"))
        elif service == "dynamodb":
            table = arn.format("dynamodb") + f":table/{params['TableName']}"
            index = f"/index/{params['IndexName']}" if "IndexName" in params else ""
            required.add((f"dynamodb:{operation}", table + index))
        elif service == "sns":
            required.add((f"sns:{operation}", params["TopicArn"]))
        elif service == "stepfunctions":  # IAM's prefix is states; an execution is a resource of its own
            target = params["stateMachineArn"] if operation == "StartExecution" else params["executionArn"]
            required.add((f"states:{operation}", target))
        else:
            raise AssertionError(f"unexpected call {service}.{operation}: extend required_permissions")
    return required


def platform_permissions(
    resolver: Resolver, log_group: str, failure_destination: str | None
) -> set[Permission]:
    """What Lambda does with a function's role on its behalf: logs, and the failure destination."""
    log_stream = f"{resolver.arns[log_group][:-2]}:log-stream:2026/01/01/[$LATEST]abc"
    permissions = {("logs:CreateLogStream", log_stream), ("logs:PutLogEvents", log_stream)}
    if failure_destination:
        permissions.add(("sqs:SendMessage", resolver.arns[failure_destination]))
    return permissions


@pytest.fixture
def in_process(aws, monkeypatch):
    """Import a function's handler module here, configured like the deployed function, with every
    boto3 call recorded."""
    loaded: list[str] = []

    def load(function_name: str, logical_id: str, **overrides: str):
        configuration = aws("lambda").get_function_configuration(FunctionName=function_name)
        for name, value in {
            **configuration["Environment"]["Variables"],
            **overrides,
            **EMULATOR_ENVIRONMENT,
        }.items():
            monkeypatch.setenv(name, value)
        recorder = CallRecorder()
        boto3.setup_default_session()
        boto3.DEFAULT_SESSION.events.register("before-parameter-build", recorder)
        module_name = HANDLER_MODULES[logical_id]
        sys.modules.pop(module_name, None)
        loaded.append(module_name)
        return importlib.import_module(module_name), recorder

    yield load
    for module_name in loaded:
        sys.modules.pop(module_name, None)
    boto3.DEFAULT_SESSION = None


def legacy_row(aws, stack, key: str) -> str:
    """A row from before renditions, its thumbnail under thumbnails/; returns its source key."""
    aws("s3").put_object(Bucket=stack.thumbnails_bucket, Key=f"thumbnails/{key}/e1.jpg", Body=b"thumbnail")
    aws("dynamodb").put_item(
        TableName=stack.table,
        Item={
            "ImageID": {"S": image_id(stack.uploads_bucket, key)},
            "Status": {"S": "PROCESSED"},
            "SourceBucket": {"S": stack.uploads_bucket},
            "SourceKey": {"S": key},
            "SourceEventTime": {"S": "2099-01-01T00:00:00.000Z"},
            "ThumbnailBucket": {"S": stack.thumbnails_bucket},
            "ThumbnailKey": {"S": f"thumbnails/{key}/e1.jpg"},
        },
    )
    return key


def run_every_path(module, aws, stack) -> None:
    """Drive the handler through each thing it can do, as S3 events would."""
    s3 = aws("s3")
    context = LambdaContext(stack.function_name)
    prefix = f"e2e/permissions-{uuid.uuid4().hex[:8]}"
    moments = iter(f"2099-01-01T00:00:{second:02}.000Z" for second in range(60))

    def created(key: str, data: bytes) -> dict:
        etag = s3.put_object(Bucket=stack.uploads_bucket, Key=key, Body=data)["ETag"].strip('"')
        return s3_event(
            "ObjectCreated:Put", stack.uploads_bucket, key, next(moments), etag=etag, size=len(data)
        )

    def outcome(event: dict) -> str:
        return module.handler(event, context)["results"][0]["outcome"]

    photo = f"{prefix}/photo.jpg"
    first = created(photo, images.jpeg(800, 600))
    assert outcome(first) == "PROCESSED"
    assert outcome(first) == "PROCESSED"  # duplicate: the recorded result
    assert outcome(created(photo, images.jpeg(600, 800))) == "PROCESSED"  # overwrite: old thumbnail removed
    assert outcome(created(f"{prefix}/notes.jpg", images.TEXT)) == "FAILED"
    assert outcome(created(f"{prefix}/big.jpg", images.jpeg(400, 300) + bytes(400 * 1024))) == "FAILED"

    sns = aws("sns")
    sns.delete_topic(TopicArn=stack.topic_arn)  # an outage: the failing event's record is released
    try:
        with pytest.raises(Exception, match="publishing"):
            module.handler(created(f"{prefix}/outage.jpg", images.jpeg(300, 200)), context)
    finally:
        sns.create_topic(Name=stack.topic_arn.rsplit(":", 1)[1])

    legacy = legacy_row(aws, stack, f"{prefix}/legacy.jpg")

    for key in (photo, f"{prefix}/notes.jpg", f"{prefix}/big.jpg", f"{prefix}/outage.jpg", legacy):
        s3.delete_object(Bucket=stack.uploads_bucket, Key=key)
        removal = s3_event("ObjectRemoved:Delete", stack.uploads_bucket, key, next(moments))
        assert outcome(removal) in ("DELETED", "NOTHING_TO_DELETE")
    assert "Contents" not in s3.list_objects_v2(
        Bucket=stack.thumbnails_bucket, Prefix=f"thumbnails/{legacy}/"
    )


def assert_exact_role(statements: list[dict], required: set[Permission]) -> None:
    # Nothing missing: every call the code made (and Lambda makes for it) is allowed.
    assert not missing(statements, required), (
        f"the template's role lacks: {sorted(missing(statements, required))}"
    )
    # Nothing broader: no wildcard actions, no Resource "*", wildcards only for keys under a prefix.
    for statement in statements:
        assert all("*" not in action for action in as_list(statement["Action"])), statement
        for resource in as_list(statement["Resource"]):
            assert resource != "*" and "*" not in resource.rstrip("*"), statement
    # ... and every granted action is one the code needs: remove any one and something is missing.
    for index, statement in enumerate(statements):
        for action in as_list(statement["Action"]):
            narrowed = [dict(other) for other in statements]
            narrowed[index]["Action"] = [other for other in as_list(statement["Action"]) if other != action]
            assert missing(narrowed, required), (
                f"{action} in {statement.get('Sid', statement['Resource'])} is granted but never used"
            )


@pytest.mark.workflows("direct")
def test_image_processor_role_allows_exactly_what_its_code_does(aws, stack, in_process, translated, resolver):
    # A small byte limit, so that the oversize path is cheap to take.
    module, recorder = in_process(
        stack.function_name, "ImageProcessorFunction", MAX_UPLOAD_BYTES=str(300 * 1024)
    )
    statements = role_statements(translated, "ImageProcessorFunction", resolver)

    run_every_path(module, aws, stack)
    required = required_permissions(recorder.calls, resolver)
    required |= platform_permissions(resolver, "ImageProcessorLogGroup", "DeadLetterQueue")
    assert_exact_role(statements, required)


def api_event(method: str, path: str, body: dict | None = None, query: dict | None = None) -> dict:
    """An API Gateway (REST, Lambda proxy) event, as the ImagesApi sends it."""
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "httpMethod": method,
            "path": path,
            "stage": "api",
            "resourcePath": path,
            "requestId": "t",
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }


def test_api_role_allows_exactly_what_its_code_does(
    aws, stack, in_process, translated, resolver, wait_for_row
):
    """In both modes: stepfunctions mode's role adds WorkflowSteps, which GET /images/{id}/steps uses."""
    api_function = aws("cloudformation").describe_stack_resource(
        StackName=stack.name, LogicalResourceId="ApiFunction"
    )["StackResourceDetail"]["PhysicalResourceId"]
    module, recorder = in_process(api_function, "ApiFunction")
    # A presigned POST is signed without an API call; it is still a PutObject the role must allow.
    presigner = module.objects._presigner
    sign_post = presigner.generate_presigned_post

    def recorded_post(Bucket: str, Key: str, **kwargs: Any):  # noqa: N803 - boto3's names
        recorder.calls.append(("s3", "PutObject", {"Bucket": Bucket, "Key": Key}))
        recorder.paused = True  # botocore resolves the endpoint through a CreateBucket model: not a call
        try:
            return sign_post(Bucket=Bucket, Key=Key, **kwargs)
        finally:
            recorder.paused = False

    presigner.generate_presigned_post = recorded_post
    statements = role_statements(translated, "ApiFunction", resolver)
    context = LambdaContext(api_function)

    def call(method: str, path: str, **kwargs: Any) -> tuple[int, dict | None]:
        response = module.handler(api_event(method, path, **kwargs), context)
        return response["statusCode"], json.loads(response["body"]) if response.get("body") else None

    def upload() -> str:
        status, created = call(
            "POST", "/uploads", body={"filename": "p.jpg", "contentType": "image/jpeg", "size": 9000}
        )
        assert status == 201
        aws("s3").put_object(Bucket=stack.uploads_bucket, Key=created["key"], Body=images.jpeg(300, 200))
        wait_for_row(created["imageId"])
        return created["imageId"]

    image = upload()
    assert call("GET", "/images", query={"limit": "5"})[0] == 200
    assert call("GET", f"/images/{image}")[0] == 200  # presigned GETs: original, renditions
    status, steps = call("GET", f"/images/{image}/steps")  # the execution's history, if the row names one
    assert status == 200
    assert (steps["executionArn"] is not None) == (stack.workflow == "stepfunctions"), steps
    status, share = call("POST", f"/images/{image}/share", body={"expiresIn": 60})
    assert status == 201
    assert call("GET", f"/share/{share['token']}")[0] == 302  # presigned GET of the proof
    assert call("DELETE", f"/images/{image}/share/{share['token']}")[0] == 204

    assert call("DELETE", f"/images/{image}")[0] == 204  # the original; its S3 event does the rest
    assert call("GET", f"/images/{image}")[0] == 404  # hidden at once

    required = required_permissions(recorder.calls, resolver) | platform_permissions(
        resolver, "ApiLogGroup", None
    )
    assert_exact_role(statements, required)


# --- Stepfunctions mode: the starter, the steps, the state machine --------------------------------


def run_every_step(module, aws, stack) -> None:
    """Drive the steps as the state machine does (statemachine/pipeline.asl.json): an upload's
    prepare then record; a rejection's prepare, its Catch path (reject), then record; exhausted
    retries' mark_retrying; a removal's remove. Each change as the starter hands it over."""
    s3 = aws("s3")
    context = LambdaContext(stack.function_name)
    prefix = f"e2e/permissions-{uuid.uuid4().hex[:8]}"
    moments = iter(f"2099-01-01T00:00:{second:02}.000Z" for second in range(60))
    execution = execution_arn(stack, f"permissions-{uuid.uuid4().hex[:8]}")

    def step(name: str, **arguments: Any) -> dict:
        return module.handler({"step": name, "execution": execution, **arguments}, context)

    def change(name: str, key: str, **facts: Any) -> dict:
        notification = s3_event(name, stack.uploads_bucket, key, next(moments), **facts)
        return from_eventbridge(eventbridge_event(notification))

    def created(key: str, data: bytes) -> dict:
        etag = s3.put_object(Bucket=stack.uploads_bucket, Key=key, Body=data)["ETag"].strip('"')
        return change("ObjectCreated:Put", key, etag=etag, size=len(data))

    def uploaded(created_change: dict) -> str:
        return step("record", prepared=step("prepare", change=created_change))["result"]["outcome"]

    def rejected(created_change: dict) -> str:
        with pytest.raises(module.ImageRejected) as rejection:
            step("prepare", change=created_change)
        # What a Catch gets of a Lambda error: its type, and its JSON as the cause.
        cause = {"errorMessage": str(rejection.value), "errorType": "ImageRejected", "stackTrace": []}
        error = {"Error": "ImageRejected", "Cause": json.dumps(cause)}
        return step("record", prepared=step("reject", error=error))["result"]["outcome"]

    photo = f"{prefix}/photo.jpg"
    assert uploaded(created(photo, images.jpeg(800, 600))) == "PROCESSED"
    # Two newer versions recorded out of order: the newest replaces the first's renditions, the
    # one between is superseded and its renditions are deleted again.
    between = step("prepare", change=created(photo, images.jpeg(600, 800)))
    assert uploaded(created(photo, images.jpeg(640, 480))) == "PROCESSED"
    assert step("record", prepared=between)["result"]["outcome"] == "SUPERSEDED"
    assert rejected(created(f"{prefix}/notes.jpg", images.TEXT)) == "FAILED"
    assert rejected(created(f"{prefix}/big.jpg", images.jpeg(400, 300) + bytes(400 * 1024))) == "FAILED"

    # The state machine's publish failed until its retries ran out: the row says RETRYING.
    outage = created(f"{prefix}/outage.jpg", images.jpeg(300, 200))
    assert uploaded(outage) == "PROCESSED"
    error = {"Error": "SNS.NotFoundException", "Cause": "Topic does not exist"}
    assert step("mark_retrying", change=outage, error=error)["Error"] == "SNS.NotFoundException"

    legacy = legacy_row(aws, stack, f"{prefix}/legacy.jpg")

    for key in (photo, f"{prefix}/notes.jpg", f"{prefix}/big.jpg", f"{prefix}/outage.jpg", legacy):
        s3.delete_object(Bucket=stack.uploads_bucket, Key=key)
        assert step("remove", change=change("ObjectRemoved:Delete", key))["result"]["outcome"] == "DELETED"
    never = change("ObjectRemoved:Delete", f"{prefix}/never-uploaded.jpg")
    assert step("remove", change=never)["result"]["outcome"] == "NOTHING_TO_DELETE"
    assert "Contents" not in s3.list_objects_v2(
        Bucket=stack.thumbnails_bucket, Prefix=f"thumbnails/{legacy}/"
    )


@pytest.mark.workflows("stepfunctions")
def test_workflow_steps_role_allows_exactly_what_its_code_does(aws, stack, in_process, translated, resolver):
    module, recorder = in_process(
        stack.function_name, "WorkflowStepsFunction", MAX_UPLOAD_BYTES=str(300 * 1024)
    )
    statements = role_statements(translated, "WorkflowStepsFunction", resolver)

    run_every_step(module, aws, stack)
    required = required_permissions(recorder.calls, resolver)
    # Step Functions invokes it synchronously: failures stay in the execution, no destination.
    required |= platform_permissions(resolver, "WorkflowStepsLogGroup", None)
    assert_exact_role(statements, required)


@pytest.mark.workflows("stepfunctions")
def test_start_workflow_role_allows_exactly_what_its_code_does(aws, stack, in_process, translated, resolver):
    assert stack.start_function_name
    module, recorder = in_process(stack.start_function_name, "StartWorkflowFunction")
    statements = role_statements(translated, "StartWorkflowFunction", resolver)
    context = LambdaContext(stack.start_function_name)

    # The removal of a key never uploaded: its execution has nothing to do but leave a tombstone.
    key = f"e2e/permissions-{uuid.uuid4().hex[:8]}/never-uploaded.jpg"
    notification = s3_event("ObjectRemoved:Delete", stack.uploads_bucket, key, "2099-01-01T00:00:00.000Z")
    event = eventbridge_event(notification)
    started = module.handler(event, context)
    assert started["started"]
    execution = wait_for_execution(aws, execution_arn(stack, str(started["executionName"])))
    assert execution["status"] == "SUCCEEDED", execution
    # A duplicate delivery. (While the first still runs, StartExecution with the same name and
    # input answers as it did the first time; after that, ExecutionAlreadyExists.)
    assert module.handler(event, context) == {**started, "started": False}
    aws("dynamodb").delete_item(
        TableName=stack.table, Key={"ImageID": {"S": image_id(stack.uploads_bucket, key)}}
    )

    required = required_permissions(recorder.calls, resolver)
    # Its EventInvokeConfig parks events whose retries are exhausted in the dead-letter queue.
    required |= platform_permissions(resolver, "StartWorkflowLogGroup", "DeadLetterQueue")
    assert_exact_role(statements, required)


def state_machine_definition(translated: dict, resolver: Resolver) -> dict:
    """The definition file the template names, with its DefinitionSubstitutions resolved."""
    sam_properties = load_template(REPO_ROOT / "template.yaml")["Resources"]["PipelineStateMachine"]
    text = (REPO_ROOT / sam_properties["Properties"]["DefinitionUri"]).read_text()
    properties = translated["Resources"]["PipelineStateMachine"]["Properties"]
    for name, value in properties.get("DefinitionSubstitutions", {}).items():
        text = text.replace("${" + name + "}", resolver.resolve(value))
    assert "${" not in text, "a substitution the template does not define"
    return json.loads(text)


def state_machine_permissions(definition: dict) -> set[Permission]:
    """What the role must allow for the definition's tasks to run."""
    required: set[Permission] = set()
    for name, state in definition["States"].items():
        assert state["Type"] not in ("Map", "Parallel"), f"{name}: extend state_machine_permissions"
        if state["Type"] != "Task":
            continue
        if state["Resource"].startswith("arn:aws:lambda:"):
            required.add(("lambda:InvokeFunction", state["Resource"]))
        elif state["Resource"] == "arn:aws:states:::sns:publish":
            required.add(("sns:Publish", state["Parameters"]["TopicArn"]))
        else:
            raise AssertionError(f"{name}: {state['Resource']}: extend state_machine_permissions")
    return required


@pytest.mark.workflows("stepfunctions")
def test_state_machine_role_allows_exactly_what_its_definition_calls(stack, translated, resolver):
    statements = role_statements(translated, "PipelineStateMachine", resolver)
    required = state_machine_permissions(state_machine_definition(translated, resolver))
    steps_function = resolver.arns["WorkflowStepsFunction"]
    assert required == {("lambda:InvokeFunction", steps_function), ("sns:Publish", stack.topic_arn)}
    assert_exact_role(statements, required)
    # The role is SAM's, from policy templates, which are granted as they are: LambdaInvokePolicy
    # allows `function:<name>*` (the function's versions and aliases, and any function whose name
    # begins with its name), SNSPublishMessagePolicy the one topic. Exactly those, nothing else.
    granted = {
        (action, resource)
        for statement in statements
        for action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    }
    assert granted == {("lambda:InvokeFunction", f"{steps_function}*"), ("sns:Publish", stack.topic_arn)}
