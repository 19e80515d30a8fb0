from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from optimizer_app.domain import data as bundled
from optimizer_app.orchestration.loading import JobCannotRun, load_bars
from optimizer_app.persistence.models import Dataset

GOOG = Path(bundled.__file__).parent / "goog_daily.csv"
MSFT = Path(bundled.__file__).parent / "msft_daily.csv"


def _dataset(path: Path) -> Dataset:
    return Dataset(name="prices", symbol="X", rows=1, first_date=date(2020, 1, 1),
                   last_date=date(2020, 1, 2), checksum="c" * 64, storage_path=str(path))


def test_a_dataset_file_is_parsed_once_per_version(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_bytes(GOOG.read_bytes())
    first = load_bars(_dataset(path))
    assert load_bars(_dataset(path)) is first  # the next job reuses it
    path.write_bytes(MSFT.read_bytes())  # replaced: read again
    os.utime(path, ns=(1, 1))
    again = load_bars(_dataset(path))
    assert again is not first and len(again) == len(load_bars(_dataset(MSFT)))


def test_a_missing_or_broken_dataset_file_means_the_job_cannot_run(tmp_path: Path) -> None:
    with pytest.raises(JobCannotRun, match="no longer exists"):
        load_bars(None)
    with pytest.raises(JobCannotRun, match="missing or unreadable"):
        load_bars(_dataset(tmp_path / "gone.csv"))
    broken = tmp_path / "broken.csv"
    broken.write_text("date,close\nnot a date,1\n")
    with pytest.raises(JobCannotRun, match="is invalid"):
        load_bars(_dataset(broken))
