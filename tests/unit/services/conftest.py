"""Service tests run against the migrated SQLite test database, one committed session each."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session

from optimizer_app.persistence.db import session_scope
from optimizer_app.persistence.models import Dataset, User
from tests.support.factories import bundled_dataset, make_user


@pytest.fixture
def db(migrated_db: str) -> Iterator[Session]:
    with session_scope() as session:
        yield session


@pytest.fixture
def user(db: Session) -> User:
    return make_user(db)


@pytest.fixture
def dataset(db: Session) -> Dataset:
    return bundled_dataset(db)
