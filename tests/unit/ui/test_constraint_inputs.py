"""The form's result-constraint rows: what is sent, and errors in a user's words."""

from __future__ import annotations

from optimizer_app.ui.states.new_optimization import (
    PRESET_CONSTRAINTS,
    ConstraintInput,
    checked_constraints,
    constraint_inputs,
)


def test_rows_become_constraints_and_bad_values_are_marked() -> None:
    rows, body = checked_constraints([ConstraintInput("trades", ">=", " 1,000 "),
                                      ConstraintInput("maxDrawdown", "<=", "0.3")])
    assert body == [{"metric": "trades", "op": ">=", "value": 1000.0},
                    {"metric": "maxDrawdown", "op": "<=", "value": 0.3}]
    assert [r.error for r in rows] == ["", ""]
    rows, body = checked_constraints([ConstraintInput("trades", ">=", "many"),
                                      ConstraintInput("trades", ">=", ""),
                                      ConstraintInput("trades", ">=", "inf")])
    assert body is None
    assert [r.error for r in rows] == ["Enter a number", "Enter a value", "Enter a number"]


def test_the_preset_is_one_trade_and_a_job_refills_its_rows() -> None:
    assert [(c.metric, c.op, c.value) for c in PRESET_CONSTRAINTS] == [("trades", ">=", "1")]
    rows = constraint_inputs([{"metric": "maxDrawdown", "op": "<=", "value": 0.25}])
    assert [(c.metric, c.op, c.value) for c in rows] == [("maxDrawdown", "<=", "0.25")]
