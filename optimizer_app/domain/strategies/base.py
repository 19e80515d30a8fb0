"""What a strategy declares, and the signal convention the engine consumes.

A strategy only turns prices and parameters into signals. For a block of
combinations it fills an ``int8`` matrix ``out[combination, bar]`` with

* ``+1`` — long signal at this bar's close (go long; in ``long_short``, leave a short too),
* ``-1`` — exit signal at this bar's close (leave a long; in ``long_short``, go short),
* ``0``  — nothing.

The engine fills every signal at the next bar's open. A signal in the direction
already held changes nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np

from optimizer_app.domain.datasets import Bars

SignalFiller = Callable[[int, int, np.ndarray], None]
"""``fill(start, stop, out)`` writes signals of combinations ``start..stop-1`` into
``out[: stop - start]`` (shape ``(stop - start, len(bars))``, dtype int8)."""


@dataclass(frozen=True)
class ParamSpec:
    name: str
    type: Literal["int", "float"]
    min: float
    max: float
    default: float
    label: str
    description: str


class Strategy(ABC):
    """Base class: declare the class attributes, ``prepare`` and (if any) ``allowed``."""

    name: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str]
    params: ClassVar[tuple[ParamSpec, ...]]
    constraint_text: ClassVar[str] = ""
    # The parameters ``allowed`` reads (all of them when empty).
    constraint_params: ClassVar[tuple[str, ...]] = ()

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def param(self, name: str) -> ParamSpec:
        for spec in self.params:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def defaults(self) -> dict[str, int | float]:
        return {
            p.name: (int(p.default) if p.type == "int" else float(p.default)) for p in self.params
        }

    def allowed(self, columns: dict[str, np.ndarray]) -> np.ndarray:
        """Vectorized constraint: which combinations (rows of ``columns``) are valid."""
        first = next(iter(columns.values()))
        return np.ones(len(first), dtype=bool)

    @abstractmethod
    def prepare(self, bars: Bars, params: dict[str, np.ndarray]) -> SignalFiller:
        """Compute the indicators these combinations need and return their signal filler."""
