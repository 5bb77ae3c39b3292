"""What the demo's parent hands each worker process, and what both sides share.

A :class:`Target` says where requests go and what they may touch; a :class:`Plan` is one worker's
share of the work. Both pickle (they hold no secret) and travel to the worker with the pool.
:func:`install` puts a target's AWS_* variables in place in a worker; :func:`environment` does
the same in the parent and puts the old ones back afterwards. :func:`describe` is how both sides
turn an exception into one line of text, with any secret this process knows scrubbed from it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = [
    "NAME_PREFIX",
    "REPORT_EVERY",
    "SERVICES",
    "Plan",
    "Target",
    "describe",
    "environment",
    "install",
]

SERVICES = ("s3", "sqs", "dynamodb")
NAME_PREFIX = "sessionpool-demo-"
REPORT_EVERY = 0.1  # seconds between a worker's progress messages


@dataclass(frozen=True)
class Target:
    """Where the workers send requests, and what they may touch. Holds no secret."""

    env: dict[str, str] = field(default_factory=dict)  # AWS_* variables the workers install
    clear_env: bool = False  # remove every other AWS_* variable first (the local moto server)
    profile: str | None = None
    region: str | None = None
    write: bool = True
    bucket: str | None = None
    queue_url: str | None = None
    table: str | None = None


@dataclass(frozen=True)
class Plan:
    index: int
    threads: int
    duration: float
    ops: int | None
    baseline: bool
    target: Target


@contextlib.contextmanager
def environment(target: Target) -> Iterator[None]:
    """Install the target's AWS_* variables in this process; restore the old ones on exit."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    install(target)
    try:
        yield
    finally:
        for name in [n for n in os.environ if n.startswith("AWS_")]:
            del os.environ[name]
        os.environ.update(saved)


def install(target: Target) -> None:
    if target.clear_env:
        for name in [n for n in os.environ if n.startswith("AWS_")]:
            del os.environ[name]
    os.environ.update(target.env)


def describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    # botocore's messages carry no secret, but scrub the ones this process knows, to be sure.
    for name in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        secret = os.environ.get(name)
        if secret:
            text = text.replace(secret, "***")
    return text[:300]
