"""Steps shared by the E2E tests, written the way a user performs them."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from playwright.sync_api import Page, expect

TEST_PASSWORD = "correct-horse-battery"
ADMIN_EMAIL = "admin-e2e@example.com"  # OPTIMIZER_ADMIN_EMAILS of the E2E app

# The grid cap the E2E app runs with (conftest.py), as the form shows it.
CAP_TEXT = "(max 2,000,000)"


@dataclass(frozen=True)
class Account:
    email: str
    password: str


def unique_email(prefix: str = "e2e") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


def sign_up(page: Page, *, email: str | None = None, password: str = TEST_PASSWORD) -> Account:
    """Create a fresh account through the UI; ends signed in on the history page."""
    account = Account(email=email or unique_email(), password=password)
    page.goto("/sign-up")
    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="History", level=1)).to_be_visible()
    return account


def sign_in(page: Page, account: Account) -> None:
    """Fill and submit the sign-in form of the current page."""
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()


def sign_out(page: Page, account: Account) -> None:
    page.get_by_role("button", name=account.email).click()
    page.get_by_role("menuitem", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/sign-in/?$"))


# --- the optimization pages ------------------------------------------------------------------

DETAIL_URL = re.compile(r"/optimizations/([0-9a-f-]{36})/?$")
TERMINAL_LABELS = re.compile(r"^(Succeeded|Failed|Stopped early|Canceled)$")


def choose(page: Page, label: str, option: str) -> None:
    """Pick ``option`` in the select labelled ``label``."""
    page.get_by_label(label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()
    expect(page.get_by_label(label, exact=True)).to_have_text(option)


def fill_range(page: Page, param: str, start: str, stop: str, step: str) -> None:
    """Set a parameter's range (its editor in range mode)."""
    page.get_by_label(f"{param} start").fill(start)
    page.get_by_label(f"{param} stop").fill(stop)
    page.get_by_label(f"{param} step").fill(step)


def open_new_form(page: Page) -> None:
    page.get_by_role("link", name="New optimization").click()
    expect(page.get_by_role("heading", name="New optimization", level=1)).to_be_visible()
    expect(page.get_by_role("button", name="Start optimization")).to_be_enabled()


def submit_form(page: Page) -> str:
    """Start the optimization on the form; returns the new job's id from the detail URL."""
    page.get_by_role("button", name="Start optimization").click()
    expect(page).to_have_url(DETAIL_URL, timeout=30_000)
    match = DETAIL_URL.search(page.url)
    assert match is not None
    return match.group(1)


def small_sma_job(page: Page, name: str) -> str:
    """A small SMA crossover job (fast 5-20 × slow 10-40, 22 combinations), submitted."""
    open_new_form(page)
    page.get_by_label("Name").fill(name)
    fill_range(page, "Fast SMA", "5", "20", "5")
    fill_range(page, "Slow SMA", "10", "40", "5")
    expect(page.get_by_test_id("combinations")).to_have_text(f"22 combinations {CAP_TEXT}")
    return submit_form(page)


def status_badge(page: Page):  # noqa: ANN201 - a Locator
    """The job's status badge next to the detail page's title."""
    return page.locator("h1 + [data-status]")


def wait_until_terminal(page: Page, timeout: float = 90_000) -> None:
    expect(status_badge(page)).to_have_text(TERMINAL_LABELS, timeout=timeout)


def count_of(text: str) -> int:
    """``1,234 / 5,000`` → 1234."""
    return int(text.split("/")[0].strip().replace(",", ""))
