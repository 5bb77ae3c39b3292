"""What a pool's threads can reach without asking the pool: their fast tables and memos."""

from __future__ import annotations

from typing import Any

__all__ = ["untracked"]


def untracked(pool: Any) -> list[str]:
    """Every session reachable from a thread's fast table or memo that its slot does not track
    (should be empty: HAZARDS E1). Reads the pool's internals, on purpose."""
    out = []
    for slot in list(pool._registry.slots):
        reachable = [("fast", s) for s in list(slot.fast.values())]
        reachable += [("memo", s) for s, *_ in list(slot.memo.values())]
        tracked = list(slot.sessions.values())
        for how, session in reachable:
            if not any(session is s for s in tracked):
                out.append(f"{slot.owner_name}: {how} -> {session!r}")
    return out
