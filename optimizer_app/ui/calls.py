"""The service calls the pages make, each in its own database session. They block: states run
them with ``await asyncio.to_thread(...)`` so the event loop keeps serving other tabs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from optimizer_app.persistence.db import session_scope
from optimizer_app.services import datasets as dataset_service
from optimizer_app.services import export as export_service
from optimizer_app.services import heatmap as heatmap_service
from optimizer_app.services import history as history_service
from optimizer_app.services import optimizations as optimization_service
from optimizer_app.services import strategies as strategy_service
from optimizer_app.services.schemas import (
    DatasetPublic,
    JobCreate,
    JobPublic,
    JobsPublic,
    OptimizationStatusResponse,
    StrategiesPublic,
    TasksPublic,
)

DATASET_PAGE = 100


@dataclass(frozen=True)
class ExportFile:
    filename: str
    data: bytes


def strategies() -> StrategiesPublic:
    return strategy_service.list_strategies()


def datasets(owner_id: uuid.UUID) -> list[DatasetPublic]:
    with session_scope(readonly=True) as session:
        return dataset_service.list_datasets(
            session=session, owner_id=owner_id, limit=DATASET_PAGE
        ).data


def upload_dataset(owner_id: uuid.UUID, data: bytes, filename: str | None) -> DatasetPublic:
    with session_scope() as session:
        return dataset_service.upload_dataset(
            session=session, owner_id=owner_id, data=data, filename=filename
        )


def rename_dataset(owner_id: uuid.UUID, dataset_id: uuid.UUID, name: str, symbol: str
                   ) -> DatasetPublic:
    with session_scope() as session:
        return dataset_service.rename_dataset(session=session, owner_id=owner_id,
                                              dataset_id=dataset_id, name=name, symbol=symbol)


def submit(owner_id: uuid.UUID, body: JobCreate) -> JobPublic:
    return optimization_service.submit(owner_id=owner_id, body=body)


def job(owner_id: uuid.UUID, job_id: uuid.UUID) -> JobPublic:
    with session_scope(readonly=True) as session:
        return history_service.get_job(session=session, owner_id=owner_id, job_id=job_id)


def jobs_named(owner_id: uuid.UUID, job_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Names of the owner's jobs among ``job_ids`` (the others are left out)."""
    names: dict[uuid.UUID, str] = {}
    with session_scope(readonly=True) as session:
        for job_id in job_ids:
            try:
                found = history_service.get_job(session=session, owner_id=owner_id, job_id=job_id)
            except Exception:  # noqa: BLE001 - a vanished re-run is simply not linked
                continue
            names[job_id] = found.name
    return names


def status(owner_id: uuid.UUID, job_id: uuid.UUID) -> OptimizationStatusResponse:
    with session_scope(readonly=True) as session:
        return optimization_service.get_status(session=session, owner_id=owner_id, job_id=job_id)


def best_tasks(owner_id: uuid.UUID, job_id: uuid.UUID, limit: int) -> TasksPublic:
    with session_scope(readonly=True) as session:
        return history_service.list_tasks(
            session=session, owner_id=owner_id, job_id=job_id, limit=limit, sort="score"
        )


def heatmap(owner_id: uuid.UUID, job_id: uuid.UUID, x: str | None, y: str | None,
            *, reuse_rows: bool = False, max_values: int | None = None
            ) -> heatmap_service.Heatmap:
    with session_scope(readonly=True) as session:
        return heatmap_service.get_heatmap(session=session, owner_id=owner_id, job_id=job_id,
                                           x=x, y=y, reuse_rows=reuse_rows,
                                           max_values=max_values)


def cancel(owner_id: uuid.UUID, job_id: uuid.UUID) -> OptimizationStatusResponse:
    with session_scope() as session:
        return optimization_service.cancel_job(session=session, owner_id=owner_id, job_id=job_id)


def delete(owner_id: uuid.UUID, job_id: uuid.UUID) -> None:
    optimization_service.delete_job(owner_id=owner_id, job_id=job_id)


def export_zip(owner_id: uuid.UUID, job_id: uuid.UUID) -> ExportFile:
    with session_scope(readonly=True) as session:
        bundle = export_service.build_export(session=session, owner_id=owner_id, job_id=job_id)
    return ExportFile(filename=bundle.filename, data=b"".join(bundle.stream()))


def history_page(owner_id: uuid.UUID, *, limit: int, offset: int) -> JobsPublic:
    with session_scope(readonly=True) as session:
        return history_service.list_jobs(
            session=session, owner_id=owner_id, limit=limit, offset=offset
        )
