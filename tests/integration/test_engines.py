"""One engine per kind for the whole process, however get_engine is called: a new engine is a
new connection pool and an empty statement cache."""

from __future__ import annotations

from optimizer_app.persistence.db import get_engine


def test_every_way_of_asking_gives_the_same_engines(migrated_db: str) -> None:
    writer, reader = get_engine(), get_engine(True)
    for _ in range(3):  # in turn, as the orchestrator asks while it writes chunks
        assert get_engine() is writer
        assert get_engine(False) is writer
        assert get_engine(readonly=False) is writer
        assert get_engine(True) is reader
        assert get_engine(readonly=True) is reader
    assert reader is not writer  # SQLite: a deferred-BEGIN engine for reads
