"""Query functions for users."""

from __future__ import annotations

import uuid

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from optimizer_app.persistence.models import User


def get_user_by_email(*, session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email)).first()


_USER = select(User).where(col(User.id) == bindparam("user_id"))  # built once


def get_user(*, session: Session, user_id: uuid.UUID) -> User | None:
    return session.exec(_USER, params={"user_id": user_id}).first()


def create_user(*, session: Session, email: str, password_hash: str) -> User:
    user = User(email=email, password_hash=password_hash)
    session.add(user)
    session.flush()
    return user
