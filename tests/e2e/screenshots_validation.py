"""The README's screenshots of out-of-sample checks, taken from the running app with real jobs.

Not part of the test run; run it on its own:
``python -m pytest tests/e2e/screenshots_validation.py`` writes ``docs/screenshots/validation-*.png``
(and a phone-width one under the pytest temporary folder, to look at)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.helpers import (
    choose,
    fill_range,
    open_new_form,
    sign_up,
    submit_form,
    wait_until_terminal,
)

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _form(page: Page, name: str) -> None:
    open_new_form(page)
    choose(page, "Dataset", "Google (GOOG) daily")
    page.get_by_label("Name").fill(name)
    fill_range(page, "Fast SMA", "5", "60", "5")
    fill_range(page, "Slow SMA", "20", "200", "10")


def _card(page: Page, name: str, path: Path) -> None:
    page.add_style_tag(content="header { position: static !important; }")  # not over the card
    card = page.get_by_role("region", name=name)
    card.scroll_into_view_if_needed()
    page.mouse.move(0, 0)
    card.screenshot(path=str(path), animations="disabled")


def test_take_validation_screenshots(page: Page, tmp_path: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_up(page, email="validation@example.com")

    _form(page, "SMA with a 30% hold-out")
    choose(page, "Check", "Hold-out")
    page.get_by_label("Out of sample (%)").fill("30")
    page.get_by_label("Out of sample (%)").scroll_into_view_if_needed()
    page.screenshot(path=str(OUT / "validation-form.png"), animations="disabled")
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_label("Out of sample (%)").scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "validation-form-phone.png"), animations="disabled")
    print(f"phone-width form: {tmp_path / 'validation-form-phone.png'}")
    page.set_viewport_size({"width": 1280, "height": 900})
    submit_form(page)
    wait_until_terminal(page)
    expect(page.get_by_test_id("holdout-table").locator("tbody tr")).to_have_count(10)
    _card(page, "Out-of-sample check", OUT / "validation-holdout.png")
    _card(page, "Parameter stability", OUT / "validation-stability.png")
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(tmp_path / "validation-holdout-phone.png"), full_page=True)
    print(f"phone-width screenshot: {tmp_path / 'validation-holdout-phone.png'}")
    page.set_viewport_size({"width": 1280, "height": 900})

    _form(page, "SMA walk-forward")
    choose(page, "Check", "Walk-forward")
    page.get_by_label("Folds").fill("5")
    page.get_by_label("Training bars").fill("750")
    page.get_by_label("Test bars").fill("250")
    submit_form(page)
    wait_until_terminal(page)
    expect(page.get_by_test_id("folds-table").locator("tbody tr")).to_have_count(5)
    _card(page, "Out-of-sample check", OUT / "validation-walkforward.png")
