from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import pytest

from optimizer_app.ui import format as fmt


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0, "0"),
        (1234, "1,234"),
        (196196, "196,196"),
        (12.6, "13"),
        (None, "–"),
        (math.nan, "–"),
        (math.inf, "–"),
        (True, "–"),
    ],
)
def test_count_has_thousands_separators(value: object, shown: str) -> None:
    assert fmt.count(value) == shown


def test_decimal_and_percent() -> None:
    assert fmt.decimal(1234.5678) == "1,234.57"
    assert fmt.decimal(-0.001) == "0.00"  # no negative zero
    assert fmt.decimal(-1.5, 1) == "-1.5"
    assert fmt.percent(0.1234) == "12.3%"
    assert fmt.percent(-0.09434, 2) == "-9.43%"
    assert fmt.percent(None) == "–"


def test_plain_number_shows_parameters_as_typed() -> None:
    assert fmt.plain_number(10) == "10"
    assert fmt.plain_number(2.0) == "2"
    assert fmt.plain_number(0.0035) == "0.0035"
    assert fmt.plain_number(1500) == "1,500"


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0.2, "<1 s"),
        (42, "42 s"),
        (185, "3 min 05 s"),
        (7620, "2 h 07 min"),
        (3 * 86400 + 4 * 3600, "3 d 4 h"),
        (None, "–"),
        (-1, "–"),
    ],
)
def test_duration_is_human(seconds: float | None, shown: str) -> None:
    assert fmt.duration(seconds) == shown


def test_date_time_is_readable_and_in_utc() -> None:
    assert fmt.date_time(datetime(2026, 3, 5, 14, 3, tzinfo=UTC)) == "5 Mar 2026, 14:03 UTC"
    naive = datetime(2026, 3, 5, 14, 3)  # SQLite hands back naive UTC
    assert fmt.date_time(naive) == "5 Mar 2026, 14:03 UTC"
    paris = datetime(2026, 3, 5, 15, 3, tzinfo=timezone(timedelta(hours=1)))
    assert fmt.date_time(paris) == "5 Mar 2026, 14:03 UTC"
    assert fmt.date_time(None) == "–"


def test_progress_fraction_is_clamped() -> None:
    assert fmt.progress_fraction(5, 10) == 0.5
    assert fmt.progress_fraction(12, 10) == 1.0
    assert fmt.progress_fraction(0, 0) == 0.0
