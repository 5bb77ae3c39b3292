"""Start N threads together and collect what each returned."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["run_together"]

T = TypeVar("T")


def run_together(n: int, fn: Callable[[int], T], timeout: float = 120.0) -> list[T]:
    """Run ``fn(i)`` in ``n`` threads released at once by a Barrier; return results by index.

    Any exception in a thread is re-raised here, after every thread has finished.
    """
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def target(i: int) -> None:
        try:
            barrier.wait()
            results[i] = fn(i)
        except BaseException as exc:  # noqa: BLE001 - reported to the caller below
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(i,), name=f"worker-{i}") for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        assert not t.is_alive(), f"{t.name} did not finish within {timeout}s"
    if errors:
        raise errors[0]
    return results
