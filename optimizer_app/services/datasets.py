"""Datasets: list (bundled + own), upload with validation, fetch, and the stored CSV."""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
from sqlmodel import Session

from optimizer_app.core.config import settings
from optimizer_app.core.errors import (
    InternalError,
    NotFoundError,
    PayloadTooLargeError,
    ValidationError,
)
from optimizer_app.core.logging import logger
from optimizer_app.domain.datasets import Bars, DatasetError, bars_to_csv, checksum, parse_csv
from optimizer_app.persistence import datasets as queries
from optimizer_app.persistence.models import Dataset
from optimizer_app.services.schemas import DatasetPublic, DatasetsPublic

MAX_NAME = 200
MAX_SYMBOL = 50
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class DatasetFile:
    """The canonical CSV of a dataset on disk, with the file name offered for download."""

    path: Path
    filename: str


def to_public(dataset: Dataset) -> DatasetPublic:
    public = DatasetPublic.model_validate(dataset)
    public.bundled = dataset.owner_id is None
    return public


def list_datasets(
    *, session: Session, owner_id: uuid.UUID, limit: int = 100, offset: int = 0
) -> DatasetsPublic:
    rows, count = queries.list_visible_datasets(
        session=session, owner_id=owner_id, limit=limit, offset=offset
    )
    return DatasetsPublic(data=[to_public(d) for d in rows], count=count)


def get_dataset_row(*, session: Session, owner_id: uuid.UUID, dataset_id: uuid.UUID) -> Dataset:
    dataset = queries.get_visible_dataset(session=session, dataset_id=dataset_id, owner_id=owner_id)
    if dataset is None:
        raise NotFoundError(f"dataset {dataset_id} not found")
    return dataset


def get_dataset(*, session: Session, owner_id: uuid.UUID, dataset_id: uuid.UUID) -> DatasetPublic:
    return to_public(get_dataset_row(session=session, owner_id=owner_id, dataset_id=dataset_id))


def store_canonical_csv(bars: Bars) -> tuple[str, Path]:
    """Write the canonical CSV once under its checksum; return (checksum, path)."""
    digest = checksum(bars)
    path = settings.upload_dir / f"{digest}.csv"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{uuid.uuid4().hex}.tmp")
        tmp.write_bytes(bars_to_csv(bars))
        os.replace(tmp, path)
    return digest, path


def _label(value: str | None, fallback: str, limit: int, field: str) -> str:
    text = (value or "").strip() or fallback
    if len(text) > limit:
        raise ValidationError(
            f"{field}: use at most {limit} characters",
            details=[{"field": field, "problem": f"use at most {limit} characters"}],
        )
    return text


def rename_dataset(
    *, session: Session, owner_id: uuid.UUID, dataset_id: uuid.UUID, name: str, symbol: str
) -> DatasetPublic:
    """Name an uploaded dataset and its symbol (as asked after the upload); 404 for a dataset
    that is not the owner's upload."""
    problems = [{"field": key, "problem": f"enter a {key}"}
                for key, value in (("name", name), ("symbol", symbol)) if not value.strip()]
    if problems:
        raise ValidationError(f"{problems[0]['field']}: {problems[0]['problem']}",
                              details=problems)
    name = _label(name, "", MAX_NAME, "name")
    symbol = _label(symbol, "", MAX_SYMBOL, "symbol")
    dataset = queries.rename_dataset(session=session, dataset_id=dataset_id,
                                     owner_id=owner_id, name=name, symbol=symbol)
    if dataset is None:
        raise NotFoundError(f"dataset {dataset_id} not found among your uploads")
    return to_public(dataset)


def _parse_upload(data: bytes) -> Bars:
    limit = settings.upload_max_bytes
    if len(data) > limit:
        raise PayloadTooLargeError(
            f"the file is {len(data):,} bytes; the limit is {limit:,} bytes",
            details=[{"field": "file", "problem": f"larger than {limit} bytes"}],
        )
    try:
        return parse_csv(data, max_bytes=limit)
    except DatasetError as exc:
        raise ValidationError(exc.message, details=exc.details) from exc


def upload_dataset(
    *,
    session: Session,
    owner_id: uuid.UUID,
    data: bytes,
    filename: str | None = None,
    name: str | None = None,
    symbol: str | None = None,
) -> DatasetPublic:
    """Validate an uploaded CSV, store its canonical form and register it for the owner."""
    bars = _parse_upload(data)
    stem = Path(filename or "").stem.strip() or "upload"
    name = _label(name, stem, MAX_NAME, "name")
    symbol = _label(symbol, stem.upper(), MAX_SYMBOL, "symbol")
    digest, path = store_canonical_csv(bars)
    dataset = queries.create_dataset(
        session=session,
        owner_id=owner_id,
        name=name,
        symbol=symbol,
        timeframe="1d",
        rows=len(bars),
        first_date=_as_date(bars.dates[0]),
        last_date=_as_date(bars.dates[-1]),
        checksum=digest,
        storage_path=str(path),
        source="upload",
    )
    logger.bind(dataset_id=str(dataset.id), rows=len(bars)).info("dataset uploaded")
    return to_public(dataset)


def _as_date(value: np.datetime64) -> date:
    return value.astype("datetime64[D]").item()


def dataset_file(*, session: Session, owner_id: uuid.UUID, dataset_id: uuid.UUID) -> DatasetFile:
    dataset = get_dataset_row(session=session, owner_id=owner_id, dataset_id=dataset_id)
    path = Path(dataset.storage_path)
    if not path.is_file():
        logger.bind(dataset_id=str(dataset.id)).error("dataset file missing", path=str(path))
        raise InternalError("the dataset's stored file is missing", code="dataset_file_missing")
    safe = _UNSAFE_FILENAME.sub("_", dataset.symbol).strip("._") or "dataset"
    return DatasetFile(path=path, filename=f"{safe}.csv")


def dataset_csv_bytes(*, session: Session, owner_id: uuid.UUID, dataset_id: uuid.UUID) -> bytes:
    return dataset_file(session=session, owner_id=owner_id, dataset_id=dataset_id).path.read_bytes()
