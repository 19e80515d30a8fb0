from __future__ import annotations

import itertools
import pickle
import time

import numpy as np
import pytest

from optimizer_app.domain.grid import GridError, build_grid

SMA_SPACE = {
    "fast": {"start": 2, "stop": 100, "step": 1},
    "slow": {"start": 5, "stop": 300, "step": 3},
}


def error_of(strategy: str, space: object, cap: int = 200_000) -> GridError:
    with pytest.raises(GridError) as info:
        build_grid(strategy, space, cap=cap)  # type: ignore[arg-type]
    return info.value


def fields(error: GridError) -> list[str]:
    return [d["field"] for d in error.details]


def test_cartesian_order_last_parameter_fastest_and_constraint_filtered() -> None:
    grid = build_grid(
        "sma_cross", {"fast": {"values": [30, 10, 20, 10]}, "slow": {"values": [25, 15]}}, cap=100
    )
    expected = [(f, s) for f, s in itertools.product([10, 20, 30], [15, 25]) if f < s]
    assert grid.values == {"fast": [10, 20, 30], "slow": [15, 25]}
    assert grid.total == len(expected) == 3 and grid.raw_total == 6
    assert [tuple(grid.params_at(i).values()) for i in range(grid.total)] == expected
    columns = grid.params_for(np.array([2, 0, 2]))
    assert columns["fast"].tolist() == [20, 10, 20] and columns["slow"].tolist() == [25, 15, 25]
    assert columns["fast"].dtype == np.int64
    assert type(grid.params_at(0)["fast"]) is int
    with pytest.raises(IndexError):
        grid.params_for(np.array([3]))


def test_sma_benchmark_grid_count_matches_enumeration() -> None:
    grid = build_grid("sma_cross", SMA_SPACE, cap=200_000)
    pairs = [(f, s) for f in range(2, 101) for s in range(5, 301, 3) if f < s]
    assert grid.total == len(pairs) == 8217
    everything = grid.params_for(np.arange(grid.total))
    assert list(zip(everything["fast"].tolist(), everything["slow"].tolist(), strict=True)) == pairs


def test_float_ranges_are_exact_decimals() -> None:
    grid = build_grid(
        "bollinger_breakout",
        {"period": {"values": [20]}, "k": {"start": 0.5, "stop": 1.1, "step": 0.1}},
        cap=100,
    )
    assert grid.values["k"] == [0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1]
    grid = build_grid(
        "rsi_reversion",
        {
            "period": {"values": [14]},
            "lower": {"values": [30]},
            "upper": {"start": 70, "stop": 70.3, "step": 0.1},
        },
        cap=100,
    )
    assert grid.values["lower"] == [30.0] and grid.values["upper"] == [70.0, 70.1, 70.2, 70.3]
    assert type(grid.params_at(0)["lower"]) is float


def test_unknown_and_missing_parameters_and_strategy() -> None:
    error = error_of("sma_cross", {"fast": {"values": [2]}, "speed": {"values": [1]}})
    assert fields(error) == ["paramSpace.speed", "paramSpace.slow"]
    assert "its parameters are fast, slow" in error.details[0]["problem"]
    assert "give int values in 3..400" in error.details[1]["problem"]
    error = error_of("nope", {})
    assert fields(error) == ["strategy"] and "valid names" in error.message
    assert fields(error_of("sma_cross", [1, 2])) == ["paramSpace"]


@pytest.mark.parametrize(
    ("fast", "field", "problem"),
    [
        (
            {"values": [2.5]},
            "paramSpace.fast.values.0",
            "must be a whole number (int parameter), got 2.5",
        ),
        ({"values": [5.0]}, "paramSpace.fast.values.0", "must be a whole number"),
        ({"values": ["5"]}, "paramSpace.fast.values.0", "must be a number, got '5'"),
        ({"values": [True]}, "paramSpace.fast.values.0", "must be a number, got True"),
        (
            {"values": [1]},
            "paramSpace.fast.values.0",
            "1 is below the minimum 2 (allowed: int in 2..200)",
        ),
        ({"values": [201]}, "paramSpace.fast.values.0", "201 is above the maximum 200"),
        ({"values": []}, "paramSpace.fast.values", "at least one value"),
        ({"values": 3}, "paramSpace.fast.values", "must be a list"),
        ({"start": 2, "stop": 10, "step": 0}, "paramSpace.fast.step", "must be > 0, got 0"),
        ({"start": 2, "stop": 10, "step": -1}, "paramSpace.fast.step", "must be > 0"),
        ({"start": 10, "stop": 2, "step": 1}, "paramSpace.fast", "start 10 is greater than stop 2"),
        ({"start": 2, "stop": 10}, "paramSpace.fast.step", "is required"),
        (
            {"start": 2, "stop": 10, "step": 1, "values": [3]},
            "paramSpace.fast.start",
            "is not allowed",
        ),
        ({"start": 2, "stop": 10, "step": 1.5}, "paramSpace.fast.step", "whole number"),
        ("2..10", "paramSpace.fast", "must be an object"),
    ],
)
def test_bad_parameter_values(fast: object, field: str, problem: str) -> None:
    error = error_of("sma_cross", {"fast": fast, "slow": {"values": [50]}})
    assert field in fields(error)
    assert any(problem in d["problem"] for d in error.details if d["field"] == field)
    assert field in error.message


def test_float_parameters_accept_ints_but_not_nan_or_bools() -> None:
    ok = build_grid(
        "bollinger_breakout", {"period": {"values": [20]}, "k": {"values": [2]}}, cap=10
    )
    assert ok.values["k"] == [2.0]
    for bad in (float("nan"), float("inf"), False, None):
        error = error_of("bollinger_breakout", {"period": {"values": [20]}, "k": {"values": [bad]}})
        assert fields(error) == ["paramSpace.k.values.0"]


def test_empty_after_constraint() -> None:
    error = error_of("sma_cross", {"fast": {"values": [50]}, "slow": {"values": [10, 50]}})
    assert "no combination satisfies the constraint fast < slow" in error.message


def test_cap_is_enforced_before_and_after_the_constraint() -> None:
    # 99 x 99 raw, 4,950 allowed
    space = {
        "fast": {"start": 2, "stop": 100, "step": 1},
        "slow": {"start": 3, "stop": 101, "step": 1},
    }
    assert build_grid("sma_cross", space, cap=4950).total == 4950
    error = error_of("sma_cross", space, cap=4949)
    assert fields(error) == ["paramSpace"]
    assert "has 4,950 combinations satisfying fast < slow; the limit is 4,949" in error.message
    raw_too_big = error_of("sma_cross", space, cap=99 * 99 // 50 - 1)
    assert (
        "has 9,801 combinations before the constraint fast < slow; the limit is 195"
        in raw_too_big.message
    )
    # no constraint: the raw product is the count
    boll = {
        "period": {"start": 5, "stop": 200, "step": 1},
        "k": {"start": 0.5, "stop": 4, "step": 0.5},
    }
    assert "1,568 combinations" in error_of("bollinger_breakout", boll, cap=1000).message
    # a huge space is rejected from its size alone, without enumerating it
    huge = {
        "period": {"start": 2, "stop": 100, "step": 1},
        "lower": {"start": 1, "stop": 50, "step": 1e-6},
        "upper": {"values": [70]},
    }
    started = time.perf_counter()
    error = error_of("rsi_reversion", huge)
    assert time.perf_counter() - started < 0.5
    assert "values; the grid limit is 200,000" in error.message


def test_mapping_a_chunk_of_a_200k_grid_is_fast_and_pickle_round_trips() -> None:
    space = {
        "fast": {"start": 2, "stop": 200, "step": 1},
        "slow": {"start": 3, "stop": 400, "step": 1},
    }
    grid = build_grid("sma_cross", space, cap=200_000)
    assert grid.total == sum(1 for f in range(2, 201) for s in range(3, 401) if f < s)
    chunk = np.random.default_rng(0).choice(grid.total, 1000, replace=False)
    grid.params_for(chunk)
    started = time.perf_counter()
    for _ in range(20):
        grid.params_for(chunk)
    assert (time.perf_counter() - started) / 20 < 0.005
    clone = pickle.loads(pickle.dumps(grid))
    for key in ("fast", "slow"):
        assert np.array_equal(clone.params_for(chunk)[key], grid.params_for(chunk)[key])
    assert clone.total == grid.total and clone.strategy == "sma_cross"


def test_positions_for_match_the_parameter_values() -> None:
    grid = build_grid("sma_cross", {"fast": {"start": 5, "stop": 30, "step": 5},
                                    "slow": {"start": 10, "stop": 40, "step": 10}}, cap=1000)
    indices = np.arange(grid.total)
    columns = grid.params_for(indices)
    for name in ("fast", "slow"):
        values = np.asarray(grid.values[name])
        assert np.array_equal(values[grid.positions_for(indices, name)], columns[name])
