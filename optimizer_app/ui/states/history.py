"""State of the history page: the signed-in user's jobs, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import reflex as rx

from optimizer_app.ui.states.auth import current_user


@dataclass
class HistoryRow:
    """One job as the history table shows it (display-ready strings)."""

    id: str
    name: str
    strategy: str
    status: str
    progress: str
    best_score: str
    created_at: str
    source_job_id: str = ""


def list_history_rows(user_id: UUID) -> list[HistoryRow]:
    """The user's jobs as rows. The job history service plugs in here."""
    return []


class HistoryState(rx.State):
    rows: list[HistoryRow] = []
    loading: bool = True

    @rx.var(cache=True)
    def has_rows(self) -> bool:
        return len(self.rows) > 0

    @rx.event
    async def load(self) -> None:
        self.loading = True
        user = await current_user(self)
        self.rows = list_history_rows(user.id) if user else []
        self.loading = False
