"""Backtest engine speed: combinations per second for an SMA-crossover grid on bundled GOOG.

    python benchmarks/engine.py [--quick]

Compares this engine (one core) with vectorbt 1.2.0 and backtesting.py 0.6.6 and prints a
markdown table. Needs ``pip install -r requirements-bench.txt``. Every figure is the median
of at least 3 runs; JIT compilation (or loading numba's cache) is excluded by a warm-up
call, while indicator computation is timed (our indicator cache is cleared before each run).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # one core for our engine
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from optimizer_app.domain import indicators  # noqa: E402
from optimizer_app.domain.datasets import Bars, load_bundled_bars  # noqa: E402
from optimizer_app.domain.engine import BacktestOptions, evaluate_grid  # noqa: E402

COMMISSION = 0.002
LONG_FRACTIONAL = BacktestOptions(commission=COMMISSION)
LONG_SHORT_WHOLE = BacktestOptions(commission=COMMISSION, direction="long_short", sizing="whole")


@dataclass
class Row:
    tool: str
    grid: str
    combos: int
    measured: int
    seconds: list[float]
    peak_mb: float
    note: str = ""

    @property
    def config(self) -> str:
        """Same-semantics rows are compared: "long, fractional" or "long/short, whole"."""
        return "long/short, whole" if "long/short, whole" in self.tool else "long, fractional"

    @property
    def rate(self) -> float:
        return self.measured / statistics.median(self.seconds)


def sma_grid(fast: range, slow: range) -> dict[str, np.ndarray]:
    f, s = np.meshgrid(np.array(fast), np.array(slow), indexing="ij")
    keep = f < s
    return {"fast": f[keep].astype(np.int64), "slow": s[keep].astype(np.int64)}


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def peak_mb(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def ours(
    bars: Bars, params: dict[str, np.ndarray], options: BacktestOptions
) -> Callable[[], object]:
    def run() -> object:
        indicators.clear_cache()
        return evaluate_grid(bars, "sma_cross", params, options)

    return run


def vectorbt_run(bars: Bars, params: dict[str, np.ndarray], chunk: int) -> Callable[[], object]:
    """Same signals (strict SMA crosses on pandas rolling means), filled at the next open,
    fees 0.002 each side, all cash (fractional), long only; plus comparable metrics."""
    import vectorbt as vbt

    index = pd.DatetimeIndex(bars.dates.astype("datetime64[ns]"))
    close = pd.Series(bars.close, index=index)
    open_ = pd.Series(bars.open, index=index)

    def run() -> object:
        results = []
        for start in range(0, len(params["fast"]), chunk):
            fast = params["fast"][start : start + chunk]
            slow = params["slow"][start : start + chunk]
            windows = np.unique(np.concatenate([fast, slow]))
            smas = {w: close.rolling(int(w)).mean().to_numpy() for w in windows}
            a = np.column_stack([smas[w] for w in fast])
            b = np.column_stack([smas[w] for w in slow])
            up = np.zeros_like(a, dtype=bool)
            down = np.zeros_like(a, dtype=bool)
            up[1:] = (a[:-1] < b[:-1]) & (a[1:] > b[1:])
            down[1:] = (a[:-1] > b[:-1]) & (a[1:] < b[1:])
            # a signal at bar t's close is filled at bar t+1's open
            entries = pd.DataFrame(np.roll(up, 1, axis=0), index=index)
            exits = pd.DataFrame(np.roll(down, 1, axis=0), index=index)
            entries.iloc[0] = False
            exits.iloc[0] = False
            pf = vbt.Portfolio.from_signals(
                close, entries, exits, price=open_, fees=COMMISSION, freq="1D", init_cash=10_000
            )
            trades = pf.trades
            results.append(
                (
                    pf.final_value(),
                    pf.total_return(),
                    pf.annualized_return(),
                    pf.sharpe_ratio(),
                    pf.sortino_ratio(),
                    pf.max_drawdown(),
                    trades.win_rate(),
                    trades.count(),
                    trades.profit_factor(),
                )
            )
        return results

    return run


def backtesting_run(bars: Bars, params: dict[str, np.ndarray]) -> Callable[[], object]:
    """backtesting.py's canonical SmaCross (long/short, whole units) on each combination."""
    import backtesting.backtesting as bt_module
    from backtesting import Backtest, Strategy
    from backtesting.lib import crossover
    from backtesting.test import SMA

    bt_module._tqdm = lambda seq, **_: seq  # no progress bars (tqdm is installed by vectorbt)

    class SmaCross(Strategy):
        n1 = 10
        n2 = 20

        def init(self):
            self.sma1 = self.I(SMA, self.data.Close, self.n1)
            self.sma2 = self.I(SMA, self.data.Close, self.n2)

        def next(self):
            if crossover(self.sma1, self.sma2):
                self.position.close()
                self.buy()
            elif crossover(self.sma2, self.sma1):
                self.position.close()
                self.sell()

    frame = pd.DataFrame(
        {"Open": bars.open, "High": bars.high, "Low": bars.low, "Close": bars.close},
        index=pd.DatetimeIndex(bars.dates.astype("datetime64[ns]")),
    )

    def run() -> object:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bt = Backtest(frame, SmaCross, commission=COMMISSION, cash=10_000)
            return [
                bt.run(n1=int(f), n2=int(s))
                for f, s in zip(params["fast"], params["slow"], strict=True)
            ]

    return run


def sample(params: dict[str, np.ndarray], size: int, seed: int = 0) -> dict[str, np.ndarray]:
    n = len(params["fast"])
    pick = np.sort(np.random.default_rng(seed).choice(n, min(size, n), replace=False))
    return {k: v[pick] for k, v in params.items()}


def measure(
    bars: Bars, name: str, params: dict[str, np.ndarray], repeats: int, quick: bool
) -> list[Row]:
    n = len(params["fast"])
    rows = []
    for label, options in (
        ("long, fractional", LONG_FRACTIONAL),
        ("long/short, whole", LONG_SHORT_WHOLE),
    ):
        run = ours(bars, params, options)
        evaluate_grid(bars, "sma_cross", sample(params, 10), options)  # JIT warm-up
        rows.append(
            Row(f"this engine ({label}), 1 core", name, n, n, timed(run, repeats), peak_mb(run))
        )
    vbt_size = n if n <= 10_000 and not quick else min(n, 2_000 if quick else 5_000)
    vbt_params = sample(params, vbt_size)
    run = vectorbt_run(bars, vbt_params, chunk=1_000)
    vectorbt_run(bars, sample(params, 5), chunk=1_000)()  # warm-up (numba compile)
    note = "" if vbt_size == n else f"sample of {vbt_size:,}, extrapolated"
    rows.append(
        Row(
            "vectorbt 1.2.0 (long, fractional)",
            name,
            n,
            vbt_size,
            timed(run, repeats),
            peak_mb(run),
            note,
        )
    )
    bt_params = sample(params, 20)
    run = backtesting_run(bars, bt_params)
    rows.append(
        Row(
            "backtesting.py 0.6.6 (long/short, whole)",
            name,
            n,
            20,
            timed(run, repeats),
            peak_mb(run),
            "sample of 20, extrapolated",
        )
    )
    return rows


def table(rows: list[Row]) -> str:
    lines = [
        "| grid | tool | combinations/s (median) | runs (s) | this engine (same options) is × faster | peak traced MB | note |",
        "|---|---|---:|---|---:|---:|---|",
    ]
    for grid in dict.fromkeys(r.grid for r in rows):
        group = [r for r in rows if r.grid == grid]
        ours_by_config = {r.config: r.rate for r in group if r.tool.startswith("this engine")}
        for r in group:
            runs = ", ".join(f"{s:.3g}" for s in r.seconds)
            mine = r.tool.startswith("this engine")
            ratio = "—" if mine else f"{ours_by_config[r.config] / r.rate:,.0f}×"
            lines.append(
                f"| {grid} | {r.tool} | {r.rate:,.0f} | {runs} | {ratio} | {r.peak_mb:,.1f} | {r.note} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller samples, 3 runs")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    repeats = max(3, args.repeats)
    bars = load_bundled_bars("goog-daily")
    grids = {
        "~8k: fast 2–100 × slow 5–300 step 3": sma_grid(range(2, 101), range(5, 301, 3)),
        "~100k: fast 2–200 × slow 5–1100 step 2": sma_grid(range(2, 201), range(5, 1101, 2)),
    }
    rows: list[Row] = []
    for name, params in grids.items():
        rows.extend(measure(bars, name, params, repeats, args.quick))
    import resource

    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sys.stdout.write(
        f"GOOG daily, {len(bars):,} bars; commission {COMMISSION}; medians of {repeats} runs; "
        "JIT warm-up excluded.\n\n" + table(rows) + f"\n\nprocess peak RSS: {max_rss:,.0f} MB\n"
    )


if __name__ == "__main__":
    main()
