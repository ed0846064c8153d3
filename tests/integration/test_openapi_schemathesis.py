"""The OpenAPI document against the running service: schemathesis over every operation.

The local stack (Azurite, GeoCatalog and Planetary Computer emulators, the local Functions host
running the real function_app with function keys enforced) serves `GET /api/openapi.json`. The
first test pins that the served document is `shared.openapi.openapi_document()` for the stack's
settings, which is the document schemathesis is loaded with here (it must exist when pytest
collects: schemathesis' `from_fixture` loader does not work with pytest 9, it reads a removed
`Item._nodeid`). Every operation then gets generated requests, valid and invalid, and every
response is checked against the document; a stateful run follows the document's links from
`POST /api/ingest` to the job operations, so job views, item pages, retries and cancels of real
jobs are checked too.

Deterministic and bounded: Hypothesis is derandomized (fixed seed, no example database) and
fuzzing draws at most MAX_EXAMPLES cases per operation; the examples and coverage phases add their
own fixed cases.

The document's examples name the real Planetary Computer; requests are pointed at the PC emulator
instead, so that the example requests (a dry-run stac-search with createCollection, item URLs, a
collection from the sentinel-2-l2a template) succeed here and their 2xx responses are checked.
Requests that happen to be valid create real jobs, which the host runs in the background.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
from schemathesis import Case, Response
from schemathesis.checks import not_a_server_error

from local.host.auth import FUNCTION_KEY_SETTING, MASTER_KEY_SETTING
from local.stack import LocalStack, StackConfig
from shared.openapi import openapi_document
from shared.settings import PipelineSettings

pytestmark = pytest.mark.integration

FUNCTION_KEY = "schemathesis-function-key"
MASTER_KEY = "schemathesis-master-key"
PLANETARY_COMPUTER = "https://planetarycomputer.microsoft.com"
SEED = 20240510
MAX_EXAMPLES = 40
STATEFUL_SCENARIOS = 15
STATEFUL_STEPS = 6
# Small limits, so that boundary cases stay small (an array at the default ceiling would be
# 100,000 items, each a table row), and a 413 takes a small body.
MAX_ITEMS = 25
INLINE_MAX_BYTES = 8192
LIMITS = PipelineSettings(max_items_ceiling=MAX_ITEMS, inline_payload_max_bytes=INLINE_MAX_BYTES)
DOCUMENT = openapi_document(LIMITS)

# Every check schemathesis has, except the one that cannot hold for this API.
EXCLUDED_CHECKS = {
    # A schema-valid request is not always accepted, by design: source and template hosts must be
    # on the allow-list, the target collection must exist, jobs must be ones this service issued
    # (400/422/404, each documented; JSON Schema cannot say "a host on this list").
    "positive_data_acceptance",
}

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "request-timeout": 60,
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
        "checks": {name: {"enabled": False} for name in EXCLUDED_CHECKS},
        "auth": {"openapi": {"functionKeyHeader": {"api_key": FUNCTION_KEY}}},
    }
)
# A copy: schemathesis may change the dict it is given, and the first test compares with DOCUMENT.
schema = schemathesis.openapi.from_dict(copy.deepcopy(DOCUMENT), config=CONFIG)


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    config = StackConfig(
        strict_auth=True,
        settings_overrides={
            FUNCTION_KEY_SETTING: FUNCTION_KEY,
            MASTER_KEY_SETTING: MASTER_KEY,
            "INGEST_MAX_ITEMS": str(MAX_ITEMS),
            "INGEST_INLINE_MAX_BYTES": str(INLINE_MAX_BYTES),
            # Jobs the fuzzer starts run in the same process; with the host.json batch of 16 per
            # queue their table writes fill the shared function thread pool and every HTTP call
            # waits seconds behind them (Flex Consumption scales HTTP functions on their own
            # instances, so Azure does not couple them like this). Two messages at a time keeps
            # the pipeline running beside the API without starving it.
            "AzureFunctionsJobHost__extensions__queues__batchSize": "2",
            "AzureFunctionsJobHost__extensions__queues__newBatchThreshold": "1",
        },
    )
    with LocalStack(config) as running:
        yield running


def _pc_emulator(stack: LocalStack) -> str:
    assert stack.planetary_computer is not None
    return stack.planetary_computer.base_url


def _local(value: Any, planetary_computer: str) -> Any:
    """`value` with the real Planetary Computer's URLs pointed at the PC emulator."""
    if isinstance(value, dict):
        return {k: _local(v, planetary_computer) for k, v in value.items()}
    if isinstance(value, list):
        return [_local(v, planetary_computer) for v in value]
    if isinstance(value, str) and value.startswith(PLANETARY_COMPUTER):
        return planetary_computer + value.removeprefix(PLANETARY_COMPUTER)
    return value


def _localise(case: Case, stack: LocalStack) -> None:
    if isinstance(case.body, dict | list):
        case.body = _local(case.body, _pc_emulator(stack))


def test_the_served_document_is_the_one_tested(stack: LocalStack) -> None:
    # Anonymous, as documented: no key is sent.
    response = httpx.get(f"{stack.base_url}/api/openapi.json", timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    # Built afresh: nothing a test did with DOCUMENT can make the two differ.
    assert response.json() == openapi_document(LIMITS)


@schema.parametrize()
def test_every_operation_matches_the_document(case: Case, stack: LocalStack) -> None:
    _localise(case, stack)
    case.call_and_validate(base_url=stack.base_url)


def test_job_workflows_match_the_document(stack: LocalStack) -> None:
    """POST /api/ingest, then the job operations its links lead to, with the ids it answered."""
    base = schema.as_state_machine()

    class Workflow(base):  # type: ignore[misc,valid-type]
        def before_call(self, case: Case) -> None:
            _localise(case, stack)

        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            return {"base_url": stack.base_url}

    Workflow.run(
        settings=hypothesis.settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=STATEFUL_STEPS,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )


def _checked(
    stack: LocalStack,
    path: str,
    method: str,
    body: Any = None,
    *,
    job_id: str | None = None,
) -> Response:
    """Send one request as a schemathesis case and check its response against the document
    (a documented 5xx included: here the failure is the point)."""
    operation = schema[path][method]
    if body is None:
        case = operation.Case(path_parameters={"jobId": job_id} if job_id else None)
    else:
        case = operation.Case(body=body, media_type="application/json")
    response = case.call(base_url=stack.base_url, headers={"x-functions-key": FUNCTION_KEY})
    case.validate_response(response, excluded_checks=[not_a_server_error])
    return response


def test_failure_responses_match_the_document(stack: LocalStack) -> None:
    """Failures the fuzzer cannot provoke: remote refusals, throttling, the size cap, conflicts."""
    assert stack.geocatalog is not None
    pc = _pc_emulator(stack)
    template = f"{pc}/api/stac/v1/collections/sentinel-2-l2a"
    items = {"collection": "failures-target", "source": {"type": "items", "items": [{}]}}

    oversized = {**items, "source": {"type": "items", "items": [{"pad": "x" * INLINE_MAX_BYTES}]}}
    assert _checked(stack, "/api/ingest", "POST", oversized).status_code == 413
    assert _checked(stack, "/api/ingest", "POST", items).status_code == 422

    # The target-collection check: the GeoCatalog busy (Retry-After 1.5 s), then refusing.
    collection = "/stac/collections/failures-target"
    stack.geocatalog.fault(status=503, count=1, method="GET", route=collection, retryAfter=1.5)
    busy = _checked(stack, "/api/ingest", "POST", items)
    assert busy.status_code == 503
    assert busy.headers.get("retry-after") == ["2"]
    stack.geocatalog.fault(status=403, count=1, method="GET", route=collection)
    assert _checked(stack, "/api/ingest", "POST", items).status_code == 502

    not_a_collection = {"id": "failures-target", "templateUrl": f"{pc}/api/stac/v1"}
    assert _checked(stack, "/api/collections", "POST", not_a_collection).status_code == 422
    # Port 9 (discard) on loopback: an allowed host that does not answer.
    unreachable = {"id": "failures-target", "templateUrl": "http://127.0.0.1:9/collection.json"}
    assert _checked(stack, "/api/collections", "POST", unreachable).status_code == 502
    # Every read of the collection (the bootstrap retries a few times within the request).
    stack.geocatalog.fault(status=503, count=20, method="GET", route=collection, retryAfter=1)
    throttled = _checked(
        stack, "/api/collections", "POST", {"id": "failures-target", "templateUrl": template}
    )
    assert throttled.status_code == 503
    assert throttled.headers.get("retry-after") == ["1"]
    stack.geocatalog.emulator.faults.clear()

    started = _checked(
        stack,
        "/api/ingest",
        "POST",
        {**items, "dryRun": True, "createCollection": {"templateUrl": template}},
    )
    job_id = started.json()["jobId"]
    # 202 while it plans, 409 if it finished first; a second cancel is always a conflict.
    assert _checked(stack, "/api/jobs/{jobId}/cancel", "POST", job_id=job_id).status_code in (
        202,
        409,
    )
    assert _checked(stack, "/api/jobs/{jobId}/cancel", "POST", job_id=job_id).status_code == 409
    state = _checked(stack, "/api/jobs/{jobId}", "GET", job_id=job_id).json()["state"]
    retried = _checked(stack, "/api/jobs/{jobId}/retry", "POST", job_id=job_id)
    assert retried.status_code == (409 if state == "canceled" else 200)
