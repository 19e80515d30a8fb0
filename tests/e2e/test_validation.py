"""Out-of-sample checks through the UI: a hold-out job from the form to its comparison on
the detail page, marked in the history and kept by a re-run; a walk-forward job's folds and
efficiency."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import (
    CAP_TEXT,
    Account,
    choose,
    fill_range,
    open_new_form,
    status_badge,
    submit_form,
    wait_until_terminal,
)

pytestmark = pytest.mark.e2e

NUMBER = re.compile(r"^[−+-]?[\d,]+\.\d{2}$")


def small_form(page: Page, name: str) -> None:
    open_new_form(page)
    page.get_by_label("Name").fill(name)
    fill_range(page, "Fast SMA", "5", "20", "5")
    fill_range(page, "Slow SMA", "10", "40", "5")
    expect(page.get_by_test_id("combinations")).to_have_text(f"22 combinations {CAP_TEXT}")


def test_a_holdout_job_shows_in_against_out_of_sample(page: Page,
                                                      signed_in_account: Account) -> None:
    small_form(page, "Held-out SMA")
    choose(page, "Check", "Hold-out")
    page.get_by_label("Out of sample (%)").fill("25")
    submit_form(page)
    wait_until_terminal(page)
    expect(status_badge(page)).to_have_text("Succeeded")

    card = page.get_by_role("region", name="Out-of-sample check")
    expect(card).to_contain_text("Hold-out: the last 25% of the bars")
    rows = card.get_by_test_id("holdout-table").locator("tbody tr")
    expect(rows.first).to_be_visible(timeout=30_000)
    expect(rows).to_have_count(10)
    cells = [c.strip() for c in rows.first.locator("th, td").all_inner_texts()]
    assert cells[0] == "1"
    assert NUMBER.match(cells[2]) and NUMBER.match(cells[3]) and NUMBER.match(cells[4]), cells
    expect(card.get_by_role("img", name="In-sample against out-of-sample score chart")
           ).to_be_visible()
    series = card.locator(".recharts-scatter")  # the grid's sample, then the Top-N
    expect(series.nth(1).locator(".recharts-scatter-symbol")).to_have_count(10)
    expect(series.nth(0).locator(".recharts-scatter-symbol").first).to_be_visible()
    stability = page.get_by_role("region", name="Parameter stability")
    expect(stability.locator("tbody tr")).to_have_count(10)

    page.get_by_role("link", name="History", exact=True).first.click()
    row = page.get_by_role("row").filter(has_text="Held-out SMA")
    expect(row.get_by_test_id("validated")).to_have_text("Hold-out")

    row.get_by_role("link", name="Held-out SMA").click()
    page.get_by_role("button", name="Re-run job").click()
    expect(page.get_by_role("heading", name="New optimization", level=1)).to_be_visible()
    expect(page.get_by_label("Check", exact=True)).to_have_text("Hold-out")
    expect(page.get_by_label("Out of sample (%)")).to_have_value("25")


def test_a_walkforward_job_shows_its_folds(page: Page, signed_in_account: Account) -> None:
    small_form(page, "Walked SMA")
    choose(page, "Check", "Walk-forward")
    page.get_by_label("Folds").fill("3")
    page.get_by_label("Training bars").fill("500")
    page.get_by_label("Test bars").fill("300")
    choose(page, "Rank results by", "Neighbourhood mean")
    submit_form(page)
    wait_until_terminal(page)
    card = page.get_by_role("region", name="Out-of-sample check")
    folds = card.get_by_test_id("folds-table").locator("tbody tr")
    expect(folds).to_have_count(3, timeout=30_000)
    expect(card.get_by_test_id("wf-efficiency")).to_have_text(re.compile(r"^(–|[−-]?[\d,]+\.\d{2})$"))
    expect(card.get_by_role("img", name=re.compile("Stitched out-of-sample equity"))
           ).to_be_visible()
    expect(page.get_by_role("region", name="Parameter stability")).to_contain_text(
        "Ranked by neighbourhood mean")


def test_a_start_date_outside_the_data_is_refused_readably(page: Page,
                                                           signed_in_account: Account) -> None:
    small_form(page, "Too late")
    choose(page, "Check", "Hold-out")
    choose(page, "Hold out", "From a date")
    page.get_by_label("First out-of-sample day").fill("2030-01-01")
    page.get_by_role("button", name="Start optimization").click()
    expect(page.get_by_role("alert").filter(has_text="out of sample")).to_be_visible()
