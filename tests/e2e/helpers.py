"""Steps shared by the E2E tests, written the way a user performs them."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from playwright.sync_api import Page, expect

TEST_PASSWORD = "correct-horse-battery"


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
