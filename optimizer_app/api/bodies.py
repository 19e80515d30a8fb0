"""Checks on every JSON request body, before any route sees it (an app-wide dependency).

FastAPI parses JSON bodies with ``json.loads``: its own errors are 400, and so are the
``ValueError`` of an integer above Python's digit limit and the ``RecursionError`` of very deep
nesting (FastAPI turns any other parsing exception into 400; ``api.errors`` gives it the code
``malformed_json``). What parses fine but is still not text is a lone UTF-16 surrogate
(``"\\ud800"``): Python keeps it in the ``str``, and it fails later, when the string is encoded
to be stored or logged; and a NUL character (``"\\u0000"``), which PostgreSQL cannot store in
text. This dependency refuses both with 422, naming the field."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from optimizer_app.core.errors import BadRequestError, ValidationError

JSON_TYPES = ("application/json",)
MAX_SHOWN_PATH = 200


def is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media in JSON_TYPES or (media.startswith("application/") and media.endswith("+json"))


SURROGATE = ("contains a character that is not valid Unicode text (a lone surrogate such as "
             "\\ud800); send valid UTF-8")
NUL = "contains a NUL character (\\u0000), which cannot be stored"


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return NUL
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return SURROGATE
    return None


def find_invalid_text(value: Any) -> tuple[str, str] | None:
    """The path (``paramSpace.fast.values.0``) of the first string or key that is not text
    that can be stored (a lone surrogate, a NUL), with the problem; or None. Iterative:
    nesting as deep as the JSON parser allows is fine."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if (problem := _text_problem(item)) is not None:
                return path or "body", problem
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{path}.{key}" if path else str(key)
                if isinstance(key, str) and (problem := _text_problem(key)) is not None:
                    return path or "body", problem
                stack.append((child, child_path))
        elif isinstance(item, list):
            stack.extend((child, f"{path}.{i}" if path else str(i)) for i, child in
                         enumerate(item))
    return None


async def refuse_invalid_text(request: Request) -> None:
    """422 when a JSON body holds a string that is not text that can be stored."""
    if request.method in ("GET", "HEAD", "OPTIONS", "DELETE"):
        return
    content_type = request.headers.get("content-type")
    if content_type is not None and not is_json(content_type):
        return
    body = await request.body()
    if not body:
        return
    try:
        data = await request.json()  # cached: FastAPI parsed it already for body routes
    except (ValueError, RecursionError) as exc:
        if content_type is None:
            return  # not declared as JSON: the route decides what it accepts
        raise BadRequestError("the request body is not valid JSON", code="malformed_json") from exc
    found = find_invalid_text(data)
    if found is not None:
        field, problem = found
        shown = field.encode("utf-8", "backslashreplace").decode("ascii", "replace")
        shown = shown.replace("\x00", "\\u0000")[:MAX_SHOWN_PATH]
        raise ValidationError(f"{shown}: {problem}", details=[{"field": shown, "problem": problem}])

