"""Property tests of the whole API from its OpenAPI spec (schemathesis) on the real server.

Bounded: a few examples per operation, so the run stays well under a minute.
Checks: no 5xx, and every response conforms to the spec (status code
documented, body, headers and content type as declared). Left out on
purpose: the negative-testing checks (a request the schema forbids must be
refused; an undeclared method must get 405): pydantic's lax mode accepts
``0`` for ``false``, and ``GET /api/flows/filter`` reaches ``GET
/api/flows/{flow_id}`` (422 for a bad id), as in Prefect.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.config import SchemathesisConfig

# One test walks every operation (about 80, work pools and deployments included):
# more than the default 120 s per test on a busy VM.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

MAX_EXAMPLES = 25

# The examples and fuzzing phases, bounded; not the coverage phase (hundreds of
# boundary cases per operation, past the time budget of this test).
CONFIG = SchemathesisConfig.from_dict(
    {"phases": {"coverage": {"enabled": False}}, "generation": {"max-examples": MAX_EXAMPLES}}
)
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture
def api_schema(server):
    return schemathesis.openapi.from_url(f"{server.api_url}/openapi.json", config=CONFIG)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_spec(case, server):
    case.call_and_validate(base_url=server.url, checks=CHECKS)
