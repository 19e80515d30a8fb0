"""What to do with a chunk that came back without a result.

* The chunk function raised (after Dask's bounded ``retries``): its tasks fail with the error,
  as ``resource`` (memory, disk) or ``strategy`` (anything else).
* Workers died while it ran (``KilledWorker``), or it was cancelled because its input data
  died with every worker holding it: while other chunks were in flight we cannot tell the
  culprit from the bystanders, so the chunk becomes a *suspect* and is run again alone; a
  suspect that takes its workers down when alone is guilty and its tasks fail as ``lost``.
* Its finished result was lost before we fetched it, or the scheduler connection dropped:
  nothing is wrong with the chunk; send it again."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from optimizer_app.domain.failures import FailureCategory, category_of, describe


class Verdict(Enum):
    FAIL = "fail"  # record the chunk's tasks as failed with ``message``
    SUSPECT = "suspect"  # run it again, alone
    RESEND = "resend"  # run it again, normally


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    message: str = ""
    category: str = FailureCategory.STRATEGY.value  # of the tasks, when the verdict is FAIL


def describe_failure(exc: BaseException) -> tuple[str, bool]:
    """(message for the failed tasks, whether workers died running the chunk)."""
    killed = type(exc).__name__ == "KilledWorker"
    if killed:
        text = str(exc) or type(exc).__name__
        return f"worker processes died while running this chunk ({text})", True
    return describe(exc), False


DIED_ALONE = "worker processes died while running this chunk alone; it was given up"


def decide_error(exc: BaseException, *, alone: bool) -> Decision:
    message, killed = describe_failure(exc)
    if killed and not alone:
        return Decision(Verdict.SUSPECT, message)
    if killed:
        return Decision(Verdict.FAIL, message, FailureCategory.LOST.value)
    return Decision(Verdict.FAIL, message, category_of(exc))


def decide_cancelled(*, alone: bool, connected: bool) -> Decision:
    if not connected:
        return Decision(Verdict.RESEND, "the scheduler connection was lost")
    if alone:
        return Decision(Verdict.FAIL, DIED_ALONE, FailureCategory.LOST.value)
    return Decision(Verdict.SUSPECT, "its input data was lost with the workers holding it")


def timeout_message(seconds: float) -> str:
    return (f"the chunk did not finish within {seconds:g} s of being sent "
            "(OPTIMIZER_CHUNK_TIMEOUT_SECONDS); its combinations were given up")
