"""The Dask configuration a cluster is started with (``dask.yaml``) is the one the embedded
cluster applies itself (``executor.dask_settings``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dask.config
import yaml

from optimizer_app.orchestration.executor import QUIET_TIMERS, dask_settings

DASK_YAML = Path(__file__).resolve().parents[3] / "optimizer_app" / "orchestration" / "dask.yaml"


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def test_the_cluster_file_and_the_embedded_settings_agree() -> None:
    from_file = _flatten(yaml.safe_load(DASK_YAML.read_text()))
    embedded = dask_settings(max_attempts=3)
    assert from_file == embedded
    assert set(QUIET_TIMERS) <= set(embedded)


def test_the_settings_name_real_dask_keys_and_slow_its_timers_down() -> None:
    for key in dask_settings(max_attempts=3):
        if "pre-spawn-environ" not in key:
            dask.config.get(key)  # raises KeyError for a key Dask does not have
    with dask.config.set(dask_settings(max_attempts=3)):
        assert dask.config.get("distributed.worker.profile.enabled") is False
        for key in ("distributed.admin.tick.interval",
                    "distributed.worker.memory.monitor-interval",
                    "distributed.admin.system-monitor.interval"):
            assert dask.utils.parse_timedelta(dask.config.get(key)) >= 0.5
