"""Result constraints: validation and the pass mask."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from optimizer_app.domain.constraints import describe, parse_constraints, passes_one, passing


def test_the_mask_is_every_constraint_at_once_and_nan_fails() -> None:
    constraints = parse_constraints([{"metric": "trades", "op": ">=", "value": 10},
                                     {"metric": "maxDrawdown", "op": "<", "value": 0.3}])
    metrics = {"trades": np.array([12, 9, 30, 15]),
               "maxDrawdown": np.array([0.1, 0.1, 0.3, np.nan])}
    assert passing(metrics, constraints, 4).tolist() == [True, False, False, False]
    assert passing(metrics, [], 4) is None
    assert passes_one({"trades": 10, "maxDrawdown": 0.29}, constraints) is True
    assert passes_one({"trades": 10, "maxDrawdown": None}, constraints) is False
    assert describe(constraints) == "trades ≥ 10 and maxDrawdown < 0.3"


@pytest.mark.parametrize("raw", [
    [{"metric": "luck", "op": ">=", "value": 1}],
    [{"metric": "trades", "op": "==", "value": 1}],
    [{"metric": "trades", "op": ">=", "value": float("nan")}],
    [{"metric": "trades", "op": ">=", "value": 1, "extra": 2}],
    "trades >= 1",
])
def test_invalid_constraints_are_refused(raw: object) -> None:
    with pytest.raises(ValidationError):
        parse_constraints(raw)


def test_none_is_no_constraint_and_too_many_are_refused() -> None:
    assert parse_constraints(None) == []
    with pytest.raises(ValueError, match="at most 20"):
        parse_constraints([{"metric": "trades", "op": ">=", "value": 1}] * 21)
