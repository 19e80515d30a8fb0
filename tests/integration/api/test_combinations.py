"""GET /optimizations/{id}/combinations/{index} (+ /equity, /trades): any combination of a
job's grid, backtested on demand with the grid's own numbers."""

from __future__ import annotations

import numpy as np
from fastapi.testclient import TestClient

from optimizer_app.domain.datasets import load_bundled_bars
from optimizer_app.domain.engine import BacktestOptions, evaluate_grid
from optimizer_app.domain.grid import build_grid
from optimizer_app.persistence.models import Dataset
from tests.integration.api.conftest import ApiUser, assert_error
from tests.integration.api.test_optimizations import job_body, submit

SPACE = {"fast": {"start": 5, "stop": 20, "step": 5}, "slow": {"values": [30, 60]}}


def _job(client: TestClient, user: ApiUser, bundled: list[Dataset], **extra: object) -> dict:
    goog = next(d for d in bundled if d.symbol == "GOOG")
    return submit(client, user, job_body(goog.id, paramSpace=SPACE, **extra))


def test_a_combination_not_run_yet_is_backtested_with_the_grids_numbers(
    client: TestClient, alice: ApiUser, bundled: list[Dataset]
) -> None:
    job = _job(client, alice, bundled, constraints=[{"metric": "trades", "op": ">=",
                                                      "value": 1}])
    base = f"/api/v1/optimizations/{job['id']}/combinations"
    answer = client.get(f"{base}/3", headers=alice.headers)
    assert answer.status_code == 200, answer.text
    combination = answer.json()
    grid = build_grid("sma_cross", SPACE, cap=1000)
    expected = evaluate_grid(load_bundled_bars("goog-daily"), "sma_cross",
                             grid.params_for(np.array([3])), BacktestOptions())
    assert combination["index"] == 3 and combination["params"] == grid.params_at(3)
    assert combination["status"] == "not_run" and combination["rank"] is None
    assert combination["passesConstraints"] is True
    assert combination["metrics"]["sharpe"] == float(expected["sharpe"][0])
    assert combination["score"] == combination["metrics"]["sharpe"]
    assert combination["metrics"]["trades"] == int(expected["trades"][0])

    equity = client.get(f"{base}/3/equity", headers=alice.headers).json()
    assert set(equity) == {"dates", "equity", "benchmark", "drawdown"}
    n = len(equity["dates"])
    assert n > 1000 and len(equity["equity"]) == len(equity["benchmark"]) == n
    assert equity["benchmark"][0] == 10_000.0 and equity["dates"][0] < equity["dates"][-1]
    assert max(equity["drawdown"]) == combination["metrics"]["maxDrawdown"]
    assert abs(equity["equity"][-1] - combination["metrics"]["finalEquity"]) < 1e-6

    trades = client.get(f"{base}/3/trades?limit=5&offset=2", headers=alice.headers).json()
    assert trades["count"] == combination["metrics"]["trades"] and len(trades["data"]) == 5
    first = trades["data"][0]
    assert set(first) == {"entryDate", "exitDate", "direction", "size", "entryPrice",
                          "exitPrice", "pnl", "returnPct", "bars"}
    assert first["bars"] > 0 and first["entryDate"] < first["exitDate"]

    csv = client.get(f"{base}/3/trades?format=csv", headers=alice.headers)
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0] == ("entryDate,exitDate,direction,size,entryPrice,"
                                        "exitPrice,pnl,returnPct,bars")
    assert len(csv.text.splitlines()) == trades["count"] + 1
    curve = client.get(f"{base}/3/equity?format=csv", headers=alice.headers).text.splitlines()
    assert curve[0] == "date,equity,benchmark,drawdown" and len(curve) == n + 1


def test_unknown_combinations_and_other_users_jobs_are_404(
    client: TestClient, alice: ApiUser, bob: ApiUser, bundled: list[Dataset]
) -> None:
    job = _job(client, alice, bundled)
    base = f"/api/v1/optimizations/{job['id']}/combinations"
    total = job["summary"]["total"]
    for path in (f"{base}/{total}", f"{base}/-1", f"{base}/abc", f"{base}/1e3",
                 f"{base}/{'9' * 40}", f"{base}/{total}/equity", f"{base}/x/trades"):
        assert_error(client.get(path, headers=alice.headers), 404)
    assert_error(client.get(f"{base}/0", headers=bob.headers), 404)
    assert_error(client.get(f"{base}/0"), 401)
    assert_error(client.get(f"{base}/0/equity?format=xml", headers=alice.headers), 422)
