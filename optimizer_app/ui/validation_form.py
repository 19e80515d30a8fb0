"""The new-optimization form's validation fields: as typed, checked, turned into the job's
``validation`` (and the policy's ``rankBy``), and filled back from a source job. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from optimizer_app.ui import format as fmt

KINDS = (("none", "None"), ("holdout", "Hold-out"), ("walkforward", "Walk-forward"))
SPLITS = (("fraction", "Last share of the bars"), ("start", "From a date"))
RANK_BY = (("score", "Score"), ("neighbourhoodMean", "Neighbourhood mean"))


@dataclass
class ValidationInputs:
    kind: str = "none"
    split: str = "fraction"  # hold-out by "fraction" or "start"
    holdout_pct: str = "30"
    start: str = ""  # YYYY-MM-DD
    folds: str = "5"
    train_bars: str = "750"
    test_bars: str = "250"
    anchored: str = "false"
    rank_by: str = "score"


def _whole(text: str, key: str, errors: dict[str, str], low: int) -> int | None:
    try:
        value = int(text.replace(",", "").strip())
    except ValueError:
        errors[key] = "Enter a whole number."
        return None
    if value < low:
        errors[key] = f"Enter at least {low}."
        return None
    return value


def validation_body(inputs: ValidationInputs) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The job's ``validation`` (None for none) and the fields that are wrong."""
    errors: dict[str, str] = {}
    if inputs.kind == "holdout":
        if inputs.split == "start":
            try:
                start = date.fromisoformat(inputs.start.strip())
            except ValueError:
                errors["start"] = "Enter a date as YYYY-MM-DD."
                return None, errors
            return {"kind": "holdout", "start": start.isoformat()}, errors
        try:
            pct = float(inputs.holdout_pct.replace("%", "").strip())
        except ValueError:
            errors["holdout_pct"] = "Enter a percentage, e.g. 30."
            return None, errors
        if not 0 < pct <= 90:
            errors["holdout_pct"] = "Keep between 0% and 90% out of sample."
            return None, errors
        return {"kind": "holdout", "fraction": round(pct / 100, 6)}, errors
    if inputs.kind == "walkforward":
        folds = _whole(inputs.folds, "folds", errors, 1)
        train = _whole(inputs.train_bars, "train_bars", errors, 50)
        test = _whole(inputs.test_bars, "test_bars", errors, 50)
        if errors:
            return None, errors
        return {"kind": "walkforward", "folds": folds, "trainBars": train, "testBars": test,
                "anchored": inputs.anchored == "true"}, errors
    return None, errors


def inputs_from_job(validation: dict[str, Any] | None, rank_by: Any) -> ValidationInputs:
    """The fields as a source job had them (a re-run keeps its validation)."""
    found = ValidationInputs(rank_by=str(rank_by or "score"))
    if not validation:
        return found
    found.kind = str(validation.get("kind") or "none")
    if validation.get("start"):
        found.split, found.start = "start", str(validation["start"])
    if validation.get("fraction") is not None:
        found.holdout_pct = fmt.plain_number(float(validation["fraction"]) * 100)
    for key, name in (("folds", "folds"), ("trainBars", "train_bars"),
                      ("testBars", "test_bars")):
        if validation.get(key) is not None:
            setattr(found, name, str(validation[key]))
    found.anchored = "true" if validation.get("anchored") else "false"
    return found


def folds_text(inputs: ValidationInputs, grid_total: int | None) -> str:
    """``5 folds × 203 combinations = 1,015 to run`` (every fold runs the whole grid)."""
    try:
        folds = int(inputs.folds.replace(",", "").strip())
    except ValueError:
        return "Each fold runs the whole grid."
    if grid_total is None or folds < 1:
        return "Each fold runs the whole grid."
    return (f"{fmt.count(folds)} folds × {fmt.count(grid_total)} combinations = "
            f"{fmt.count(folds * grid_total)} to run.")
