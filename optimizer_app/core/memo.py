"""Values derived from a shared object, kept while the same object comes back.

A running job's heatmap cells are read once and shared by every page that shows the job (see
``persistence.tasks``); what each layer derives from them (the cells per pair, the service's
``Heatmap``, the page's chart text) is then the same for every page until the next read.
``SameSource`` keeps it per key, together with the object it was derived from, and computes
it again only when a caller brings another object: identity, not equality, so checking
costs nothing however large the object is, and a new read is never mistaken for the last."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class SameSource(Generic[V]):
    """At most ``size`` keys, least recently used dropped first. Thread-safe; two threads
    missing at once both compute (the derivations are pure), and the last one is kept."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._kept: OrderedDict[Hashable, tuple[object, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, source: object, derive: Callable[[], V]) -> V:
        """``derive()``'s value for ``key``, computed again only if ``source`` is not the
        object the kept value was derived from."""
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and kept[0] is source:
                self._kept.move_to_end(key)
                return kept[1]
        value = derive()
        with self._lock:
            self._kept[key] = (source, value)
            self._kept.move_to_end(key)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
