"""Every page's URL, in one place. Pages, links and redirects use these constants."""

from __future__ import annotations

INDEX = "/"
SIGN_IN = "/sign-in"
SIGN_UP = "/sign-up"
HISTORY = "/optimizations"
NEW = "/optimizations/new"
JOB_DETAIL = "/optimizations/[job_id]"
USAGE = "/usage"
COMBINATION = "/optimizations/[job_id]/combinations/[index]"

PUBLIC = frozenset({SIGN_IN, SIGN_UP})


def job_detail(job_id: str) -> str:
    """The detail page of one job."""
    return JOB_DETAIL.replace("[job_id]", job_id)


def combination(job_id: str, index: int) -> str:
    """The page of one combination of a job (by its index in the job's grid)."""
    return COMBINATION.replace("[job_id]", job_id).replace("[index]", str(index))


def rerun(job_id: str, index: int | None = None) -> str:
    """The new-optimization form pre-filled from a job (or from one of its combinations)."""
    query = f"source={job_id}" + (f"&index={index}" if index is not None else "")
    return f"{NEW}?{query}"


def safe_next(path: str | None) -> str:
    """Where to go after sign-in: a same-site page that is not sign-in itself, else history."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return HISTORY
    return HISTORY if path.split("?")[0].rstrip("/") in PUBLIC else path
