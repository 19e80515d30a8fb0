"""Monthly returns from an equity curve."""

from __future__ import annotations

import pytest

from optimizer_app.domain.monthly import monthly_returns


def test_each_month_is_measured_from_the_last_bar_of_the_month_before() -> None:
    dates = ["2020-01-02", "2020-01-31", "2020-02-03", "2020-02-28", "2020-03-02", "2020-03-31"]
    equity = [100.0, 110.0, 105.0, 99.0, 120.0, 108.9]
    (year,) = monthly_returns(dates, equity)
    assert year.year == 2020
    assert year.months[0] == pytest.approx(0.10)  # 100 -> 110
    assert year.months[1] == pytest.approx(-0.10)  # 110 -> 99
    assert year.months[2] == pytest.approx(0.10)  # 99 -> 108.9
    assert year.months[3:] == (None,) * 9
    assert year.total == pytest.approx(0.089)  # 100 -> 108.9


def test_years_compound_their_months_and_start_where_the_last_one_ended() -> None:
    dates = ["2019-11-29", "2019-12-31", "2020-01-31", "2021-06-30"]
    equity = [1000.0, 1100.0, 1210.0, 605.0]
    first, second, third = monthly_returns(dates, equity)
    assert (first.year, second.year, third.year) == (2019, 2020, 2021)
    assert first.months[10] == pytest.approx(0.0)  # one bar: the starting value itself
    assert first.months[11] == pytest.approx(0.1)
    assert first.total == pytest.approx(0.1)
    assert second.months[0] == pytest.approx(0.1)
    assert second.total == pytest.approx(0.1)
    # A gap of months: June is measured from the last bar before it (January 2020).
    assert third.months[5] == pytest.approx(-0.5)
    assert third.months[:5] == (None,) * 5
    assert third.total == pytest.approx(-0.5)
    months = [r for y in (first, second, third) for r in y.months if r is not None]
    growth = 1.0
    for r in months:
        growth *= 1 + r
    assert growth == pytest.approx(605.0 / 1000.0)


def test_missing_values_are_skipped_and_a_worthless_base_gives_no_return() -> None:
    dates = ["2020-01-02", "2020-01-30", "2020-01-31", "2020-02-28", "2020-03-31"]
    result = monthly_returns(dates, [100.0, 120.0, None, 0.0, 50.0])
    assert result[0].months[0] == pytest.approx(0.2)  # January ends at its last known value
    assert result[0].months[1] == pytest.approx(-1.0)
    assert result[0].months[2] is None  # from 0: no return can be stated
    assert monthly_returns([], []) == []
    assert monthly_returns(["2020-01-02"], [float("nan")]) == []
    with pytest.raises(ValueError, match="2 dates but 1 equity"):
        monthly_returns(["2020-01-02", "2020-01-03"], [1.0])
