"""Usage and quotas in the browser: an admin sets a user's quota on the usage page; that user's
form shows the run-time estimate and warns before a job that would exceed it, the submit is
refused readably, a smaller job runs, and the usage page counts it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import (
    ADMIN_EMAIL,
    TEST_PASSWORD,
    Account,
    fill_range,
    open_new_form,
    sign_in,
    sign_out,
    sign_up,
    submit_form,
    wait_until_terminal,
)

pytestmark = pytest.mark.e2e


def card(page: Page, label: str):  # noqa: ANN201 - a Locator
    return page.get_by_role("list", name="Your usage").locator(".rt-Card").filter(
        has=page.get_by_text(label, exact=True))


def test_admin_quota_form_warning_and_usage_page(page: Page) -> None:
    user = sign_up(page)
    sign_out(page, user)
    admin = Account(ADMIN_EMAIL, TEST_PASSWORD)
    sign_up(page, email=admin.email)

    # The admin's usage page: their own cards, then every user with a Quotas button.
    page.get_by_role("link", name="Usage").click()
    expect(page.get_by_role("heading", name="Usage", level=1)).to_be_visible()
    expect(card(page, "Combinations today")).to_contain_text("0")
    expect(page.get_by_role("heading", name="All users")).to_be_visible()
    page.get_by_role("button", name=f"Set quotas of {user.email}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Quotas of {user.email}")
    dialog.get_by_label("Share of the workers (%)").fill("150")
    dialog.get_by_role("button", name="Save quotas").click()
    expect(dialog.get_by_role("alert")).to_contain_text("percentage above 0 and at most 100")
    dialog.get_by_label("Share of the workers (%)").fill("50")
    dialog.get_by_label("Combinations per day").fill("100")
    dialog.get_by_role("button", name="Save quotas").click()
    expect(page.get_by_text(f"Quotas of {user.email} saved.")).to_be_visible()
    row = page.get_by_role("row").filter(has=page.get_by_text(user.email, exact=True))
    expect(row).to_contain_text("100/day")
    expect(row).to_contain_text("50% workers")
    expect(row).to_contain_text("custom quotas")
    page.get_by_role("button", name=f"Account menu for {admin.email}").click()
    page.get_by_role("menuitem", name="Sign out").click()

    # The user: the form estimates the job and warns before submit.
    sign_in(page, user)
    expect(page.get_by_role("heading", name="History", level=1)).to_be_visible()
    open_new_form(page)
    fill_range(page, "Fast SMA", "5", "50", "5")
    fill_range(page, "Slow SMA", "10", "200", "10")
    expect(page.get_by_test_id("combinations")).to_contain_text("175 combinations")
    # Measured once another SMA job of the session ended, a default "estimate" before.
    expect(page.get_by_test_id("estimate")).to_have_text(
        re.compile(r"^(About .+|Under a second ?)"
                   r"(\(estimate: no job of this strategy has finished yet\)|"
                   r", from earlier runs of this strategy)$"))
    warning = page.get_by_test_id("quota-warning")
    expect(warning).to_contain_text("only 100 are left of today's quota")
    page.get_by_role("button", name="Start optimization").click()
    expect(page.get_by_role("alert").filter(has_text="quota")).to_contain_text(
        "100 combinations per day")

    fill_range(page, "Fast SMA", "5", "20", "5")
    fill_range(page, "Slow SMA", "10", "40", "5")
    expect(page.get_by_test_id("combinations")).to_contain_text("22 combinations")
    expect(page.get_by_test_id("quota-warning")).to_have_count(0)
    submit_form(page)
    wait_until_terminal(page)

    page.get_by_role("link", name="Usage").click()
    expect(card(page, "Combinations today")).to_contain_text("22")
    expect(card(page, "Combinations today")).to_contain_text("of 100 per day")
    expect(card(page, "Share of the workers")).to_contain_text("50%")
    expect(card(page, "Storage")).to_contain_text(re.compile(r"\d"))
    expect(page.get_by_role("heading", name="All users")).to_have_count(0)
