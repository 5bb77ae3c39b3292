"""While one thread builds the prototype emitter, the others wait for it, holding no lock.

A burst of new threads (a pool's workers starting together) then all copy the copy-on-write
prototype, the lighter one, instead of each copying botocore's heavier emitter for the ~6-10 ms
the build takes. The wait is bounded, the building thread itself never waits (a logging or
signal handler re-entering it), and a forked child does not wait for a build its parent had
under way.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sessionpool._botocore import emitter as _emitter
from sessionpool._botocore import sessions

WAITERS = 8
HANG_GUARD = 30.0  # seconds: only so that a broken build cannot hang the suite


def _emitter_of(core: Any) -> Any:
    events = core._events
    return getattr(events, "_emitter", events)  # inside the shared alias cache, if it is on


@pytest.fixture
def cow_due(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A published reference prototype that has been copied enough: the next session builds the
    copy-on-write one."""
    if not (sessions.prototype.active and _emitter.cow.active):
        pytest.skip("the prototype or copy-on-write emitter is switched off here")
    reference = sessions._build_reference()
    assert reference is not None
    monkeypatch.setattr(sessions, "_proto", (sessions._builtins_signature(), reference))
    monkeypatch.setattr(sessions, "_reference_uses", sessions.COW_FROM)
    yield
    assert sessions._building == {}


@pytest.fixture
def pauses(monkeypatch: pytest.MonkeyPatch) -> set[int]:
    """The idents of the threads that waited for a build (called the module's pause)."""
    waited: set[int] = set()
    real = sessions._pause

    def pause(seconds: float) -> None:
        waited.add(threading.get_ident())
        real(seconds)

    monkeypatch.setattr(sessions, "_pause", pause)
    return waited


def _slow_build(monkeypatch: pytest.MonkeyPatch, during: Callable[[], None]) -> threading.Event:
    """Make the copy-on-write build run ``during()`` first; returns an event set when it starts."""
    started = threading.Event()
    real = sessions._build_cow

    def build(reference: Any) -> Any:
        started.set()
        during()
        return real(reference)

    monkeypatch.setattr(sessions, "_build_cow", build)
    return started


def test_threads_started_during_a_build_wait_for_it_and_copy_the_new_prototype(
    cow_due: None, pauses: set[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    def until_all_wait() -> None:  # the build goes on once every waiter is waiting
        deadline = threading.Event()
        for _ in range(int(HANG_GUARD / 0.01)):
            if len(pauses) >= WAITERS:
                return
            deadline.wait(0.01)

    started = _slow_build(monkeypatch, until_all_wait)
    built: list[Any] = []
    builder = threading.Thread(target=lambda: built.append(sessions.new_core_session(None)))
    builder.start()
    assert started.wait(HANG_GUARD)
    barrier = threading.Barrier(WAITERS)
    cores: list[Any] = []

    def waiter() -> None:
        barrier.wait()
        cores.append(sessions.new_core_session(None))

    threads = [threading.Thread(target=waiter) for _ in range(WAITERS)]
    for t in threads:
        t.start()
    for t in [*threads, builder]:
        t.join(HANG_GUARD)
    assert len(pauses) == WAITERS  # every one of them waited for the build
    kinds = {type(_emitter_of(core)) for core in [*cores, *built]}
    assert kinds == {_emitter.CowEmitter} and len(cores) == WAITERS


def test_the_building_thread_re_entering_never_waits(
    cow_due: None, pauses: set[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    nested: list[Any] = []
    # As a logging or signal handler would, in the building thread, in the middle of its build.
    _slow_build(monkeypatch, lambda: nested.append(sessions.new_core_session(None)))
    outer = sessions.new_core_session(None)
    assert pauses == set()  # no wait: the build it would wait for is its own
    assert type(_emitter_of(nested[0])) is _emitter.WatchedEmitter  # the published reference
    assert type(_emitter_of(outer)) is _emitter.CowEmitter


def test_a_wait_for_a_build_that_does_not_end_is_bounded(
    cow_due: None, pauses: set[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sessions, "BUILD_WAIT", 0.05)
    release = threading.Event()
    started = _slow_build(monkeypatch, lambda: release.wait(HANG_GUARD))
    builder = threading.Thread(target=sessions.new_core_session, args=(None,))
    builder.start()
    try:
        assert started.wait(HANG_GUARD)
        core = sessions.new_core_session(None)  # returns while the build still hangs
        assert builder.is_alive() and pauses == {threading.get_ident()}
        assert type(_emitter_of(core)) is _emitter.WatchedEmitter  # what was published
    finally:
        release.set()
        builder.join(HANG_GUARD)


@pytest.mark.compat
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_does_not_wait_for_its_parents_build(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A thread of the parent is building when it forks: that thread does not exist in the child.
    signature = sessions._builtins_signature()
    monkeypatch.setitem(sessions._building, signature, -1)
    pid = os.fork()
    if pid == 0:  # the child: judged by its exit code, under an alarm
        signal.alarm(60)
        code = 0 if sessions._building == {} else 1
        try:
            sessions.new_core_session(None)
        except BaseException:
            code = 2
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
