"""Deleting jobs from the browser: from a history row and from the detail page, each after a
confirmation; a re-run of a deleted job says its source was deleted."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import Account, small_sma_job, wait_until_terminal

pytestmark = pytest.mark.e2e


def _history_row(page: Page, name: str):  # noqa: ANN202 - a Locator
    """The row of the job named ``name`` (the one whose Delete button names it; a re-run's
    row also links to its source by name)."""
    return page.get_by_role("row").filter(
        has=page.get_by_role("button", name=f"Delete {name}", exact=True))


def test_delete_from_the_detail_page_and_from_history(page: Page,
                                                       signed_in_account: Account) -> None:
    first = small_sma_job(page, "Delete me from detail")
    wait_until_terminal(page)
    small_sma_job(page, "Delete me from history")
    wait_until_terminal(page)
    page.get_by_role("button", name=re.compile(r"^Re-run job")).click()
    # The form is filled from the source first; typing before that lands mixes the two names.
    expect(page.get_by_label("Name")).to_have_value("Delete me from history (re-run)")
    page.get_by_label("Name").fill("Re-run whose source goes")
    page.get_by_role("button", name="Start optimization").click()
    expect(page.get_by_text("Re-run of")).to_be_visible(timeout=30_000)

    # From the detail page: asked first, "Keep it" keeps it.
    page.goto(f"/optimizations/{first}")
    page.get_by_role("button", name="Delete this optimization").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Delete “Delete me from detail”?")
    dialog.get_by_role("button", name="Keep it").click()
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Delete this optimization").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete job").click()
    expect(page).to_have_url(re.compile(r"/optimizations/?$"), timeout=30_000)
    expect(page.get_by_text("Deleted “Delete me from detail”.")).to_be_visible()
    expect(_history_row(page, "Delete me from detail")).to_have_count(0)

    # From a history row.
    row = _history_row(page, "Delete me from history")
    expect(row).to_have_count(1)
    row.get_by_role("button", name="Delete Delete me from history").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete job").click()
    expect(_history_row(page, "Delete me from history")).to_have_count(0, timeout=30_000)
    rerun = _history_row(page, "Re-run whose source goes")
    expect(rerun).to_contain_text("re-run of a deleted optimization")

    # The deleted job's page is gone.
    page.goto(f"/optimizations/{first}")
    expect(page.get_by_text(re.compile("not found", re.IGNORECASE)).first).to_be_visible(
        timeout=30_000)
