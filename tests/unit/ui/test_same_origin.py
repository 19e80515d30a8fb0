"""The production frontend asks the page's own origin for its backend."""

from __future__ import annotations

from pathlib import Path

import reflex_base

from optimizer_app.ui.same_origin import MARKER, use_built_port, use_page_origin

SHIPPED = (
    Path(reflex_base.__file__).parent / ".templates" / "web" / "utils" / "state.js"
).read_text()


def test_production_state_js_takes_the_page_host_and_port() -> None:
    patched = use_page_origin(SHIPPED)
    assert MARKER in patched
    assert "endpoint.host = window.location.host;" in patched
    assert "endpoint.hostname = frontend_hostname;" not in patched


def test_rewriting_is_idempotent_and_reversible() -> None:
    patched = use_page_origin(SHIPPED)
    assert use_page_origin(patched) == patched
    assert use_built_port(patched) == SHIPPED
    assert use_built_port(SHIPPED) == SHIPPED


def test_unrecognised_code_is_left_alone() -> None:
    other = "export const getBackendURL = (url) => new URL(url);\n"
    assert use_page_origin(other) == other
