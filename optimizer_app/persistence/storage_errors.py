"""Telling a storage error that no retry can fix (the data disk is full, read-only or over
quota) from a transient one, for the database and the files beside it alike."""

from __future__ import annotations

import errno

_PERMANENT_ERRNOS = {
    errno.ENOSPC: "the data disk is full",
    errno.EDQUOT: "the data disk quota is exhausted",
    errno.EROFS: "the data disk is read-only",
    errno.EFBIG: "a data file reached the largest size the disk allows",
}
# SQLite's messages for SQLITE_FULL, SQLITE_READONLY and a failed write of its files;
# PostgreSQL's SQLSTATE class 53 (insufficient resources: disk full, out of memory).
_SQLITE_TEXTS = {
    "database or disk is full": "the data disk is full",
    "attempt to write a readonly database": "the database file is read-only",
    "disk i/o error": "the data disk could not be written (disk I/O error; is it full?)",
}
_PG_STATES = {"53100": "the database server's disk is full", "53200": "the database server is out of memory"}


def permanent_storage_error(exc: BaseException | None) -> str | None:
    """A sentence for the user when ``exc`` (or what caused it) is a storage error that
    retrying cannot fix; None otherwise."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        reason = _reason(exc)
        if reason:
            return f"{reason} ({_short(exc)}); free space on the data disk, then re-run the job"
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
    return None


def _reason(exc: BaseException) -> str | None:
    if isinstance(exc, OSError) and exc.errno in _PERMANENT_ERRNOS:
        return _PERMANENT_ERRNOS[exc.errno]
    state = getattr(exc, "pgcode", None) or getattr(exc, "sqlstate", None)
    if isinstance(state, str) and state in _PG_STATES:
        return _PG_STATES[state]
    if type(exc).__module__.startswith("sqlite3"):
        text = str(exc).lower()
        for needle, reason in _SQLITE_TEXTS.items():
            if needle in text:
                return reason
    return None


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
