"""CloudFormation updates that LocalStack 4.14 cannot apply (a REST API, a bucket, resources a
condition switches on), applied in place.

Change a SAM API's routes and LocalStack 4.14 ends the update in ROLLBACK_COMPLETE:

- ``AWS::ApiGateway::RestApi`` has no update handler, so a new ``Body`` (SAM's generated OpenAPI
  document: the routes) is silently ignored and the API keeps its old routes;
- the stage's ``RestApiId`` is a ``Ref`` to that API, and the change-set engine counts a ``Ref`` to a
  modified resource as a changed create-only property, so it *replaces* the stage: it creates a
  stage of the same name while the old one exists (``ConflictException: Stage already exists``),
  then would delete the old one, which is the same stage.

On AWS both are in-place updates. Here: the API's update re-imports the body (``put_rest_api`` in
overwrite mode, as its create does with ``mode`` unset), the stage's "replacement" adopts the
existing stage and points it at the new deployment, and the clean-up of the "old" stage leaves a
stage alone once it serves another deployment.

Also: LocalStack's import ignores the body's ``x-amazon-apigateway-gateway-responses`` (SAM's
``GatewayResponses``, e.g. CORS headers on API Gateway's own 403s), so create and update apply them.

Enabled in host mode through a LocalStack ``on_infra_start`` hook (entry point in pyproject.toml).
"""

from __future__ import annotations

import json
import logging

from localstack.runtime import hooks
from localstack.utils.patch import patch

LOG = logging.getLogger(__name__)


def _stage_patch_operations(current: dict, desired: dict) -> list[dict[str, str]]:
    """PATCH operations that make a live stage what the template now declares."""
    operations = []
    if desired.get("DeploymentId") and desired["DeploymentId"] != current.get("deploymentId"):
        operations.append({"op": "replace", "path": "/deploymentId", "value": desired["DeploymentId"]})
    if "Description" in desired and desired["Description"] != current.get("description"):
        operations.append({"op": "replace", "path": "/description", "value": desired["Description"]})
    wanted, live = desired.get("Variables") or {}, current.get("variables") or {}
    for name, value in wanted.items():
        if live.get(name) != value:
            operations.append({"op": "replace", "path": f"/variables/{name}", "value": str(value)})
    for name in live.keys() - wanted.keys():
        operations.append({"op": "remove", "path": f"/variables/{name}"})
    return operations


GATEWAY_RESPONSES = "x-amazon-apigateway-gateway-responses"


def _apply_gateway_responses(api, rest_api_id: str, body: object) -> None:
    """The gateway responses an OpenAPI body declares, as API Gateway's import applies them."""
    if isinstance(body, str):
        body = json.loads(body)
    for response_type, spec in ((body or {}).get(GATEWAY_RESPONSES) or {}).items():
        settings = {
            name: spec[key]
            for name, key in (
                ("statusCode", "statusCode"),
                ("responseParameters", "responseParameters"),
                ("responseTemplates", "responseTemplates"),
            )
            if spec.get(key)
        }
        api.put_gateway_response(restApiId=rest_api_id, responseType=response_type, **settings)


@hooks.on_infra_start()
def apply_rest_api_updates_in_place() -> None:
    from localstack.services.apigateway.resource_providers.aws_apigateway_restapi import (
        ApiGatewayRestApiProvider,
    )
    from localstack.services.apigateway.resource_providers.aws_apigateway_stage import (
        ApiGatewayStageProvider,
    )
    from localstack.services.cloudformation.resource_provider import OperationStatus, ProgressEvent
    from localstack.utils.strings import to_bytes

    @patch(ApiGatewayRestApiProvider.update, pass_target=False)
    def update_rest_api(self, request):
        model, previous = request.desired_state, request.previous_state or {}
        model["RestApiId"] = previous["RestApiId"]
        model["RootResourceId"] = previous.get("RootResourceId")
        api = request.aws_client_factory.apigateway
        body = model.get("Body")
        if body and body != previous.get("Body"):
            parameters = model.get("Parameters", {})
            parameters.setdefault("basepath", "ignore")  # as create imports it
            api.put_rest_api(
                restApiId=model["RestApiId"],
                mode="overwrite",
                body=to_bytes(json.dumps(body) if isinstance(body, dict) else body),
                parameters=parameters,
            )
            LOG.info("REST API %s: routes updated in place", model["RestApiId"])
            _apply_gateway_responses(api, model["RestApiId"], body)
        return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model)

    @patch(ApiGatewayRestApiProvider.create)
    def create_rest_api(create, self, request):
        event = create(self, request)
        if event.status == OperationStatus.SUCCESS and request.desired_state.get("Body"):
            api = request.aws_client_factory.apigateway
            _apply_gateway_responses(api, event.resource_model["RestApiId"], request.desired_state["Body"])
        return event

    def _update_stage(request, model):
        api = request.aws_client_factory.apigateway
        current = api.get_stage(restApiId=model["RestApiId"], stageName=model["StageName"])
        if operations := _stage_patch_operations(current, model):
            api.update_stage(
                restApiId=model["RestApiId"], stageName=model["StageName"], patchOperations=operations
            )
        return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model)

    @patch(ApiGatewayStageProvider.create)
    def create_stage(create, self, request):
        model = request.desired_state
        model.setdefault("StageName", "default")
        api = request.aws_client_factory.apigateway
        existing = {stage["stageName"] for stage in api.get_stages(restApiId=model["RestApiId"])["item"]}
        if model["StageName"] not in existing:
            return create(self, request)
        # The engine's "replacement" of a stage whose API was modified: update the stage instead.
        LOG.info("Stage %s of %s: updated in place", model["StageName"], model["RestApiId"])
        return _update_stage(request, model)

    @patch(ApiGatewayStageProvider.update, pass_target=False)
    def update_stage(self, request):
        return _update_stage(request, request.desired_state)

    @patch(ApiGatewayStageProvider.delete)
    def delete_stage(delete, self, request):
        model = request.desired_state
        api = request.aws_client_factory.apigateway
        try:
            live = api.get_stage(restApiId=model["RestApiId"], stageName=model.get("StageName", "default"))
        except api.exceptions.NotFoundException:
            live = None
        if live and model.get("DeploymentId") and live.get("deploymentId") != model["DeploymentId"]:
            # The clean-up after a "replacement": this stage now serves the new deployment.
            return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model)
        return delete(self, request)


@hooks.on_infra_start()
def switch_resources_with_their_conditions() -> None:
    """Updates that switch resources on or off through a condition (`make deploy
    WORKFLOW=stepfunctions` over a direct-mode stack, and back), which LocalStack 4.14's change-set
    engine gets wrong twice.

    Off: the engine skips every resource whose condition is now false, also one that exists, so it
    is never deleted (and switching it on again fails: "log group already exists"). Here a resource
    is skipped only when its condition is false after *and* was not true before.

    On (and off): it fails with "Unresolved resource dependencies [X]" or "Undefined variable name
    in Fn::Sub": it computes a reference's value before *and* after the update, also on the side
    where the resource holding the reference does not exist, and a `Fn::GetAtt` (or a `Fn::Sub`
    naming an attribute, or a variable bound to a `Ref`) of a resource switched off there raises.
    Here a reference's value is computed only on the sides where its own resource exists, and is
    "nothing" on the others. On AWS both are ordinary updates."""
    from localstack.services.cloudformation.engine.v2.change_set_model import Nothing, is_nothing
    from localstack.services.cloudformation.engine.v2.change_set_model_preproc import (
        ChangeSetModelPreproc,
    )
    from localstack.services.cloudformation.engine.v2.change_set_model_validator import (
        ChangeSetModelValidator,
    )

    def absent_sides(self, scope) -> list[str]:
        """The sides (before, after) on which the resource holding this scope does not exist."""
        parts = str(scope).split("/")
        if len(parts) < 3 or parts[1] != "Resources":
            return []
        for node_resource in self._change_set.update_model.node_template.resources.resources:
            if node_resource.name == parts[2] and not is_nothing(node_resource.condition_reference):
                condition = self._resolve_resource_condition_reference(node_resource.condition_reference)
                return [side for side in ("before", "after") if getattr(condition, side) is False]
        return []

    known = object()

    def caches(self, side: str) -> dict:
        return self._before_cache if side == "before" else self._after_cache

    def on_existing_sides_only(visit, self, node_intrinsic_function):
        """The reference's value where its resource exists; "nothing" where it does not (the
        engine computes only what its caches lack)."""
        scope = node_intrinsic_function.scope
        sides = [
            side for side in absent_sides(self, scope) if is_nothing(caches(self, side).get(scope, Nothing))
        ]
        if not sides:
            return visit(self, node_intrinsic_function)
        for side in sides:
            caches(self, side)[scope] = known
        try:
            delta = visit(self, node_intrinsic_function)
        finally:
            for side in sides:
                caches(self, side).pop(scope, None)
        for side in sides:
            if getattr(delta, side) is known:
                setattr(delta, side, Nothing)
        return delta

    @patch(ChangeSetModelPreproc.visit_node_resources, pass_target=False)
    def visit_node_resources(self, node_resources) -> None:
        for node_resource in node_resources.resources:
            if not is_nothing(node_resource.condition_reference):
                condition = self._resolve_resource_condition_reference(node_resource.condition_reference)
                if condition.after is False and condition.before is not True:
                    continue  # neither there before nor after
            self.visit(node_resource)

    # (The validator that runs first has a Fn::Sub of its own; its Fn::GetAtt calls this one.)
    for method in (
        ChangeSetModelPreproc.visit_node_intrinsic_function_fn_sub,
        ChangeSetModelValidator.visit_node_intrinsic_function_fn_sub,
        ChangeSetModelPreproc.visit_node_intrinsic_function_fn_get_att,
    ):
        patch(method)(on_existing_sides_only)


@hooks.on_infra_start()
def update_buckets_in_place() -> None:
    """LocalStack 4.14 cannot update an ``AWS::S3::Bucket`` (its provider raises
    NotImplementedError, and the stack still ends UPDATE_COMPLETE): a changed notification
    configuration, CORS rule or website is silently ignored. So switching the pipeline's Workflow
    over an existing stack would leave the uploads bucket invoking the old target. Here an update
    applies what the create applies (notifications, versioning, CORS, tags, website), each only when
    it changed; the bucket's name is create-only (a new name is a replacement, not an update)."""
    from localstack.services.cloudformation.resource_provider import OperationStatus, ProgressEvent
    from localstack.services.s3.resource_providers.aws_s3_bucket import S3BucketProvider

    @patch(S3BucketProvider.update, pass_target=False)
    def update_bucket(self, request):
        model, previous = request.desired_state, request.previous_state or {}
        model["BucketName"] = bucket = previous["BucketName"]
        s3 = request.aws_client_factory.s3
        self._setup_post_creation_attributes(model, request.region_name)

        def changed(name: str) -> bool:
            return model.get(name) != previous.get(name)

        if changed("NotificationConfiguration"):
            notifications = self._get_s3_bucket_notification_config(model)
            s3.put_bucket_notification_configuration(
                **(notifications or {"Bucket": bucket, "NotificationConfiguration": {}})
            )
        if changed("VersioningConfiguration") and (versioning := model.get("VersioningConfiguration")):
            s3.put_bucket_versioning(
                Bucket=bucket, VersioningConfiguration={"Status": versioning.get("Status", "Suspended")}
            )
        if changed("CorsConfiguration"):
            if cors := self._transform_cfn_cors(model.get("CorsConfiguration")):
                s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=cors)
            else:
                s3.delete_bucket_cors(Bucket=bucket)
        if changed("Tags"):
            if tags := model.get("Tags"):
                s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
            else:
                s3.delete_bucket_tagging(Bucket=bucket)
        if changed("WebsiteConfiguration"):
            if website := self._transform_website_configuration(model.get("WebsiteConfiguration")):
                s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration=website)
            else:
                s3.delete_bucket_website(Bucket=bucket)
        LOG.info("bucket %s updated in place", bucket)
        return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model)
