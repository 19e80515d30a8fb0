from __future__ import annotations

import pytest

from optimizer_app.domain.datasets import Bars, load_bundled_bars


@pytest.fixture(scope="session")
def goog() -> Bars:
    return load_bundled_bars("goog-daily")


@pytest.fixture(scope="session")
def msft() -> Bars:
    return load_bundled_bars("msft-daily")
