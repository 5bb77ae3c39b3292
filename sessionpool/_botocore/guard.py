"""Switches: each optimisation that leans on botocore's internals can turn itself off.

Every use of a private botocore name belongs to one :class:`Switch`. The code that uses the name
checks ``switch.active`` first and calls :meth:`Switch.off` on any surprise (a missing or renamed
name, a wrong shape, a failed self-check): from then on this process takes the plain, public path
for that optimisation, and one log record says which switch went off and why. Switches never
turn back on within a process. ``sessionpool.diagnostics()`` reports them.

``_lock`` guards the switches' state; it is a :class:`~sessionpool._fork.Lock`, so a forked child
gets a fresh one.
"""

from __future__ import annotations

import logging
from typing import Any

from .. import _fork, _locks

__all__ = ["SURPRISES", "Switch", "diagnostics"]

log = logging.getLogger("sessionpool")

# What botocore changing under us looks like: a name gone, a key gone, a different signature or
# type, an unexpected value, a shape we check with assert.
SURPRISES: tuple[type[Exception], ...] = (
    AttributeError,
    KeyError,
    TypeError,
    NameError,
    ValueError,
    IndexError,
    AssertionError,
)

_lock = _fork.Lock()
_switches: dict[str, Switch] = {}


class Switch:
    """One optimisation that uses botocore internals, on until botocore surprises it.

    Parameters:
        name: a short identifier, the key in ``diagnostics()``.
        what: one line saying what the optimisation does and what turning it off costs.
    """

    __slots__ = ("active", "name", "reason", "what")

    def __init__(self, name: str, what: str) -> None:
        self.name = name
        self.what = what
        self.active = True
        self.reason: str | None = None
        with _lock:
            _switches[name] = self

    def off(self, reason: str, error: BaseException | None = None) -> None:
        """Turn the optimisation off for this process; log once, with the reason.

        Parameters:
            reason: what surprised us, in a few words (never a secret).
            error: the exception that did, if any; its type and message go into the record.
        """
        with _lock:
            if not self.active:
                return
            self.active = False
            self.reason = reason if error is None else f"{reason}: {type(error).__name__}: {error}"
        # Perhaps under a lock of the caller's: then logged when its thread releases the last.
        _locks.log(
            log,
            logging.WARNING,
            "sessionpool: %s is off for this process (%s); using botocore's public path instead",
            self.name,
            self.reason,
        )

    def unavailable(self, reason: str) -> None:
        """Turn the optimisation off for this process because it cannot apply here (a platform
        without what it needs), not because botocore surprised it: logged at DEBUG only.

        Parameters:
            reason: why it cannot apply, in a few words.
        """
        with _lock:
            if not self.active:
                return
            self.active = False
            self.reason = reason
        log.debug("sessionpool: %s does not apply to this process (%s)", self.name, reason)

    def __repr__(self) -> str:
        state = "on" if self.active else f"off ({self.reason})"
        return f"<Switch {self.name} {state}>"


def diagnostics() -> dict[str, dict[str, Any]]:
    """Each optimisation that uses botocore internals: whether it is active, and if not, why."""
    with _lock:
        switches = list(_switches.values())
    return {
        s.name: {"active": s.active, "reason": s.reason, "what": s.what}
        for s in sorted(switches, key=lambda s: s.name)
    }
