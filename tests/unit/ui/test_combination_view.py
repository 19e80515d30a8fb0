"""The combination page's display values, and the detail page's go-to field."""

from __future__ import annotations

import uuid

import pytest

from optimizer_app.services.schemas import CombinationPublic, EquityPublic
from optimizer_app.ui import combination_view as view
from optimizer_app.ui.states.combination import Address, address_from_path, job_id_in_path

JOB = "00000000-0000-0000-0000-00000000000a"


def combination(**changes: object) -> CombinationPublic:
    fields: dict[str, object] = {
        "index": 12, "params": {"fast": 10, "slow": 40}, "status": "succeeded", "score": 0.38123,
        "metrics": {"sharpe": 0.38123, "maxDrawdown": 0.296885, "trades": 84, "totalReturn": 1.5},
        "passes_constraints": True, "rank": 3,
    }
    fields.update(changes)
    return CombinationPublic(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("typed", "number", "error"),
    [
        ("12", 12, ""),
        (" #1,234 ", 1234, ""),
        ("0", 0, ""),
        ("", None, "Enter a combination number."),
        ("-3", None, "“-3” is not a combination number; enter a whole number from 0 to 4,999."),
        ("2.5", None, "“2.5” is not a combination number; enter a whole number from 0 to 4,999."),
        ("5000", None, "This optimization has 5,000 combinations, numbered 0 to 4,999; "
                       "5,000 is not one of them."),
    ],
)
def test_the_go_to_field_reads_a_number_within_the_grid(
    typed: str, number: int | None, error: str
) -> None:
    assert view.parse_combination_number(typed, 5000) == (number, error)


def test_the_address_of_a_combination_page() -> None:
    assert address_from_path(f"/optimizations/{JOB}/combinations/12/") == Address(
        uuid.UUID(JOB), 12)
    assert address_from_path(f"/optimizations/{JOB}/combinations/x") is None
    assert address_from_path(f"/optimizations/{JOB}/combinations/-1") is None
    assert address_from_path("/optimizations/nope/combinations/1") is None
    assert address_from_path(f"/optimizations/{JOB}") is None
    assert job_id_in_path(f"/optimizations/{JOB}/combinations/x") == uuid.UUID(JOB)
    assert job_id_in_path("/optimizations/nope/combinations/1") is None


def test_metrics_are_in_the_tables_units_and_every_metric_is_listed() -> None:
    pairs = {p.label: p.value for p in view.metric_pairs(combination().metrics)}
    assert pairs["Max drawdown"] == "29.69%"
    assert pairs["Sharpe ratio"] == "0.38"
    assert pairs["Number of trades"] == "84"
    assert pairs["Total return"] == "150.00%"
    assert pairs["Win rate"] == "–"  # not reported: a dash, not a zero
    assert len(pairs) == 10
    scored = {p.label: p.value for p in view.metric_pairs(combination().metrics, "sharpe", 4)}
    assert scored["Sharpe ratio"] == "0.3812" and scored["Max drawdown"] == "29.69%"
    params = view.param_pairs({"fast": 10, "k": 1.5}, {"fast": "Fast SMA"})
    assert [(p.label, p.value) for p in params] == [("Fast SMA", "10"), ("k", "1.5")]


def test_score_rank_status_and_constraints_in_words() -> None:
    constraints = [{"metric": "trades", "op": ">=", "value": 10}]
    passing = combination()
    assert view.score_text(passing, "sharpe", 4) == "0.3812"
    assert view.rank_text(passing, 10) == "#3 of the Top 10"
    assert view.status_text(passing) == "Finished"
    assert view.constraint_text(passing, constraints) == "Passes (Number of trades ≥ 10)"
    failing = combination(score=None, passes_constraints=False, rank=None, status="not_run")
    assert view.score_text(failing, "sharpe", 2) == "No score (fails a constraint)"
    assert view.rank_text(failing, 10) == "Not in the Top 10"
    assert view.status_text(failing) == "Not run by this optimization (backtested now)"
    assert view.status_text(failing, job_live=True) == (
        "Not run yet (backtested now for this page)")
    assert view.constraint_text(failing, constraints) == (
        "Fails (Number of trades ≥ 10): never ranked")
    assert view.constraint_text(passing, []) == "No result constraints"
    assert view.score_text(combination(score=0.296885), "maxDrawdown", 3) == "29.689%"


def curve(n: int) -> EquityPublic:
    dates = [f"{2000 + i // 250}-{1 + (i // 21) % 12:02d}-{1 + i % 21:02d}" for i in range(n)]
    equity = [1000.0 + (i % 50) * 10 - (300.0 if i == n // 2 else 0.0) for i in range(n)]
    peak, drawdown = 0.0, []
    for value in equity:
        peak = max(peak, value)
        drawdown.append(1 - value / peak)
    return EquityPublic(dates=dates, equity=equity, benchmark=[1000.0] * n, drawdown=drawdown)


def test_chart_points_are_in_display_units_and_keep_the_extremes() -> None:
    short = view.chart_points(curve(10))
    assert len(short) == 10
    assert short[0] == {"date": "2000-01-01", "equity": 1000.0, "benchmark": 1000.0,
                        "drawdown": 0.0}
    long = curve(5000)
    points = view.chart_points(long, limit=400)
    assert len(points) <= 2 * 400 + 4
    assert points[0]["date"] == long.dates[0] and points[-1]["date"] == long.dates[-1]
    deepest = max(p["drawdown"] for p in points)
    assert deepest == round(max(long.drawdown) * 100, 2)  # the worst drawdown is never dropped
    assert view.max_drawdown_text(long) == f"{max(long.drawdown) * 100:.2f}%"
    ticks = view.year_ticks(points)
    assert [t[:4] for t in ticks] == [str(y) for y in range(2000, 2020)][:: 2]
    late = [{"date": d} for d in ("2004-08-19", "2004-12-31", "2005-01-03", "2006-01-02")]
    assert view.year_ticks(late) == ["2005-01-03", "2006-01-02"]
    assert all(t in {p["date"] for p in points} for t in ticks)


def test_monthly_rows_show_percent_with_a_tone() -> None:
    equity = EquityPublic(
        dates=["2020-01-02", "2020-01-31", "2020-02-28", "2020-03-31"],
        equity=[100.0, 110.0, 99.0, 99.0], benchmark=[100.0] * 4, drawdown=[0.0] * 4,
    )
    (row,) = view.monthly_rows(equity)
    assert row.year == "2020"
    assert [(c.text, c.tone) for c in row.months[:4]] == [
        ("10.0%", "up"), ("-10.0%", "down"), ("0.0%", ""), ("", "")]
    assert (row.total.text, row.total.tone) == ("-1.0%", "down")


def test_trade_rows_are_readable_and_numbered_across_pages() -> None:
    trade = {"entryDate": "2005-04-21", "exitDate": "2005-07-26", "direction": "long",
             "size": 55.8461, "entryPrice": 200.42, "exitPrice": 295.01, "pnl": 5227.153,
             "returnPct": 0.467, "bars": 66}
    (row,) = view.trade_rows([trade], offset=20)
    assert (row.number, row.entry_date, row.exit_date, row.direction) == (
        "21", "21 Apr 2005", "26 Jul 2005", "Long")
    assert (row.size, row.entry_price, row.exit_price, row.pnl, row.return_pct, row.bars) == (
        "55.8461", "200.42", "295.01", "5,227.15", "46.70%", "66")
    assert row.tone == "up"
    short = view.trade_rows([{**trade, "direction": "short", "size": 12.0, "pnl": -3.0}], 0)[0]
    assert (short.direction, short.size, short.tone) == ("Short", "12", "down")
    assert view.trades_range_text(20, 20, 56) == "Trades 21–40 of 56"
    assert view.trades_range_text(0, 0, 0) == "No trades"
