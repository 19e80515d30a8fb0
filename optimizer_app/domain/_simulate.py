"""The jitted hot path: signals -> fills, equity and metric accumulators, one combination at a time.

Accounting follows backtesting.py 0.6.x so that results can be checked against it: cash
is only changed by commissions and realized P&L; equity at a bar's close is
``cash + (close * units - units * entry_price)``; orders are filled at the next open;
with ``whole`` sizing the number of units is what its default-sized ``buy()``/``sell()``
gets (``(equity * (1 - eps)) // (price + commission per unit)``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from optimizer_app.domain.stats import N_ACCUMULATORS, finalize

FULL_EQUITY = 1.0 - 2.220446049250313e-16  # backtesting.py's default order size
TRADE_FIELDS = 7  # entry bar, exit bar, units, entry price, exit price, pnl, return


@njit(cache=True, inline="always")
def _units(equity: float, price: float, commission: float, whole: bool) -> float:
    """Units bought (or sold short) with all equity at ``price``; 0 if not even one unit."""
    if whole:
        per_unit = price + ((FULL_EQUITY * price) * commission) / FULL_EQUITY
        units = (equity * 1.0 * FULL_EQUITY) // per_unit
        if units < 1.0 or units * per_unit > equity * 1.0:
            return 0.0
        return units
    return equity / (price * (1.0 + commission))


@njit(cache=True, inline="always")
def _record(
    rows: np.ndarray,
    i: int,
    entry_bar: int,
    exit_bar: int,
    units: float,
    entry: float,
    price: float,
    net: float,
    ret: float,
) -> int:  # pragma: no cover - jitted
    rows[i, 0] = entry_bar
    rows[i, 1] = exit_bar
    rows[i, 2] = units
    rows[i, 3] = entry
    rows[i, 4] = price
    rows[i, 5] = net
    rows[i, 6] = ret
    return i + 1


@njit(cache=True, inline="always")
def _accumulate(
    eq: float,
    prev_eq: float,
    s1: float,
    s2: float,
    d2: float,
    peak: float,
    low_since_peak: float,
    max_dd: float,
) -> tuple[float, float, float, float, float, float]:
    """Fold one equity change into the return sums and the drawdown tracker."""
    r = eq / prev_eq - 1.0 if prev_eq > 0.0 else 0.0
    s1 += r
    s2 += r * r
    neg = min(r, 0.0)
    d2 += neg * neg
    if eq > peak:
        max_dd = max(max_dd, 1.0 - low_since_peak / peak)
        peak = eq
        low_since_peak = eq
    else:
        low_since_peak = min(low_since_peak, eq)
    return s1, s2, d2, peak, low_since_peak, max_dd


@njit(cache=True)
def run_one(
    sig: np.ndarray,
    open_: np.ndarray,
    close: np.ndarray,
    cash0: float,
    commission: float,
    slippage: float,
    long_short: bool,
    whole: bool,
    record: bool,
    equity_out: np.ndarray,
    trades_out: np.ndarray,
    acc: np.ndarray,
) -> int:  # pragma: no cover - jitted
    """Simulate one combination; fill ``acc`` (see stats.finalize); return trades recorded.

    Bars with a pending signal go through the general path; the bars in between, while a
    position is held, go through a tight loop doing only the equity and metric updates.
    Max drawdown is tracked as the lowest equity since the current peak, divided once per
    peak: the same number as ``max(1 - e / peak)`` (division is monotonic), fewer divisions.
    """
    n = close.shape[0]
    cash = cash0
    units = 0.0  # signed: > 0 long, < 0 short
    entry = 0.0
    entry_bar = 0
    entry_fee = 0.0
    prev_eq = cash0
    peak = cash0
    low_since_peak = cash0
    max_dd = 0.0
    s1 = 0.0
    s2 = 0.0
    d2 = 0.0
    closed = 0
    wins = 0
    gross_profit = 0.0
    gross_loss = 0.0
    exposed = 0
    n_rec = 0
    ruined = False
    t = 0
    while t < n:
        held_before = units != 0.0
        if t > 0 and sig[t - 1] != 0 and not ruined:
            want = 1 if sig[t - 1] > 0 else (-1 if long_short else 0)
            have = 1 if units > 0.0 else (-1 if units < 0.0 else 0)
            if want != have:
                if have != 0:
                    price = open_[t] * (1.0 - slippage * have)
                    fee = (abs(units) * price) * commission
                    pnl = units * (price - entry)
                    cash = cash + (pnl - fee)
                    net = pnl - (fee + entry_fee)
                    closed += 1
                    if net > 0.0:
                        wins += 1
                        gross_profit += net
                    elif net < 0.0:
                        gross_loss -= net
                    if record:
                        ret = have * (price / entry - 1.0) - (fee + entry_fee) / (
                            abs(units) * entry
                        )
                        n_rec = _record(
                            trades_out, n_rec, entry_bar, t, units, entry, price, net, ret
                        )
                    units = 0.0
                if want != 0:
                    price = open_[t] * (1.0 + slippage * want)
                    size = _units(cash, price, commission, whole)
                    if size > 0.0:
                        units = size * want
                        entry = price
                        entry_bar = t
                        entry_fee = (size * price) * commission
                        cash = cash - entry_fee
        eq = cash
        if units != 0.0:
            eq = cash + (close[t] * units - units * entry)
            if eq <= 0.0:  # out of money: close at this close and stop trading
                price = close[t]
                net = units * (price - entry) - ((abs(units) * price) * commission + entry_fee)
                closed += 1
                gross_loss -= min(net, 0.0)
                if record:
                    n_rec = _record(trades_out, n_rec, entry_bar, t, units, entry, price, net, -1.0)
                units = 0.0
                cash = 0.0
                eq = 0.0
                ruined = True
                held_before = True
        if held_before or units != 0.0:
            exposed += 1
        if eq != prev_eq:
            s1, s2, d2, peak, low_since_peak, max_dd = _accumulate(
                eq, prev_eq, s1, s2, d2, peak, low_since_peak, max_dd
            )
            prev_eq = eq
        if record:
            equity_out[t] = eq
        t += 1
        if units == 0.0:
            continue
        cost = units * entry  # holding, no signal pending: equity and metrics only
        while t < n and sig[t - 1] == 0:
            eq = cash + (close[t] * units - cost)
            if eq <= 0.0:
                break  # the general path handles running out of money
            s1, s2, d2, peak, low_since_peak, max_dd = _accumulate(
                eq, prev_eq, s1, s2, d2, peak, low_since_peak, max_dd
            )
            prev_eq = eq
            exposed += 1
            if record:
                equity_out[t] = eq
            t += 1
    max_dd = max(max_dd, 1.0 - low_since_peak / peak)
    if record and units != 0.0:  # the open position, marked at the last close (not counted)
        side = 1.0 if units > 0.0 else -1.0
        price = close[n - 1]
        net = units * (price - entry) - entry_fee
        ret = side * (price / entry - 1.0) - entry_fee / (abs(units) * entry)
        _record(trades_out, n_rec, entry_bar, n - 1, units, entry, price, net, ret)
    acc[0] = prev_eq
    acc[1] = s1
    acc[2] = s2
    acc[3] = d2
    acc[4] = max_dd
    acc[5] = closed
    acc[6] = wins
    acc[7] = gross_profit
    acc[8] = gross_loss
    acc[9] = exposed
    acc[10] = 1.0 if units != 0.0 else 0.0
    return n_rec


@njit(cache=True)
def simulate_block(
    sig: np.ndarray,
    open_: np.ndarray,
    close: np.ndarray,
    cash0: float,
    commission: float,
    slippage: float,
    long_short: bool,
    whole: bool,
    years: float,
    out: np.ndarray,
    offset: int,
) -> None:  # pragma: no cover - jitted
    """Metrics of every row of ``sig`` into ``out[:, offset + row]``."""
    n = close.shape[0]
    equity = np.empty(0)
    trades = np.empty((0, TRADE_FIELDS))
    acc = np.zeros(N_ACCUMULATORS)
    for j in range(sig.shape[0]):
        run_one(
            sig[j],
            open_,
            close,
            cash0,
            commission,
            slippage,
            long_short,
            whole,
            False,
            equity,
            trades,
            acc,
        )
        finalize(acc, cash0, n, years, out, offset + j)
