"""One combination as its page shows it: display-ready rows, chart points and texts computed
from the service models. Pure functions of their inputs, unit-tested."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from optimizer_app.domain.monthly import monthly_returns
from optimizer_app.services.schemas import CombinationPublic, EquityPublic
from optimizer_app.ui import format as fmt
from optimizer_app.ui.vocabulary import METRICS, constraints_text, show_metric, show_score

CHART_POINTS = 600  # at most this many points per curve (the extremes of each stretch kept)
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MAX_NUMBER_TEXT = 19


@dataclass
class Pair:
    label: str
    value: str


@dataclass
class MonthCell:
    text: str
    tone: str  # "up", "down" or "" (flat or no bars)


@dataclass
class YearRow:
    year: str
    months: list[MonthCell] = field(default_factory=list)
    total: MonthCell = field(default_factory=lambda: MonthCell(fmt.MISSING, ""))


@dataclass
class TradeRow:
    number: str
    entry_date: str
    exit_date: str
    direction: str
    size: str
    entry_price: str
    exit_price: str
    pnl: str
    return_pct: str
    bars: str
    tone: str


# --- the go-to field ---------------------------------------------------------------------------


def parse_combination_number(text: str, total: int) -> tuple[int | None, str]:
    """The combination a user typed (``12`` or ``#12``) and an error in their words."""
    raw = text.strip().removeprefix("#").replace(",", "").strip()
    last = f"{total - 1:,}"
    if not raw:
        return None, "Enter a combination number."
    if not raw.isdigit() or len(raw) > MAX_NUMBER_TEXT:
        return None, f"“{text.strip()}” is not a combination number; enter a whole number from 0 to {last}."
    number = int(raw)
    if total <= 0:
        return None, "This optimization has no combinations."
    if number >= total:
        return None, (
            f"This optimization has {fmt.count(total)} combinations, numbered 0 to {last}; "
            f"{number:,} is not one of them."
        )
    return number, ""


# --- summary ---------------------------------------------------------------------------------


def day_text(iso: Any) -> str:
    """``2004-08-19`` → ``19 Aug 2004``."""
    try:
        moment = date.fromisoformat(str(iso)[:10])
    except ValueError:
        return fmt.MISSING
    return f"{moment.day} {moment:%b %Y}"


def param_pairs(params: dict[str, Any], labels: dict[str, str]) -> list[Pair]:
    return [Pair(labels.get(name, name), fmt.plain_number(value)) for name, value in params.items()]


def metric_pairs(metrics: dict[str, Any] | None, score_metric: str = "", places: int = 2
                 ) -> list[Pair]:
    """Every metric in the unit the Top-N table uses; the score's metric with the score's
    decimals, so the two read the same."""
    metrics = metrics or {}
    return [
        Pair(info.label, show_score(key, metrics.get(key), places) if key == score_metric
             else show_metric(key, metrics.get(key)))
        for key, info in METRICS.items()
    ]


def status_text(combination: CombinationPublic, *, job_live: bool = False) -> str:
    if combination.status == "not_run":
        return ("Not run yet (backtested now for this page)" if job_live
                else "Not run by this optimization (backtested now)")
    if combination.status == "failed":
        return "Failed"
    if combination.status == "succeeded":
        return "Finished"
    return combination.status.replace("_", " ").capitalize()


def constraint_text(combination: CombinationPublic, constraints: list[dict[str, Any]]) -> str:
    """Whether the combination passes the job's result constraints, in words."""
    if not constraints:
        return "No result constraints"
    stated = constraints_text(constraints)
    if combination.passes_constraints is None:
        return f"Not checked ({stated})"
    if combination.passes_constraints:
        return f"Passes ({stated})"
    return f"Fails ({stated}): never ranked"


def score_text(combination: CombinationPublic, metric: str, places: int) -> str:
    if combination.score is None:
        return "No score (fails a constraint)" if combination.passes_constraints is False \
            else fmt.MISSING
    return show_score(metric, combination.score, places)


def rank_text(combination: CombinationPublic, top_n: int) -> str:
    if combination.rank is not None:
        return f"#{combination.rank} of the Top {top_n}"
    return f"Not in the Top {top_n}"


# --- charts ----------------------------------------------------------------------------------


def _keep(n: int, limit: int, values: Sequence[float | None]) -> list[int]:
    """Indices of at most ~``limit`` points: per stretch, its first, lowest, highest and last."""
    if n <= limit:
        return list(range(n))
    size = max(1, math.ceil(4 * n / limit))
    kept: set[int] = {0, n - 1}
    for start in range(0, n, size):
        stretch = [i for i in range(start, min(n, start + size)) if values[i] is not None]
        if not stretch:
            continue
        kept.update((stretch[0], stretch[-1],
                     min(stretch, key=lambda i: values[i]),  # type: ignore[arg-type,return-value]
                     max(stretch, key=lambda i: values[i])))  # type: ignore[arg-type,return-value]
    return sorted(kept)


def _money(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, 2)


def _pct(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value * 100, 2)


def chart_points(curve: EquityPublic, limit: int = CHART_POINTS) -> list[dict[str, Any]]:
    """``{date, equity, benchmark, drawdown}`` for both charts: money with two decimals, the
    drawdown in percent below the running peak (as Max drawdown is shown). A long curve keeps
    the extremes of the equity and of the drawdown in each stretch."""
    n = len(curve.dates)
    indices = sorted(set(_keep(n, limit, curve.equity)) | set(_keep(n, limit, curve.drawdown)))
    return [
        {"date": curve.dates[i], "equity": _money(curve.equity[i]),
         "benchmark": _money(curve.benchmark[i]), "drawdown": _pct(curve.drawdown[i])}
        for i in indices
    ]


def year_ticks(points: list[dict[str, Any]], most: int = 12) -> list[str]:
    """The first plotted date of each year (every few years on a long curve): x-axis ticks
    that each name one year."""
    firsts: list[str] = []
    for point in points:
        day = str(point["date"])
        if not firsts or day[:4] != firsts[-1][:4]:
            firsts.append(day)
    if len(firsts) > 1 and firsts[0][5:7] > "06":
        firsts = firsts[1:]  # a curve starting late in a year: that year's tick would crowd
    step = max(1, math.ceil(len(firsts) / most))
    return firsts[::step]


def max_drawdown_text(curve: EquityPublic) -> str:
    depths = [d for d in curve.drawdown if d is not None and math.isfinite(d)]
    return fmt.percent(max(depths), 2) if depths else fmt.MISSING


# --- monthly returns ---------------------------------------------------------------------------


def _cell(value: float | None) -> MonthCell:
    if value is None:
        return MonthCell("", "")
    text = fmt.percent(value, 1)
    tone = "" if text in ("0.0%", "-0.0%") else ("up" if value > 0 else "down")
    return MonthCell(text, tone)


def monthly_rows(curve: EquityPublic) -> list[YearRow]:
    """Year rows × month columns of percent returns, and each year's total."""
    return [
        YearRow(str(year.year), [_cell(v) for v in year.months], _cell(year.total))
        for year in monthly_returns(curve.dates, curve.equity)
    ]


# --- trades ------------------------------------------------------------------------------------


def _size(value: Any) -> str:
    number = fmt.finite(value)
    if number is None:
        return fmt.MISSING
    return fmt.count(number) if number.is_integer() else fmt.decimal(number, 4)


def trade_rows(trades: list[dict[str, Any]], offset: int) -> list[TradeRow]:
    rows = []
    for position, trade in enumerate(trades, start=offset + 1):
        pnl = fmt.finite(trade.get("pnl"))
        rows.append(TradeRow(
            number=fmt.count(position),
            entry_date=day_text(trade.get("entryDate")),
            exit_date=day_text(trade.get("exitDate")),
            direction="Long" if trade.get("direction") == "long" else "Short",
            size=_size(trade.get("size")),
            entry_price=fmt.decimal(trade.get("entryPrice"), 2),
            exit_price=fmt.decimal(trade.get("exitPrice"), 2),
            pnl=fmt.decimal(pnl, 2),
            return_pct=fmt.percent(trade.get("returnPct"), 2),
            bars=fmt.count(trade.get("bars")),
            tone="" if not pnl else ("up" if pnl > 0 else "down"),
        ))
    return rows


def trades_range_text(offset: int, shown: int, count: int) -> str:
    """``Trades 21–40 of 84``."""
    if count == 0:
        return "No trades"
    return f"Trades {fmt.count(offset + 1)}–{fmt.count(offset + shown)} of {fmt.count(count)}"
