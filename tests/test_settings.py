"""Bad settings fail clearly, at their first use, and leave nothing behind: the received-pools
limit from the environment, and a scope function that returns something unhashable."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from sessionpool import InvalidArgumentError, SessionPool, _received


@pytest.fixture
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_received, "_received", type(_received._received)())
    monkeypatch.setattr(_received, "_limit", None)


@pytest.mark.parametrize("value", ["garbage", "0", "-3", "2.5", ""])
def test_a_bad_received_pools_variable_fails_every_unpickle_and_keeps_nothing(
    aws_env: Any, fresh_registry: None, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("SESSIONPOOL_RECEIVED_POOLS", value)
    sent = []
    for _ in range(20):
        maker = SessionPool()
        sent.append(pickle.dumps(maker))
        maker.close()  # as in a worker: the pool that was pickled is not here
    for data in sent + sent:  # each twice: the second unpickle of a pool fails too
        with pytest.raises(InvalidArgumentError) as caught:
            pickle.loads(data)  # noqa: S301 - our own pickle
        message = str(caught.value)
        assert "SESSIONPOOL_RECEIVED_POOLS" in message
        assert repr(value) in message
        assert "positive whole number" in message
    assert _received.received_count() == 0


def test_a_scopefunc_returning_an_unhashable_owner_is_an_invalid_argument(aws_env: Any) -> None:
    with SessionPool(scopefunc=lambda: ["request", 1]) as pool:
        with pytest.raises(InvalidArgumentError, match="scopefunc") as caught:
            pool.client("s3")
        assert "hashable" in str(caught.value)
        assert "list" in str(caught.value)
        with pytest.raises(InvalidArgumentError, match="scopefunc"):
            pool.release()


def test_a_type_error_inside_the_scopefunc_is_the_users_own(aws_env: Any) -> None:
    def owner() -> str:
        raise TypeError("a bug in the scope function")

    with SessionPool(scopefunc=owner) as pool:
        with pytest.raises(TypeError, match="a bug in the scope function"):
            pool.client("s3")
