"""FastAPI dependencies as Annotated aliases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from optimizer_app.core.errors import NotFoundError, UnauthorizedError
from optimizer_app.core.logging import user_id_var
from optimizer_app.persistence.db import session_scope
from optimizer_app.persistence.models import User
from optimizer_app.services import auth


def get_session() -> Iterator[Session]:
    with session_scope() as session:
        yield session


def get_read_session() -> Iterator[Session]:
    with session_scope(readonly=True) as session:
        yield session


# scope="function": the session commits (or rolls back) before the response is sent, so a
# client that got a 201 can rely on the row being there, and a failed commit is an error.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]

API_PREFIX = "/api/v1"
MISSING_TOKEN = f"missing bearer token; sign in at POST {API_PREFIX}/auth/token"
_bearer = HTTPBearer(auto_error=False, description="Access token from POST /api/v1/auth/token")


def current_user(
    session: ReadSessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise UnauthorizedError(MISSING_TOKEN)
    user = auth.user_from_token(session=session, token=credentials.credentials)
    user_id_var.set(str(user.id))
    return user


CurrentUser = Annotated[User, Depends(current_user)]


async def bearer_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """A bearer token whose signature and claims are valid (checked here, before anything
    else: 401 comes first). Its user is looked up later, inside the request's one
    worker-thread call (hot read paths doing all blocking work in a single hop)."""
    if credentials is None:
        raise UnauthorizedError(MISSING_TOKEN)
    return verified_bearer(credentials.scheme, credentials.credentials)


def token_owner(token: str) -> uuid.UUID:
    """The user id a verified token names (no database read; see :func:`user_for_token` for
    the account itself), also set as the request's user for the logs."""
    user_id = auth.token_user_id(token)
    user_id_var.set(str(user_id))
    return user_id


def verified_bearer(scheme: str, token: str) -> str:
    """``token`` when ``scheme`` is Bearer and the token's signature and claims are valid;
    UnauthorizedError (401) otherwise."""
    if scheme.lower() != "bearer" or not token:
        raise UnauthorizedError(MISSING_TOKEN)
    auth.token_user_id(token)
    return token


def user_for_token(*, session: Session, token: str) -> User:
    user = auth.user_from_token(session=session, token=token)
    user_id_var.set(str(user.id))
    return user


BearerToken = Annotated[str, Depends(bearer_token)]

MAX_OFFSET = 10_000_000  # pagination offsets beyond any real list (and within SQL integers)


def uuid_or_404(value: str, what: str) -> uuid.UUID:
    """Ids that do not parse name nothing that exists: 404, like an id of someone else's."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFoundError(f"{what} {value!r} not found") from None


# Path ids are parsed by async functions: pure CPU, so no hop through the thread pool.
async def job_id_path(
    id: Annotated[str, Path(description="Optimization job id (UUID)",
                            json_schema_extra={"format": "uuid"})],
) -> uuid.UUID:
    return uuid_or_404(id, "optimization")


async def dataset_id_path(
    id: Annotated[str, Path(description="Dataset id (UUID)", json_schema_extra={"format": "uuid"})],
) -> uuid.UUID:
    return uuid_or_404(id, "dataset")


JobIdPath = Annotated[uuid.UUID, Depends(job_id_path)]
DatasetIdPath = Annotated[uuid.UUID, Depends(dataset_id_path)]
