"""Sign-up, session across reloads, sign-out, protected pages and sign-in errors."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import Account, sign_in, sign_out, sign_up

pytestmark = pytest.mark.e2e

SIGN_IN_URL = re.compile(r"/sign-in/?(\?|$)")
# The static server may add a trailing slash on a reload.
NEW_URL = re.compile(r"/optimizations/new/?$")
HISTORY_URL = re.compile(r"/optimizations/?$")


def test_sign_up_lands_on_empty_history_and_survives_a_reload(page: Page) -> None:
    account = sign_up(page)

    expect(page).to_have_url(HISTORY_URL)
    expect(page).to_have_title("History · Grid Optimizer")
    expect(page.get_by_text("No optimizations yet")).to_be_visible()
    expect(page.get_by_role("button", name=account.email)).to_be_visible()

    page.reload()

    expect(page.get_by_role("heading", name="History", level=1)).to_be_visible()
    expect(page.get_by_role("button", name=account.email)).to_be_visible()
    expect(page).to_have_url(HISTORY_URL)


def test_root_leads_to_history(page: Page, signed_in_account: Account) -> None:
    page.goto("/")

    expect(page).to_have_url(HISTORY_URL)
    expect(page.get_by_role("heading", name="History", level=1)).to_be_visible()


def test_empty_history_offers_a_new_optimization(page: Page, signed_in_account: Account) -> None:
    page.get_by_role("button", name="New optimization").click()

    expect(page).to_have_url(NEW_URL)
    expect(page.get_by_role("heading", name="New optimization", level=1)).to_be_visible()


def test_signed_out_visitor_is_sent_to_sign_in_and_back(page: Page) -> None:
    account = sign_up(page)
    sign_out(page, account)

    page.goto("/optimizations")
    expect(page).to_have_url(re.compile(r"/sign-in/?\?next=%2Foptimizations(%2F)?$"))
    expect(page.get_by_role("button", name=account.email)).to_have_count(0)

    sign_in(page, account)

    expect(page).to_have_url(HISTORY_URL)
    expect(page.get_by_role("button", name=account.email)).to_be_visible()


def test_sign_in_returns_to_the_page_asked_for(page: Page) -> None:
    account = sign_up(page)
    sign_out(page, account)

    page.goto("/optimizations/new")
    expect(page).to_have_url(SIGN_IN_URL)
    sign_in(page, account)

    expect(page).to_have_url(NEW_URL)
    expect(page.get_by_role("heading", name="New optimization", level=1)).to_be_visible()


def test_wrong_password_shows_a_readable_error(page: Page) -> None:
    account = sign_up(page)
    sign_out(page, account)

    sign_in(page, Account(email=account.email, password="not-the-password"))

    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    expect(page).to_have_url(SIGN_IN_URL)
    expect(page.get_by_role("button", name="Sign in")).to_be_enabled()


def test_signing_up_twice_with_one_email_is_refused_readably(page: Page) -> None:
    account = sign_up(page)
    sign_out(page, account)

    page.goto("/sign-up")
    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_role("alert")).to_have_text(
        "An account with this email already exists; sign in instead."
    )
    expect(page).to_have_url(re.compile(r"/sign-up/?$"))


def test_short_password_is_refused_before_an_account_exists(page: Page) -> None:
    page.goto("/sign-up")
    page.get_by_label("Email").fill("short.password@example.com")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_role("alert")).to_have_text("Password: use 10 to 256 characters.")


def test_signing_out_in_one_tab_signs_out_the_other(page: Page) -> None:
    account = sign_up(page)
    other_tab = page.context.new_page()
    other_tab.goto("/optimizations/new")
    expect(other_tab.get_by_role("heading", name="New optimization", level=1)).to_be_visible()

    page.bring_to_front()  # a background tab runs its animations throttled
    sign_out(page, account)

    expect(other_tab).to_have_url(SIGN_IN_URL)
    expect(other_tab.get_by_role("heading", name="Sign in")).to_be_visible()
