"""What the usage page, the form's estimate and the detail page's queue note say."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from optimizer_app.services.schemas import QueueInfo
from optimizer_app.services.usage_schemas import QuotasPublic, QuotasUpdate, UserUsagePublic
from optimizer_app.ui import estimate, queue_view
from optimizer_app.ui import format as fmt
from optimizer_app.ui.states.usage import limits_text, parse_quota_form, usage_cards, user_row

NOW = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


def usage(**quotas: object) -> UserUsagePublic:
    return UserUsagePublic(
        combinations_today=1_500, combinations_this_month=12_000, compute_seconds=75.0,
        stored_bytes=3 * 1024**2, live_jobs=2,
        quotas=QuotasPublic(**{"live_jobs": 5, "combinations_per_day": 2_000,
                               "stored_bytes": 1024**3, "worker_share": 1.0, **quotas}),
        user_id=uuid.uuid4(), email="a@example.com", admin=False, overrides=QuotasUpdate(),
    )


def test_sizes() -> None:
    assert [fmt.size(v) for v in (0, 512, 1536, 3 * 1024**2, 10 * 1024**3, None)] == [
        "0 B", "512 B", "1.5 KiB", "3 MiB", "10 GiB", "–"]


def test_usage_cards_against_quotas() -> None:
    cards = {c.label: c for c in usage_cards(usage())}
    today = cards["Combinations today"]
    assert today.value == "1,500" and today.used_percent == 75
    assert today.detail == "of 2,000 per day · resets 00:00 UTC"
    assert cards["Compute time this month"].value == "1 min 15 s"
    assert cards["Storage"].value == "3 MiB" and cards["Storage"].detail == "of 1 GiB"
    assert cards["Live jobs"].detail == "of 5 queued or running"
    assert cards["Combinations this month"].used_percent == -1  # no quota, no bar
    unlimited = {c.label: c for c in usage_cards(usage(combinations_per_day=None,
                                                       worker_share=0.25))}
    assert unlimited["Combinations today"].detail == "no limit"
    assert unlimited["Share of the workers"].value == "25%"


def test_admin_rows() -> None:
    row = user_row(usage(stored_bytes=None))
    assert row.today == "1,500" and row.storage == "3 MiB" and not row.custom
    assert limits_text(QuotasPublic(live_jobs=None, combinations_per_day=100, stored_bytes=None,
                                    worker_share=0.5)) == (
        "no limit live · 100/day · no limit · 50% workers")


def test_the_quota_form() -> None:
    body, problem = parse_quota_form("3", "1,000", "2.5", "50%")
    assert problem == "" and body is not None
    assert body.live_jobs == 3 and body.combinations_per_day == 1000
    assert body.stored_bytes == int(2.5 * 1024**3) and body.worker_share == 0.5
    blank, _ = parse_quota_form("", " ", "", "")
    assert blank == QuotasUpdate()
    assert parse_quota_form("x", "", "", "")[1].startswith("Live jobs: enter a number")
    assert parse_quota_form("", "-1", "", "")[1] == "Combinations per day: must not be negative"
    assert "at most 100" in parse_quota_form("", "", "", "0")[1]


def test_run_time_and_storage_before_submit() -> None:
    assert estimate.run_time_text(None, 2000, None) == ""
    assert estimate.run_time_text(1000, 2000, 1e-5) == (
        "About 20 s, from earlier runs of this strategy")
    assert estimate.run_time_text(10, 100, None).startswith("Under a second (estimate")
    assert estimate.storage_text(1000) == "About 15.6 KiB of results"  # 16 B each


def test_quota_warnings() -> None:
    roomy = estimate.Headroom(combinations_today=1000, stored_bytes=10**9, live_jobs=2)
    assert estimate.quota_warnings(500, roomy) == []
    tight = estimate.Headroom(combinations_today=100, stored_bytes=1000, live_jobs=0)
    warnings = estimate.quota_warnings(500, tight)
    assert len(warnings) == 3
    assert "only 100 are left of today's quota" in warnings[1]
    assert estimate.quota_warnings(500, estimate.Headroom()) == []


def test_queue_note() -> None:
    info = QueueInfo(position=3, reason="3rd in the queue; 2 jobs (350 combinations) queued "
                     "ahead of it; the workers run about 1,000 combinations/s",
                     estimated_start=NOW + timedelta(seconds=90))
    shown = queue_view.queue_view(info, NOW)
    assert shown.headline == ("Position 3 in the queue · expected to start in about "
                              "1 min 30 s (14:01 UTC)")
    assert shown.reason == ("2 jobs (350 combinations) queued ahead of it; the workers run "
                            "about 1,000 combinations/s.")
    assert queue_view.queue_view(None, NOW).headline == ""
    assert queue_view.share_text(0.25).startswith("Has about 25% of the workers")
    assert queue_view.share_text(1.0) == "Has all of the workers: no other job is running."
    assert queue_view.share_text(None) == ""
