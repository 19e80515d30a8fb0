"""GET /strategies and the dataset endpoints."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from optimizer_app.core.config import settings
from optimizer_app.domain.datasets import BUNDLED_DATASETS, load_bundled
from optimizer_app.domain.stats import METRIC_KEYS
from optimizer_app.persistence.models import Dataset
from tests.integration.api.conftest import ApiUser, assert_error


def csv_bytes(rows: int = 60, *, nan_at: int | None = None) -> bytes:
    lines = ["Date,Open,High,Low,Close,Volume"]
    for i in range(rows):
        day = date(2021, 1, 1) + timedelta(days=i)
        close = "NaN" if i == nan_at else str(100.5 + i)
        lines.append(f"{day},{100 + i},{101 + i},{99 + i},{close},{500 + i}")
    return ("\n".join(lines) + "\n").encode()


def test_strategies_list_params_constraint_and_metrics(client: TestClient, alice: ApiUser) -> None:
    response = client.get("/api/v1/strategies", headers=alice.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == len(body["data"]) >= 4
    by_name = {s["name"]: s for s in body["data"]}
    assert {"sma_cross", "rsi_reversion", "bollinger_breakout", "donchian_breakout"} <= set(by_name)
    sma = by_name["sma_cross"]
    assert sma["constraint"] == "fast < slow"
    fast = next(p for p in sma["params"] if p["name"] == "fast")
    assert fast["type"] == "int" and fast["min"] <= fast["default"] <= fast["max"]
    assert body["metricKeys"] == list(METRIC_KEYS)


def test_bundled_datasets_are_listed_for_everyone(client: TestClient, alice: ApiUser,
                                                  bundled: list[Dataset]) -> None:
    response = client.get("/api/v1/datasets", headers=alice.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == len(BUNDLED_DATASETS) == len(body["data"])
    first = body["data"][0]
    assert first["bundled"] is True and first["rows"] >= 2000
    assert {"id", "name", "symbol", "timeframe", "rows", "firstDate", "lastDate",
            "checksum"} <= set(first)


def test_upload_get_and_download(client: TestClient, alice: ApiUser, bob: ApiUser) -> None:
    response = client.post(
        "/api/v1/datasets", headers=alice.headers,
        files={"file": ("my bars.csv", csv_bytes(), "text/csv")},
        data={"name": "My bars", "symbol": "MYB"},
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["name"] == "My bars" and created["symbol"] == "MYB"
    assert created["rows"] == 60 and created["bundled"] is False
    assert created["firstDate"] == "2021-01-01"

    fetched = client.get(f"/api/v1/datasets/{created['id']}", headers=alice.headers)
    assert fetched.status_code == 200 and fetched.json()["checksum"] == created["checksum"]
    listed = client.get("/api/v1/datasets", headers=alice.headers).json()
    assert created["id"] in {d["id"] for d in listed["data"]}

    csv_response = client.get(f"/api/v1/datasets/{created['id']}/csv", headers=alice.headers)
    assert csv_response.status_code == 200
    assert csv_response.headers["content-type"].startswith("text/csv")
    assert 'filename="MYB.csv"' in csv_response.headers["content-disposition"]
    assert csv_response.content.startswith(b"date,open,high,low,close,volume\n")
    assert len(csv_response.content.splitlines()) == 61

    for path in (f"/api/v1/datasets/{created['id']}", f"/api/v1/datasets/{created['id']}/csv"):
        assert_error(client.get(path, headers=bob.headers), 404, "not_found")
    assert created["id"] not in {
        d["id"] for d in client.get("/api/v1/datasets", headers=bob.headers).json()["data"]
    }


def test_bundled_csv_downloads_canonical_bytes(client: TestClient, alice: ApiUser,
                                               bundled: list[Dataset]) -> None:
    response = client.get(f"/api/v1/datasets/{bundled[0].id}/csv", headers=alice.headers)
    assert response.status_code == 200
    assert response.content == load_bundled(BUNDLED_DATASETS[0].key)
    assert f'filename="{BUNDLED_DATASETS[0].symbol}.csv"' in response.headers["content-disposition"]


def test_invalid_rows_are_422_with_details(client: TestClient, alice: ApiUser) -> None:
    response = client.post("/api/v1/datasets", headers=alice.headers,
                           files={"file": ("bad.csv", csv_bytes(nan_at=3), "text/csv")})
    error = assert_error(response, 422, "validation_error")
    assert error["details"]


def test_missing_file_field_is_422(client: TestClient, alice: ApiUser) -> None:
    response = client.post("/api/v1/datasets", headers=alice.headers, data={"name": "x"})
    assert_error(response, 422, "validation_error")


@pytest.mark.parametrize("rows", [400, 4000], ids=["file-over-cap", "body-far-over-cap"])
def test_upload_over_the_cap_is_413(client: TestClient, alice: ApiUser,
                                    monkeypatch: pytest.MonkeyPatch, rows: int) -> None:
    """Just over: caught after reading the file; far over: refused from Content-Length."""
    monkeypatch.setattr(settings, "upload_max_bytes", 4096)
    big = csv_bytes(rows)
    response = client.post("/api/v1/datasets", headers=alice.headers,
                           files={"file": ("big.csv", big, "text/csv")})
    assert_error(response, 413, "payload_too_large")


def test_malformed_dataset_id_is_404(client: TestClient, alice: ApiUser) -> None:
    assert_error(client.get("/api/v1/datasets/not-a-uuid", headers=alice.headers), 404)
    assert_error(client.get("/api/v1/datasets/not-a-uuid/csv", headers=alice.headers), 404)
