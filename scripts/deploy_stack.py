"""Deploy template.yaml into the emulator, or print the stack's outputs.

    deploy_stack.py deploy    upload the function package, create or update the stack, wait
    deploy_stack.py outputs   print the stack's Outputs

Run by the init hook (init/20-deploy-pipeline.sh) when LocalStack is ready, in host mode and in
Docker, and by `make deploy` to push code changes. Like `aws cloudformation package` + `deploy`,
but polling every 0.2 s instead of every 30 s, and loud about why a stack failed.
Needs only boto3 and PyYAML, which LocalStack itself depends on, so it runs in LocalStack's
container as it is.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import yaml
from botocore.exceptions import ClientError, EndpointConnectionError
from dotenv import dotenv_values  # a LocalStack dependency, so also in its container

ROOT = Path(os.environ.get("PIPELINE_ROOT") or Path(__file__).resolve().parent.parent)


def local_setting(name: str) -> str:
    """An emulator setting: the environment's (make and docker-compose pass them), else emulator.env's."""
    return os.environ.get(name) or dotenv_values(ROOT / "emulator.env").get(name) or ""


TEMPLATE = ROOT / "template.yaml"
BUILD_DIR = ROOT / "build"
FUNCTION_PACKAGES = {
    "ImageProcessorFunction": "image-processor-{architecture}.zip",
    "ApiFunction": "image-processor-{architecture}.zip",  # one package, every handler
    "StartWorkflowFunction": "image-processor-{architecture}.zip",
    "WorkflowStepsFunction": "image-processor-{architecture}.zip",
}
WEB_DIR = ROOT / "web"
# Where a browser or shell on this machine reaches the emulator (presigned URLs, the web page).
PUBLIC_ENDPOINT = os.environ.get("PUBLIC_ENDPOINT") or f"http://localhost:{local_setting('LOCALSTACK_PORT')}"
CONTENT_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
POLL_SECONDS = 0.2
TIMEOUT_SECONDS = 300
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")


class DeployError(Exception):
    pass


# --- Template -----------------------------------------------------------------------------------


class CloudFormationLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form intrinsics (!Ref, !Sub, !GetAtt, ...)."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix in ("Ref", "Condition"):
        return {tag_suffix: value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


CloudFormationLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=CloudFormationLoader)


def host_architecture() -> str:
    return "arm64" if os.uname().machine in ("arm64", "aarch64") else "x86_64"


# --- Deployment ---------------------------------------------------------------------------------


def upload_packages(s3, bucket: str, architecture: str) -> dict[str, dict[str, str]]:
    """Upload each function's zip under its content hash; returns logical id -> CodeUri."""
    code_uris = {}
    for logical_id, file_pattern in FUNCTION_PACKAGES.items():
        package = BUILD_DIR / file_pattern.format(architecture=architecture)
        if not package.exists():
            raise DeployError(f"{package} is missing: run `make build` first")
        data = package.read_bytes()
        key = f"functions/{hashlib.sha256(data).hexdigest()}.zip"
        s3.put_object(Bucket=bucket, Key=key, Body=data)
        code_uris[logical_id] = {"Bucket": bucket, "Key": key}
    return code_uris


def hot_reload_code(architecture: str) -> dict[str, dict[str, str]]:
    """LocalStack's hot-reload convention: the functions run lambda/ as it is on disk (host mode
    notices an edit on the next invocation); their dependencies come from a directory of their own
    (build/hot-reload/<arch>, `make up HOT_RELOAD=1` installs it), put on their PYTHONPATH."""
    mode_file = ROOT / ".localstack" / "emulator.mode"  # written by scripts/emulator.sh
    if mode_file.is_file() and mode_file.read_text().strip() == "docker":
        # LocalStack's Docker executor mounts the code directory only: the dependencies, kept apart
        # here, would be missing in the function's container.
        raise DeployError(
            "HOT_RELOAD=1 is for host mode; in Docker, LocalStack's own hot reload needs the code and "
            "its dependencies in one directory (see README: hot reload)"
        )
    dependencies = BUILD_DIR / "hot-reload" / architecture
    if not dependencies.is_dir():
        raise DeployError(f"{dependencies} is missing: run `make up HOT_RELOAD=1` (it installs it)")
    code = {"Bucket": "hot-reload", "Key": str(ROOT / "lambda")}
    return dict.fromkeys(FUNCTION_PACKAGES, code)


def use_hot_reload(template: dict[str, Any], architecture: str) -> None:
    for logical_id, code_uri in hot_reload_code(architecture).items():
        template["Resources"][logical_id]["Properties"]["CodeUri"] = code_uri
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    variables["PYTHONPATH"] = str(BUILD_DIR / "hot-reload" / architecture)


def upload_state_machines(s3, bucket: str, template: dict[str, Any]) -> None:
    """A state machine's DefinitionUri (a file beside the template) uploaded under its content hash,
    as `sam package` does (an inline Definition with a JSON null fails LocalStack's change set)."""
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::StateMachine" and isinstance(
            properties.get("DefinitionUri"), str
        ):
            data = (ROOT / properties["DefinitionUri"]).read_bytes()
            key = f"statemachines/{hashlib.sha256(data).hexdigest()}.asl.json"
            s3.put_object(Bucket=bucket, Key=key, Body=data)
            properties["DefinitionUri"] = {"Bucket": bucket, "Key": key}


def local_api_url(api_id: str) -> str:
    return f"{PUBLIC_ENDPOINT}/_aws/execute-api/{api_id}/api"


def check_renditions(declaration: str) -> None:
    """The function's own parser, before anything is deployed: a bad declaration fails here, with
    the function's message, rather than at every upload. (Standard library only, so it runs in
    LocalStack's container too.)"""
    path = ROOT / "lambda" / "image_pipeline" / "renditions.py"
    spec = importlib.util.spec_from_file_location("pipeline_renditions", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    try:
        module.parse_renditions(declaration)
    except module.RenditionsError as error:
        raise DeployError(f"Renditions={declaration!r} is invalid: {error}") from error


def publish_web_page(s3, outputs: dict[str, str]) -> None:
    """web/ into the web bucket, with config.js telling the page where the API is."""
    bucket = outputs["WebBucketName"]
    for path in sorted(WEB_DIR.rglob("*")):
        if path.is_file():
            content_type = CONTENT_TYPES.get(path.suffix, "application/octet-stream")
            key = path.relative_to(WEB_DIR).as_posix()
            s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=content_type)
    config = f"window.PIPELINE_CONFIG = {json.dumps({'apiUrl': local_api_url(outputs['ApiId'])})};\n"
    s3.put_object(Bucket=bucket, Key="config.js", Body=config.encode(), ContentType="text/javascript")


def ensure_bucket(s3, bucket: str) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        s3.create_bucket(Bucket=bucket)


def stack_status(cloudformation, stack_name: str) -> str | None:
    try:
        return cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise


def wait_for(describe, done, failed, what: str) -> dict[str, Any]:
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        state = describe()
        if done(state) or failed(state):
            return state
        time.sleep(POLL_SECONDS)
    raise DeployError(f"{what} did not finish within {TIMEOUT_SECONDS} s")


def failure_reasons(cloudformation, stack_name: str) -> list[str]:
    events = cloudformation.describe_stack_events(StackName=stack_name)["StackEvents"]
    return [
        f"{event['LogicalResourceId']} ({event['ResourceType']}): {event.get('ResourceStatusReason', '')}"
        for event in events
        if event["ResourceStatus"].endswith("FAILED")
    ]


def ever_deployed(cloudformation, stack_name: str) -> bool:
    """Whether the stack ever completed a create or an update: then it holds data."""
    paginator = cloudformation.get_paginator("describe_stack_events")
    return any(
        event["LogicalResourceId"] == stack_name
        and event["ResourceStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_IN_PROGRESS")
        for page in paginator.paginate(StackName=stack_name)
        for event in page["StackEvents"]
    )


def deploy(
    stack_name: str,
    architecture: str,
    parameters: dict[str, str],
    template: dict[str, Any] | None = None,
    keep_previous: tuple[str, ...] = (),
) -> None:
    """Create or update the stack. Parameters named in `keep_previous` and not in `parameters`
    keep the value the stack has (a code-only `make deploy` does not reset the renditions)."""
    session = boto3.session.Session()
    cloudformation, s3 = session.client("cloudformation"), session.client("s3")
    account = session.client("sts").get_caller_identity()["Account"]
    artifacts_bucket = f"{stack_name}-artifacts-{account}-{session.region_name}"
    ensure_bucket(s3, artifacts_bucket)

    template = template or load_template(TEMPLATE)
    upload_state_machines(s3, artifacts_bucket, template)
    if os.environ.get("HOT_RELOAD") == "1":
        use_hot_reload(template, architecture)
        print("Hot reload: the functions run lambda/ from disk; an edit takes effect on the next invocation")
    else:
        for logical_id, code_uri in upload_packages(s3, artifacts_bucket, architecture).items():
            template["Resources"][logical_id]["Properties"]["CodeUri"] = code_uri

    status = stack_status(cloudformation, stack_name)
    if status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED", "CREATE_FAILED"):
        if ever_deployed(cloudformation, stack_name):
            # LocalStack 4.14 reports a failed *update* as ROLLBACK_COMPLETE too. Deleting the stack
            # would delete its buckets and tables, and every upload and row in them.
            raise DeployError(
                f"stack {stack_name} is {status} after a failed update; its buckets and tables still "
                "hold your data, so it is not deleted automatically.\n"
                "  To keep the data: `make save`, then `make reset` (a fresh emulator), then `make load`.\n"
                "  To throw it away: `make reset`."
            )
        print(
            f"Stack {stack_name} is {status} (its first create failed); deleting it before creating it again"
        )
        cloudformation.delete_stack(StackName=stack_name)
        deleted = wait_for(
            lambda: {"status": stack_status(cloudformation, stack_name)},
            lambda state: state["status"] in (None, "DELETE_COMPLETE"),
            lambda state: state["status"] == "DELETE_FAILED",
            f"deleting {stack_name}",
        )
        if deleted["status"] == "DELETE_FAILED":
            reasons = "\n  ".join(failure_reasons(cloudformation, stack_name)) or "(no failure events)"
            raise DeployError(f"deleting the failed stack {stack_name} failed:\n  {reasons}")
        status = None
    change_set_type = "CREATE" if status in (None, "DELETE_COMPLETE", "REVIEW_IN_PROGRESS") else "UPDATE"
    given = [{"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items()]
    if change_set_type == "UPDATE":
        stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
        existing = {parameter["ParameterKey"] for parameter in stack.get("Parameters", [])}
        given += [
            {"ParameterKey": key, "UsePreviousValue": True}
            for key in keep_previous
            if key not in parameters and key in existing
        ]

    started = time.monotonic()
    change_set_name = f"deploy-{int(time.time() * 1000)}"
    cloudformation.create_change_set(
        StackName=stack_name,
        ChangeSetName=change_set_name,
        ChangeSetType=change_set_type,
        TemplateBody=json.dumps(template),
        Parameters=given,
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    change_set = wait_for(
        lambda: cloudformation.describe_change_set(StackName=stack_name, ChangeSetName=change_set_name),
        lambda state: state["Status"] == "CREATE_COMPLETE",
        lambda state: state["Status"] == "FAILED",
        "the change set",
    )
    if change_set["Status"] == "FAILED":
        reason = change_set.get("StatusReason", "")
        if any(marker in reason for marker in NO_CHANGES):
            print(f"Stack {stack_name} is up to date")
            publish_web_page(s3, stack_outputs(cloudformation, stack_name))
            return
        raise DeployError(f"the change set for {stack_name} failed: {reason}")

    cloudformation.execute_change_set(StackName=stack_name, ChangeSetName=change_set_name)
    final = wait_for(
        lambda: {"status": stack_status(cloudformation, stack_name)},
        lambda state: state["status"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE"),
        lambda state: state["status"] is None or "FAILED" in state["status"] or "ROLLBACK" in state["status"],
        f"the stack {stack_name}",
    )
    if final["status"] not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        reasons = "\n  ".join(failure_reasons(cloudformation, stack_name)) or "(no failure events)"
        raise DeployError(f"stack {stack_name} ended {final['status']}:\n  {reasons}")
    print(f"Stack {stack_name}: {final['status']} in {time.monotonic() - started:.1f} s ({architecture})")
    publish_web_page(s3, stack_outputs(cloudformation, stack_name))


def stack_outputs(cloudformation, stack_name: str) -> dict[str, str]:
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def print_outputs(stack_name: str) -> None:
    outputs = stack_outputs(boto3.client("cloudformation"), stack_name)
    for key, value in sorted(outputs.items()):
        print(f"  {key:28} {value}")
    print(f"Web page: {outputs['WebUrl']}\nREST API: {outputs['ApiUrl']}")
    if "ApiKeyId" in outputs:
        key = boto3.client("apigateway").get_api_key(apiKey=outputs["ApiKeyId"], includeValue=True)["value"]
        print(f"API key:  {key}  (header x-api-key; imgpipe finds it, the web page asks once)")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["deploy", "outputs"])
    parser.add_argument("--stack-name", default=local_setting("STACK_NAME"))
    parser.add_argument(
        "--architecture",
        default=os.environ.get("FUNCTION_ARCHITECTURE") or host_architecture(),
        choices=["x86_64", "arm64"],
        help="which package to deploy (default: this machine's)",
    )
    # Template parameters a local deploy may set; unset, they keep the stack's value (the
    # template's default on a first deploy).
    overrides = {
        "Renditions": os.environ.get("RENDITIONS", ""),
        "WatermarkText": os.environ.get("WATERMARK_TEXT", ""),
        "WatermarkLogoKey": os.environ.get("WATERMARK_LOGO_KEY", ""),
        "KeepLocation": os.environ.get("KEEP_LOCATION", ""),
        "Workflow": os.environ.get("WORKFLOW", ""),
    }
    args = parser.parse_args()
    try:
        if args.command == "deploy":
            parameters = {
                "Architecture": args.architecture,
                "PublicS3Endpoint": PUBLIC_ENDPOINT,
                # The API's id is the stack name (its `_custom_id_` tag), so its address is known.
                "PublicApiUrl": local_api_url(args.stack_name),
                **{name: value for name, value in overrides.items() if value},
            }
            if "Renditions" in parameters:
                check_renditions(parameters["Renditions"])
            deploy(args.stack_name, args.architecture, parameters, keep_previous=tuple(overrides))
        else:
            print_outputs(args.stack_name)
    except EndpointConnectionError as error:
        # scripts/failures.py says the same for the other targets; this file also runs as a plain
        # script inside LocalStack's container (the init hook), where the scripts package is not
        # importable, so it keeps its own line.
        if os.environ.get("DEBUG") == "1":
            raise
        print(
            f"error: cannot reach the emulator at {error.kwargs['endpoint_url']}: start it with `make up`",
            file=sys.stderr,
        )
        return 1
    except (DeployError, ClientError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
