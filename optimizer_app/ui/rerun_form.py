"""The new-optimization form filled in from a source job, for a re-run of the whole job or of
one of its combinations."""

from __future__ import annotations

from typing import Any

from optimizer_app.services.schemas import JobPublic, StrategyParamPublic
from optimizer_app.ui.job_form import (
    FormValues,
    ParamInput,
    as_text,
    default_input,
    fraction_to_percent,
)
from optimizer_app.ui.vocabulary import DEFAULT_METRIC, default_mode


def inputs_from_space(specs: list[StrategyParamPublic], space: dict[str, Any]) -> list[ParamInput]:
    """Editors showing a stored paramSpace (declared defaults where it says nothing)."""
    inputs = []
    for spec in specs:
        param = default_input(spec)
        raw = space.get(spec.name)
        if isinstance(raw, dict) and "values" in raw:
            param.kind = "values"
            param.listed = ", ".join(as_text(v) for v in raw["values"])
        elif isinstance(raw, dict):
            param.kind = "range"
            param.start, param.stop, param.step = (
                as_text(raw.get(k, "")) for k in ("start", "stop", "step")
            )
        inputs.append(param)
    return inputs


def single_combination_inputs(
    specs: list[StrategyParamPublic], params: dict[str, Any]
) -> list[ParamInput]:
    return inputs_from_space(specs, {k: {"values": [v]} for k, v in params.items()})


def values_from_job(job: JobPublic, name: str) -> FormValues:
    policy, options = job.early_stop_policy or {}, job.backtest_options or {}
    metric = str(policy.get("metric") or DEFAULT_METRIC)
    defaults = FormValues()

    def text(raw: Any, fallback: str) -> str:
        return fallback if raw is None else as_text(raw)

    return FormValues(
        name=name,
        metric=metric,
        mode=str(policy.get("mode") or default_mode(metric)),
        top_n=text(policy.get("topN"), defaults.top_n),
        target_score=text(policy.get("targetScore"), ""),
        patience=text(policy.get("patience"), ""),
        min_tasks=text(policy.get("minTasks"), ""),
        initial_cash=text(options.get("initialCash"), defaults.initial_cash),
        commission_pct=(
            fraction_to_percent(options["commission"])
            if options.get("commission") is not None
            else defaults.commission_pct
        ),
        slippage_pct=(
            fraction_to_percent(options["slippage"])
            if options.get("slippage") is not None
            else defaults.slippage_pct
        ),
        direction=str(options.get("direction") or defaults.direction),
        sizing=str(options.get("sizing") or defaults.sizing),
    )
