"""The service calls the pages make, each in its own database session. They block: states run
them with ``await asyncio.to_thread(...)`` so the event loop keeps serving other tabs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from optimizer_app.core.errors import NotFoundError
from optimizer_app.persistence.db import session_scope
from optimizer_app.services import combinations as combination_service
from optimizer_app.services import datasets as dataset_service
from optimizer_app.services import export as export_service
from optimizer_app.services import heatmap as heatmap_service
from optimizer_app.services import history as history_service
from optimizer_app.services import optimizations as optimization_service
from optimizer_app.services import queue as queue_service
from optimizer_app.services import strategies as strategy_service
from optimizer_app.services import usage as usage_service
from optimizer_app.services.queue import Budget
from optimizer_app.services.schemas import (
    CombinationPublic,
    DatasetPublic,
    EquityPublic,
    JobCreate,
    JobPublic,
    JobsPublic,
    OptimizationStatusResponse,
    StrategiesPublic,
    TasksPublic,
    TradesPublic,
)
from optimizer_app.services.usage_schemas import QuotasUpdate, UsersUsagePublic, UserUsagePublic

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
    """The job's status, read as the API's polls read it (one statement; a queued job's place
    in the queue too): every open detail page asks once a second."""
    found = optimization_service.find_status(owner_id=owner_id, job_id=job_id)
    if found is None:
        raise NotFoundError(f"job {job_id} not found")
    return found


def best_tasks(owner_id: uuid.UUID, job_id: uuid.UUID, limit: int) -> TasksPublic:
    with session_scope(readonly=True) as session:
        return history_service.list_tasks(
            session=session, owner_id=owner_id, job_id=job_id, limit=limit, sort="score"
        )


def failed_tasks(owner_id: uuid.UUID, job_id: uuid.UUID, limit: int) -> TasksPublic:
    """The job's first failed combinations (in index order) and how many failed."""
    with session_scope(readonly=True) as session:
        return history_service.list_tasks(
            session=session, owner_id=owner_id, job_id=job_id, limit=limit, sort="index",
            status="failed",
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


def history_progress(owner_id: uuid.UUID, job_ids: list[uuid.UUID]
                     ) -> tuple[int | None, dict[uuid.UUID, history_service.LiveProgress]]:
    return history_service.live_progress(owner_id=owner_id, job_ids=job_ids)


# -- usage and quotas ---------------------------------------------------------------------------


def usage(owner_id: uuid.UUID) -> UserUsagePublic:
    with session_scope(readonly=True) as session:
        return usage_service.overview(session=session, user_id=owner_id)


def all_usage(admin_id: uuid.UUID) -> UsersUsagePublic:
    with session_scope(readonly=True) as session:
        return usage_service.all_usage(session=session, admin=usage_service.user(
            session=session, user_id=admin_id), limit=500)


def set_quotas(admin_id: uuid.UUID, user_id: uuid.UUID, body: QuotasUpdate) -> UserUsagePublic:
    with session_scope() as session:
        return usage_service.set_quotas(session=session, admin=usage_service.user(
            session=session, user_id=admin_id), user_id=user_id, body=body)


def budget(owner_id: uuid.UUID, strategy_names: list[str]) -> Budget:
    with session_scope(readonly=True) as session:
        return queue_service.budget(session=session, owner_id=owner_id,
                                    strategy_names=strategy_names)


def running_share(owner_id: uuid.UUID) -> float:
    """The share of the workers a running job of this owner gets (ask only for a job whose
    status, just read, is running)."""
    with session_scope(readonly=True) as session:
        return queue_service.running_share(session=session, owner_id=owner_id)


def validation(owner_id: uuid.UUID, job_id: uuid.UUID) -> dict[str, Any] | None:
    """The job's validation answer, or None when it has none."""
    from optimizer_app.services import validation as validation_service

    with session_scope(readonly=True) as session:
        return validation_service.find_validation(session=session, owner_id=owner_id,
                                                  job_id=job_id)


def stability(owner_id: uuid.UUID, job_id: uuid.UUID) -> dict[str, Any]:
    from optimizer_app.services import stability as stability_service

    with session_scope(readonly=True) as session:
        return stability_service.get_stability(session=session, owner_id=owner_id,
                                               job_id=job_id)


def combination(owner_id: uuid.UUID, job_id: uuid.UUID, index: int) -> CombinationPublic:
    with session_scope(readonly=True) as session:
        return combination_service.get_combination(
            session=session, owner_id=owner_id, job_id=job_id, index=index
        )


def combination_equity(owner_id: uuid.UUID, job_id: uuid.UUID, index: int) -> EquityPublic:
    with session_scope(readonly=True) as session:
        return combination_service.get_equity(
            session=session, owner_id=owner_id, job_id=job_id, index=index
        )


def combination_trades(
    owner_id: uuid.UUID, job_id: uuid.UUID, index: int, *, limit: int | None, offset: int = 0
) -> TradesPublic:
    with session_scope(readonly=True) as session:
        return combination_service.get_trades(
            session=session, owner_id=owner_id, job_id=job_id, index=index, limit=limit,
            offset=offset,
        )


def combination_csv(owner_id: uuid.UUID, job_id: uuid.UUID, index: int, what: str) -> ExportFile:
    """The equity curve or the trade list of a combination as the REST API's CSV."""
    if what == "equity":
        data = combination_service.equity_csv(combination_equity(owner_id, job_id, index))
    else:
        data = combination_service.trades_csv(
            combination_trades(owner_id, job_id, index, limit=None)
        )
    return ExportFile(filename=f"combination-{index}-{what}.csv", data=data)
