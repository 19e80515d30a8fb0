"""Parameter spaces: validation, counting under the constraint, and index -> parameters."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from optimizer_app.domain._grid_values import GridError, Problem, expand_values
from optimizer_app.domain.strategies import Strategy, UnknownStrategyError, get_strategy

__all__ = ["Grid", "GridError", "ParamRange", "ParamValues", "build_grid"]

Number = Any  # checked against the parameter's type by expand_values, with clearer messages
RAW_FACTOR = 50  # a constrained raw product may exceed the cap by this much before counting
CHUNK = 1 << 20  # raw combinations checked against the constraint at once
DEFAULT_MAX_PARAM_VALUES = 10_000  # entries of one parameter's "values" list


class ParamValues(BaseModel):
    model_config = ConfigDict(extra="forbid")
    values: list[Number] = Field(min_length=1)


class ParamRange(BaseModel):
    """``start``..``stop`` inclusive by ``step``."""

    model_config = ConfigDict(extra="forbid")
    start: Number
    stop: Number
    step: Number


class Grid:
    """The constraint-filtered cartesian product, last parameter varying fastest.

    Combination indices ``0..total-1`` are stable: the same raw space gives the same order.
    """

    def __init__(
        self, strategy: str, values: dict[str, np.ndarray], kept: np.ndarray | None,
        *, suffix_size: int | None = None,
    ) -> None:
        """``kept``: the allowed raw indices of the last parameters' own grid (of
        ``suffix_size`` combinations; all parameters when None) — the same for every value of
        the parameters before them, so a constraint on the last parameters costs memory in
        their grid's size, not the whole grid's."""
        self.strategy = strategy
        self.param_names: tuple[str, ...] = tuple(values)
        self._arrays = values
        self._sizes = np.array([len(v) for v in values.values()], dtype=np.int64)
        self.raw_total = int(np.prod(self._sizes))
        self._kept = kept
        self._suffix = self.raw_total if suffix_size is None else int(suffix_size)
        self.total = (self.raw_total if kept is None
                      else self.raw_total // self._suffix * int(len(kept)))
        self.values: dict[str, list[int | float]] = {k: v.tolist() for k, v in values.items()}

    def __len__(self) -> int:
        return self.total

    def params_for(self, indices: np.ndarray) -> dict[str, np.ndarray]:
        """Parameter columns for combination indices (any order, repeats allowed)."""
        idx = np.asarray(indices, dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= self.total):
            raise IndexError(f"combination indices must be in 0..{self.total - 1}")
        return self._columns(self._raw(idx))

    def params_at(self, i: int) -> dict[str, int | float]:
        columns = self.params_for(np.array([i], dtype=np.int64))
        return {name: column[0].item() for name, column in columns.items()}

    def _raw(self, idx: np.ndarray) -> np.ndarray:
        """Raw (unconstrained cartesian) indices of combination indices."""
        if self._kept is None:
            return idx
        block, within = np.divmod(idx, len(self._kept))
        return block * self._suffix + self._kept[within]

    def _index_of_raw(self, raw: int) -> int | None:
        """The combination index of a raw index (None: the constraint removed it)."""
        if self._kept is None:
            return raw
        block, rest = divmod(raw, self._suffix)
        at = int(np.searchsorted(self._kept, rest))
        if at < len(self._kept) and int(self._kept[at]) == rest:
            return block * len(self._kept) + at
        return None

    def neighbours(self, i: int) -> list[int]:
        """Indices of the combinations one value up or down in exactly one parameter (those
        the strategy's constraint removed are not in the grid, so not neighbours)."""
        if not 0 <= i < self.total:
            raise IndexError(f"combination indices must be in 0..{self.total - 1}")
        raw = int(self._raw(np.array([i], dtype=np.int64))[0])
        strides = np.cumprod(np.concatenate(([1], self._sizes[::-1][:-1])))[::-1]
        positions = (raw // strides) % self._sizes
        found: list[int] = []
        for axis in range(len(self._sizes)):
            for step in (-1, 1):
                position = int(positions[axis]) + step
                if not 0 <= position < int(self._sizes[axis]):
                    continue
                index = self._index_of_raw(raw + step * int(strides[axis]))
                if index is not None:
                    found.append(index)
        return found

    def positions_for(self, indices: np.ndarray, name: str) -> np.ndarray:
        """Positions of one parameter's value (in ``values[name]``) for combination indices:
        what a per-value aggregation groups by, without building the values."""
        idx = np.asarray(indices, dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= self.total):
            raise IndexError(f"combination indices must be in 0..{self.total - 1}")
        raw = self._raw(idx)
        k = self.param_names.index(name)
        stride = int(np.prod(self._sizes[k + 1 :]))
        return (raw // stride) % int(self._sizes[k])

    def _columns(self, raw: np.ndarray) -> dict[str, np.ndarray]:
        columns: dict[str, np.ndarray] = {}
        rest = raw
        for name, size in reversed(list(zip(self.param_names, self._sizes.tolist(), strict=True))):
            rest, position = np.divmod(rest, size)
            columns[name] = self._arrays[name][position]
        return {name: columns[name] for name in self.param_names}


def _parse_param(name: str, raw: Any, problems: list[Problem]) -> ParamValues | ParamRange | None:
    field = f"paramSpace.{name}"
    if not isinstance(raw, dict):
        problems.append(
            (field, 'must be an object: {"values": [...]} or {"start", "stop", "step"}')
        )
        return None
    model: type[ParamValues] | type[ParamRange] = ParamValues if "values" in raw else ParamRange
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            where = f"{field}.{loc}" if loc else field
            problems.append((where, _explain(err)))
        return None


def _explain(err: Any) -> str:
    kind = err["type"]
    if kind == "missing":
        return 'is required (give {"values": [...]} or all of start, stop, step)'
    if kind == "extra_forbidden":
        return 'is not allowed here (use either "values" or "start"/"stop"/"step")'
    if kind == "too_short":
        return "must list at least one value"
    if kind in {"int_type", "float_type", "list_type"} or kind.endswith("_type"):
        got = repr(err.get("input"))
        if len(got) > 60:  # quote the start of a long value, not all of it
            got = got[:57] + "..."
        return f"must be a number, got {got}" if kind != "list_type" else "must be a list"
    return str(err["msg"])


def _strategy_or_error(strategy_name: str) -> Strategy:
    try:
        return get_strategy(strategy_name)
    except UnknownStrategyError as exc:
        raise GridError(exc.message, [("strategy", exc.message)]) from None


def _check_names(strategy: Strategy, raw_space: Any) -> None:
    if not isinstance(raw_space, dict):
        raise GridError(
            "paramSpace must be an object with one entry per parameter",
            [("paramSpace", f"must be an object with keys {', '.join(strategy.param_names)}")],
        )
    problems: list[Problem] = []
    for name in raw_space:
        if name not in strategy.param_names:
            problems.append(
                (
                    f"paramSpace.{name}",
                    f"unknown parameter of {strategy.name}; its parameters are "
                    f"{', '.join(strategy.param_names)}",
                )
            )
    for spec in strategy.params:
        if spec.name not in raw_space:
            problems.append(
                (
                    f"paramSpace.{spec.name}",
                    f"is missing; give {spec.type} values in {spec.min:g}..{spec.max:g}",
                )
            )
    if problems:
        raise GridError.from_problems(problems)


def _filtered(strategy: Strategy, grid: Grid, cap: int) -> tuple[np.ndarray, int]:
    """Raw indices allowed by the constraint (kept only while within ``cap``) and their count."""
    kept: list[np.ndarray] = []
    count = 0
    for start in range(0, grid.raw_total, CHUNK):
        raw = np.arange(start, min(start + CHUNK, grid.raw_total), dtype=np.int64)
        mask = np.asarray(strategy.allowed(grid._columns(raw)), dtype=bool)
        count += int(mask.sum())
        if count <= cap:
            kept.append(raw[mask])
        else:
            kept.clear()
    indices = np.concatenate(kept) if kept else np.empty(0, dtype=np.int64)
    return indices, count


def _too_many(total: int, cap: int, *, constraint: str = "", before: bool = False) -> GridError:
    when = f" satisfying {constraint}" if constraint and not before else ""
    when = f" before the constraint {constraint}" if constraint and before else when
    text = (
        f"the grid has {total:,} combinations{when}; the limit is {cap:,}. "
        "Narrow a range or use a larger step."
    )
    return GridError(text, [("paramSpace", text)])


def _max_values() -> int:
    """``OPTIMIZER_MAX_PARAM_VALUES``, read when a grid is built (a worker on another machine
    without the app's configuration keeps the default)."""
    try:
        from optimizer_app.core.config import settings
    except Exception:  # noqa: BLE001  (settings refused by their own validation: use the default)
        return DEFAULT_MAX_PARAM_VALUES
    return int(settings.max_param_values)


def _too_many_values(name: str, count: int, limit: int) -> Problem:
    return (f"paramSpace.{name}.values",
            f"has {count:,} values; a parameter may list at most {limit:,} values "
            "(use start/stop/step for a long even range)")


def build_grid(
    strategy_name: str, raw_space: dict[str, Any], *, cap: int, max_values: int | None = None
) -> Grid:
    """Validate a raw param space for a strategy and build its grid (or raise GridError).
    A ``values`` list may hold at most ``max_values`` entries (default: the configured
    ``max_param_values``)."""
    strategy = _strategy_or_error(strategy_name)
    _check_names(strategy, raw_space)
    limit = _max_values() if max_values is None else max_values
    problems: list[Problem] = []
    values: dict[str, np.ndarray] = {}
    for spec in strategy.params:
        parsed = _parse_param(spec.name, raw_space[spec.name], problems)
        if isinstance(parsed, ParamValues) and len(parsed.values) > limit:
            problems.append(_too_many_values(spec.name, len(parsed.values), limit))
            continue
        if parsed is not None:
            if isinstance(parsed, ParamValues):
                expanded = expand_values(spec, parsed.values, None, cap, problems)
            else:
                bounds = (parsed.start, parsed.stop, parsed.step)
                expanded = expand_values(spec, None, bounds, cap, problems)
            if expanded is not None:
                values[spec.name] = expanded
    if problems:
        raise GridError.from_problems(problems)
    grid = Grid(strategy.name, values, None)
    if grid.raw_total > cap and (
        strategy.constraint_text == "" or grid.raw_total > cap * RAW_FACTOR
    ):
        raise _too_many(grid.raw_total, cap, constraint=strategy.constraint_text, before=True)
    if strategy.constraint_text:
        # The constraint is evaluated over the grid of the parameters from the first one it
        # reads to the last; the parameters before those repeat that grid.
        first = min((strategy.param_names.index(p) for p in strategy.constraint_params),
                    default=0)
        suffix = {name: values[name] for name in strategy.param_names[first:]}
        repeats = grid.raw_total // max(1, int(np.prod([len(v) for v in suffix.values()])))
        kept, count = _filtered(strategy, Grid(strategy.name, suffix, None), cap // repeats)
        count *= repeats
        if count > cap:
            raise _too_many(count, cap, constraint=strategy.constraint_text)
        if count == 0:
            text = f"no combination satisfies the constraint {strategy.constraint_text}"
            raise GridError(text, [("paramSpace", text + "; widen the ranges")])
        if count < grid.raw_total:
            grid = Grid(strategy.name, values, kept,
                        suffix_size=grid.raw_total // repeats)
    return grid
