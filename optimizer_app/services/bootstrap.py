"""Register the bundled datasets (owner NULL) and copy their canonical CSV into the upload folder.

Idempotent: safe to run on every start (``python -m optimizer_app.services.bootstrap``)."""

from __future__ import annotations

from sqlmodel import Session

from optimizer_app.core.logging import configure_logging, logger
from optimizer_app.domain.datasets import BUNDLED_DATASETS, BundledDataset, load_bundled, parse_csv
from optimizer_app.persistence import datasets as queries
from optimizer_app.persistence.db import ensure_incremental_vacuum, session_scope
from optimizer_app.persistence.models import Dataset
from optimizer_app.services.datasets import store_canonical_csv


def _ensure_one(session: Session, entry: BundledDataset) -> tuple[Dataset, bool]:
    data = load_bundled(entry.key)
    bars = parse_csv(data, max_bytes=len(data))
    digest, path = store_canonical_csv(bars)
    existing = queries.get_bundled_dataset(session=session, checksum=digest, name=entry.name)
    if existing is not None:
        if existing.storage_path != str(path):
            existing.storage_path = str(path)
            session.add(existing)
        return existing, False
    dataset = queries.create_dataset(
        session=session,
        owner_id=None,
        name=entry.name,
        symbol=entry.symbol,
        timeframe=entry.timeframe,
        rows=len(bars),
        first_date=bars.dates[0].astype("datetime64[D]").item(),
        last_date=bars.dates[-1].astype("datetime64[D]").item(),
        checksum=digest,
        storage_path=str(path),
        source=entry.source,
    )
    return dataset, True


def ensure_bundled_datasets(*, session: Session) -> list[Dataset]:
    """Every bundled dataset as a row (created when missing); its CSV present on disk."""
    rows = []
    for entry in BUNDLED_DATASETS:
        dataset, created = _ensure_one(session, entry)
        if created:
            logger.bind(dataset_id=str(dataset.id), key=entry.key).info("bundled dataset registered")
        rows.append(dataset)
    return rows


def main() -> None:
    configure_logging()
    if ensure_incremental_vacuum():
        logger.info("database converted to incremental vacuum (deleted jobs give space back)")
    with session_scope() as session:
        rows = ensure_bundled_datasets(session=session)
    logger.info("bundled datasets ready", count=len(rows))


if __name__ == "__main__":
    main()
