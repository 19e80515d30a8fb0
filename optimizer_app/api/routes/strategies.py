"""GET /strategies: the registry with each strategy's parameters, constraint and metric keys."""

from __future__ import annotations

from fastapi import APIRouter

from optimizer_app.api.deps import CurrentUser
from optimizer_app.services import strategies
from optimizer_app.services.schemas import StrategiesPublic

router = APIRouter(prefix="/strategies", tags=["strategies"])


@router.get("", response_model=StrategiesPublic)
def list_strategies(_user: CurrentUser) -> StrategiesPublic:
    return strategies.list_strategies()
