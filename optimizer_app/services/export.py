"""Export a job's Top-N as a zip bundle: manifest, Top-N as JSON and CSV, each row's
stored artifacts, and ``failures.csv`` (every failed combination) when some failed. Nothing is recomputed: metrics come from the ResultSummary rows written for
every task that entered the Top-N, and artifacts from the artifact store. Everything is read and checked before the first byte is streamed,
so a missing artifact becomes an error response, never a truncated zip."""

from __future__ import annotations

import csv
import io
import json
import math
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from optimizer_app import __version__
from optimizer_app.core.config import settings
from optimizer_app.core.errors import AppError, ConflictError, InternalError, NotFoundError
from optimizer_app.core.logging import logger
from optimizer_app.core.metrics import EXPORT_FAILURES, EXPORT_SECONDS
from optimizer_app.domain.stats import METRIC_KEYS
from optimizer_app.orchestration.artifacts import ArtifactMissingError, get_artifact_store
from optimizer_app.persistence import jobs
from optimizer_app.persistence.models import (
    Dataset,
    OptimizationJob,
    OptimizationTask,
    ResultSummary,
)
from optimizer_app.services.schemas import as_utc

EXPORT_ARTIFACTS = ("equity.csv", "trades.csv")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MAX_PROBLEMS = 20


@dataclass(frozen=True)
class ExportRow:
    rank: int
    task_id: uuid.UUID
    score: float | None
    params: dict[str, Any]
    metrics: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"rank": self.rank, "taskId": str(self.task_id), "score": self.score,
                "params": self.params, "metrics": self.metrics}


@dataclass
class ExportBundle:
    """A validated export: every member's bytes are in hand; ``stream()`` yields the zip."""

    job_id: uuid.UUID
    filename: str
    members: list[tuple[str, bytes]]
    started: float = field(default_factory=time.perf_counter)

    def stream(self) -> Iterator[bytes]:
        try:
            yield from _zip_stream(self.members)
        except Exception as exc:  # the client gets a cut stream; make it visible in ops
            _record_failure(self.job_id, "stream_error", str(exc))
            raise
        EXPORT_SECONDS.observe(time.perf_counter() - self.started)
        logger.bind(job_id=str(self.job_id)).info("export streamed", members=len(self.members))


# --- cells, JSON ------------------------------------------------------------------------------


def json_safe(value: Any) -> Any:
    """Non-finite floats (NaN, inf) have no JSON form: they become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def csv_cell(value: Any) -> str:
    """One CSV cell. Text starting with = + - @ (or a tab/CR) is prefixed with ' so a
    spreadsheet shows it instead of evaluating it; numbers, negative ones included, stay numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def topn_csv(rows: list[ExportRow], param_names: list[str], metric_names: list[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([csv_cell(h) for h in ["rank", "taskId", "score", *param_names, *metric_names]])
    for row in rows:
        writer.writerow(
            [csv_cell(row.rank), csv_cell(str(row.task_id)), csv_cell(row.score)]
            + [csv_cell(row.params.get(name)) for name in param_names]
            + [csv_cell(row.metrics.get(name)) for name in metric_names]
        )
    return buffer.getvalue().encode("utf-8")


FAILURE_COLUMNS = ("category", "error", "attempts")


def failures_csv(tasks: list[OptimizationTask], param_names: list[str]) -> bytes:
    """One row per failed combination: its index, parameters (a column each), category,
    error and attempts."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([csv_cell(h) for h in ["index", *param_names, *FAILURE_COLUMNS]])
    for task in tasks:
        params = task.params or {}
        writer.writerow(
            [csv_cell(task.index)]
            + [csv_cell(params.get(name)) for name in param_names]
            + [csv_cell(task.error_category), csv_cell(task.error), csv_cell(task.attempts)]
        )
    return buffer.getvalue().encode("utf-8")


def _failed_tasks(session: Session, job: OptimizationJob) -> list[OptimizationTask]:
    if not int((job.summary or {}).get("failed") or 0):
        return []
    return list(session.exec(
        select(OptimizationTask)
        .where(OptimizationTask.job_id == job.id, OptimizationTask.status == "failed")
        .order_by(col(OptimizationTask.index))
    ).all())


def _ordered_keys(dicts: list[dict[str, Any]], preferred: list[str]) -> list[str]:
    seen = {k for d in dicts for k in d}
    first = [k for k in preferred if k in seen]
    return first + sorted(seen - set(first))


# --- zip stream -------------------------------------------------------------------------------


class _Sink(io.RawIOBase):
    """A write-only, unseekable file: zipfile writes data descriptors and we drain chunks."""

    def __init__(self) -> None:
        super().__init__()
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        out, self._chunks = b"".join(self._chunks), []
        return out


def _zip_stream(members: list[tuple[str, bytes]]) -> Iterator[bytes]:
    sink = _Sink()
    stamp = datetime.now(UTC).timetuple()[:6]
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, mode="w") as member:
                member.write(data)
            if chunk := sink.drain():
                yield chunk
    if chunk := sink.drain():
        yield chunk


# --- reading and validating -------------------------------------------------------------------


def _record_failure(job_id: uuid.UUID, cause: str, detail: str) -> None:
    EXPORT_FAILURES.labels(cause).inc()
    logger.bind(job_id=str(job_id), cause=cause).error("export failed", detail=detail)


def _summaries(session: Session, job_id: uuid.UUID, task_ids: list[uuid.UUID]
               ) -> dict[uuid.UUID, ResultSummary]:
    found: dict[uuid.UUID, ResultSummary] = {}
    size = settings.export_batch_size
    for start in range(0, len(task_ids), size):
        batch = task_ids[start:start + size]
        rows = session.exec(
            select(ResultSummary)
            .join(OptimizationTask, col(OptimizationTask.id) == col(ResultSummary.task_id))
            .where(OptimizationTask.job_id == job_id, col(ResultSummary.task_id).in_(batch))
        ).all()
        found.update({row.task_id: row for row in rows})
    return found


def _top_entries(job: OptimizationJob) -> list[dict[str, Any]]:
    entries = list((job.summary or {}).get("topN") or [])
    mode = (job.early_stop_policy or {}).get("mode", "max")
    scored = [e for e in entries if isinstance(e.get("score"), (int, float))]
    scored.sort(key=lambda e: e["score"], reverse=(mode != "min"))
    return scored


def _read_artifacts(
    task_id: uuid.UUID, summary: ResultSummary | None, problems: list[dict[str, Any]]
) -> list[tuple[str, bytes]]:
    if summary is None:
        problems.append({"taskId": str(task_id), "problem": "no stored result"})
        return []
    uris = {a.get("name"): a.get("uri") for a in summary.artifacts or []}
    store = get_artifact_store()
    members = []
    for name in EXPORT_ARTIFACTS:
        uri = uris.get(name)
        if not uri:
            problems.append({"taskId": str(task_id), "artifact": name, "problem": "not recorded"})
            continue
        try:
            members.append((f"artifacts/{task_id}/{name}", store.read(uri)))
        except ArtifactMissingError:
            problems.append({"taskId": str(task_id), "artifact": name, "problem": "missing"})
    return members


def _manifest(job: OptimizationJob, dataset: Dataset | None, rows: int) -> dict[str, Any]:
    summary = job.summary or {}
    return json_safe({
        "formatVersion": 1,
        "appVersion": __version__,
        "generatedAt": datetime.now(UTC).isoformat(),
        "job": {
            "id": str(job.id), "name": job.name, "strategy": job.strategy, "status": job.status,
            "stopReason": job.stop_reason,
            "sourceJobId": str(job.source_job_id) if job.source_job_id else None,
            "createdAt": _iso(job.created_at), "startedAt": _iso(job.started_at),
            "finishedAt": _iso(job.finished_at),
            "summary": {**{k: summary.get(k, 0)
                           for k in ("total", "finished", "failed", "constrained")},
                        "failures": summary.get("failures") or {}},
        },
        "paramSpace": job.param_space,
        "constraints": list(job.constraints or []),
        "earlyStopPolicy": job.early_stop_policy,
        "backtestOptions": job.backtest_options,
        "dataset": None if dataset is None else {
            "id": str(dataset.id), "name": dataset.name, "symbol": dataset.symbol,
            "checksum": dataset.checksum, "rows": dataset.rows,
        },
        "topNCount": rows,
        "validation": _validation_split(job),
    })


def _validation_split(job: OptimizationJob) -> dict[str, Any] | None:
    """The validation settings and the windows they made (once the results are stored)."""
    if not job.validation:
        return None
    result = job.validation_result or {}
    split: dict[str, Any] | None = None
    if "outOfSample" in result and "rows" in result:
        split = {"inSample": result.get("inSample"), "outOfSample": result.get("outOfSample")}
    elif "folds" in result and isinstance(result["folds"], list):
        split = {"folds": [{"fold": f.get("fold"), "train": f.get("train"), "test": f.get("test")}
                           for f in result["folds"]]}
    return {"settings": job.validation, "state": job.validation_state, "split": split}


def _validation_member(job: OptimizationJob) -> list[tuple[str, bytes]]:
    """``validation.json``: the out-of-sample results as ``GET …/validation`` serves them."""
    if not job.validation:
        return []
    body = {"status": job.validation_state, "settings": job.validation,
            **(job.validation_result or {})}
    return [("validation.json", _json_bytes(json_safe(body)))]


def _json_bytes(obj: Any) -> bytes:
    return json.dumps(obj, indent=2, allow_nan=False).encode()


def _iso(value: datetime | None) -> str | None:
    return as_utc(value).isoformat() if value else None  # type: ignore[union-attr]


def _build_members(session: Session, job: OptimizationJob) -> list[tuple[str, bytes]]:
    entries = _top_entries(job)
    task_ids = [uuid.UUID(str(e["taskId"])) for e in entries]
    summaries = _summaries(session, job.id, task_ids)
    problems: list[dict[str, Any]] = []
    rows: list[ExportRow] = []
    artifacts: list[tuple[str, bytes]] = []
    for rank, (entry, task_id) in enumerate(zip(entries, task_ids, strict=True), start=1):
        summary = summaries.get(task_id)
        metrics = summary.metrics if summary else entry.get("metrics") or {}
        rows.append(ExportRow(rank, task_id, json_safe(float(entry["score"])),
                              json_safe(dict(entry.get("params") or {})), json_safe(dict(metrics))))
        artifacts.extend(_read_artifacts(task_id, summary, problems))
    if problems:
        raise ConflictError(
            f"{len(problems)} artifact(s) of the Top-N cannot be read; the export was not started",
            details=problems[:MAX_PROBLEMS], code="artifact_missing",
        )
    param_names = _ordered_keys([r.params for r in rows], list(job.param_space or {}))
    metric_names = _ordered_keys([r.metrics for r in rows], list(METRIC_KEYS))
    dataset = session.get(Dataset, job.dataset_id)
    failed = _failed_tasks(session, job)
    extra = []
    if failed:
        names = _ordered_keys([t.params or {} for t in failed], list(job.param_space or {}))
        extra.append(("failures.csv", failures_csv(failed, names)))
    return [
        ("manifest.json", _json_bytes(_manifest(job, dataset, len(rows)))),
        ("topn.json", _json_bytes([r.as_json() for r in rows])),
        ("topn.csv", topn_csv(rows, param_names, metric_names)),
        *extra,
        *_validation_member(job),
        *artifacts,
    ]


def build_export(*, session: Session, owner_id: uuid.UUID, job_id: uuid.UUID) -> ExportBundle:
    """Read and check everything for the export of an owned job (running or terminal)."""
    started = time.perf_counter()
    job = jobs.get_owned_job(session=session, job_id=job_id, owner_id=owner_id)
    if job is None:
        raise NotFoundError(f"optimization {job_id} not found")
    try:
        members = _build_members(session, job)
    except AppError as exc:
        _record_failure(job.id, exc.code, exc.message)
        raise
    except Exception as exc:
        _record_failure(job.id, "unreadable", repr(exc))
        raise InternalError("the export could not be prepared; the failure was logged",
                            code="export_failed") from exc
    top = int((job.early_stop_policy or {}).get("topN") or 10)
    return ExportBundle(job_id=job.id, filename=f"optimization-{job.id}-top{top}.zip",
                        members=members, started=started)
