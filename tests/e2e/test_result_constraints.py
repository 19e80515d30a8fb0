"""Result constraints in the browser: the form presets "at least 1 trade", rows can be added,
changed and removed, a wrong value is marked on its field; the detail page states the
constraints and how many combinations failed them, and the job's order and seed; a re-run
copies them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import (
    Account,
    fill_range,
    open_new_form,
    submit_form,
    wait_until_terminal,
)

pytestmark = pytest.mark.e2e


def test_constraints_from_the_form_to_the_detail_page_and_a_rerun(
    page: Page, signed_in_account: Account
) -> None:
    open_new_form(page)
    page.get_by_label("Name").fill("Constrained sweep")
    fill_range(page, "Fast SMA", "5", "20", "5")
    fill_range(page, "Slow SMA", "10", "40", "5")
    # The preset: at least one trade.
    expect(page.get_by_label("Constraint 1 metric", exact=True)).to_have_text("Number of trades")
    expect(page.get_by_label("Constraint 1 comparison", exact=True)).to_have_text("at least (≥)")
    expect(page.get_by_label("Constraint 1 value", exact=True)).to_have_value("1")

    page.get_by_role("button", name="Add constraint").click()
    page.get_by_label("Constraint 2 metric", exact=True).click()
    page.get_by_role("option", name="Max drawdown", exact=True).click()
    page.get_by_label("Constraint 2 comparison", exact=True).click()
    page.get_by_role("option", name="at most (≤)", exact=True).click()
    value = page.get_by_label("Constraint 2 value", exact=True)
    value.fill("a lot")
    page.get_by_role("button", name="Start optimization").click()
    expect(page.get_by_text("Enter a number")).to_be_visible()
    expect(value).to_have_attribute("aria-invalid", "true")
    value.fill("0.25")
    # The corrected value clears the error (and the rows move up): click once they have.
    expect(page.get_by_text("Enter a number")).to_be_hidden()
    expect(value).not_to_have_attribute("aria-invalid", "true")
    page.get_by_role("button", name="Add constraint").click()
    page.get_by_role("button", name="Remove constraint 3").click()
    expect(page.get_by_label("Constraint 3 value", exact=True)).to_have_count(0)
    submit_form(page)
    wait_until_terminal(page)

    stated = page.get_by_test_id("constraints")
    expect(stated).to_contain_text("Number of trades ≥ 1 and Max drawdown ≤ 25.00%")
    expect(stated).to_contain_text(re.compile(r"· [\d,]+ finished combinations did not pass"))

    order = page.get_by_test_id("grid-order")
    expect(order).to_have_text(re.compile(r"^shuffled order, seed \d+$"))
    seed_text = order.inner_text()

    page.get_by_role("button", name=re.compile(r"^Re-run job")).click()
    expect(page.get_by_label("Constraint 2 metric", exact=True)).to_have_text("Max drawdown")
    expect(page.get_by_label("Constraint 2 value", exact=True)).to_have_value("0.25")
    submit_form(page)  # the re-run runs in the same order (same seed)
    expect(page.get_by_test_id("grid-order")).to_have_text(seed_text)
    expect(page.get_by_test_id("constraints")).to_contain_text("Max drawdown ≤ 25.00%")
