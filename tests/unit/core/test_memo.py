"""``SameSource``: a derived value is kept while the same object comes back, and derived
again for another object, even an equal one."""

from __future__ import annotations

import threading

from optimizer_app.core.memo import SameSource


def test_kept_while_the_same_object_comes_back_and_derived_again_for_another() -> None:
    memo: SameSource[int] = SameSource(4)
    derived: list[int] = []

    def derive(value: list[int]):  # type: ignore[no-untyped-def]
        def run() -> int:
            derived.append(1)
            return sum(value)
        return run

    source = [1, 2, 3]
    assert memo.get("a", source, derive(source)) == 6
    assert memo.get("a", source, derive(source)) == 6
    assert len(derived) == 1
    equal = [1, 2, 3]  # equal but not the same object: derived again
    assert memo.get("a", equal, derive(equal)) == 6 and len(derived) == 2
    assert memo.get("a", source, derive(source)) == 6 and len(derived) == 3
    assert memo.get("b", source, derive(source)) == 6 and len(derived) == 4  # per key
    memo.clear()
    assert memo.get("b", source, derive(source)) == 6 and len(derived) == 5


def test_least_recently_used_keys_go_first() -> None:
    memo: SameSource[str] = SameSource(2)
    source = object()
    calls: list[str] = []

    def get(key: str) -> str:
        def derive() -> str:
            calls.append(key)
            return key
        return memo.get(key, source, derive)

    get("a"), get("b"), get("a"), get("c")  # "b" is the least recently used: dropped
    assert calls == ["a", "b", "c"]
    get("a")
    assert calls == ["a", "b", "c"]
    get("b")
    assert calls == ["a", "b", "c", "b"]


def test_threads_asking_at_once_all_get_a_value() -> None:
    memo: SameSource[int] = SameSource(8)
    source = object()
    barrier = threading.Barrier(8)
    got: list[int] = []

    def ask(k: int) -> None:
        barrier.wait()
        got.append(memo.get(k % 2, source, lambda: k % 2))

    threads = [threading.Thread(target=ask, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(got) == [0] * 4 + [1] * 4
