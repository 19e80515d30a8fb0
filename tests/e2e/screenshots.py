"""The README's screenshots, taken from the running app with real jobs.

Not part of the test run (the file name does not match ``test_*``); run it on its own:
``python -m pytest tests/e2e/screenshots.py`` writes ``docs/screenshots/*.png``."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.helpers import (
    choose,
    count_of,
    fill_range,
    open_new_form,
    sign_up,
    small_sma_job,
    status_badge,
    submit_form,
    wait_until_terminal,
)

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 900}


def _shot(page: Page, name: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.mouse.move(0, 0)
    page.screenshot(path=str(OUT / name), full_page=True, animations="disabled")


def _job(
    page: Page, name: str, strategy: str, ranges: dict[str, tuple[str, str, str]], **fields: str
) -> str:
    open_new_form(page)
    if strategy != "SMA crossover":
        choose(page, "Strategy", strategy)
    if dataset := fields.pop("dataset", None):
        choose(page, "Dataset", dataset)
    page.get_by_label("Name").fill(name)
    for param, (start, stop, step) in ranges.items():
        fill_range(page, param, start, stop, step)
    if metric := fields.pop("metric", None):
        choose(page, "Metric", metric)
    for label, value in fields.items():
        page.get_by_label(label).fill(value)
    return submit_form(page)


def test_take_screenshots(page: Page) -> None:
    page.set_viewport_size(VIEWPORT)
    sign_up(page, email="researcher@example.com")

    # A finished job with a rich heatmap, and a re-run of its best combination.
    _job(
        page,
        "SMA sweep on Google",
        "SMA crossover",
        {"Fast SMA": ("5", "60", "5"), "Slow SMA": ("20", "200", "10")},
        dataset="Google (GOOG) daily",
    )
    wait_until_terminal(page)
    finished_url = page.url
    page.get_by_role("region", name="Top combinations").locator("tbody tr").first.get_by_role(
        "button", name=re.compile("^Re-run")
    ).click()
    submit_form(page)
    wait_until_terminal(page)

    # Stopped early on a target, and a drawdown search (lower is better).
    _job(
        page,
        "Donchian until Sharpe 0.2",
        "Donchian breakout",
        {"Entry channel": ("5", "120", "1"), "Exit channel": ("5", "120", "1")},
        **{"Target score": "0.2", "Minimum combinations": "500"},
    )
    wait_until_terminal(page)
    _job(
        page,
        "RSI, smallest drawdown",
        "RSI mean reversion",
        {
            "RSI period": ("6", "20", "2"),
            "Lower level": ("20", "35", "5"),
            "Upper level": ("65", "80", "5"),
        },
        metric="Max drawdown",
    )
    wait_until_terminal(page)
    rsi_url = page.url

    # A large job: watched while it runs, then canceled.
    _job(
        page,
        "Bollinger full sweep",
        "Bollinger breakout",
        {"Period": ("5", "200", "1"), "Width k": ("0.5", "4.0", "0.00035")},
    )
    progress = page.get_by_test_id("progress-count")
    expect(progress).to_have_text(re.compile(r"^[1-9]"), timeout=30_000)
    top = page.get_by_role("region", name="Top combinations")
    expect(top.locator("tbody tr").first).to_be_visible(timeout=30_000)
    while count_of(progress.inner_text()) < 60_000:
        expect(progress).not_to_have_text(progress.inner_text(), timeout=30_000)
    expect(page.get_by_role("group", name="Score by parameters chart")).to_be_visible()
    # A fine step of k fills the Top-N with identical trades: grouped under "+ N identical".
    expect(top.get_by_role("button", name=re.compile(r"identical$")).first).to_be_visible()
    _shot(page, "detail-running.png")
    # (clicks are dispatched: the page of a running job this size has main-thread stalls of
    # 1-3 s during which a normal click keeps waiting for the element to settle)
    page.get_by_role("button", name="Cancel", exact=True).dispatch_event("click")
    page.get_by_role("alertdialog").get_by_role(
        "button", name="Cancel optimization").dispatch_event("click")
    expect(status_badge(page)).to_have_text("Canceled", timeout=30_000)

    small_sma_job(page, "Quick check")

    page.goto(finished_url)
    expect(page.get_by_role("group", name="Score by parameters chart")).to_be_visible()
    _shot(page, "detail-finished.png")

    # The page of its best combination.
    page.get_by_role("region", name="Top combinations").locator("tbody tr").first.get_by_role(
        "link", name=re.compile("^Open combination")
    ).click()
    expect(page.get_by_role("img", name="Equity curve chart")).to_be_visible()
    expect(page.get_by_test_id("trades-range")).to_have_text(re.compile(r"^Trades 1–"))
    _shot(page, "combination.png")

    # The heatmap of a three-parameter job, with the tooltip of one cell.
    page.goto(rsi_url)
    chart = page.locator("#score-heatmap canvas")
    expect(chart).to_have_attribute("data-columns", "8")
    card = page.locator("#score-heatmap").locator("xpath=ancestor::div[contains(@class, 'rt-Card')]")
    card.scroll_into_view_if_needed()
    box, data = chart.bounding_box(), chart.evaluate("c => ({...c.dataset})")
    assert box is not None
    page.mouse.move(box["x"] + float(data["plotLeft"]) + 4.5 * float(data["plotWidth"]) / 8,
                    box["y"] + float(data["plotTop"]) + 1.5 * float(data["plotHeight"]) / 4)
    expect(page.get_by_test_id("heatmap-tooltip")).to_be_visible()
    OUT.mkdir(parents=True, exist_ok=True)
    card.screenshot(path=str(OUT / "heatmap.png"), animations="disabled")

    page.get_by_role("link", name="History", exact=True).first.click()
    expect(page.locator("tbody tr")).to_have_count(6)
    expect(page.locator("tbody tr").first).to_contain_text("Succeeded", timeout=30_000)
    _shot(page, "history.png")

    open_new_form(page)
    page.get_by_label("Name").fill("SMA crossover, wide sweep")
    fill_range(page, "Fast SMA", "5", "100", "5")
    fill_range(page, "Slow SMA", "20", "300", "10")
    page.get_by_label("Patience").fill("2000")
    expect(page.get_by_test_id("combinations")).not_to_have_text(re.compile("^–"))
    _shot(page, "new-optimization.png")
