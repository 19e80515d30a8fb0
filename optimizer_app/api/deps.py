"""FastAPI dependencies as Annotated aliases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from optimizer_app.core.errors import UnauthorizedError
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


SessionDep = Annotated[Session, Depends(get_session)]
ReadSessionDep = Annotated[Session, Depends(get_read_session)]

_bearer = HTTPBearer(auto_error=False, description="Access token from POST /api/v1/auth/token")


def current_user(
    session: ReadSessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise UnauthorizedError("missing bearer token; sign in at POST /api/v1/auth/token")
    user = auth.user_from_token(session=session, token=credentials.credentials)
    user_id_var.set(str(user.id))
    return user


CurrentUser = Annotated[User, Depends(current_user)]
