"""A full or read-only data disk under a request: 507 in the one error shape, with a message
that says what to do, and the server goes on serving."""

from __future__ import annotations

import errno

import pytest
from fastapi.testclient import TestClient

from optimizer_app.services import datasets
from tests.integration.api.conftest import ApiUser, assert_error

CSV = b"Date,Open,High,Low,Close,Volume\n" + b"".join(
    f"2020-{m:02d}-{d:02d},10,11,9,10.5,1000\n".encode() for m in (1, 2, 3) for d in range(1, 29)
)


@pytest.mark.parametrize(("code", "says"), [(errno.ENOSPC, "the data disk is full"),
                                            (errno.EROFS, "the data disk is read-only")])
def test_an_upload_on_a_full_disk_is_507_and_the_server_serves_on(
    client: TestClient, alice: ApiUser, monkeypatch: pytest.MonkeyPatch, code: int, says: str
) -> None:
    def full(_bars: object) -> None:
        raise OSError(code, "No space left on device")

    monkeypatch.setattr(datasets, "store_canonical_csv", full)
    answer = client.post("/api/v1/datasets", headers=alice.headers,
                         files={"file": ("prices.csv", CSV, "text/csv")})
    error = assert_error(answer, 507, "storage_full")
    assert error["message"].startswith(says), error
    assert "free space" in error["message"]
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/v1/datasets", headers=alice.headers).status_code == 200
