"""Query functions for datasets. Bundled datasets have no owner and are visible to everyone."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import bindparam, or_
from sqlmodel import Session, col, func, select

from optimizer_app.persistence.models import Dataset


def _visible_to(owner_id: Any) -> Any:
    return or_(col(Dataset.owner_id).is_(None), col(Dataset.owner_id) == owner_id)


def list_visible_datasets(
    *, session: Session, owner_id: uuid.UUID, limit: int, offset: int
) -> tuple[list[Dataset], int]:
    """Bundled datasets first, then the owner's uploads, newest first."""
    where = _visible_to(owner_id)
    count = session.exec(select(func.count()).select_from(Dataset).where(where)).one()
    rows = session.exec(
        select(Dataset)
        .where(where)
        .order_by(col(Dataset.owner_id).is_not(None), col(Dataset.created_at).desc(),
                  col(Dataset.id))
        .offset(offset)
        .limit(limit)
    ).all()
    return list(rows), int(count)


# Read by every submit; built once (building a select took about as long as running it).
_VISIBLE_DATASET = select(Dataset).where(
    col(Dataset.id) == bindparam("dataset_id"), _visible_to(bindparam("owner_id"))
)
_OWNED_PATHS = select(Dataset.storage_path).where(col(Dataset.owner_id) == bindparam("owner_id"))


def get_visible_dataset(
    *, session: Session, dataset_id: uuid.UUID, owner_id: uuid.UUID
) -> Dataset | None:
    return session.exec(
        _VISIBLE_DATASET, params={"dataset_id": dataset_id, "owner_id": owner_id}
    ).first()


def get_bundled_dataset(*, session: Session, checksum: str, name: str) -> Dataset | None:
    return session.exec(
        select(Dataset).where(
            col(Dataset.owner_id).is_(None), Dataset.checksum == checksum, Dataset.name == name
        )
    ).first()


def create_dataset(*, session: Session, **fields: Any) -> Dataset:
    dataset = Dataset(**fields)
    session.add(dataset)
    session.flush()
    return dataset


def owned_dataset_paths(*, session: Session, owner_id: uuid.UUID) -> list[str]:
    """Storage paths of the datasets a user uploaded (bundled ones belong to nobody)."""
    return list(session.exec(_OWNED_PATHS, params={"owner_id": owner_id}).all())


def rename_dataset(
    *, session: Session, dataset_id: uuid.UUID, owner_id: uuid.UUID, name: str, symbol: str
) -> Dataset | None:
    """Set the name and symbol of one of the owner's uploaded datasets (bundled datasets and
    other users' are not found)."""
    dataset = session.exec(
        select(Dataset).where(Dataset.id == dataset_id, Dataset.owner_id == owner_id)
    ).first()
    if dataset is None:
        return None
    dataset.name, dataset.symbol = name, symbol
    session.add(dataset)
    session.flush()
    return dataset
