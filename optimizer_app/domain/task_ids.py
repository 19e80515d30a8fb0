"""Task ids: deterministic and ordered within a job.

A task id is a UUID (version 8, RFC 9562's custom layout) whose first 64 bits are a hash of
the job id and whose last 64 bits are the variant bits and the combination index. The same
job and combination always give the same id, and a job's rows arrive in index order, so the
primary-key index grows at one end instead of being rewritten all over on every chunk (a
random id made writing 100,000 rows ~1/3 slower). Workers use it too: they name the folder of
a combination's artifact files by it."""

from __future__ import annotations

import hashlib
import uuid

INDEX_BITS = 0x8000_0000_0000_0000  # the RFC variant (binary 10) above a 62-bit index


def task_id_prefix(job_id: uuid.UUID) -> str:
    """The first 16 hex digits of the job's task ids: 60 bits of SHA-1(job id), version 8."""
    digest = hashlib.sha1(job_id.bytes).hexdigest()
    return f"{digest[:12]}8{digest[13:16]}"


def task_id_hex(prefix: str, index: int) -> str:
    return "%s%016x" % (prefix, INDEX_BITS | index)  # noqa: UP031 - the fastest spelling


def task_id_for(job_id: uuid.UUID, index: int) -> uuid.UUID:
    """Deterministic task id: the same job and combination always give the same id."""
    if not 0 <= index < 1 << 62:
        raise ValueError(f"combination index out of range: {index}")
    return uuid.UUID(hex=task_id_hex(task_id_prefix(job_id), index))
