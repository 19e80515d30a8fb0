"""Pure parts of queue diagnostics and quotas: when running jobs free a slot, the current
rate, effective quotas and the UTC day."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from optimizer_app.core.config import settings
from optimizer_app.persistence.models import UserQuota
from optimizer_app.persistence.usage import RunningJob
from optimizer_app.services import queue, quotas

NOW = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)


def test_running_jobs_end_smallest_first_with_the_workers_shared_evenly() -> None:
    running = [RunningJob(1000, 900, NOW), RunningJob(1000, 0, NOW)]  # 100 and 1,000 left
    # Two jobs share 100 combinations/s: the first ends after 100*2/100 = 2 s, the second
    # after 2 + 900/100 = 11 s.
    assert queue._seconds_until_free(running, 1, 100.0) == pytest.approx(2.0)
    assert queue._seconds_until_free(running, 2, 100.0) == pytest.approx(11.0)


def test_the_rate_sums_the_running_jobs() -> None:
    running = [RunningJob(1000, 500, NOW - timedelta(seconds=10)),
               RunningJob(1000, 100, NOW - timedelta(seconds=1)),
               RunningJob(1000, 0, None)]
    assert queue._rate(running, NOW) == pytest.approx(150.0)


def test_ordinals() -> None:
    assert [queue._ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st"]


def test_effective_quotas_fall_back_to_the_deployment_and_zero_is_no_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings, "quota_combinations_per_day", 1000)
    monkeypatch.setattr(settings, "quota_stored_bytes", 0)
    defaults = quotas.effective(None)
    assert defaults.combinations_per_day == 1000 and defaults.stored_bytes is None
    assert defaults.live_jobs == settings.max_live_jobs_per_user
    mine = quotas.effective(UserQuota(user_id=uuid.uuid4(), combinations_per_day=0,
                                      stored_bytes=5, worker_share=0.5))
    assert mine.combinations_per_day is None and mine.stored_bytes == 5
    assert mine.worker_share == 0.5


def test_the_day_and_month_are_utc() -> None:
    assert quotas.day_start(NOW) == datetime(2026, 12, 1, tzinfo=UTC)
    assert quotas.next_day(NOW) == datetime(2026, 12, 2, tzinfo=UTC)
    assert quotas.month_start(NOW) == datetime(2026, 12, 1, tzinfo=UTC)
    assert quotas.month_start(datetime(2026, 11, 30, 23, 59, tzinfo=UTC)) == datetime(
        2026, 11, 1, tzinfo=UTC)
