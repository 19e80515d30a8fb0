"""GET /optimizations/{id}/heatmap: the best score at each pair of values of two parameters
over every scored combination, owner-scoped, with readable 422s for bad axes."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from optimizer_app.domain.grid import build_grid
from optimizer_app.persistence.db import session_scope
from optimizer_app.persistence.models import Dataset, OptimizationJob
from tests.integration.api.conftest import ApiUser, assert_error
from tests.integration.api.test_optimizations import job_body, submit
from tests.support.results import store_results

SPACE = {"period": {"values": [7, 14]}, "lower": {"values": [20, 50]},
         "upper": {"values": [50, 70.5]}}  # lower < upper removes (50, 50)


def _job(client: TestClient, user: ApiUser, bundled: list[Dataset], space: dict,
         strategy: str, mode: str = "max") -> str:
    goog = next(d for d in bundled if d.symbol == "GOOG")
    body = job_body(goog.id, strategy=strategy, paramSpace=space,
                    earlyStopPolicy={"mode": mode, "metric": "totalReturn", "topN": 5})
    return str(submit(client, user, body)["id"])


def _finish(job_id: str, strategy: str, space: dict, scores: dict[int, float | None]) -> None:
    """Store results for ``scores`` (None: failing a result constraint) and count them."""
    grid = build_grid(strategy, space, cap=10_000)
    indices = sorted(scores)
    with session_scope() as session:
        store_results(session, uuid.UUID(job_id), grid, indices, [scores[i] for i in indices])
        job = session.get(OptimizationJob, uuid.UUID(job_id))
        assert job is not None
        job.summary = {**job.summary, "finished": len(indices)}
        session.add(job)


def test_heatmap_holds_each_pairs_best_over_every_scored_combination(
    client: TestClient, alice: ApiUser, bundled: list[Dataset]
) -> None:
    job_id = _job(client, alice, bundled, SPACE, "rsi_reversion")
    grid = build_grid("rsi_reversion", SPACE, cap=100)
    assert grid.total == 6  # per period: (20, 50), (20, 70.5), (50, 70.5)
    # index: period, lower, upper → 0: 7,20,50  1: 7,20,70.5  2: 7,50,70.5
    #                               3: 14,20,50 4: 14,20,70.5 5: 14,50,70.5
    _finish(job_id, "rsi_reversion", SPACE, {0: 0.1, 1: 0.5, 2: None, 3: 0.3, 4: 0.5, 5: -0.2})
    answer = client.get(f"/api/v1/optimizations/{job_id}/heatmap?x=lower&y=upper",
                        headers=alice.headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) >= {"x", "y", "xValues", "yValues", "cells"}
    assert (body["x"], body["y"]) == ("lower", "upper")
    assert body["xValues"] == [20.0, 50.0] and body["yValues"] == [50.0, 70.5]
    assert body["axes"] == ["period", "lower", "upper"]
    cells = {(c["x"], c["y"]): c for c in body["cells"]}
    assert set(cells) == {(20.0, 50.0), (20.0, 70.5), (50.0, 70.5)}
    assert (cells[(20.0, 50.0)]["score"], cells[(20.0, 50.0)]["index"]) == (0.3, 3)
    # a tie between 1 and 4: the earlier combination holds the cell
    assert (cells[(20.0, 70.5)]["score"], cells[(20.0, 70.5)]["index"]) == (0.5, 1)
    # combination 2 fails a constraint (no score): 5 holds the cell
    assert cells[(50.0, 70.5)]["index"] == 5
    assert cells[(50.0, 70.5)]["params"] == {"period": 14, "lower": 50.0, "upper": 70.5}
    assert set(body["cells"][0]) == {"x", "y", "score", "index", "params"}

    by_period = client.get(f"/api/v1/optimizations/{job_id}/heatmap?x=period&y=lower",
                           headers=alice.headers).json()
    assert by_period["xValues"] == [7, 14]  # integers stay integers
    assert {(c["x"], c["y"]): c["index"] for c in by_period["cells"]} == {
        (7, 20.0): 1, (14, 20.0): 4, (14, 50.0): 5}

    grouped = client.get(f"/api/v1/optimizations/{job_id}/heatmap?x=upper&y=lower&maxValues=2",
                         headers=alice.headers).json()
    assert (grouped["xStep"], grouped["yStep"]) == (1, 1)  # two values each: nothing grouped
    assert body["xStep"] == 1 and body["yStep"] == 1

    default = client.get(f"/api/v1/optimizations/{job_id}/heatmap", headers=alice.headers)
    assert (default.json()["x"], default.json()["y"]) == ("period", "lower")


def test_minimizing_keeps_the_lowest_score(client: TestClient, alice: ApiUser,
                                            bundled: list[Dataset]) -> None:
    job_id = _job(client, alice, bundled, SPACE, "rsi_reversion", mode="min")
    _finish(job_id, "rsi_reversion", SPACE, {1: 0.5, 4: 0.2})
    body = client.get(f"/api/v1/optimizations/{job_id}/heatmap?x=lower&y=upper",
                      headers=alice.headers).json()
    assert [(c["score"], c["index"]) for c in body["cells"]] == [(0.2, 4)]


def test_a_single_varying_parameter_gives_a_line(client: TestClient, alice: ApiUser,
                                                  bundled: list[Dataset]) -> None:
    space = {"fast": {"start": 5, "stop": 20, "step": 5}, "slow": {"values": [60]}}
    job_id = _job(client, alice, bundled, space, "sma_cross")
    _finish(job_id, "sma_cross", space, {0: 0.4, 2: 0.1})
    body = client.get(f"/api/v1/optimizations/{job_id}/heatmap", headers=alice.headers).json()
    assert (body["x"], body["y"], body["yValues"], body["axes"]) == ("fast", None, [], ["fast"])
    assert [(c["x"], c["y"], c["index"]) for c in body["cells"]] == [(5, None, 0), (15, None, 2)]
    both = client.get(f"/api/v1/optimizations/{job_id}/heatmap?x=fast&y=slow",
                      headers=alice.headers).json()
    assert both["y"] == "slow" and both["yValues"] == [60]
    # only y, and it is the one parameter that varies: x is the other one (was a 500)
    y_only = client.get(f"/api/v1/optimizations/{job_id}/heatmap?y=fast", headers=alice.headers)
    assert y_only.status_code == 200, y_only.text
    assert (y_only.json()["x"], y_only.json()["y"]) == ("slow", "fast")
    assert len(y_only.json()["cells"]) == 2


def test_bad_axes_are_422_and_another_users_job_is_404(
    client: TestClient, alice: ApiUser, bob: ApiUser, bundled: list[Dataset]
) -> None:
    job_id = _job(client, alice, bundled, SPACE, "rsi_reversion")
    url = f"/api/v1/optimizations/{job_id}/heatmap"
    same = assert_error(client.get(f"{url}?x=lower&y=lower", headers=alice.headers), 422,
                        "validation_error")
    assert "two different parameters" in same["message"]
    assert same["details"] == [{"field": "y", "problem": "choose two different parameters "
                                                         "for the two axes"}]
    unknown = assert_error(client.get(f"{url}?x=fast", headers=alice.headers), 422,
                           "validation_error")
    assert "'fast' is not a parameter" in unknown["message"] and "period" in unknown["message"]
    assert_error(client.get(url, headers=bob.headers), 404, "not_found")
    assert_error(client.get(f"/api/v1/optimizations/{uuid.uuid4()}/heatmap",
                            headers=alice.headers), 404, "not_found")
    assert_error(client.get(url), 401)
    empty = client.get(url, headers=alice.headers).json()
    assert empty["cells"] == [] and empty["xValues"] == [7, 14]
