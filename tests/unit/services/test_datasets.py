"""Dataset service: upload validation and storage, visibility, bootstrap idempotence."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import Session, col, func, select

from optimizer_app.core.config import settings
from optimizer_app.core.errors import NotFoundError, PayloadTooLargeError, ValidationError
from optimizer_app.domain.datasets import BUNDLED_DATASETS, load_bundled
from optimizer_app.persistence.models import Dataset, User
from optimizer_app.services import datasets
from optimizer_app.services.bootstrap import ensure_bundled_datasets
from tests.support.factories import make_user


def small_csv(rows: int = 60, *, bad_row: int | None = None) -> bytes:
    """Daily bars with increasing dates; ``bad_row`` gets a NaN close."""
    lines = ["Date,Open,High,Low,Close,Volume"]
    start = date(2020, 1, 1)
    for i in range(rows):
        price = 100 + i
        close = "nan" if i == bad_row else f"{price + 0.5}"
        day = start + timedelta(days=i)
        lines.append(f"{day.isoformat()},{price},{price + 1},{price - 1},{close},{1000 + i}")
    return ("\n".join(lines) + "\n").encode()


def test_upload_stores_canonical_csv_and_registers_it(db: Session, user: User) -> None:
    public = datasets.upload_dataset(session=db, owner_id=user.id, data=small_csv(),
                                     filename="spy prices.csv", symbol="SPY")
    assert public.rows == 60 and public.symbol == "SPY" and public.name == "spy prices"
    assert not public.bundled
    path = settings.upload_dir / f"{public.checksum}.csv"
    assert path.is_file()
    assert path.read_bytes().startswith(b"date,open,high,low,close,volume\n")
    file = datasets.dataset_file(session=db, owner_id=user.id, dataset_id=public.id)
    assert file.filename == "SPY.csv" and file.path == path


def test_bad_rows_are_a_validation_error_with_details(db: Session, user: User) -> None:
    with pytest.raises(ValidationError) as caught:
        datasets.upload_dataset(session=db, owner_id=user.id, data=small_csv(bad_row=7))
    assert caught.value.status == 422
    assert caught.value.details, "the first bad rows are listed"


def test_upload_over_the_cap_is_payload_too_large(db: Session, user: User,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "upload_max_bytes", 2048)
    with pytest.raises(PayloadTooLargeError):
        datasets.upload_dataset(session=db, owner_id=user.id, data=small_csv(200))


def test_download_name_is_sanitized(db: Session, user: User) -> None:
    public = datasets.upload_dataset(session=db, owner_id=user.id, data=small_csv(),
                                     symbol='../"evil"\r\nname')
    file = datasets.dataset_file(session=db, owner_id=user.id, dataset_id=public.id)
    assert file.filename == "evil_name.csv"


def test_own_uploads_are_private_bundled_are_shared(db: Session, user: User) -> None:
    ensure_bundled_datasets(session=db)
    mine = datasets.upload_dataset(session=db, owner_id=user.id, data=small_csv())
    other = make_user(db)
    with pytest.raises(NotFoundError):
        datasets.get_dataset(session=db, owner_id=other.id, dataset_id=mine.id)
    listed = datasets.list_datasets(session=db, owner_id=other.id)
    assert mine.id not in {d.id for d in listed.data}
    assert {d.bundled for d in listed.data} == {True}
    own_list = datasets.list_datasets(session=db, owner_id=user.id).data
    assert own_list[0].bundled and mine.id in {d.id for d in own_list}


def test_bootstrap_is_idempotent(db: Session) -> None:
    first = ensure_bundled_datasets(session=db)
    second = ensure_bundled_datasets(session=db)
    assert [d.id for d in first] == [d.id for d in second]
    assert len(first) == len(BUNDLED_DATASETS)
    bundled = db.exec(
        select(func.count()).select_from(Dataset).where(col(Dataset.owner_id).is_(None))
    ).one()
    assert bundled == len(BUNDLED_DATASETS)
    for entry, row in zip(BUNDLED_DATASETS, first, strict=True):
        assert row.rows >= 2000 and row.symbol == entry.symbol
        assert (settings.upload_dir / f"{row.checksum}.csv").read_bytes() == load_bundled(entry.key)


def test_an_upload_is_named_from_its_file_then_as_the_user_says(db: Session, user: User) -> None:
    public = datasets.upload_dataset(session=db, owner_id=user.id, data=small_csv(),
                                     filename="acme_daily.csv")
    assert (public.name, public.symbol) == ("acme_daily", "ACME_DAILY")
    renamed = datasets.rename_dataset(session=db, owner_id=user.id, dataset_id=public.id,
                                      name=" Acme Corp daily ", symbol="ACME")
    assert (renamed.name, renamed.symbol) == ("Acme Corp daily", "ACME")
    with pytest.raises(ValidationError) as empty:
        datasets.rename_dataset(session=db, owner_id=user.id, dataset_id=public.id,
                                name="x", symbol="  ")
    assert empty.value.details == [{"field": "symbol", "problem": "enter a symbol"}]
    other = make_user(db)
    with pytest.raises(NotFoundError):
        datasets.rename_dataset(session=db, owner_id=other.id, dataset_id=public.id,
                                name="mine", symbol="MINE")
    bundled = ensure_bundled_datasets(session=db)[0]
    with pytest.raises(NotFoundError):
        datasets.rename_dataset(session=db, owner_id=user.id, dataset_id=bundled.id,
                                name="mine", symbol="MINE")
