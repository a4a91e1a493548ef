"""Nobody in without the key: every route of the REST API refuses requests without the stack's API
key (or with a wrong one), except share links (for people without credentials) and CORS preflights.
API keys are what community LocalStack really enforces (its Lambda/IAM/Cognito authorizers are
accepted and ignored), so these tests prove something locally too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
import yaml

from tests.e2e.conftest import api_key_of, stack_outputs

OPENAPI = yaml.safe_load((Path(__file__).resolve().parents[3] / "api" / "openapi.yaml").read_text())
EXAMPLE_PARAMETERS = {"id": "0" * 32, "token": "t" * 32}
FORBIDDEN = {"message": "Forbidden"}  # API Gateway's answer, before the function runs


def operations() -> list[tuple[str, str, bool]]:
    """(method, path, needs a key) for every operation of the document, plus paths it lacks."""
    found = []
    for path, item in OPENAPI["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "delete", "put", "patch", "head"):
                security = operation.get("security", OPENAPI["security"])
                found.append((method.upper(), path, bool(security)))
    # The greedy route takes any path: those no one documented must be closed too.
    return [*found, ("GET", "/", True), ("PUT", "/not/a/route", True), ("GET", "/images/x/y/z", True)]


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda match: EXAMPLE_PARAMETERS[match[1]], path)


@pytest.mark.parametrize(("method", "path", "needs_key"), operations(), ids=lambda value: str(value))
def test_every_route_needs_the_key(aws, api_url, method, path, needs_key):
    url = f"{api_url}{concrete(path)}"
    key = api_key_of(aws)
    without = requests.request(method, url, timeout=30, allow_redirects=False)
    wrong = requests.request(method, url, headers={"x-api-key": key[::-1]}, timeout=30, allow_redirects=False)
    right = requests.request(method, url, headers={"x-api-key": key}, timeout=30, allow_redirects=False)
    if needs_key:
        assert (without.status_code, without.json()) == (403, FORBIDDEN)
        assert (wrong.status_code, wrong.json()) == (403, FORBIDDEN)
        # API Gateway's refusal is readable by the web page (CORS), so it can ask for the key.
        assert without.headers.get("Access-Control-Allow-Origin") == "*"
    else:
        assert without.status_code != 403 and without.status_code == right.status_code
    assert right.status_code != 403 and right.headers["Content-Type"].startswith(("application/json", "text"))


def test_no_method_of_the_deployed_api_is_left_open(aws):
    """What API Gateway itself has: every method but CORS preflights and share links needs the key.
    Fails when a route is added to the template without it."""
    api_id = stack_outputs(aws)["ApiId"]
    resources = aws("apigateway").get_resources(restApiId=api_id, embed=["methods"])["items"]
    open_methods = sorted(
        f"{method} {resource['path']}"
        for resource in resources
        for method, settings in resource.get("resourceMethods", {}).items()
        if not settings.get("apiKeyRequired") and method != "OPTIONS"
    )
    assert open_methods == ["ANY /share/{token}"]


def test_cors_preflights_need_no_key(api_url):
    preflight = requests.options(
        f"{api_url}/images",
        headers={
            "Origin": "http://example.test",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-api-key",
        },
        timeout=30,
    )
    assert preflight.status_code == 200
    assert "x-api-key" in preflight.headers["Access-Control-Allow-Headers"].lower()
