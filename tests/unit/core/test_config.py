import pytest
from pydantic import ValidationError

from optimizer_app.core.config import DEFAULT_JWT_SECRET, Settings

STRONG = "x" * 48


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(ValidationError, match="OPTIMIZER_JWT_SECRET"):
        Settings(env="production", jwt_secret=DEFAULT_JWT_SECRET)


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(env="production", jwt_secret="short-secret")


def test_production_refuses_weak_password_hashing() -> None:
    with pytest.raises(ValidationError, match="OWASP"):
        Settings(env="production", jwt_secret=STRONG, argon2_memory_kib=1024)


def test_production_accepts_a_strong_configuration() -> None:
    cfg = Settings(
        env="production", jwt_secret=STRONG, argon2_memory_kib=19 * 1024, argon2_time_cost=2
    )
    assert cfg.argon2_memory_kib >= 19 * 1024 and cfg.argon2_time_cost >= 2


def test_development_allows_the_default_secret() -> None:
    assert Settings(env="development").jwt_secret == DEFAULT_JWT_SECRET


def test_binds_to_loopback_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPTIMIZER_HOST", raising=False)
    assert Settings().host == "127.0.0.1"


def test_environment_variables_use_one_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("OPTIMIZER_GRID_CAP", "1234")
    monkeypatch.setenv("OPTIMIZER_DATA_DIR", str(tmp_path))
    cfg = Settings()
    assert cfg.grid_cap == 1234
    assert cfg.resolved_database_url == f"sqlite:///{tmp_path.resolve() / 'optimizer.db'}"
    assert cfg.resolved_artifact_dir == (tmp_path / "artifacts").resolve()


def test_the_chunk_time_limit_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().chunk_timeout_seconds == 300.0
    monkeypatch.setenv("OPTIMIZER_CHUNK_TIMEOUT_SECONDS", "45")
    assert Settings().chunk_timeout_seconds == 45.0
    with pytest.raises(ValidationError):
        Settings(chunk_timeout_seconds=0)
