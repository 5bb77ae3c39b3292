"""Single flight of credential resolution cannot wedge or spread (HAZARDS C3).

One thread resolves a key's credentials while the others wait on its cell. Whatever interrupts
the resolver, the cell is completed; an interrupt (KeyboardInterrupt, SystemExit) is the
resolver's own and the waiters resolve for themselves; an error reaches each waiter as its own
copy, chained to a note naming the thread that failed, never another thread's traceback; and a
waiter gives up after ``resolve_timeout`` with an error naming the key.
"""

from __future__ import annotations

import ast
import dis
import inspect
import sys
import textwrap
import threading
import traceback
from collections.abc import Callable
from typing import Any

import pytest
from botocore.credentials import Credentials
from botocore.exceptions import CredentialRetrievalError

from sessionpool import (
    CredentialResolutionError,
    CredentialWaitTimeout,
    SessionKey,
    SessionPool,
)
from sessionpool._credentials import CredentialCells
from tests.support.waits import blocked_in, wait_until

pytestmark = pytest.mark.compat  # in the matrix's floor cell too (tasks.py matrix)

KEY = SessionKey(profile="resolving", region="eu-west-1")
JOIN = 60.0  # a hang guard for joins, never a timing assertion


def static() -> Any:
    return Credentials("AKIAFLIGHTEXAMPLE001", "single-flight-secret-EXAMPLE", None, "test")


def start(fn: Callable[[], Any], name: str) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def target() -> None:
        try:
            out["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - reported through out
            out["error"] = exc

    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread, out


def waiting_on_cell(threads: list[threading.Thread]) -> Callable[[], bool]:
    return lambda: all(blocked_in(t, "wait") for t in threads)


# -- an interrupt anywhere in get() leaves no wedged cell ----------------------------------------


def _get_lines_outside_finally() -> list[int]:
    """Line numbers of CredentialCells._get's body, except its ``finally`` clause.

    An exception raised *inside* a finally clause stops that clause, which no Python code can
    prevent; the waiters' bounded wait covers that case (test below)."""
    source = textwrap.dedent(inspect.getsource(CredentialCells._get))
    first = CredentialCells._get.__code__.co_firstlineno
    protected: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Try) and node.finalbody:
            for stmt in node.finalbody:
                end = stmt.end_lineno or stmt.lineno
                protected.update(range(stmt.lineno + first - 1, end + first))
    lines = {line for _, line in dis.findlinestarts(CredentialCells._get.__code__) if line}
    return sorted(lines - protected - {first})


LINES = _get_lines_outside_finally()


def interrupt_at(line: int, fn: Callable[[], Any]) -> Callable[[], Any]:
    """``fn`` run with a KeyboardInterrupt raised the first time CredentialCells._get reaches
    ``line``: what an asynchronous exception (Ctrl-C, PyThreadState_SetAsyncExc) does."""
    code = CredentialCells._get.__code__
    fired = False

    def local(frame: Any, event: str, arg: Any) -> Any:
        nonlocal fired
        if event == "line" and frame.f_lineno == line and not fired:
            fired = True
            raise KeyboardInterrupt
        return local

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        return local if frame.f_code is code and not fired else None

    def run() -> Any:
        sys.settrace(tracer)
        try:
            return fn()
        finally:
            sys.settrace(None)

    return run


def test_the_interrupt_points_cover_the_body_of_get() -> None:
    assert len(LINES) >= 10, LINES


@pytest.mark.parametrize("line", LINES)
def test_an_interrupt_at_any_line_of_the_resolver_leaves_no_wedged_key(line: int) -> None:
    cells = CredentialCells(timeout=JOIN)
    resolver, out = start(interrupt_at(line, lambda: cells.get(KEY, static)), "resolver")
    resolver.join(JOIN)
    assert not resolver.is_alive()
    # Whatever happened to the first caller, the next one gets credentials: never a wait on a
    # cell nobody will complete.
    later, got = start(lambda: cells.get(KEY, static), "later")
    later.join(JOIN)
    assert not later.is_alive(), f"a KeyboardInterrupt at line {line} wedged the key"
    assert "error" not in got, got.get("error")
    assert got["value"].get_frozen_credentials().access_key == "AKIAFLIGHTEXAMPLE001"


# -- waiters never receive the resolver's interrupt ------------------------------------------


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, SystemExit])
def test_waiters_resolve_for_themselves_when_the_resolver_is_interrupted(
    interrupt: type[BaseException],
) -> None:
    cells = CredentialCells(timeout=JOIN)
    calls: list[str] = []
    waiters: list[threading.Thread] = []
    release = threading.Event()

    def resolve() -> Any:
        calls.append(threading.current_thread().name)
        if len(calls) == 1:  # the first resolver: interrupted once every waiter waits on it
            release.wait(JOIN)
            raise interrupt()
        return static()

    resolver, resolver_out = start(lambda: cells.get(KEY, resolve), "resolver")
    wait_until(lambda: len(calls) == 1, what="the resolver to start")
    results = [start(lambda: cells.get(KEY, resolve), f"waiter-{i}") for i in range(8)]
    waiters = [t for t, _ in results]
    wait_until(waiting_on_cell(waiters), what="the waiters to wait on the cell")
    release.set()
    for t in [resolver, *waiters]:
        t.join(JOIN)
        assert not t.is_alive()

    assert isinstance(resolver_out.get("error"), interrupt)  # the resolver's own
    errors = [out["error"] for _, out in results if "error" in out]
    assert errors == []  # no waiter received the interrupt
    assert len(calls) == 2  # one of the waiters resolved, once, for all of them
    values = {id(out["value"]) for _, out in results}
    assert len(values) == 1


# -- an error reaches each waiter as its own copy --------------------------------------------


def test_each_waiter_gets_its_own_copy_of_the_error_chained_to_a_note() -> None:
    cells = CredentialCells(timeout=JOIN)
    calls: list[int] = []
    release = threading.Event()

    def resolve() -> Any:
        calls.append(1)
        release.wait(JOIN)
        raise CredentialRetrievalError(provider="custom-process", error_msg="exit status 1")

    resolver, resolver_out = start(lambda: cells.get(KEY, resolve), "resolver")
    wait_until(lambda: calls == [1], what="the resolver to start")
    results = [start(lambda: cells.get(KEY, resolve), f"waiter-{i}") for i in range(16)]
    wait_until(waiting_on_cell([t for t, _ in results]), what="the waiters to wait")
    release.set()
    for t, _ in [(resolver, None), *results]:
        t.join(JOIN)

    original = resolver_out["error"]
    assert isinstance(original, CredentialRetrievalError)
    copies = [out["error"] for _, out in results]
    assert len(calls) == 1  # an error is shared, not retried by every waiter
    for exc in copies:
        assert type(exc) is CredentialRetrievalError  # `except` clauses work the same everywhere
        assert str(exc) == str(original)
        assert exc is not original
        note = exc.__cause__
        assert isinstance(note, CredentialResolutionError)
        assert "'resolver'" in str(note) and "profile='resolving'" in str(note)
        assert note.__traceback__ is None
        # Only this thread's frames: none of the resolver's (its resolve() raised the original).
        names = [f.name for f in traceback.extract_tb(exc.__traceback__)]
        assert "resolve" not in names, names
    assert len({id(e) for e in copies}) == len(copies)
    frames = traceback.format_exception(copies[0])
    assert sum(text.count("File ") for text in frames) < 15, "".join(frames)


# -- waiters wait with a bound ---------------------------------------------------------------


def test_a_waiter_gives_up_after_the_bound_with_an_error_naming_the_key() -> None:
    secret = "waiting-secret-EXAMPLE-never-shown"
    key = SessionKey.build(
        {
            "profile": "slow",
            "aws_access_key_id": "AKIAWAITEXAMPLE00001",
            "aws_secret_access_key": secret,
        }
    )
    cells = CredentialCells(timeout=0.2)  # the bound under test; no timing is asserted
    release = threading.Event()
    started = threading.Event()

    def resolve() -> Any:
        started.set()
        release.wait(JOIN)
        return static()

    resolver, resolver_out = start(lambda: cells.get(key, resolve), "resolver")
    started.wait(JOIN)
    waiter, waiter_out = start(lambda: cells.get(key, resolve), "waiter")
    waiter.join(JOIN)
    release.set()
    resolver.join(JOIN)

    error = waiter_out["error"]
    assert isinstance(error, CredentialWaitTimeout) and isinstance(error, TimeoutError)
    assert "profile='slow'" in str(error) and "'resolver'" in str(error)
    assert "resolve_timeout" in str(error)
    assert secret not in str(error) and secret not in repr(error)
    assert "value" in resolver_out  # the resolver itself finished normally


def test_the_pool_passes_its_resolve_timeout_to_the_waiters(aws_env: Any) -> None:
    with SessionPool(resolve_timeout=0.25) as pool:
        assert pool._factory.credentials.timeout == 0.25
        assert pool.__reduce__()[1][1].resolve_timeout == 0.25
