"""Bounds on a pool: at most ``max_keys`` keys, and none idle longer than ``idle_timeout``.

Every live key costs a session per thread, each with its clients and connection pools (30 keys
with 3 clients each cost +91 MB even with a shared loader, HAZARDS R4), so a long-running worker
that sees many keys needs a bound. This module only *decides*; the pool acts (drops sessions,
closes clients) after releasing its lock.

Recency without a clock on the hot path: a warm ``pool.client()`` only bumps its session's hit
counter. When the pool needs a decision (a new key beyond the cap, or an idle check), it passes
each key's usage signature (its total cache hits across threads); a key whose signature
changed since the last look was used since then, and counts as used *now*. Uses on slow paths
(a new session or client) are recorded directly with :meth:`KeyBounds.touch`. So a key in constant
hot-path use is never idle, and the LRU order is accurate to the interval between decisions.

The pool starts no thread of its own: idle keys are pruned on the pool's slow paths (at most once
per ``idle_timeout / 4``) and whenever the user calls :meth:`SessionPool.prune`.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["KeyBounds"]


@dataclass(slots=True)
class _Use:
    last_used: float
    signature: int = 0


@dataclass
class KeyBounds:
    """LRU and idle bookkeeping for one pool; the caller holds the pool's lock around each call.

    Parameters:
        max_keys: the most keys kept at once; None for no cap (checked by the pool's config).
        idle_timeout: seconds after which an unused key is evicted; None for never.
    """

    max_keys: int | None = None
    idle_timeout: float | None = None
    _uses: dict[Hashable, _Use] = field(default_factory=dict)
    _next_idle_check: float = 0.0

    @property
    def active(self) -> bool:
        return self.max_keys is not None or self.idle_timeout is not None

    def __len__(self) -> int:
        return len(self._uses)

    def touch(self, key: Hashable, now: float) -> bool:
        """Record a use of ``key``; True if the key is new, so a cap check is due."""
        use = self._uses.get(key)
        if use is None:
            self._uses[key] = _Use(now)
            return True
        use.last_used = now
        return False

    def idle_check_due(self, now: float) -> bool:
        if self.idle_timeout is None or now < self._next_idle_check:
            return False
        self._next_idle_check = now + self.idle_timeout / 4
        return True

    def victims(
        self, usage: Mapping[Any, int], now: float, keep: Hashable = None
    ) -> list[Hashable]:
        """Forget and return the keys to evict: idle ones, then least recently used past the cap.

        Parameters:
            usage: each key's current hit count across threads.
            now: the current time on the clock the pool uses.
            keep: a key never to evict (the one the caller is about to use).
        """
        for key, use in self._uses.items():
            signature = usage.get(key, 0)
            if signature != use.signature:
                use.signature = signature
                use.last_used = now
        chosen: list[Hashable] = []
        if self.idle_timeout is not None:
            chosen = [
                k
                for k, u in self._uses.items()
                if k != keep and now - u.last_used > self.idle_timeout
            ]
        if self.max_keys is not None:
            remaining = len(self._uses) - len(chosen)
            if remaining > self.max_keys:
                by_age = sorted(
                    (u.last_used, i, k)
                    for i, (k, u) in enumerate(self._uses.items())
                    if k != keep and k not in chosen
                )
                chosen.extend(k for _, _, k in by_age[: remaining - self.max_keys])
        for key in chosen:
            del self._uses[key]
        return chosen

    def forget(self, key: Hashable) -> None:
        """Stop tracking ``key`` (no session of it remains)."""
        self._uses.pop(key, None)

    def clear(self) -> None:
        self._uses.clear()
        self._next_idle_check = 0.0
