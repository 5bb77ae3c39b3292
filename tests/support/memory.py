"""Secrets planted in keys, and a scan of everything in memory for them."""

from __future__ import annotations

import gc
import types
import weakref
from typing import Any

__all__ = ["PLANTED", "planted_keys", "planted_strings"]

PLANTED = "PLANTED-SECRET-"


def planted_keys(i: int) -> dict[str, str]:
    """Explicit keys number ``i``, whose secret and token start with :data:`PLANTED`.

    Built fresh on every call from ``i``: the caller keeps no planted string alive.

    Parameters:
        i: which keys (0-9999); the same ``i`` gives equal keys.
    """
    return {
        "aws_access_key_id": f"AKIAEVICT{i:011d}",
        "aws_secret_access_key": f"{PLANTED}{i:04d}-secret-EXAMPLE",
        "aws_session_token": f"{PLANTED}{i:04d}-token-EXAMPLE",
    }


def planted_strings(holders: dict[str, list[str]] | None = None) -> set[str]:
    """Every string in memory that starts with PLANTED: referents of every object the collector
    tracks, and of the tuples and frozensets it does not track (a tuple of strings is untracked).
    With ``holders``, also records the type of each object that holds one (for messages).

    Parameters:
        holders: filled, when given, with each planted name's holders' types.
    """
    found: set[str] = set()
    stack: list[Any] = gc.get_objects()
    seen: list[Any] = []  # keeps the untracked containers alive while their ids are in use
    seen_ids: set[int] = set()
    while stack:
        obj = stack.pop()
        if isinstance(obj, types.ModuleType):
            continue  # modules hold no secret of ours; gc.get_referents on some hangs 3.12.1
        for ref in gc.get_referents(obj):
            if type(ref) is weakref.ProxyType or type(ref) is weakref.CallableProxyType:
                continue  # a proxy's referent is an object of its own, scanned as such
            if isinstance(ref, str):
                if ref.startswith(PLANTED) and ref != PLANTED:
                    name = str.__str__(ref)[len(PLANTED) :]
                    found.add(name)
                    if holders is not None:
                        kind = f"{type(obj).__module__}.{type(obj).__qualname__}"
                        holders.setdefault(name, []).append(kind)
            elif isinstance(ref, (tuple, frozenset)) and not gc.is_tracked(ref):
                if id(ref) not in seen_ids:
                    seen_ids.add(id(ref))
                    seen.append(ref)
                    stack.append(ref)
    return found
