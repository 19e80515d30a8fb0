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


def test_unreadable_numbers_are_named_per_parameter() -> None:
    check = form.check_grid("sma_cross", sma_inputs(("abc", "20", "5"), ("10", "40", "5")), CAP)
    assert check.total is None
    assert check.param_errors == {"fast": "Start: “abc” is not a number."}
    assert form.combinations_text(check, CAP) == "– combinations (max 200,000)"
    whole = form.check_grid("sma_cross", sma_inputs(("5.5", "20", "5"), ("10", "40", "5")), CAP)
    assert whole.param_errors == {"fast": "Start: enter a whole number."}


def test_domain_problems_land_next_to_their_parameter() -> None:
    check = form.check_grid("sma_cross", sma_inputs(("5", "20", "5"), ("10", "500", "5")), CAP)
    assert check.param_errors["slow"].startswith("Stop: 500 is above the maximum 400")
    inputs = sma_inputs(("5", "20", "5"), ("10", "40", "5"))
    inputs[0].kind, inputs[0].listed = "values", "1, 10"
    listed = form.check_grid("sma_cross", inputs, CAP)
    assert listed.param_errors["fast"].startswith("Value 1: 1 is below the minimum 2")


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
