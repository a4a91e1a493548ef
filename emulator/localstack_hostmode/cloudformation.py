"""CloudFormation updates of a REST API that LocalStack 4.14 cannot apply, applied in place.

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
