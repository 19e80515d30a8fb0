"""Property-based fuzzing: no input makes the API answer 5xx, and every error has one shape.

* schemathesis drives every operation of the OpenAPI schema (bodies, queries, path ids);
* a hypothesis strategy builds near-valid optimization bodies (a real dataset id, real
  strategy names, random parameter spaces and policies) to reach the deep validation."""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from optimizer_app.core.config import settings
from optimizer_app.persistence.models import Dataset
from tests.integration.api.conftest import ApiUser, register

FUZZ = hypothesis_settings(
    max_examples=25, deadline=None, derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def check_response(response: Any) -> None:
    assert response.status_code < 500, (response.status_code, response.text)
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"}, body
        assert {"code", "message", "details", "requestId"} <= set(body["error"]), body


@pytest.fixture(scope="module")
def fuzz_user(client: TestClient) -> ApiUser:
    return register(client)


def test_no_operation_answers_5xx(client: TestClient, fuzz_user: ApiUser,
                                  bundled: list[Dataset], monkeypatch: pytest.MonkeyPatch) -> None:
    """Every operation of the published schema, driven by schemathesis' generated cases."""
    monkeypatch.setattr(settings, "max_live_jobs_per_user", 10_000)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", client.app)
    operations = [result.ok() for result in
                  schema.exclude(path_regex=r"/auth/").get_all_operations()]
    assert len(operations) >= 11
    for operation in operations:

        @given(case=operation.as_strategy())
        @FUZZ
        def run(case: Any) -> None:
            check_response(case.call(headers=fuzz_user.headers))

        run()


# --- near-valid optimization bodies -------------------------------------------------------------

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                         st.floats(allow_nan=False, width=32), st.text(max_size=8))
numbers = st.one_of(st.integers(-5, 500), st.floats(-5, 500, allow_nan=False))
ranges = st.one_of(
    st.fixed_dictionaries({"values": st.lists(st.one_of(numbers, json_scalars), max_size=4)}),
    st.fixed_dictionaries({"start": numbers, "stop": numbers, "step": st.one_of(numbers,
                                                                                json_scalars)}),
    json_scalars,
)
param_names = st.sampled_from(["fast", "slow", "period", "lower", "upper", "k", "entry", "exit",
                               "bogus"])
policies = st.fixed_dictionaries(
    {"mode": st.sampled_from(["max", "min", "up", 3])},
    optional={
        "metric": st.sampled_from(["sharpe", "maxDrawdown", "cagr", "nope", ""]),
        "topN": st.one_of(st.integers(-3, 150), json_scalars),
        "targetScore": st.one_of(numbers, json_scalars),
        "patience": st.one_of(st.integers(-2, 50), json_scalars),
        "minTasks": st.one_of(st.integers(-2, 50), json_scalars),
    },
)
options = st.one_of(st.none(), st.fixed_dictionaries({}, optional={
    "initialCash": st.one_of(numbers, json_scalars),
    "commission": st.one_of(st.floats(-1, 1, allow_nan=False), json_scalars),
    "direction": st.sampled_from(["long", "long_short", "short"]),
    "sizing": st.sampled_from(["fractional", "whole", "half"]),
}))


@st.composite
def bodies(draw: st.DrawFn, dataset_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "strategy": draw(st.sampled_from(["sma_cross", "rsi_reversion", "bollinger_breakout",
                                          "donchian_breakout", "unknown"])),
        "datasetId": dataset_id,
        "paramSpace": draw(st.dictionaries(param_names, ranges, max_size=4)),
        "earlyStopPolicy": draw(policies),
    }
    if (extra := draw(options)) is not None:
        body["backtestOptions"] = extra
    if draw(st.booleans()):
        body["name"] = draw(st.text(max_size=30))
    return body


def test_random_optimization_bodies_never_5xx(client: TestClient, fuzz_user: ApiUser,
                                              bundled: list[Dataset],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "max_live_jobs_per_user", 10_000)
    monkeypatch.setattr(settings, "grid_cap", 5_000)
    seen: set[int] = set()

    @given(body=bodies(str(bundled[0].id)))
    @hypothesis_settings(max_examples=150, deadline=None, derandomize=True,
                         suppress_health_check=list(HealthCheck))
    def run(body: dict[str, Any]) -> None:
        response = client.post("/api/v1/optimizations", headers=fuzz_user.headers, json=body)
        check_response(response)
        seen.add(response.status_code)

    run()
    assert 422 in seen


# --- sign-up and sign-in with any text ----------------------------------------------------------

# every code point, lone surrogates, controls and invisible characters included
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
credential_values = st.one_of(any_text, json_scalars, st.integers(-10**30, 10**30),
                              st.lists(st.text(max_size=3), max_size=2))


@pytest.mark.parametrize("path", ["/api/v1/auth/register", "/api/v1/auth/token"])
def test_random_credentials_never_5xx(client: TestClient, path: str) -> None:
    """Bodies are sent ASCII-escaped (``\\ud800`` stays a lone surrogate after parsing)."""
    from optimizer_app.services.login_throttle import throttle

    @given(body=st.fixed_dictionaries({}, optional={"email": credential_values,
                                                     "password": credential_values}))
    @hypothesis_settings(max_examples=60, deadline=None, derandomize=True,
                         suppress_health_check=list(HealthCheck))
    def run(body: dict[str, Any]) -> None:
        content = json.dumps(body).encode()
        response = client.post(path, content=content,
                               headers={"content-type": "application/json"})
        check_response(response)

    try:
        run()
    finally:
        throttle.reset()
