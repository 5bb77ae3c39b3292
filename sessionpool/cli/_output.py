"""What every command prints through: the program name, the width it lays text out for,
one-line failures, masked values, readable times, and aligned rows."""

from __future__ import annotations

import datetime
import sys
import textwrap

__all__ = [
    "DEMO_EXTRA",
    "PROG",
    "WIDTH",
    "aware",
    "describe_expiry",
    "fail",
    "mask",
    "print_rows",
    "span",
]

PROG = "sessionpool"
DEMO_EXTRA = "pip install 'sessionpool[demo]'"
WIDTH = 80  # columns the help texts and the demo's tables and progress lines are laid out for


def mask(value: str | None) -> str:
    """``value`` with every character but the last 4 replaced by ``*`` (None -> ``-``)."""
    if not value:
        return "-"
    if len(value) <= 4:
        return "*" * len(value)
    return "*" * (len(value) - 4) + value[-4:]


def fail(message: str, code: int) -> int:
    """Print ``sessionpool: message`` on stderr and return ``code``."""
    print(f"{PROG}: {message}", file=sys.stderr)
    return code


def aware(when: datetime.datetime | None) -> datetime.datetime | None:
    """``when`` in UTC (a naive time is taken as UTC; None stays None).

    Parameters:
        when: a time, or None.
    """
    if when is None:
        return None
    if when.tzinfo is None:  # botocore's are aware; a naive one is taken as UTC
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when.astimezone(datetime.timezone.utc)


def span(seconds: float) -> str:
    """A length of time in days, hours and minutes: ``"3 days 4 h"``, ``"5 h 12 min"``.

    Parameters:
        seconds: how long (its sign is ignored).
    """
    total = int(abs(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days >= 365:
        return f"{days:,} days (about {days / 365.25:.0f} years)"
    if days >= 10:
        return f"{days} days"
    if days:
        day = "1 day" if days == 1 else f"{days} days"
        return f"{day} {hours} h" if hours else day
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


def describe_expiry(expiry: datetime.datetime, now: datetime.datetime) -> str:
    """``expiry`` as a UTC date and how far it is from ``now``.

    Parameters:
        expiry: when the credentials expire (a naive time is taken as UTC).
        now: the time to count from.
    """
    when, at = aware(expiry), aware(now)
    assert when is not None and at is not None
    date = when.strftime("%Y-%m-%d %H:%M UTC")
    delta = (when - at).total_seconds()
    return f"{date} (in {span(delta)})" if delta >= 0 else f"{date} (expired {span(delta)} ago)"


def print_rows(rows: list[tuple[str, str]]) -> None:
    """Print rows as ``name  value``, values wrapped at ``WIDTH`` under their own column.

    Parameters:
        rows: (name, value) pairs; a name indented by two spaces reads as a detail of the
            row above.
    """
    width = max(len(name) for name, _ in rows) + 2
    for name, value in rows:
        lines = textwrap.wrap(value, WIDTH - width, break_long_words=False) or [""]
        print(f"{name:<{width}}{lines[0]}")
        for line in lines[1:]:
            print(f"{'':<{width}}{line}")
