"""API Gateway's own error responses with the headers their gateway responses declare.

LocalStack 4.14 answers API Gateway's refusals (a missing or wrong API key, no such route) with the
right status and body but leaves out the gateway response's ``responseParameters`` (a TODO in its
``GatewayExceptionHandler``). A SAM ``GatewayResponses`` entry that adds CORS headers, say, is then
missing, and a browser cannot read the 403. This applies the static header values
(``gatewayresponse.header.<Name>: "'value'"``) as API Gateway does. Enabled in host mode through a
LocalStack ``on_infra_start`` hook (entry point in pyproject.toml).
"""

from __future__ import annotations

from localstack.runtime import hooks
from localstack.utils.patch import patch

HEADER_PREFIX = "gatewayresponse.header."


def static_headers(response_parameters: dict[str, str] | None) -> dict[str, str]:
    """The headers with static values ('quoted') among a gateway response's parameters."""
    headers = {}
    for name, value in (response_parameters or {}).items():
        if name.startswith(HEADER_PREFIX) and len(value) >= 2 and value[0] == value[-1] == "'":
            headers[name.removeprefix(HEADER_PREFIX)] = value[1:-1]
    return headers


@hooks.on_infra_start()
def apply_gateway_response_headers() -> None:
    from localstack.services.apigateway.next_gen.execute_api.gateway_response import (
        get_gateway_response_or_default,
    )
    from localstack.services.apigateway.next_gen.execute_api.handlers.gateway_exception import (
        GatewayExceptionHandler,
    )

    @patch(GatewayExceptionHandler.create_exception_response)
    def create_exception_response(create, self, exception, context):
        response = create(self, exception, context)
        gateway_response = get_gateway_response_or_default(
            exception.type, context.deployment.rest_api.gateway_responses
        )
        for name, value in static_headers(gateway_response.get("responseParameters")).items():
            response.headers[name] = value
        return response
