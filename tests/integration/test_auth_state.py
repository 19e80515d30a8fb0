"""The UI's sign-up / sign-in state uses the auth service's coroutines (the REST API's path):
password rules, throttling, and the Reflex upload guard, on the test database."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from reflex.istate.manager.memory import StateManagerMemory
from reflex.istate.manager.token import BaseStateToken

from optimizer_app.core.config import settings
from optimizer_app.services.login_throttle import throttle
from optimizer_app.ui.states import auth as auth_state
from optimizer_app.ui.states.auth import AuthState
from tests.support.run_async import run_async

PASSWORD = "correct horse battery"


async def _run(name: str, form: dict[str, Any]) -> AuthState:
    state = AuthState()
    async for _ in AuthState.event_handlers[name].fn(state, form):
        pass
    return state


def test_sign_up_then_sign_in_sets_a_token(migrated_db: str) -> None:
    email = f"ui{uuid.uuid4().hex[:10]}@example.com"
    signed_up = run_async(_run("sign_up", {"email": email, "password": PASSWORD}))
    assert signed_up.form_error == "" and signed_up.auth_token
    signed_in = run_async(_run("sign_in", {"email": email.upper(), "password": PASSWORD}))
    assert signed_in.form_error == "" and signed_in.auth_token
    assert auth_state.user_for_token(signed_in.auth_token).email == email  # type: ignore[union-attr]


def test_sign_up_shows_why_a_password_is_refused(migrated_db: str) -> None:
    state = run_async(_run("sign_up", {"email": f"ui{uuid.uuid4().hex[:8]}@example.com",
                                         "password": "qwertyuiop"}))
    assert state.form_error == (
        "Password: this password is in a list of commonly used passwords; choose another."
    )
    assert state.auth_token == ""


def test_sign_in_is_throttled_in_the_ui_too(migrated_db: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    throttle.reset()
    monkeypatch.setattr(settings, "login_max_failures", 3)
    email = f"ui{uuid.uuid4().hex[:10]}@example.com"
    run_async(_run("sign_up", {"email": email, "password": PASSWORD}))
    for _ in range(3):
        state = run_async(_run("sign_in", {"email": email, "password": "wrong password"}))
        assert state.form_error == "Wrong email or password."
    state = run_async(_run("sign_in", {"email": email, "password": PASSWORD}))
    assert state.form_error.startswith("Email: too many failed sign-ins; try again in")
    assert state.auth_token == ""
    throttle.reset()


def test_upload_guard_needs_a_signed_in_tab(migrated_db: str) -> None:
    manager = StateManagerMemory()
    signed_in = run_async(_run("sign_up", {"email": f"ui{uuid.uuid4().hex[:10]}@example.com",
                                             "password": PASSWORD}))

    async def check() -> list[bool]:
        anonymous, member = f"tab-{uuid.uuid4().hex}", f"tab-{uuid.uuid4().hex}"
        unknown = await auth_state.upload_allowed(manager, anonymous)
        assert anonymous not in manager.states  # an unknown token creates no state
        for token, auth_token in ((anonymous, ""), (member, signed_in.auth_token)):
            root = await manager.get_state(BaseStateToken(ident=token, cls=AuthState))
            (await root.get_state(AuthState)).auth_token = auth_token
        return [unknown, await auth_state.upload_allowed(manager, anonymous),
                await auth_state.upload_allowed(manager, member)]

    assert run_async(check()) == [False, False, True]
