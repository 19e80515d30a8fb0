"""Structured logging: loguru, one JSON object per line, with request/user/job context."""

from __future__ import annotations

import json
import logging
import sys
import traceback
from contextvars import ContextVar

from loguru import logger

from optimizer_app.core.config import settings

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
user_id_var: ContextVar[str | None] = ContextVar("user_id", default=None)

_configured = False


def _add_context(record: dict) -> None:  # type: ignore[type-arg]
    extra = record["extra"]
    if "request_id" not in extra and (rid := request_id_var.get()):
        extra["request_id"] = rid
    if "user_id" not in extra and (uid := user_id_var.get()):
        extra["user_id"] = uid


class _InterceptHandler(logging.Handler):
    """Send stdlib logging (uvicorn, sqlalchemy, distributed) through loguru."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.opt(depth=6, exception=record.exc_info).log(level, record.getMessage())


def _json_sink(message: object) -> None:
    record = message.record  # type: ignore[attr-defined]
    line = {
        "ts": record["time"].isoformat(),
        "level": record["level"].name,
        "msg": record["message"],
        "logger": record["name"],
        **{
            k: v if isinstance(v, (str, int, float, bool, type(None))) else str(v)
            for k, v in record["extra"].items()
        },
    }
    if record["exception"] is not None:
        exc = record["exception"]
        line["exception"] = f"{exc.type.__name__ if exc.type else ''}: {exc.value}"
        line["traceback"] = "".join(traceback.format_exception(exc.type, exc.value, exc.traceback))
    sys.stderr.write(json.dumps(line, default=str) + "\n")


def configure_logging() -> None:
    global _configured
    if _configured:
        return
    _configured = True
    logger.remove()
    logger.configure(patcher=_add_context)  # type: ignore[arg-type]
    if settings.log_json:
        logger.add(_json_sink, level=settings.log_level.upper())
    else:
        logger.add(sys.stderr, level=settings.log_level.upper())
    logging.basicConfig(handlers=[_InterceptHandler()], level=logging.WARNING, force=True)


__all__ = ["configure_logging", "logger", "request_id_var", "user_id_var"]
