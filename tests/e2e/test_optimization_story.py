"""The whole user story in a real browser against the real orchestrator: submit from the form,
watch progress live, read the Top-N in the job's direction, export it (and see a readable
message when the export cannot be built), cancel a large job, re-run a combination and find it
in the history linked to its source, and keep other users out."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Download, Page, expect

from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import (
    CAP_TEXT,
    Account,
    choose,
    count_of,
    fill_range,
    open_new_form,
    sign_out,
    sign_up,
    small_sma_job,
    status_badge,
    submit_form,
    wait_until_terminal,
)

pytestmark = pytest.mark.e2e

LARGE_TOTAL = "980,196"


def top_rows(page: Page) -> list[list[str]]:
    """The Top-N table's body rows as cell texts."""
    table = page.get_by_role("region", name="Top combinations").get_by_role("table")
    rows = table.locator("tbody tr")
    return [[c.strip() for c in row.locator("th, td").all_inner_texts()] for row in rows.all()]


def number(text: str) -> float:
    return float(text.replace(",", "").replace("%", ""))


def test_progress_grows_live_and_cancel_keeps_the_final_numbers(
    page: Page, signed_in_account: Account
) -> None:
    open_new_form(page)
    choose(page, "Strategy", "Bollinger breakout")
    page.get_by_label("Name").fill("Large Bollinger sweep")
    fill_range(page, "Period", "5", "200", "1")
    fill_range(page, "Width k", "0.5", "4.0", "0.0007")
    expect(page.get_by_test_id("combinations")).to_have_text(
        f"{LARGE_TOTAL} combinations {CAP_TEXT}"
    )
    submit_form(page)
    page.evaluate("window.__sameDocument = true")

    progress = page.get_by_test_id("progress-count")
    bar = page.get_by_role("progressbar", name="Progress")
    expect(progress).to_have_text(re.compile(rf"^[1-9][\d,]* / {LARGE_TOTAL}$"), timeout=30_000)
    first = progress.inner_text()
    first_bar = bar.get_attribute("aria-valuenow")
    assert first_bar is not None
    expect(progress).not_to_have_text(first)
    expect(bar).not_to_have_attribute("aria-valuenow", first_bar)
    assert count_of(progress.inner_text()) > count_of(first)
    expect(status_badge(page)).to_have_text("Running")
    assert page.evaluate("window.__sameDocument === true"), "the page reloaded"

    # The history refreshes the live row by itself too.
    page.get_by_role("link", name="History", exact=True).first.click()
    row = page.get_by_role("row").filter(has_text="Large Bollinger sweep")
    expect(row).to_contain_text("Running")
    shown = row.get_by_text(re.compile(rf"/ {LARGE_TOTAL}$")).inner_text()
    expect(row.get_by_text(re.compile(rf"/ {LARGE_TOTAL}$"))).not_to_have_text(shown)
    row.get_by_role("link", name="Large Bollinger sweep").click()

    page.get_by_role("button", name="Cancel", exact=True).click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Cancel this optimization?")
    dialog.get_by_role("button", name="Cancel optimization").click()

    expect(status_badge(page)).to_have_text("Canceled")
    banner = page.get_by_test_id("final-numbers")
    expect(banner).to_contain_text("This optimization was canceled.")
    expect(banner).to_contain_text(re.compile(rf"[\d,]+ of {LARGE_TOTAL} combinations finished"))
    expect(page.get_by_role("button", name="Cancel", exact=True)).to_have_count(0)
    final_text, final_count = banner.inner_text(), progress.inner_text()
    assert count_of(final_count) < 980_196

    page.reload()  # everything read again from the database, after the workers' last writes
    expect(status_badge(page)).to_have_text("Canceled")
    expect(page.get_by_test_id("final-numbers")).to_have_text(final_text)
    expect(page.get_by_test_id("progress-count")).to_have_text(final_count)


def test_top_n_export_and_rerun_from_a_row(page: Page, signed_in_account: Account) -> None:
    small_sma_job(page, "Story small")
    wait_until_terminal(page)
    expect(status_badge(page)).to_have_text("Succeeded")
    expect(page.get_by_test_id("progress-count")).to_have_text("22 / 22")
    expect(page.get_by_test_id("sort-direction")).to_have_text(
        "Ranked by Sharpe ratio: higher is better"
    )
    expect(
        page.get_by_role("region", name="Top combinations").get_by_role("table").locator("tbody tr")
    ).to_have_count(10)
    rows = top_rows(page)
    assert [r[0] for r in rows] == [str(i) for i in range(1, 11)]
    scores = [number(r[2]) for r in rows]
    assert scores == sorted(scores, reverse=True), scores
    expect(page.get_by_role("img", name="Best score over finished chart")).to_be_visible()
    expect(page.get_by_role("group", name="Score by parameters chart")).to_be_visible()

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export").click()
    download: Download = download_info.value
    assert download.suggested_filename.endswith(".zip")
    archive = zipfile.ZipFile(Path(download.path()))
    exported = list(csv.DictReader(io.StringIO(archive.read("topn.csv").decode())))
    assert len(exported) == len(rows) == 10
    for shown, line in zip(rows, exported, strict=True):
        assert shown[0] == line["rank"]
        places = len(shown[2].split(".")[1])  # as many as tell the ranks apart, at least 2
        assert places >= 2 and shown[2] == f"{float(line['score']):,.{places}f}"
        assert shown[3] == f"fast {line['fast']} · slow {line['slow']}"
        assert shown[7] == line["trades"]
    assert "manifest.json" in archive.namelist()

    best = rows[0]
    page.get_by_role("region", name="Top combinations").get_by_role("table").locator(
        "tbody tr"
    ).first.get_by_role("button", name=re.compile(r"^Re-run combination")).click()
    expect(page.get_by_role("heading", name="New optimization", level=1)).to_be_visible()
    expect(page.get_by_text("Re-run of")).to_be_visible()
    expect(page.get_by_role("link", name="Story small", exact=True)).to_be_visible()
    fast, slow = re.match(r"fast (\d+) · slow (\d+)", best[3]).groups()  # type: ignore[union-attr]
    expect(page.get_by_label("Fast SMA values")).to_have_value(fast)
    expect(page.get_by_label("Slow SMA values")).to_have_value(slow)
    expect(page.get_by_test_id("combinations")).to_have_text(f"1 combination {CAP_TEXT}")
    rerun_name = page.get_by_label("Name").input_value()
    assert rerun_name.startswith("Story small")
    submit_form(page)

    expect(page.get_by_role("heading", name=rerun_name, level=1, exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Story small", exact=True)).to_be_visible()
    wait_until_terminal(page)
    expect(status_badge(page)).to_have_text("Succeeded")
    rerun_rows = top_rows(page)
    # The same score (the decimals depend on the scores beside it: here there are none).
    rerun_places = len(rerun_rows[0][2].split(".")[1])
    assert rerun_rows[0][2] == f"{float(exported[0]['score']):,.{rerun_places}f}"
    assert rerun_rows[0][3] == best[3]

    page.get_by_role("link", name="History", exact=True).first.click()
    row = page.get_by_role("row").filter(has_text=rerun_name)
    expect(row).to_contain_text("re-run of")
    row.get_by_role("link", name="Story small", exact=True).click()
    expect(page.get_by_role("heading", name="Story small", level=1, exact=True)).to_be_visible()
    expect(
        page.get_by_role("link", name=rerun_name, exact=True)
    ).to_be_visible()  # listed as its re-run


def test_min_job_is_ranked_lowest_first(page: Page, signed_in_account: Account) -> None:
    open_new_form(page)
    page.get_by_label("Name").fill("Smallest drawdown")
    choose(page, "Metric", "Max drawdown")
    # The direction follows the metric.
    expect(page.get_by_role("radio", name="Minimize")).to_be_checked()
    expect(page.get_by_text("Lower is better", exact=True)).to_be_visible()
    fill_range(page, "Fast SMA", "5", "20", "5")
    fill_range(page, "Slow SMA", "10", "40", "5")
    submit_form(page)
    wait_until_terminal(page)
    expect(page.get_by_test_id("sort-direction")).to_have_text(
        "Ranked by Max drawdown: lower is better"
    )
    scores = [number(r[2]) for r in top_rows(page)]
    assert len(scores) == 10 and scores == sorted(scores), scores


def test_early_stop_shows_the_reason_and_final_numbers(
    page: Page, signed_in_account: Account
) -> None:
    open_new_form(page)
    choose(page, "Strategy", "Donchian breakout")
    fill_range(page, "Entry channel", "5", "120", "1")
    fill_range(page, "Exit channel", "5", "120", "1")
    page.get_by_label("Target score").fill("0.2")
    page.get_by_label("Minimum combinations").fill("500")
    expect(page.get_by_test_id("combinations")).to_have_text(f"13,456 combinations {CAP_TEXT}")
    submit_form(page)
    wait_until_terminal(page)

    expect(status_badge(page)).to_have_text("Stopped early")
    banner = page.get_by_test_id("final-numbers")
    expect(banner).to_contain_text(re.compile(r"^Target score 0\.2 reached \(best 0\.2\d*\)\."))
    expect(banner).to_contain_text(re.compile(r"[\d,]+ of 13,456 combinations finished"))
    finished = count_of(page.get_by_test_id("progress-count").inner_text())
    assert 500 <= finished < 13_456
    assert number(top_rows(page)[0][2]) >= 0.2


def test_export_failure_is_explained(
    page: Page, signed_in_account: Account, app_server: RunningApp
) -> None:
    downloads: list[Download] = []
    page.on("download", lambda download: downloads.append(download))
    job_id = small_sma_job(page, "Export trouble")
    wait_until_terminal(page)
    artifacts = app_server.data_dir / "artifacts" / job_id
    assert artifacts.is_dir()
    hidden = artifacts.with_name(job_id + ".moved")
    artifacts.rename(hidden)
    try:
        page.get_by_role("button", name="Export").click()
        alert = page.get_by_role("alert").filter(has_text="The export failed")
        expect(alert).to_contain_text("cannot be read; the export was not started")
        expect(page.get_by_role("button", name="Export")).to_be_enabled()
    finally:
        hidden.rename(artifacts)
    assert downloads == []
    assert "Traceback" not in page.content()


def test_another_users_job_is_not_found(page: Page) -> None:
    owner = sign_up(page)
    job_id = small_sma_job(page, "Private work")
    sign_out(page, owner)

    sign_up(page)
    page.goto(f"/optimizations/{job_id}")
    expect(page.get_by_role("heading", name="Optimization not found")).to_be_visible()
    expect(page.get_by_text("Private work")).to_have_count(0)

    page.goto("/optimizations/not-a-job")
    expect(page.get_by_role("heading", name="Optimization not found")).to_be_visible()
    page.get_by_role("button", name="Back to history").click()
    expect(page.get_by_role("heading", name="History", level=1)).to_be_visible()
