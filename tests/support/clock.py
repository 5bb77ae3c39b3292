"""A clock the test moves by hand, for pools made with ``clock=``: nothing waits for real time."""

from __future__ import annotations

__all__ = ["FakeClock"]


class FakeClock:
    """Returns :attr:`now`, which only the test changes (``clock.now += 61``)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now
