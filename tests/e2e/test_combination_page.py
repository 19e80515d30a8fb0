"""A page per combination, in the browser: opened from a Top-N row and from the detail page's
"Go to combination #" field (any combination of the grid, in the Top-N or not), with its score
as the table shows it, every metric, charts, monthly returns, paginated trades and CSV
downloads; another user's job and an index outside the grid are "not found". On the detail
page, scores carry the decimals that tell ranks apart and rows with identical trades are
grouped under the first."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.helpers import (
    Account,
    choose,
    fill_range,
    open_new_form,
    sign_out,
    sign_up,
    small_sma_job,
    submit_form,
    wait_until_terminal,
)

pytestmark = pytest.mark.e2e

COMBINATION_URL = re.compile(r"/optimizations/[0-9a-f-]{36}/combinations/(\d+)/?$")


def top_table(page: Page) -> Locator:
    return page.get_by_role("region", name="Top combinations").get_by_role("table")


def row_cells(row: Locator) -> list[str]:
    return [c.strip() for c in row.locator("th, td").all_inner_texts()]


RECORD_HEADINGS = """() => {
    window.__headings = [];
    const record = () => document.querySelectorAll("h1").forEach(
        (h) => window.__headings.push(h.textContent.trim()));
    new MutationObserver(record).observe(document.body,
        {subtree: true, childList: true, characterData: true});
}"""


def go_to(page: Page, number: str) -> None:
    page.get_by_label("Go to combination #").fill(number)
    page.get_by_role("button", name="Open", exact=True).click()


def decimals(text: str) -> int:
    digits = text.rstrip("%")
    return len(digits.split(".")[1]) if "." in digits else 0


def test_a_top_n_row_opens_its_combination_with_charts_months_and_csvs(
    page: Page, signed_in_account: Account
) -> None:
    job_id = small_sma_job(page, "Combination story")
    wait_until_terminal(page)
    first = top_table(page).locator("tbody tr").first
    cells = row_cells(first)
    rank, label, score, params = cells[0], cells[1], cells[2], cells[3]
    first.get_by_role("link", name=f"Open combination {label}").click()

    expect(page).to_have_url(COMBINATION_URL)
    expect(page.get_by_role("heading", name=f"Combination {label}", level=1)).to_be_visible()
    expect(page.get_by_test_id("combination-score")).to_contain_text(score)
    expect(page.get_by_test_id("combination-rank")).to_contain_text(f"#{rank} of the Top 10")
    expect(page.get_by_test_id("combination-constraints")).to_contain_text(
        "Passes (Number of trades ≥ 1)")
    fast, slow = re.match(r"fast (\d+) · slow (\d+)", params).groups()  # type: ignore[union-attr]
    parameters = page.get_by_role("region", name="Parameters")
    expect(parameters).to_contain_text(f"Fast SMA{fast}")
    expect(parameters).to_contain_text(f"Slow SMA{slow}")
    metrics = page.get_by_role("region", name="Metrics")
    expect(metrics).to_contain_text(re.compile(r"Max drawdown\d+\.\d\d%"))  # a percent, as in the table
    expect(metrics).to_contain_text(re.compile(r"Final equity[\d,]+\.\d\d"))
    expect(page.get_by_role("img", name="Equity curve chart")).to_be_visible()
    expect(page.get_by_role("img", name="Drawdown chart")).to_be_visible()
    months = page.get_by_role("region", name="Monthly returns").locator("tbody tr")
    expect(months.first).to_contain_text(re.compile(r"^\s*20\d\d"))
    assert months.count() >= 5  # the bundled series spans years

    with page.expect_download() as info:
        page.get_by_role("button", name="Trades CSV").click()
    trades = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text())))
    range_text = page.get_by_test_id("trades-range").inner_text()
    assert range_text.endswith(f"of {len(trades):,}"), range_text
    assert info.value.suggested_filename == f"combination-{label[1:]}-trades.csv"
    with page.expect_download() as info:
        page.get_by_role("button", name="Equity CSV").click()
    lines = Path(info.value.path()).read_text().splitlines()
    assert lines[0] == "date,equity,benchmark,drawdown" and len(lines) > 2000

    page.get_by_role("link", name="Back to the optimization Combination story").click()
    expect(page).to_have_url(re.compile(rf"/optimizations/{job_id}/?$"))
    expect(page.get_by_role("heading", name="Combination story", level=1)).to_be_visible()


def test_go_to_field_any_combination_outside_the_top_n_and_trade_pages(
    page: Page, signed_in_account: Account
) -> None:
    small_sma_job(page, "Go to combinations")
    wait_until_terminal(page)
    shown = {row_cells(r)[1] for r in top_table(page).locator("tbody tr").all()}

    go_to(page, "22")  # the grid has 22 combinations: 0 to 21
    expect(page.get_by_text(
        "This optimization has 22 combinations, numbered 0 to 21; 22 is not one of them."
    )).to_be_visible()
    expect(page.get_by_label("Go to combination #")).to_have_attribute("aria-invalid", "true")
    go_to(page, "two")
    expect(page.get_by_text("“two” is not a combination number")).to_be_visible()

    outside = next(i for i in range(1, 22) if f"#{i}" not in shown)  # not #0: opened below
    go_to(page, str(outside))
    expect(page.get_by_role("heading", name=f"Combination #{outside}", level=1)).to_be_visible()
    expect(page.get_by_test_id("combination-rank")).to_have_text("Not in the Top 10")
    expect(page.get_by_role("region", name="Metrics")).to_contain_text("Sharpe ratio")

    # Combination 0 (fast 5, slow 10) trades often: its trades come 20 to a page.
    page.go_back()
    expect(page.get_by_label("Go to combination #")).to_be_visible()
    # Every heading the page shows on the way to the next combination is recorded: the
    # previous combination's must never appear under the new address.
    page.evaluate(RECORD_HEADINGS)
    go_to(page, "#0")
    expect(page.get_by_role("heading", name="Combination #0", level=1)).to_be_visible()
    seen = page.evaluate("window.__headings")
    assert f"Combination #{outside}" not in seen, seen
    assert "Combination #0" in seen
    pager = page.get_by_test_id("trades-range")
    expect(pager).to_have_text(re.compile(r"^Trades 1–20 of [\d,]+$"))
    count = int(pager.inner_text().rsplit(" ", 1)[1].replace(",", ""))
    assert count > 20
    trades = page.get_by_role("region", name="Trades")
    rows = trades.locator("tbody tr")
    expect(rows).to_have_count(20)
    expect(trades.get_by_role("button", name="Previous")).to_be_disabled()
    first_page = rows.first.inner_text()
    trades.get_by_role("button", name="Next").click()
    expect(pager).to_have_text(f"Trades 21–{min(40, count)} of {count:,}")
    expect(rows.first.locator("th")).to_have_text("21")
    assert rows.first.inner_text() != first_page
    expect(rows.first).to_contain_text(re.compile(r"\d{1,2} \w{3} \d{4}"))  # readable dates
    trades.get_by_role("button", name="Previous").click()
    expect(pager).to_have_text(f"Trades 1–20 of {count:,}")
    expect(rows.first.locator("th")).to_have_text("1")

    page.get_by_role("button", name="Re-run this combination").click()
    expect(page.get_by_role("heading", name="New optimization", level=1)).to_be_visible()
    expect(page.get_by_text("combination #0")).to_be_visible()
    expect(page.get_by_label("Fast SMA values")).to_have_value("5")
    expect(page.get_by_label("Slow SMA values")).to_have_value("10")


def test_not_found_for_an_index_outside_the_grid_and_another_users_job(page: Page) -> None:
    owner = sign_up(page)
    job_id = small_sma_job(page, "Private combinations")
    page.goto(f"/optimizations/{job_id}/combinations/22")
    expect(page.get_by_role("heading", name="Combination not found")).to_be_visible()
    expect(page.get_by_text("has 22 combinations, numbered 0 to 21; 22 is not one of them"))\
        .to_be_visible()
    page.get_by_role("button", name="Back to the optimization").click()
    expect(page.get_by_role("heading", name="Private combinations", level=1)).to_be_visible()
    page.goto(f"/optimizations/{job_id}/combinations/first")
    expect(page.get_by_text("numbered 0 to 21; first is not one of them")).to_be_visible()
    sign_out(page, owner)

    sign_up(page)
    page.goto(f"/optimizations/{job_id}/combinations/3")
    expect(page.get_by_role("heading", name="Combination not found")).to_be_visible()
    expect(page.get_by_text("There is no optimization at this address in your account"))\
        .to_be_visible()
    expect(page.get_by_text("Private combinations")).to_have_count(0)
    page.get_by_role("button", name="Back to history").click()
    expect(page.get_by_role("heading", name="History", level=1)).to_be_visible()


def test_identical_rows_are_grouped_and_expand(page: Page, signed_in_account: Account) -> None:
    # A fine step of the band width: neighbouring widths often trade identically.
    open_new_form(page)
    choose(page, "Strategy", "Bollinger breakout")
    choose(page, "Dataset", "Google (GOOG) daily")
    page.get_by_label("Name").fill("Fine band widths")
    fill_range(page, "Period", "20", "20", "1")
    fill_range(page, "Width k", "1.0", "1.05", "0.001")
    submit_form(page)
    wait_until_terminal(page)

    rows = top_table(page).locator("tbody tr")
    toggles = top_table(page).get_by_role("button", name=re.compile(r"^\+ \d+ identical$"))
    expect(toggles.first).to_be_visible()
    hidden = sum(int(re.search(r"\d+", t).group()) for t in toggles.all_inner_texts())  # type: ignore[union-attr]
    expect(rows).to_have_count(10 - hidden)

    leader = rows.filter(
        has=page.get_by_role("button", name=re.compile(r"^\+ \d+ identical$"))).first
    leader_cells = row_cells(leader)
    group_size = int(re.search(r"\+ (\d+)", toggles.first.inner_text()).group(1))  # type: ignore[union-attr]
    toggles.first.click()
    expect(rows).to_have_count(10 - hidden + group_size)
    members = rows.filter(has_text=f"same trades as rank {leader_cells[0]}")
    expect(members).to_have_count(group_size)
    for member in members.all():
        cells = row_cells(member)
        # Score and metrics equal: a true tie reads the same.
        assert cells[2] == leader_cells[2] and cells[4:8] == leader_cells[4:8], (cells, leader_cells)
        assert cells[1] != leader_cells[1]
    top_table(page).get_by_role("button", name=re.compile(r"^Hide \d+ identical$")).click()
    expect(rows).to_have_count(10 - hidden)


def test_scores_have_the_decimals_that_tell_ranks_apart(
    page: Page, signed_in_account: Account
) -> None:
    open_new_form(page)
    choose(page, "Dataset", "Google (GOOG) daily")
    page.get_by_label("Name").fill("Close scores")
    fill_range(page, "Fast SMA", "5", "60", "5")
    fill_range(page, "Slow SMA", "20", "200", "10")
    submit_form(page)
    wait_until_terminal(page)
    expect(top_table(page).locator("tbody tr").first).to_be_visible()
    # Show every row (groups of identical rows opened) and read the exported scores.
    for toggle in top_table(page).get_by_role(
        "button", name=re.compile(r"^\+ \d+ identical$")
    ).all():
        toggle.click()
    expect(top_table(page).locator("tbody tr")).to_have_count(10)
    shown = [row_cells(r)[2] for r in top_table(page).locator("tbody tr").all()]
    with page.expect_download() as info:
        page.get_by_role("button", name="Export").click()
    archive = zipfile.ZipFile(Path(info.value.path()))
    scores = [float(r["score"]) for r in csv.DictReader(io.StringIO(
        archive.read("topn.csv").decode()))]
    assert len(scores) == len(shown) == 10

    places = {decimals(s) for s in shown}
    assert len(places) == 1, shown  # one column, one precision
    (used,) = places
    assert used >= 2
    for i in range(10):
        for j in range(10):
            # Different scores read differently; equal ones (true ties) read the same.
            assert (shown[i] == shown[j]) == (scores[i] == scores[j]), (shown, scores)
    if any(f"{a:.2f}" == f"{b:.2f}" for a, b in zip(scores, scores[1:], strict=False) if a != b):
        assert used > 2, shown  # two decimals would have shown a false tie
    for text, score in zip(shown, scores, strict=True):
        assert text == f"{score:,.{used}f}"

    # The combination page shows the score exactly as the table does.
    top_table(page).locator("tbody tr").nth(1).get_by_role(
        "link", name=re.compile("^Open combination")).click()
    expect(page.get_by_test_id("combination-score")).to_contain_text(shown[1])
