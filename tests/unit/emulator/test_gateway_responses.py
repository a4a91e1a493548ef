"""Static header values of API Gateway gateway responses, as API Gateway reads them."""

from __future__ import annotations

from localstack_hostmode.apigateway import static_headers


def test_quoted_values_are_static_headers():
    parameters = {
        "gatewayresponse.header.Access-Control-Allow-Origin": "'*'",
        "gatewayresponse.header.X-Note": "'two words'",
        "gatewayresponse.header.X-From-Request": "method.request.header.Origin",  # not static
        "gatewayresponse.querystring.x": "'y'",  # not a header
    }
    assert static_headers(parameters) == {"Access-Control-Allow-Origin": "*", "X-Note": "two words"}


def test_nothing_declared_is_nothing_added():
    assert static_headers(None) == {} and static_headers({}) == {}
