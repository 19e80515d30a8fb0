"""The failures panel of the detail page and "Re-run failed combinations": a finished job whose
last three combinations failed (written straight into the running app's database) shows the
counts per category and the messages; the button starts a job over exactly those three, which
the app's orchestrator then runs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from optimizer_app.core.config import settings
from optimizer_app.persistence.db import reset_engine, session_scope
from optimizer_app.persistence.models import Dataset, User
from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import Account, wait_until_terminal
from tests.support.factories import JobSpec, make_job

pytestmark = pytest.mark.e2e


@pytest.fixture
def app_database(app_server: RunningApp) -> Iterator[None]:
    """This process's sessions open the running app's database (and its results store) for
    the test."""
    overrides = {
        "resolved_database_url": f"sqlite:///{(app_server.data_dir / 'optimizer.db').resolve()}",
        "resolved_results_dir": (app_server.data_dir / "results").resolve(),
        "resolved_artifact_dir": (app_server.data_dir / "artifacts").resolve(),
    }
    previous = {name: settings.__dict__.get(name) for name in overrides}
    settings.__dict__.update(overrides)
    reset_engine()
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                settings.__dict__.pop(name, None)
            else:
                settings.__dict__[name] = value
        reset_engine()


def _job_with_failures(account: Account) -> str:
    with session_scope() as session:
        user = session.exec(select(User).where(User.email == account.email)).one()
        dataset = session.exec(
            select(Dataset).where(Dataset.owner_id == None)  # noqa: E711 - SQL IS NULL
            .order_by(Dataset.name)  # type: ignore[arg-type]
        ).first()
        assert dataset is not None
        job = make_job(session, owner_id=user.id, dataset_id=dataset.id, spec=JobSpec(
            tasks=8, failed=3, failure_category="strategy", artifacts=False,
            name="Sweep with failures"))
        return str(job.id)


def test_failures_panel_and_rerun_of_the_failed(page: Page, signed_in_account: Account,
                                                app_database: None, tmp_path: Path) -> None:
    job_id = _job_with_failures(signed_in_account)
    page.goto(f"/optimizations/{job_id}")
    panel = page.get_by_test_id("failures-panel")
    expect(panel).to_contain_text("3 combinations failed")
    counts = panel.get_by_test_id("failure-count")
    expect(counts).to_have_count(1)
    expect(counts).to_contain_text("Strategy error")
    expect(counts).to_contain_text("3")
    failed = panel.get_by_test_id("failed-combination")
    expect(failed).to_have_count(3)
    expect(failed.first).to_contain_text("#5")
    expect(failed.first).to_contain_text("fast 10, slow 60")
    expect(failed.first).to_contain_text("worker died")

    page.set_viewport_size({"width": 390, "height": 844})
    expect(panel.get_by_role("button", name="Re-run failed combinations")).to_be_visible()
    page.screenshot(path=str(tmp_path / "failures-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    panel.get_by_role("button", name="Re-run failed combinations").click()
    expect(page).not_to_have_url(re.compile(job_id), timeout=30_000)
    expect(page.get_by_text("Re-run of")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Sweep with failures").first).to_be_visible()
    wait_until_terminal(page)
    expect(page.get_by_test_id("progress-count")).to_have_text("3 / 3")
    expect(page.get_by_test_id("failures-panel")).to_have_count(0)
    print(f"\nscreenshot: {tmp_path / 'failures-390.png'}")
