"""Pages that never mislead: no other job's data under a URL, a form that survives Back, tables
usable at phone width, an objective direction that reads as chosen, an upload that asks for
its name and symbol."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import (
    Account,
    choose,
    fill_range,
    open_new_form,
    small_sma_job,
    submit_form,
    wait_until_terminal,
)
from tests.e2e.test_new_optimization_form import bars_csv

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}

# Every DOM change after the submit click records the page's h1, so even a 10 ms flash of the
# previous job's heading is seen.
RECORD_HEADINGS = """
() => {
  window.__headings = [];
  const record = () => {
    const h1 = document.querySelector("h1");
    window.__headings.push(h1 ? h1.textContent : null);
  };
  new MutationObserver(record).observe(document.body,
    { subtree: true, childList: true, characterData: true, attributes: true });
}
"""


def test_a_new_job_never_shows_the_previous_jobs_data(
    page: Page, signed_in_account: Account
) -> None:
    small_sma_job(page, "First sweep")
    wait_until_terminal(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("First sweep")
    expect(page.get_by_test_id("progress-count")).to_have_text("22 / 22")

    open_new_form(page)
    page.get_by_label("Name").fill("Second sweep")
    fill_range(page, "Fast SMA", "5", "10", "5")
    fill_range(page, "Slow SMA", "20", "30", "10")
    page.evaluate(RECORD_HEADINGS)
    submit_form(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Second sweep")
    wait_until_terminal(page)
    headings = page.evaluate("window.__headings")
    assert "Second sweep" in headings
    assert "First sweep" not in headings, headings
    expect(page.get_by_test_id("progress-count")).to_have_text("4 / 4")


def test_the_form_survives_browser_back(page: Page, signed_in_account: Account) -> None:
    open_new_form(page)
    choose(page, "Strategy", "RSI mean reversion")
    page.get_by_label("Name").fill("Kept after Back")
    fill_range(page, "RSI period", "10", "12", "1")
    fill_range(page, "Lower level", "20", "30", "5")
    fill_range(page, "Upper level", "70", "80", "10")
    page.get_by_role("radio", name="Minimize").click()
    choose(page, "Metric", "Max drawdown")
    submit_form(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Kept after Back")

    page.go_back()
    expect(page.get_by_role("heading", name="New optimization", level=1)).to_be_visible()
    expect(page.get_by_label("Name")).to_have_value("Kept after Back")
    expect(page.get_by_label("Strategy", exact=True)).to_have_text("RSI mean reversion")
    expect(page.get_by_label("RSI period start")).to_have_value("10")
    expect(page.get_by_label("Upper level stop")).to_have_value("80")
    expect(page.get_by_label("Metric", exact=True)).to_have_text("Max drawdown")
    expect(page.get_by_role("radio", name="Minimize")).to_be_checked()

    # a link to the form still opens it fresh
    page.get_by_role("link", name="History").click()
    open_new_form(page)
    expect(page.get_by_label("Strategy", exact=True)).to_have_text("SMA crossover")


def test_the_chosen_direction_is_unmistakable(page: Page, signed_in_account: Account) -> None:
    open_new_form(page)
    chosen, other = page.get_by_role("radio", name="Maximize"), page.get_by_role(
        "radio", name="Minimize")
    expect(chosen).to_be_checked()
    colour = "el => getComputedStyle(el).color"
    assert chosen.evaluate(colour) != other.evaluate(colour)
    indicator = chosen.evaluate(
        "el => getComputedStyle(el.parentElement.querySelector("
        "'.rt-SegmentedControlIndicator'), '::before').backgroundColor")
    assert indicator not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)"), indicator
    other.click()
    expect(other).to_be_checked()
    assert other.evaluate(colour) != chosen.evaluate(colour)


def test_tables_at_phone_width(page: Page, signed_in_account: Account) -> None:
    job_id = small_sma_job(page, "Phone sweep")
    wait_until_terminal(page)
    page.set_viewport_size(PHONE)

    page.goto("/optimizations")
    row = page.get_by_role("row").filter(has_text="Phone sweep")
    status, progress = row.get_by_text("Succeeded"), row.get_by_text("22 / 22")
    for cell in (status, progress):
        expect(cell).to_be_in_viewport(ratio=1)
        box = cell.bounding_box()
        assert box is not None and box["x"] + box["width"] <= PHONE["width"]
    expect(page.get_by_test_id("scroll-hint")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.goto(f"/optimizations/{job_id}")
    expect(page.get_by_text("Swipe the Top-N table sideways")).to_be_visible()
    table = page.get_by_role("region", name="Top combinations").get_by_role("table")
    expect(table).to_be_visible()
    scrolls = table.evaluate(
        """t => { for (let e = t.parentElement; e; e = e.parentElement) {
             const s = getComputedStyle(e).overflowX;
             if ((s === 'auto' || s === 'scroll') && e.scrollWidth > e.clientWidth) {
               e.scrollLeft = e.scrollWidth; return e.scrollLeft > 0; } }
           return false; }""")
    assert scrolls
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_an_upload_asks_for_its_name_and_symbol(page: Page, signed_in_account: Account) -> None:
    open_new_form(page)
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Upload CSV").click()
    chooser.value.set_files(
        files=[{"name": "widget_co.csv", "mimeType": "text/csv", "buffer": bars_csv(260)}]
    )
    expect(page.get_by_label("Dataset name")).to_have_value("widget_co")
    expect(page.get_by_label("Symbol")).to_have_value("WIDGET_CO")
    page.get_by_label("Symbol").fill("")
    page.get_by_role("button", name="Save name and symbol").click()
    expect(page.get_by_text(re.compile("enter a symbol", re.IGNORECASE))).to_be_visible()
    page.get_by_label("Dataset name").fill("Widget Co daily")
    page.get_by_label("Symbol").fill("WDGT")
    page.get_by_role("button", name="Save name and symbol").click()
    expect(page.get_by_text("Saved: “Widget Co daily” (WDGT).")).to_be_visible()
    expect(page.get_by_label("Dataset", exact=True)).to_have_text("Widget Co daily")
    fill_range(page, "Fast SMA", "5", "10", "5")
    fill_range(page, "Slow SMA", "20", "30", "10")
    submit_form(page)
    expect(page.get_by_text("Widget Co daily").first).to_be_visible()
