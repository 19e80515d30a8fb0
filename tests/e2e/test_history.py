"""History: newest first, a page of 20 at a time, every row readable and linked."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import Account

pytestmark = pytest.mark.e2e

JOBS = 21


def submit_tiny_jobs(app: RunningApp, token: str, count: int) -> None:
    """Queue ``count`` one-combination jobs through the REST API (quick setup)."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"{app.url}/api/v1", headers=headers, timeout=30) as client:
        datasets = client.get("/datasets").json()["data"]
        for n in range(1, count + 1):
            response = client.post(
                "/optimizations",
                json={
                    "name": f"Batch {n:02d}",
                    "strategy": "sma_cross",
                    "datasetId": datasets[0]["id"],
                    "paramSpace": {"fast": {"values": [5 + n]}, "slow": {"values": [40]}},
                    "earlyStopPolicy": {"metric": "sharpe", "mode": "max", "topN": 1},
                },
            )
            assert response.status_code == 201, response.text


def test_history_pages_newest_first(
    page: Page, signed_in_account: Account, app_server: RunningApp
) -> None:
    token = page.evaluate("localStorage.getItem('grid_optimizer_token')")
    assert token
    submit_tiny_jobs(app_server, token, JOBS)

    page.reload()
    expect(page.get_by_text(f"1–20 of {JOBS} optimizations")).to_be_visible()
    expect(page.get_by_text("Page 1 of 2")).to_be_visible()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(20)
    expect(rows.first).to_contain_text("Batch 21")
    expect(rows.last).to_contain_text("Batch 02")
    expect(page.get_by_role("button", name="Previous")).to_be_disabled()

    # Live rows refresh by themselves until every job has finished.
    expect(rows.first).to_contain_text("Succeeded", timeout=60_000)
    expect(rows.first).to_contain_text("1 / 1")
    expect(rows.first).to_contain_text(re.compile(r"\d+ \w{3} \d{4}\s*\d\d:\d\d UTC"))

    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text(f"21–21 of {JOBS} optimizations")).to_be_visible()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Batch 01")
    expect(page.get_by_role("button", name="Next")).to_be_disabled()

    page.get_by_role("button", name="Previous").click()
    expect(rows.first).to_contain_text("Batch 21")
    rows.first.get_by_role("link", name="Batch 21").click()
    expect(page.get_by_role("heading", name="Batch 21", level=1)).to_be_visible()
