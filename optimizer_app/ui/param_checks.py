"""A parameter editor's problems in the user's words, on the input that is wrong, with the
value as typed: "Step must be greater than 0", "Upper level must be between 50 and 99, not
40". Checked in the form before the grid is built, so the domain's own messages (written for
API clients) rarely reach the form."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Protocol

from optimizer_app.ui import format as fmt

SEPARATORS = (",", ";", " ", "\t", "\n")


class Editor(Protocol):
    label: str
    type: str
    kind: str
    start: str
    stop: str
    step: str
    listed: str
    low: float
    high: float


@dataclass(frozen=True)
class Problem:
    field: str  # "start" | "stop" | "step" | "values"
    message: str


def _typed(text: str) -> str:
    return text.strip()


def _number(text: str, kind: str, what: str) -> tuple[Decimal | None, str]:
    """The typed number, or what is wrong with it ("Start must be a number, not “abc”")."""
    cleaned = text.strip().replace(",", "").replace("_", "")
    if not cleaned:
        return None, f"Enter {what.lower()}" if what != "A value" else "Enter a value"
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None, f"{what} must be a number, not “{_typed(text)}”"
    if not value.is_finite():
        return None, f"{what} must be a number, not “{_typed(text)}”"
    if kind == "int" and value != value.to_integral_value():
        return None, f"{what} must be a whole number, not {_typed(text)}"
    return value, ""


def _bounds(editor: Editor, value: Decimal, text: str) -> str:
    if Decimal(repr(editor.low)) <= value <= Decimal(repr(editor.high)):
        return ""
    return (f"{editor.label} must be between {fmt.plain_number(editor.low)} and "
            f"{fmt.plain_number(editor.high)}, not {_typed(text)}")


def _range_problem(editor: Editor) -> Problem | None:
    values: dict[str, Decimal] = {}
    for key in ("start", "stop", "step"):
        text = getattr(editor, key)
        value, problem = _number(text, editor.type, key.capitalize())
        if value is None:
            return Problem(key, problem)
        values[key] = value
    for key in ("start", "stop"):
        if problem := _bounds(editor, values[key], getattr(editor, key)):
            return Problem(key, problem)
    if values["step"] <= 0:
        return Problem("step", "Step must be greater than 0")
    if values["start"] > values["stop"]:
        return Problem("stop", f"Stop must not be below the start ({_typed(editor.start)})")
    return None


def _values_problem(editor: Editor) -> Problem | None:
    text = editor.listed
    for separator in SEPARATORS[1:]:
        text = text.replace(separator, ",")
    parts = [p for p in text.split(",") if p.strip()]
    if not parts:
        return Problem("values", "List at least one value")
    for part in parts:
        value, problem = _number(part, editor.type, "A value")
        if value is None:
            return Problem("values", problem.replace("A value must", "Each value must"))
        if problem := _bounds(editor, value, part):
            return Problem("values", problem)
    return None


def editor_problem(editor: Editor) -> Problem | None:
    """What is wrong with one parameter's editor as typed, if anything."""
    if editor.high < editor.low:  # bounds unknown (an editor built without a strategy spec)
        return None
    return _values_problem(editor) if editor.kind == "values" else _range_problem(editor)
