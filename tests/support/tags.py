"""Names for objects that are never reused, and a log of which clients were closed how often."""

from __future__ import annotations

import threading
import uuid
from typing import TYPE_CHECKING, Any

import botocore.client

if TYPE_CHECKING:
    import pytest

__all__ = ["CloseLog", "install_close_log", "tag"]

_TAG = "_sessionpool_test_tag"


def tag(obj: Any) -> str:
    """A name for ``obj`` that no other object ever gets, stored on the object itself.

    Unlike ``id(obj)``, which CPython hands to a new object as soon as ``obj`` is freed (3.13
    reuses a freed client's address at once), a tag is never reused: a random uuid, unique across
    processes too (a forked child inherits the tags of the objects it inherits, and gives new
    objects new ones). Remembering tags keeps nothing alive.
    """
    attrs = vars(obj)  # the instance dict: no __getattr__ hooks (botocore clients have one)
    return str(attrs.setdefault(_TAG, uuid.uuid4().hex))  # setdefault: one winner if two race


class CloseLog:
    """Counts ``BaseClient.close`` calls per client while installed; remembers each closed
    client's :func:`tag`, never the client, so that it keeps nothing alive (memory measurements
    stay honest) and a new client can never be mistaken for a freed one that was closed."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.closed_tags: list[str] = []

    def count(self, client: Any) -> int:
        """How many times ``client`` was closed since the log was installed or reset."""
        name = tag(client)
        with self.lock:
            return self.closed_tags.count(name)

    def tags(self) -> list[str]:
        """The tags of the clients closed, one per close, in order."""
        with self.lock:
            return list(self.closed_tags)

    def reset(self) -> None:
        """Forget every close recorded so far."""
        with self.lock:
            self.closed_tags.clear()


def install_close_log(monkeypatch: pytest.MonkeyPatch) -> CloseLog:
    """Patch ``BaseClient.close`` (for this test) to record each call, then close for real.

    Parameters:
        monkeypatch: the test's monkeypatch, which puts the real ``close`` back afterwards.
    """
    log = CloseLog()
    original = botocore.client.BaseClient.close

    def close(self: Any) -> None:
        name = tag(self)
        with log.lock:
            log.closed_tags.append(name)
        original(self)

    monkeypatch.setattr(botocore.client.BaseClient, "close", close)
    return log
