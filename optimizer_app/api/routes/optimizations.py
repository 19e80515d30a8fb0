"""Optimization jobs: submit (and re-run), history, detail, status, tasks, cancel, delete,
export."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response, StreamingResponse

from optimizer_app.api import lanes
from optimizer_app.api.deps import (
    MAX_OFFSET,
    BearerToken,
    CurrentUser,
    JobIdPath,
    ReadSessionDep,
    SessionDep,
    token_owner,
    user_for_token,
)
from optimizer_app.core.errors import NotFoundError
from optimizer_app.persistence.db import session_scope
from optimizer_app.persistence.models import JobStatus
from optimizer_app.services import combinations, export, heatmap, history, optimizations
from optimizer_app.services.history import SortOrder, TaskSort, TaskStatusFilter
from optimizer_app.services.schemas import (
    CombinationPublic,
    EquityPublic,
    HeatmapPublic,
    JobCreate,
    JobPublic,
    JobsPublic,
    OptimizationStatusResponse,
    TasksPublic,
    TradesPublic,
)

router = APIRouter(prefix="/optimizations", tags=["optimizations"])

Limit = Annotated[int, Query(ge=1, le=100, description="Page size (1-100)")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip")]


@router.post("", status_code=201, response_model=JobPublic)
async def submit(token: BearerToken, body: JobCreate) -> Response:
    """Validate, expand and queue a job. With `sourceJobId` it is a re-run of that job
    (a single combination is a paramSpace of single values); `{"sourceJobId": …, "rerun":
    "failed"}` re-runs exactly the source's failed combinations (409 while the source is
    live or when nothing failed)."""
    return await lanes.run_in(lanes.SUBMIT, submit_in_lane, token, body)


def submit_in_lane(token: str, body: JobCreate) -> Response:
    """The submit itself, in the submit lane (also for ``api.submit_route``): the job,
    serialized here (FastAPI would validate the returned model again and encode it twice, on
    the event loop: ~0.5 ms of a submit's ~6 ms)."""
    job = optimizations.submit(owner_id=token_owner(token), body=body, check_account=True)
    return Response(job.model_dump_json(by_alias=True), status_code=201,
                    media_type="application/json")


@router.get("", response_model=JobsPublic)
def list_jobs(
    user: CurrentUser,
    session: ReadSessionDep,
    limit: Limit = 20,
    offset: Offset = 0,
    status: Annotated[JobStatus | None, Query(description="Only jobs in this status")] = None,
) -> JobsPublic:
    """The caller's jobs, newest first, with progress, best score and lineage."""
    return history.list_jobs(session=session, owner_id=user.id, limit=limit, offset=offset,
                             status=status.value if status else None)


@router.get("/{id}", response_model=JobPublic)
def get_job(user: CurrentUser, job_id: JobIdPath, session: ReadSessionDep) -> JobPublic:
    return history.get_job(session=session, owner_id=user.id, job_id=job_id)


@router.get("/{id}/status", response_model=OptimizationStatusResponse)
async def get_status(token: BearerToken, job_id: JobIdPath) -> OptimizationStatusResponse:
    """Polled every second by every open page: one statement on the read-only engine, in
    one worker-thread hop (each hop is a wake-up to wait for on a busy machine), in the
    polling lane."""
    return await lanes.run_in(lanes.POLL, read_status, token, job_id)


def read_status(token: str, job_id: uuid.UUID) -> OptimizationStatusResponse:
    """One statement when the job is found (no session, no transaction): the token names its
    owner (a job's owner is a user that exists, by foreign key), so the account is looked up
    only when it is not (401 when the account is gone, else 404)."""
    owner_id = token_owner(token)
    found = optimizations.find_status(owner_id=owner_id, job_id=job_id)
    if found is None:
        with session_scope(readonly=True) as session:
            user_for_token(session=session, token=token)
        raise NotFoundError(f"job {job_id} not found")
    return found


@router.get("/{id}/tasks", response_model=TasksPublic)
def list_tasks(
    user: CurrentUser,
    job_id: JobIdPath,
    session: ReadSessionDep,
    limit: Limit = 20,
    offset: Offset = 0,
    sort: Annotated[TaskSort, Query(description="score (best first) or index")] = "score",
    order: Annotated[SortOrder | None, Query(description="default: best first")] = None,
    status: Annotated[TaskStatusFilter | None,
                      Query(description="only combinations with this status")] = None,
) -> TasksPublic:
    """A job's tasks; `?status=failed` lists its failed combinations with `error` and
    `errorCategory`."""
    return history.list_tasks(session=session, owner_id=user.id, job_id=job_id, limit=limit,
                              offset=offset, sort=sort, order=order, status=status)


AxisParam = Annotated[str | None, Query(max_length=100, description="A parameter name")]


@router.get("/{id}/heatmap", response_model=HeatmapPublic)
def get_heatmap(user: CurrentUser, job_id: JobIdPath, session: ReadSessionDep,
                x: AxisParam = None, y: AxisParam = None,
                max_values: Annotated[int | None, Query(
                    alias="maxValues", ge=2, le=100_000,
                    description="At most this many columns (rows) per axis: consecutive "
                                "values are grouped (xStep/yStep values per cell)")] = None,
                ) -> Response:
    """The best score at each pair of values of parameters `x` and `y` (default: the first
    two that vary) over every finished combination passing the result constraints, with
    the combination holding it. With one varying parameter `y` is null: one cell per value.
    (Tens of thousands of cells: the body is encoded directly, not through a model per
    cell.)"""
    found = heatmap.get_heatmap(session=session, owner_id=user.id, job_id=job_id, x=x, y=y,
                                max_values=max_values)
    return Response(found.json(), media_type="application/json")


@router.delete("/{id}", status_code=204, response_class=Response)
def delete_job(user: CurrentUser, job_id: JobIdPath) -> Response:
    """Delete the job with its tasks, results and artifacts (a live job is canceled first).
    Re-runs of it keep `sourceJobId`; their `sourceJobName` becomes null."""
    optimizations.delete_job(owner_id=user.id, job_id=job_id)
    return Response(status_code=204)


Format = Annotated[Literal["json", "csv"], Query(description="json (default) or csv")]
IndexPath = Annotated[str, Path(description="Combination index in the job's grid (0-based)")]


def _csv(data: bytes, filename: str) -> Response:
    return Response(data, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/{id}/combinations/{index}", response_model=CombinationPublic)
def get_combination(user: CurrentUser, job_id: JobIdPath, index: IndexPath,
                    session: ReadSessionDep) -> CombinationPublic:
    """Any combination of the job's grid: parameters, status, score, every metric, whether it
    passes the result constraints and its Top-N rank. One not run (or not stored) is
    backtested on demand."""
    return combinations.get_combination(session=session, owner_id=user.id, job_id=job_id,
                                        index=combinations.parse_index(index))


@router.get("/{id}/combinations/{index}/equity", response_model=EquityPublic)
def get_combination_equity(user: CurrentUser, job_id: JobIdPath, index: IndexPath,
                           session: ReadSessionDep, format: Format = "json") -> Any:
    """`{dates, equity, benchmark, drawdown}`: the equity curve against buy-and-hold of the
    same bars and cash, and the drawdown below the running peak (a fraction)."""
    number = combinations.parse_index(index)
    equity = combinations.get_equity(session=session, owner_id=user.id, job_id=job_id,
                                     index=number)
    if format == "csv":
        return _csv(combinations.equity_csv(equity), f"combination-{number}-equity.csv")
    return equity


@router.get("/{id}/combinations/{index}/trades", response_model=TradesPublic)
def get_combination_trades(user: CurrentUser, job_id: JobIdPath, index: IndexPath,
                           session: ReadSessionDep, format: Format = "json",
                           limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
                           offset: Offset = 0) -> Any:
    """`{data, count}` of trades `{entryDate, exitDate, direction, size, entryPrice,
    exitPrice, pnl, returnPct, bars}`, paginated with limit/offset (csv: every trade)."""
    number = combinations.parse_index(index)
    if format == "csv":
        trades = combinations.get_trades(session=session, owner_id=user.id, job_id=job_id,
                                         index=number)
        return _csv(combinations.trades_csv(trades), f"combination-{number}-trades.csv")
    return combinations.get_trades(session=session, owner_id=user.id, job_id=job_id,
                                   index=number, limit=limit, offset=offset)


@router.post("/{id}/cancel", response_model=OptimizationStatusResponse)
def cancel(user: CurrentUser, job_id: JobIdPath, session: SessionDep
           ) -> OptimizationStatusResponse:
    """Ask a live job to stop; 409 when it already reached a terminal status."""
    return optimizations.cancel_job(session=session, owner_id=user.id, job_id=job_id)


@router.get(
    "/{id}/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/zip": {}},
                     "description": "manifest.json, topn.json, topn.csv, artifacts/<taskId>/"}},
)
def export_bundle(user: CurrentUser, job_id: JobIdPath, session: ReadSessionDep
                  ) -> StreamingResponse:
    """The Top-N bundle as a zip, streamed. Checked completely before the first byte."""
    bundle = export.build_export(session=session, owner_id=user.id, job_id=job_id)
    return StreamingResponse(
        bundle.stream(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{bundle.filename}"'},
    )
