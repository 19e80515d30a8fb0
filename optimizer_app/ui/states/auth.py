"""The browser session: the access token lives in the browser's localStorage, so a reload or a
new tab keeps the user signed in. Sign-up and sign-in await the auth service's coroutines (the
same code path as the REST API: throttling, password rules, hashing in the bounded pool off the
event loop, no transaction held while hashing); token checks call the service directly."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
from uuid import UUID

import reflex as rx
from reflex.event import EventSpec
from reflex.istate.manager import StateManager
from reflex.istate.manager.memory import StateManagerMemory
from reflex.istate.manager.token import BaseStateToken

from optimizer_app.core.errors import AppError, UnauthorizedError
from optimizer_app.core.logging import logger
from optimizer_app.persistence.db import session_scope
from optimizer_app.services import auth as auth_service
from optimizer_app.ui import routes

TOKEN_STORAGE_KEY = "grid_optimizer_token"
UNEXPECTED_ERROR = "Something went wrong on our side. Please try again in a moment."


@dataclass(frozen=True)
class SessionUser:
    id: UUID
    email: str


def user_for_token(token: str) -> SessionUser | None:
    """The signed-in user for a token, or None when the token is missing, expired or revoked."""
    if not token:
        return None
    try:
        with session_scope(readonly=True) as session:
            user = auth_service.user_from_token(session=session, token=token)
            return SessionUser(id=user.id, email=user.email)
    except UnauthorizedError:
        return None


async def _signed_in_user(token: str) -> SessionUser | None:
    """``user_for_token`` off the event loop (a database read)."""
    return await asyncio.to_thread(user_for_token, token) if token else None


def readable_error(error: AppError) -> str:
    """An error message as a sentence: capitalised, ending with a full stop."""
    details = error.details if isinstance(error.details, list) else []
    parts = [
        f"{item['field'].capitalize()}: {item['problem']}"
        for item in details
        if isinstance(item, dict) and {"field", "problem"} <= item.keys()
    ]
    sentences = parts or [error.message]
    return " ".join(_as_sentence(text) for text in sentences if text)


def _as_sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else f"{text}."


async def _sign_in(email: str, password: str, client: str | None) -> str:
    token = await auth_service.login(email=email, password=password, client=client)
    return token.access_token


async def _sign_up(email: str, password: str, client: str | None) -> str:
    await auth_service.register(email=email, password=password)
    return await _sign_in(email, password, client)


async def upload_allowed(manager: StateManager, client_token: str) -> bool:
    """Whether the browser tab with this Reflex client token is signed in: the check made by
    the backend before it reads an upload's body (``POST /_upload``). With the in-memory state
    manager only existing states are looked at (an unknown token never creates one)."""
    if isinstance(manager, StateManagerMemory) and client_token not in manager.states:
        return False
    try:
        root = await manager.get_state(BaseStateToken(ident=client_token, cls=AuthState))
        auth = await root.get_state(AuthState)
        token = auth.auth_token
    except Exception:
        logger.exception("upload session check failed")
        return False
    return await asyncio.to_thread(user_for_token, token) is not None


class AuthState(rx.State):
    """Who is signed in in this browser, and the sign-in / sign-up forms' feedback."""

    auth_token: str = rx.LocalStorage("", name=TOKEN_STORAGE_KEY, sync=True)
    form_error: str = ""
    submitting: bool = False
    _signing_out: bool = False

    @rx.var(cache=True)
    def user_email(self) -> str:
        user = user_for_token(self.auth_token)
        return user.email if user else ""

    @rx.var(cache=True)
    def signed_in(self) -> bool:
        return bool(self.user_email)

    @rx.var(cache=True)
    def user_initial(self) -> str:
        return self.user_email[:1].upper()

    def _next_path(self) -> str:
        return routes.safe_next(self.router.url.query_parameters.get("next"))

    @rx.event
    async def require_session(self) -> EventSpec | None:
        """on_load of every protected page: a visitor without a valid session goes to sign-in,
        carrying the page they wanted so sign-in can bring them back."""
        self._signing_out = False
        return await self._send_to_sign_in_without_session()

    async def _send_to_sign_in_without_session(self) -> EventSpec | None:
        url = self.router.url
        if url.path.rstrip("/") in routes.PUBLIC or await _signed_in_user(self.auth_token):
            return None
        self.auth_token = ""
        wanted = url.path + (f"?{url.query}" if url.query else "")
        return rx.redirect(f"{routes.SIGN_IN}?next={quote(wanted, safe='')}", replace=True)

    @rx.event
    async def check_session_ended(self) -> EventSpec | None:
        """A protected page saw its session end: signed out in another tab, it goes to sign-in;
        signed out here, the sign-out's own redirect is already on its way."""
        if self._signing_out:
            self._signing_out = False
            return None
        return await self._send_to_sign_in_without_session()

    @rx.event
    async def open_auth_page(self) -> EventSpec | None:
        """on_load of sign-in and sign-up: a fresh form, or straight on when already signed in."""
        self.form_error = ""
        self.submitting = False
        self._signing_out = False
        if await _signed_in_user(self.auth_token) is not None:
            return rx.redirect(self._next_path(), replace=True)
        return None

    @rx.event
    async def sign_in(self, form_data: dict[str, Any]) -> AsyncIterator[EventSpec | None]:
        async for update in self._authenticate(_sign_in, form_data):
            yield update

    @rx.event
    async def sign_up(self, form_data: dict[str, Any]) -> AsyncIterator[EventSpec | None]:
        async for update in self._authenticate(_sign_up, form_data):
            yield update

    @rx.event
    def sign_out(self) -> EventSpec:
        self.auth_token = ""
        self._signing_out = True
        return rx.redirect(routes.SIGN_IN)

    async def _authenticate(
        self,
        action: Callable[[str, str, str | None], Awaitable[str]],
        form_data: dict[str, Any],
    ) -> AsyncIterator[EventSpec | None]:
        email = str(form_data.get("email", "")).strip()
        password = str(form_data.get("password", ""))
        self.form_error = ""
        self.submitting = True
        yield None  # show the busy button before the slow part
        try:
            token = await action(email, password, self.router.session.client_ip or None)
        except AppError as error:
            self.form_error = readable_error(error)
        except Exception:
            logger.exception("authentication failed unexpectedly")
            self.form_error = UNEXPECTED_ERROR
        else:
            self.auth_token = token
            yield rx.redirect(self._next_path())
        finally:
            self.submitting = False


async def current_user(state: rx.State) -> SessionUser | None:
    """The signed-in user for any page state (``await current_user(self)``)."""
    auth = await state.get_state(AuthState)
    return await _signed_in_user(auth.auth_token)
