"""Datasets: list, upload (multipart CSV), fetch, download the stored CSV."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from optimizer_app.api.deps import (
    MAX_OFFSET,
    CurrentUser,
    DatasetIdPath,
    ReadSessionDep,
    SessionDep,
)
from optimizer_app.core.config import settings
from optimizer_app.core.errors import PayloadTooLargeError, ValidationError
from optimizer_app.services import datasets
from optimizer_app.services.schemas import DatasetPublic, DatasetsPublic

router = APIRouter(prefix="/datasets", tags=["datasets"])

MULTIPART_OVERHEAD = 64 * 1024
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "string", "format": "binary",
                                 "description": "CSV: date, open, high, low, close, volume"},
                        "name": {"type": "string", "maxLength": datasets.MAX_NAME},
                        "symbol": {"type": "string", "maxLength": datasets.MAX_SYMBOL},
                    },
                    "required": ["file"],
                }
            }
        },
    }
}


@router.get("", response_model=DatasetsPublic)
def list_datasets(
    user: CurrentUser,
    session: ReadSessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> DatasetsPublic:
    """Bundled datasets first, then the caller's uploads."""
    return datasets.list_datasets(session=session, owner_id=user.id, limit=limit, offset=offset)


async def _read_upload(request: Request) -> tuple[bytes, str | None, str | None, str | None]:
    limit = settings.upload_max_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + MULTIPART_OVERHEAD:
        raise PayloadTooLargeError(f"the upload is larger than the limit of {limit:,} bytes")
    form = await request.form(max_files=1, max_fields=10)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationError(
                "attach the CSV as the multipart form field 'file'",
                details=[{"field": "file", "problem": "missing"}],
            )
        data = await upload.read(limit + 1)
        name, symbol = form.get("name"), form.get("symbol")
        return (data, upload.filename, name if isinstance(name, str) else None,
                symbol if isinstance(symbol, str) else None)
    finally:
        await form.close()


@router.post("", status_code=201, response_model=DatasetPublic, openapi_extra=UPLOAD_BODY)
async def upload_dataset(request: Request, user: CurrentUser, session: SessionDep) -> DatasetPublic:
    """Multipart upload: field `file` (CSV), optional `name` and `symbol`."""
    data, filename, name, symbol = await _read_upload(request)
    return await run_in_threadpool(
        lambda: datasets.upload_dataset(session=session, owner_id=user.id, data=data,
                                        filename=filename, name=name, symbol=symbol)
    )


@router.get("/{id}", response_model=DatasetPublic)
def get_dataset(user: CurrentUser, dataset_id: DatasetIdPath, session: ReadSessionDep
                ) -> DatasetPublic:
    return datasets.get_dataset(session=session, owner_id=user.id, dataset_id=dataset_id)


@router.get("/{id}/csv", response_class=FileResponse,
            responses={200: {"content": {"text/csv": {}}}})
def download_csv(user: CurrentUser, dataset_id: DatasetIdPath, session: ReadSessionDep
                 ) -> FileResponse:
    file = datasets.dataset_file(session=session, owner_id=user.id, dataset_id=dataset_id)
    return FileResponse(file.path, media_type="text/csv", filename=file.filename)
