from __future__ import annotations

import pytest

from optimizer_app.ui import job_form as form
from optimizer_app.ui import rerun_form as rerun
from tests.unit.ui.factories import make_job, specs

CAP = 200_000


def sma_inputs(fast: tuple[str, str, str], slow: tuple[str, str, str]) -> list[form.ParamInput]:
    inputs = [form.default_input(s) for s in specs("sma_cross")]
    inputs[0].start, inputs[0].stop, inputs[0].step = fast
    inputs[1].start, inputs[1].stop, inputs[1].step = slow
    return inputs


@pytest.mark.parametrize(
    "strategy", ["sma_cross", "rsi_reversion", "bollinger_breakout", "donchian_breakout"]
)
def test_default_ranges_are_valid_and_modest(strategy: str) -> None:
    inputs = [form.default_input(s) for s in specs(strategy)]
    check = form.check_grid(strategy, inputs, CAP)
    assert check.total is not None and 1 < check.total <= 1000, check
    assert all(p.kind == "range" and p.allowed for p in inputs)


def test_count_follows_the_constraint() -> None:
    check = form.check_grid("sma_cross", sma_inputs(("5", "20", "5"), ("10", "40", "5")), CAP)
    assert check.total == 22
    assert form.combinations_text(check, CAP) == "22 combinations (max 200,000)"
    single = form.check_grid("sma_cross", sma_inputs(("5", "5", "1"), ("40", "40", "1")), CAP)
    assert form.combinations_text(single, CAP) == "1 combination (max 200,000)"


def test_unreadable_numbers_are_named_on_their_input() -> None:
    check = form.check_grid("sma_cross", sma_inputs(("abc", "20", "5"), ("10", "40", "5")), CAP)
    assert check.total is None
    assert check.param_errors == {"fast": "Start must be a number, not “abc”"}
    assert check.param_fields == {"fast": "start"}
    assert form.combinations_text(check, CAP) == "– combinations (max 200,000)"
    whole = form.check_grid("sma_cross", sma_inputs(("5.5", "20", "5"), ("10", "40", "5")), CAP)
    assert whole.param_errors == {"fast": "Start must be a whole number, not 5.5"}
    empty = form.check_grid("sma_cross", sma_inputs(("5", "20", ""), ("10", "40", "5")), CAP)
    assert (empty.param_errors, empty.param_fields) == ({"fast": "Enter step"}, {"fast": "step"})


def test_problems_read_in_the_users_words_with_the_value_as_typed() -> None:
    zero = form.check_grid("sma_cross", sma_inputs(("5", "20", "0"), ("10", "40", "5")), CAP)
    assert (zero.param_errors, zero.param_fields) == ({"fast": "Step must be greater than 0"},
                                                      {"fast": "step"})
    high = form.check_grid("sma_cross", sma_inputs(("5", "20", "5"), ("10", "500", "5")), CAP)
    assert high.param_errors == {"slow": "Slow SMA must be between 3 and 400, not 500"}
    assert high.param_fields == {"slow": "stop"}
    upper = [form.default_input(s) for s in specs("rsi_reversion")]
    upper[2].start, upper[2].stop, upper[2].step = "40", "80", "10"
    check = form.check_grid("rsi_reversion", upper, CAP)
    assert check.param_errors == {"upper": "Upper level must be between 50 and 99, not 40"}
    backwards = form.check_grid("sma_cross", sma_inputs(("30", "20", "5"), ("10", "40", "5")),
                                CAP)
    assert backwards.param_errors == {"fast": "Stop must not be below the start (30)"}
    assert backwards.param_fields == {"fast": "stop"}
    inputs = sma_inputs(("5", "20", "5"), ("10", "40", "5"))
    inputs[0].kind, inputs[0].listed = "values", "1, 10"
    listed = form.check_grid("sma_cross", inputs, CAP)
    assert listed.param_errors == {"fast": "Fast SMA must be between 2 and 200, not 1"}
    assert listed.param_fields == {"fast": "values"}
    for found in (zero, high, check, backwards, listed):
        assert "got" not in str(found.param_errors) and ".0" not in str(found.param_errors)


def test_a_grid_over_the_cap_is_explained_as_a_whole() -> None:
    inputs = [form.default_input(s) for s in specs("bollinger_breakout")]
    inputs[0].start, inputs[0].stop, inputs[0].step = "5", "200", "1"
    inputs[1].start, inputs[1].stop, inputs[1].step = "0.5", "4", "0.001"
    check = form.check_grid("bollinger_breakout", inputs, CAP)
    assert check.total is None and not check.param_errors
    assert "the limit is 200,000" in check.message and check.message[0].isupper()


def test_values_lists_accept_commas_and_spaces() -> None:
    inputs = sma_inputs(("5", "20", "5"), ("10", "40", "5"))
    inputs[0].kind, inputs[0].listed = "values", "5, 10 15;20"
    space, problems = form.raw_space(inputs)
    assert problems == {}
    assert space["fast"] == {"values": [5, 10, 15, 20]}
    assert space["slow"] == {"start": 10, "stop": 40, "step": 5}


def test_policy_and_options_convert_percentages() -> None:
    policy, options, errors = form.policy_and_options(
        form.FormValues(
            metric="maxDrawdown",
            mode="min",
            top_n="5",
            target_score="0.1",
            patience="",
            min_tasks="20",
            initial_cash="25,000",
            commission_pct="0.2",
            slippage_pct="0.05",
        )
    )
    assert errors == {}
    assert policy == {
        "metric": "maxDrawdown",
        "mode": "min",
        "topN": 5,
        "targetScore": 0.1,
        "minTasks": 20,
    }
    assert options == {
        "initialCash": 25000.0,
        "commission": 0.002,
        "slippage": 0.0005,
        "direction": "long",
        "sizing": "fractional",
    }


def test_policy_and_options_report_each_bad_field() -> None:
    _, _, errors = form.policy_and_options(
        form.FormValues(
            top_n="500",
            patience="0",
            min_tasks="x",
            initial_cash="0",
            commission_pct="20",
            slippage_pct="",
            target_score="high",
        )
    )
    assert errors == {
        "top_n": "Keep between 1 and 100 best combinations.",
        "patience": "Use at least 1 task, or leave empty.",
        "min_tasks": "“x” is not a number.",
        "initial_cash": "Start with more than 0.",
        "commission_pct": "Use a percentage from 0 to 10.",
        "slippage_pct": "Enter a number.",
        "target_score": "“high” is not a number.",
    }


def test_server_details_are_placed_next_to_fields() -> None:
    found = form.map_server_details(
        [
            {"field": "paramSpace.fast.start", "problem": "1 is below the minimum 2"},
            {
                "field": "earlyStopPolicy.topN",
                "problem": "Input should be less than or equal to 100",
            },
            {"field": "backtestOptions.commission", "problem": "too high"},
            {"field": "paramSpace", "problem": "no combination satisfies the constraint"},
            "not a dict",
        ]
    )
    assert found.params == {"fast": "Start: 1 is below the minimum 2."}
    assert found.fields == {
        "top_n": "Input should be less than or equal to 100.",
        "commission_pct": "Too high.",
    }
    assert found.general == ["ParamSpace: no combination satisfies the constraint."]


def test_a_rerun_shows_the_source_job_as_it_was() -> None:
    job = make_job()
    inputs = rerun.inputs_from_space(specs("sma_cross"), job.param_space)
    assert (inputs[0].kind, inputs[0].start, inputs[0].stop, inputs[0].step) == (
        "range",
        "5",
        "20",
        "5",
    )
    assert (inputs[1].kind, inputs[1].listed) == ("values", "10, 20, 40")
    values = rerun.values_from_job(job, "Story small (re-run)")
    assert values == form.FormValues(
        name="Story small (re-run)",
        metric="sharpe",
        mode="max",
        top_n="10",
        target_score="",
        patience="",
        min_tasks="",
        initial_cash="25000",
        commission_pct="0.1",
        slippage_pct="0.05",
        direction="long_short",
        sizing="whole",
    )
    # …and reading the form back gives the source's settings again.
    policy, options, errors = form.policy_and_options(values)
    assert errors == {} and options == job.backtest_options
    assert policy == job.early_stop_policy


def test_a_single_combination_rerun_lists_one_value_each() -> None:
    inputs = rerun.single_combination_inputs(specs("sma_cross"), {"fast": 10, "slow": 30})
    assert [(p.kind, p.listed) for p in inputs] == [("values", "10"), ("values", "30")]
    assert form.check_grid("sma_cross", inputs, CAP).total == 1
