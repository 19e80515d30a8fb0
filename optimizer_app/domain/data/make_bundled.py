"""One-off generator of the bundled CSV files (kept for provenance; not used at run time).

Reads the unadjusted daily bars of GOOG and MSFT shipped by the PyPI package
``bokeh-sampledata`` (Quandl WIKI Prices, public domain) and writes them in the
canonical CSV form of :func:`optimizer_app.domain.datasets.bars_to_csv`.

Run once with the development extra installed::

    pip install bokeh-sampledata
    python -m optimizer_app.domain.data.make_bundled
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from optimizer_app.domain.datasets import Bars, bars_to_csv

HERE = Path(__file__).parent


def _bars_from_sample(series: Mapping[str, Any]) -> Bars:
    return Bars(
        dates=np.array(series["date"], dtype="datetime64[D]"),
        open=np.asarray(series["open"], dtype=np.float64),
        high=np.asarray(series["high"], dtype=np.float64),
        low=np.asarray(series["low"], dtype=np.float64),
        close=np.asarray(series["close"], dtype=np.float64),
        volume=np.asarray(series["volume"], dtype=np.float64),
    )


def main() -> None:
    from bokeh_sampledata.stocks import GOOG, MSFT  # development-only dependency

    for symbol, series in (("goog", GOOG), ("msft", MSFT)):
        (HERE / f"{symbol}_daily.csv").write_bytes(bars_to_csv(_bars_from_sample(series)))


if __name__ == "__main__":
    main()
