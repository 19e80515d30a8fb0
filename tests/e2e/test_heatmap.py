"""The detail page's score heatmap over every finished combination (ticks at the grid's values,
a tooltip in the table's unit naming the other parameters, a click to the combination, one
parameter per axis, a line for one varying parameter), and the page staying responsive while a
large job runs."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import Account, choose, wait_until_terminal

pytestmark = pytest.mark.e2e

RSI_SMALL = {"period": {"start": 2, "stop": 12, "step": 1},
             "lower": {"start": 10, "stop": 40, "step": 5},
             "upper": {"start": 60, "stop": 80, "step": 10}}  # 11 × 7 × 3 = 231
# About a million combinations (82 × 246 × 50 minus the pair lower = upper = 50).
RSI_LARGE = {"period": {"start": 2, "stop": 83, "step": 1},
             "lower": {"start": 1, "stop": 50, "step": 0.2},
             "upper": {"start": 50, "stop": 99, "step": 1}}
LARGE_TOTAL = 1_008_518

LONG_TASKS = """
window.__longTasks = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) window.__longTasks.push(entry.duration);
}).observe({ type: "longtask", buffered: true });
"""

# Time from pressing an axis option in the open list to the canvas showing the new axis (the
# list's opening, a separate interaction with its own animation, is not counted).
WATCH_AXIS = """
() => new Promise((resolve) => {
  const canvas = document.querySelector("#score-heatmap canvas");
  const before = canvas.dataset.columns + "x" + canvas.dataset.rows;
  let clicked = null;
  document.addEventListener("pointerdown", (event) => {
    if (event.target.closest('[role="option"]')) clicked = clicked ?? performance.now();
  }, { capture: true });
  window.__axisSwitch = new Promise((done) => {
    const observer = new MutationObserver(() => {
      const now = canvas.dataset.columns + "x" + canvas.dataset.rows;
      if (clicked !== null && now !== before) {
        observer.disconnect();
        done(performance.now() - clicked);
      }
    });
    observer.observe(canvas, { attributes: true });
  });
  resolve(before);
})
"""


def api(app: RunningApp, page: Page) -> httpx.Client:
    token = page.evaluate("localStorage.getItem('grid_optimizer_token')")
    assert token
    return httpx.Client(base_url=f"{app.url}/api/v1", timeout=60,
                        headers={"Authorization": f"Bearer {token}"})


def submit(client: httpx.Client, name: str, strategy: str, space: dict,
           metric: str = "totalReturn") -> str:
    dataset = client.get("/datasets").json()["data"][0]["id"]
    answer = client.post("/optimizations", json={
        "name": name, "strategy": strategy, "datasetId": dataset, "paramSpace": space,
        "earlyStopPolicy": {"metric": metric, "mode": "max", "topN": 10}})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def canvas(page: Page) -> Locator:
    return page.locator("#score-heatmap canvas")


def geometry(page: Page) -> dict[str, float]:
    data = canvas(page).evaluate("c => ({...c.dataset})")
    return {k: float(v) for k, v in data.items() if v != ""}


def cell_point(page: Page, column: int, row: int) -> tuple[float, float]:
    """The page coordinates of a cell's centre (row 0 at the bottom)."""
    canvas(page).scroll_into_view_if_needed()
    box = canvas(page).bounding_box()
    assert box is not None
    g = geometry(page)
    x = box["x"] + g["plotLeft"] + (column + 0.5) * g["plotWidth"] / g["columns"]
    y = box["y"] + g["plotTop"] + (g["rows"] - 1 - row + 0.5) * g["plotHeight"] / g["rows"]
    return x, y


def finished_small_job(page: Page, app: RunningApp, name: str) -> tuple[str, dict[str, Any]]:
    """A finished RSI_SMALL job shown on its page, and its heatmap (period x lower) by REST."""
    with api(app, page) as client:
        job_id = submit(client, name, "rsi_reversion", RSI_SMALL)
        page.goto(f"/optimizations/{job_id}")
        wait_until_terminal(page)
        heatmap = client.get(f"/optimizations/{job_id}/heatmap",
                             params={"x": "period", "y": "lower"}).json()
    return job_id, heatmap


def test_heatmap_covers_the_grid_and_opens_a_combination(
    page: Page, signed_in_account: Account, app_server: RunningApp
) -> None:
    job_id, heatmap = finished_small_job(page, app_server, "RSI heatmap")
    # every pair of values has a cell: all 231 combinations are in, not the best 2,000
    expect(canvas(page)).to_have_attribute("data-cells", "77")
    expect(canvas(page)).to_have_attribute("data-columns", "11")  # periods 2..12, nothing more
    expect(canvas(page)).to_have_attribute("data-rows", "7")
    expect(page.get_by_text(re.compile(r"over all 231 finished combinations"))).to_be_visible()

    # the tooltip: both values, the score as the table shows it, the other parameter
    cell = next(c for c in heatmap["cells"] if c["x"] == 5 and c["y"] == 20.0)
    page.mouse.move(*cell_point(page, column=3, row=2))
    tooltip = page.get_by_test_id("heatmap-tooltip")
    expect(tooltip).to_contain_text("RSI period 5 · Lower level 20")
    expect(tooltip).to_contain_text(f"Total return: {100 * cell['score']:.2f}%")
    expect(tooltip).to_contain_text(f"Upper level {cell['params']['upper']:g}")
    expect(tooltip).to_contain_text(f"Combination #{cell['index']:,}")

    # one parameter per axis: the X parameter cannot be picked for Y
    page.get_by_label("Y axis").click()
    expect(page.get_by_role("option", name="RSI period")).to_be_disabled()
    page.get_by_role("option", name="Upper level").click()
    expect(canvas(page)).to_have_attribute("data-rows", "3")
    choose(page, "X axis", "Lower level")
    expect(canvas(page)).to_have_attribute("data-columns", "7")
    expect(canvas(page)).to_have_attribute("data-rows", "3")
    page.get_by_label("X axis").click()
    expect(page.get_by_role("option", name="Upper level")).to_be_disabled()
    page.keyboard.press("Escape")

    # a click opens the combination's page
    choose(page, "X axis", "RSI period")
    choose(page, "Y axis", "Lower level")
    expect(canvas(page)).to_have_attribute("data-rows", "7")
    page.mouse.click(*cell_point(page, column=3, row=2))
    expect(page).to_have_url(re.compile(rf"/optimizations/{job_id}/combinations/"
                                        rf"{cell['index']}/?$"))


def test_the_heatmap_is_usable_from_the_keyboard(
    page: Page, signed_in_account: Account, app_server: RunningApp
) -> None:
    """Focus lands on the best cell; arrows move between cells; Enter opens the combination."""
    job_id, heatmap = finished_small_job(page, app_server, "RSI keyboard")
    expect(canvas(page)).to_have_attribute("data-cells", "77")
    cells = {(c["x"], c["y"]): c for c in heatmap["cells"]}
    best = max(heatmap["cells"], key=lambda c: c["score"])  # the first of equals, as drawn
    tooltip = page.get_by_test_id("heatmap-tooltip")
    canvas(page).focus()
    expect(tooltip).to_contain_text(f"RSI period {best['x']} · Lower level {best['y']:g}")
    periods = heatmap["xValues"]
    at = periods.index(best["x"])
    key, column = ("ArrowRight", at + 1) if at + 1 < len(periods) else ("ArrowLeft", at - 1)
    page.keyboard.press(key)
    target = cells[(periods[column], best["y"])]
    expect(tooltip).to_contain_text(f"RSI period {target['x']} · Lower level {target['y']:g}")
    expect(tooltip).to_contain_text(f"Combination #{target['index']:,}")
    page.keyboard.press("Escape")
    expect(tooltip).to_have_count(0)
    page.keyboard.press("ArrowUp")  # an arrow starts again from the best cell
    expect(tooltip).to_contain_text(f"RSI period {best['x']} · Lower level {best['y']:g}")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/optimizations/{job_id}/combinations/"
                                        rf"{best['index']}/?$"))


def test_one_varying_parameter_gets_a_line(
    page: Page, signed_in_account: Account, app_server: RunningApp
) -> None:
    space = {"fast": {"start": 5, "stop": 30, "step": 5}, "slow": {"values": [60]}}
    with api(app_server, page) as client:
        job_id = submit(client, "Fast only", "sma_cross", space, metric="sharpe")
    page.goto(f"/optimizations/{job_id}")
    wait_until_terminal(page)
    expect(canvas(page)).to_have_attribute("data-rows", "1")
    expect(canvas(page)).to_have_attribute("data-columns", "6")
    expect(page.get_by_label("Y axis")).to_have_count(0)
    page.mouse.move(*cell_point(page, column=1, row=0))
    expect(page.get_by_test_id("heatmap-tooltip")).to_contain_text("Fast SMA 10")
    expect(page.get_by_test_id("heatmap-tooltip")).to_contain_text("Slow SMA 60")


def test_detail_page_of_a_running_million_combination_job_stays_responsive(
    page: Page, signed_in_account: Account, app_server: RunningApp
) -> None:
    """Records the main thread's long tasks and the time of axis switches while a job of
    1,008,518 combinations runs (printed, for the README; no timing is asserted), and checks
    that the chart fills in and "Best so far" always reads the Top-N table's best."""
    page.add_init_script(LONG_TASKS)
    with api(app_server, page) as client:
        job_id = submit(client, "Million RSI", "rsi_reversion", RSI_LARGE)
        try:
            page.goto(f"/optimizations/{job_id}")
            expect(page.get_by_text(f"/ {LARGE_TOTAL:,}")).to_be_visible(timeout=60_000)
            expect(canvas(page)).not_to_have_attribute("data-cells", "0", timeout=60_000)
            page.evaluate("window.__longTasks = []")  # from here on: the page while it runs
            count = page.get_by_test_id("progress-count")
            for _ in range(3):  # three refreshes of the running job, watched
                seen = count.inner_text()
                expect(count).not_to_have_text(seen, timeout=30_000)
            best = page.get_by_test_id("best-so-far")
            first_score = page.get_by_role("region", name="Top combinations").locator(
                "tbody tr").first.locator("td").nth(1)
            switches = []
            for x in ("Upper level", "RSI period") * 3:
                # "Best so far" is the table's best at every refresh
                expect(best).to_have_text(first_score.inner_text())
                before = page.evaluate(WATCH_AXIS)
                choose(page, "X axis", x)
                switches.append(page.evaluate("window.__axisSwitch"))
                expect(page.get_by_label("Y axis", exact=True)).to_have_text("Lower level")
                assert geometry(page)["columns"] > 1 and before
            cells = int(geometry(page)["cells"])
            status = client.get(f"/optimizations/{job_id}/status").json()
            assert status["status"] == "running" and status["summary"]["finished"] > 0
        finally:
            client.post(f"/optimizations/{job_id}/cancel")
    long_tasks = page.evaluate("window.__longTasks")
    figures = {"finished": status["summary"]["finished"], "cells": cells,
               "longTasksOver50ms": len(long_tasks),
               "longestTaskMs": round(max(long_tasks, default=0)),
               "tasksOver200ms": sum(1 for t in long_tasks if t > 200),
               "axisSwitchMs": [round(s) for s in switches]}
    print("\nresponsiveness while running:", json.dumps(figures))
    assert len(switches) == 6
