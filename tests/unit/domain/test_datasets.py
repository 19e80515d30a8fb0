from __future__ import annotations

import hashlib
import time

import numpy as np
import pytest

from optimizer_app.domain.datasets import (
    BUNDLED_DATASETS,
    Bars,
    DatasetError,
    bars_to_csv,
    checksum,
    load_bundled,
    load_bundled_bars,
    parse_csv,
)

LIMIT = 10_000_000


def csv_rows(n: int = 60, *, header: str = "date,open,high,low,close,volume") -> list[str]:
    day = np.datetime64("2021-01-01")
    rows = [header]
    for i in range(n):
        price = 100 + i
        rows.append(f"{day + i},{price},{price + 2},{price - 1},{price + 1},{1000 + i}")
    return rows


def encode(rows: list[str]) -> bytes:
    return ("\n".join(rows) + "\n").encode()


def rejected(data: bytes, **kwargs) -> DatasetError:
    with pytest.raises(DatasetError) as info:
        parse_csv(data, max_bytes=kwargs.pop("max_bytes", LIMIT), **kwargs)
    return info.value


def test_bundled_goog_and_msft() -> None:
    keys = {d.key: d for d in BUNDLED_DATASETS}
    goog, msft = load_bundled_bars("goog-daily"), load_bundled_bars("msft-daily")
    assert len(goog) == 2148 and len(msft) == 3270
    assert str(goog.dates[0]) == "2004-08-19" and str(goog.dates[-1]) == "2013-03-01"
    assert goog.close[0] == 100.335 and goog.open[0] == 100.01  # raw, not adjusted
    assert goog.dates.dtype == np.dtype("datetime64[D]") and goog.close.dtype == np.float64
    assert keys["goog-daily"].symbol == "GOOG" and keys["goog-daily"].timeframe == "1d"
    assert "public domain" in keys["goog-daily"].source
    # the bundled files are already canonical, so the checksum is the file's own hash
    assert checksum(goog) == hashlib.sha256(load_bundled("goog-daily")).hexdigest()
    with pytest.raises(KeyError, match="goog-daily"):
        load_bundled("nope")


def test_header_matching_is_case_insensitive_with_aliases_and_volume_optional() -> None:
    rows = csv_rows(header=" Timestamp , OPEN,High ,low,Close,Vol")
    bars = parse_csv(encode(rows), max_bytes=LIMIT)
    assert len(bars) == 60 and bars.volume[0] == 1000
    no_volume = [",".join(r.split(",")[:5]) for r in csv_rows()]
    bars = parse_csv(encode(no_volume), max_bytes=LIMIT)
    assert np.all(bars.volume == 0)
    reordered = [",".join(np.array(r.split(","))[[4, 0, 1, 2, 3, 5]]) for r in csv_rows()]
    assert checksum(parse_csv(encode(reordered), max_bytes=LIMIT)) == checksum(bars_with_volume())


def bars_with_volume() -> Bars:
    return parse_csv(encode(csv_rows()), max_bytes=LIMIT)


def test_checksum_ignores_formatting() -> None:
    plain = bars_with_volume()
    rows = csv_rows()
    day = np.datetime64("2021-01-01")
    fancy = ["DATE, Open, HIGH, Low, Close, Volume"] + [
        f"{day + i}, {100 + i:.3f}, {102 + i:.2f}, {99 + i:.1f}, {101 + i}.0, {1000 + i}.00"
        for i in range(60)
    ]
    midnight = [rows[0]] + [r.replace(",", " 00:00:00,", 1) for r in rows[1:]]
    crlf = ("\r\n".join(rows) + "\r\n").encode()
    bom = "\ufeff".encode() + encode(rows)
    same = [parse_csv(x, max_bytes=LIMIT) for x in (encode(fancy), encode(midnight), crlf, bom)]
    assert {checksum(b) for b in same} == {checksum(plain)}
    round_trip = parse_csv(bars_to_csv(plain), max_bytes=LIMIT)
    assert checksum(round_trip) == checksum(plain)
    changed = csv_rows()
    changed[5] = changed[5].replace(",104,", ",104.01,")
    assert changed[5] != rows[5]
    assert checksum(parse_csv(encode(changed), max_bytes=LIMIT)) != checksum(plain)


@pytest.mark.parametrize(
    ("row", "replacement", "problem"),
    [
        (17, "2021-01-17,116,118,115,,1016", "close is empty"),
        (17, "2021-01-17,116,118,115,NaN,1016", "close is NaN"),
        (17, "2021-01-17,116,118,115,abc,1016", "close is not a number ('abc')"),
        (17, "2021-01-17,0,118,115,117,1016", "open must be > 0"),
        (17, "2021-01-17,-5,118,115,117,1016", "open must be > 0"),
        (17, "2021-01-17,116,114,115,115,1016", "high 114 is below low 115"),
        (17, "2021-01-17,116,117,110,118,1016", "high 117 is below open/close 118"),
        (17, "2021-01-17,116,118,116.5,117,1016", "low 116.5 is above open/close 116"),
        (17, "17/01/2021,116,118,115,117,1016", "is not an ISO date"),
        (17, "2021-01-17 10:30,116,118,115,117,1016", "has a time of day"),
        (17, "2021-01-17,116,118,115,117,-3", "volume must be >= 0"),
        (17, "2021-01-16,116,118,115,117,1016", "date 2021-01-16 repeats row 16"),
        (17, "2021-01-10,116,118,115,117,1016", "is before row 16 (2021-01-16); sort by date"),
    ],
)
def test_bad_rows_are_reported_with_their_row_number(
    row: int, replacement: str, problem: str
) -> None:
    rows = csv_rows()
    rows[row] = replacement
    error = rejected(encode(rows))
    assert error.details[0]["row"] == row
    assert problem in error.details[0]["problem"]
    assert f"row {row}" in error.message and "upload again" in error.message


def test_at_most_ten_bad_rows_are_listed_in_order() -> None:
    rows = csv_rows()
    for i in range(3, 40, 2):
        date, open_, high, low = rows[i].split(",")[:4]
        rows[i] = f"{date},{open_},{high},{low},-1,5"
    error = rejected(encode(rows))
    assert [d["row"] for d in error.details] == list(range(3, 23, 2))
    assert "close must be > 0 (got -1)" in error.details[0]["problem"]
    assert error.message.startswith("19 data rows are invalid (row 3: close must be > 0")


def test_file_level_rejections() -> None:
    rows = csv_rows()
    assert "limit is 100 bytes" in rejected(encode(rows), max_bytes=100).message
    assert "not UTF-8" in rejected(b"date,open\n\xff\xfe,1\n").message
    assert "empty" in rejected(b"  \n").message
    missing = rejected(encode([",".join(r.split(",")[:4]) for r in rows]))
    assert "missing column(s) close" in missing.message
    few = rejected(encode(rows[:11]))
    assert few.message == "the file has 10 data rows; at least 50 daily bars are needed."
    assert parse_csv(encode(rows[:11]), max_bytes=LIMIT, min_rows=10) is not None
    duplicate = rejected(encode(csv_rows(header="date,open,high,low,close,last")))
    assert "keep only one" in duplicate.message


def test_blank_lines_are_skipped_but_rows_keep_file_numbering() -> None:
    rows = csv_rows()
    rows.insert(10, "")
    rows[20] = rows[20].replace(",", ",x", 1)  # breaks the open of data row 20
    error = rejected(encode(rows))
    assert error.details[0]["row"] == 20


def test_parsing_100k_rows_is_fast() -> None:
    n = 100_000
    days = np.datetime64("1900-01-01") + np.arange(n)
    close = 100 + np.cumsum(np.full(n, 0.01))
    lines = ["Date,Open,High,Low,Close,Volume"]
    lines += [
        f"{d},{c:.2f},{c + 1:.2f},{c - 1:.2f},{c:.2f},1000"
        for d, c in zip(days, close, strict=True)
    ]
    data = ("\n".join(lines) + "\n").encode()
    started = time.perf_counter()
    bars = parse_csv(data, max_bytes=len(data))
    assert time.perf_counter() - started < 3.0
    assert len(bars) == n
