"""The new-optimization form: problems explained next to the field, dataset upload (refused
readably, then accepted and used), and the pre-fill of a whole-job re-run."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import (
    CAP_TEXT,
    DETAIL_URL,
    Account,
    choose,
    fill_range,
    open_new_form,
    small_sma_job,
    status_badge,
    submit_form,
    wait_until_terminal,
)

pytestmark = pytest.mark.e2e

NEW_URL = re.compile(r"/optimizations/new/?(\?.*)?$")


def bars_csv(rows: int, *, bad_rows: tuple[int, ...] = ()) -> bytes:
    """Daily bars (weekdays from 2020-01-01); the 1-based ``bad_rows`` get a non-number close."""
    lines = ["date,open,high,low,close,volume"]
    day = date(2020, 1, 1)
    for n in range(1, rows + 1):
        while day.weekday() >= 5:
            day += timedelta(days=1)
        price = 100 + 10 * ((n * 7) % 13) / 13 + n * 0.05
        close = "abc" if n in bad_rows else f"{price + 0.5:.2f}"
        lines.append(f"{day},{price:.2f},{price + 1:.2f},{price - 1:.2f},{close},{1000 + n}")
        day += timedelta(days=1)
    return ("\n".join(lines) + "\n").encode()


def test_invalid_input_is_explained_next_to_the_field(
    page: Page, signed_in_account: Account
) -> None:
    open_new_form(page)
    combinations = page.get_by_test_id("combinations")

    page.get_by_label("Fast SMA start").fill("abc")
    expect(page.get_by_text("Start must be a number, not “abc”")).to_be_visible()
    expect(page.get_by_label("Fast SMA start")).to_have_attribute("aria-invalid", "true")
    expect(combinations).to_have_text(f"– combinations {CAP_TEXT}")

    fill_range(page, "Fast SMA", "5", "20", "0")
    expect(page.get_by_text("Step must be greater than 0", exact=True)).to_be_visible()
    expect(page.get_by_label("Fast SMA step")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Fast SMA start")).to_have_attribute("aria-invalid", "false")
    page.get_by_label("Fast SMA step").fill("5")
    page.get_by_label("Slow SMA stop").fill("500")
    # the user's words, the value as typed, on the field that is wrong
    expect(page.get_by_text("Slow SMA must be between 3 and 400, not 500")).to_be_visible()
    expect(page.get_by_label("Slow SMA stop")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Slow SMA start")).to_have_attribute("aria-invalid", "false")
    expect(page.get_by_text(re.compile(r"\bgot\b|float in"))).to_have_count(0)

    page.get_by_label("Slow SMA stop").fill("40")
    expect(combinations).to_have_text(f"22 combinations {CAP_TEXT}")
    page.get_by_role("radio", name="Values").first.click()
    page.get_by_label("Fast SMA values").fill("1, 10")
    expect(page.get_by_text("Fast SMA must be between 2 and 200, not 1")).to_be_visible()
    expect(page.get_by_label("Fast SMA values")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Fast SMA values").fill("5, 10")
    expect(combinations).to_have_text(f"13 combinations {CAP_TEXT}")

    page.get_by_label("Top-N").fill("500")
    expect(page.get_by_text("Keep between 1 and 100 best combinations.")).to_be_visible()
    page.get_by_label("Commission (%)").fill("twenty")
    expect(page.get_by_text("“twenty” is not a number.")).to_be_visible()

    page.get_by_role("button", name="Start optimization").click()
    expect(
        page.get_by_role("alert").filter(has_text="Fix the fields marked in red")
    ).to_be_visible()
    expect(page).to_have_url(NEW_URL)

    page.get_by_label("Top-N").fill("5")
    page.get_by_label("Commission (%)").fill("0.1")
    submit_form(page)
    wait_until_terminal(page)
    expect(status_badge(page)).to_have_text("Succeeded")
    expect(page.get_by_test_id("progress-count")).to_have_text("13 / 13")
    expect(page.get_by_role("heading", name="Top 5 combinations")).to_be_visible()


def test_dataset_upload_is_checked_then_used(page: Page, signed_in_account: Account) -> None:
    open_new_form(page)

    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Upload CSV").click()
    chooser.value.set_files(
        files=[
            {"name": "broken.csv", "mimeType": "text/csv", "buffer": bars_csv(80, bad_rows=(3, 7))}
        ]
    )
    problem = page.get_by_role("alert").filter(has_text="The file was not uploaded.")
    expect(problem).to_contain_text("2 data rows are invalid")
    expect(problem.get_by_role("listitem")).to_have_text(
        ["Row 3: close is not a number ('abc')", "Row 7: close is not a number ('abc')"]
    )

    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Upload CSV").click()
    chooser.value.set_files(
        files=[{"name": "acme.csv", "mimeType": "text/csv", "buffer": bars_csv(260)}]
    )
    expect(page.get_by_text("Uploaded “acme”: 260 daily bars.")).to_be_visible()
    expect(problem).to_have_count(0)
    expect(page.get_by_label("Dataset", exact=True)).to_have_text("acme")

    fill_range(page, "Fast SMA", "5", "10", "5")
    fill_range(page, "Slow SMA", "20", "30", "10")
    expect(page.get_by_test_id("combinations")).to_have_text(f"4 combinations {CAP_TEXT}")
    submit_form(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("SMA crossover on ACME")
    wait_until_terminal(page)
    expect(status_badge(page)).to_have_text("Succeeded")


def test_rerun_job_prefills_the_form_and_links_back(page: Page, signed_in_account: Account) -> None:
    open_new_form(page)
    page.get_by_label("Name").fill("Tuned RSI")
    choose(page, "Strategy", "RSI mean reversion")
    fill_range(page, "RSI period", "10", "14", "2")
    fill_range(page, "Lower level", "20", "30", "10")
    fill_range(page, "Upper level", "70", "80", "10")
    choose(page, "Metric", "Total return")
    page.get_by_label("Top-N").fill("3")
    page.get_by_label("Patience").fill("50")
    page.get_by_label("Initial cash").fill("25000")
    choose(page, "Positions", "Long and short")
    expect(page.get_by_test_id("combinations")).to_have_text(f"12 combinations {CAP_TEXT}")
    source_id = submit_form(page)
    wait_until_terminal(page)

    page.get_by_role("button", name="Re-run job").click()
    expect(page).to_have_url(re.compile(rf"/optimizations/new/?\?source={source_id}$"))
    expect(page.get_by_text("Re-run of")).to_be_visible()
    expect(page.get_by_label("Name")).to_have_value("Tuned RSI (re-run)")
    expect(page.get_by_label("Strategy", exact=True)).to_have_text("RSI mean reversion")
    expect(page.get_by_label("RSI period start")).to_have_value("10")
    expect(page.get_by_label("Upper level step")).to_have_value("10")
    expect(page.get_by_label("Metric", exact=True)).to_have_text("Total return")
    expect(page.get_by_label("Top-N")).to_have_value("3")
    expect(page.get_by_label("Patience")).to_have_value("50")
    expect(page.get_by_label("Initial cash")).to_have_value("25000")
    expect(page.get_by_label("Positions", exact=True)).to_have_text("Long and short")
    expect(page.get_by_test_id("combinations")).to_have_text(f"12 combinations {CAP_TEXT}")

    page.get_by_role("link", name="Tuned RSI", exact=True).click()
    expect(page).to_have_url(DETAIL_URL)
    expect(page.get_by_role("heading", name="Tuned RSI", level=1, exact=True)).to_be_visible()


def test_rerun_from_history_opens_the_prefilled_form(
    page: Page, signed_in_account: Account
) -> None:
    small_sma_job(page, "From the list")
    page.get_by_role("link", name="History", exact=True).first.click()
    page.get_by_role("button", name="Re-run From the list").click()
    expect(page).to_have_url(NEW_URL)
    expect(page.get_by_role("link", name="From the list", exact=True)).to_be_visible()
    expect(page.get_by_test_id("combinations")).to_have_text(f"22 combinations {CAP_TEXT}")
