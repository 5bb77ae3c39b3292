"""Building a botocore session cheaply: everything read-only is made once per process.

A fresh ``botocore.session.Session`` costs ~9 ms before it has made a single client: it registers
~130 built-in event handlers one by one (each through an alias check and a signature
inspection), and it builds its own data loader, endpoint resolver and exceptions factory. Only the
*state* of a session must be per thread; these pieces are read-only or idempotent caches, so we
build them once and hand every new session its own copy or a shared reference:

* **Built-in handlers** (switch ``prototype_emitter``): a prototype emitter holds them,
  registered once. Each session gets a copy whose lookup cache and unique-id table are its own
  (``copy.copy`` of a botocore emitter would share both, HAZARDS S2). The prototype is a
  copy-on-write :class:`~.emitter.CowEmitter`, so the copy is O(1), and so are the copies botocore
  makes of it for every client; if that emitter does not match this botocore's trie, a plain
  emitter whose trie is copied node by node. Passed through botocore's public ``event_hooks`` /
  ``include_builtin_handlers``. The prototype is rebuilt whenever
  ``botocore.handlers.BUILTIN_HANDLERS`` changes (moto appends its ``before-send`` handler when it
  is imported; HAZARDS P1), so a new session carries exactly what a plain one made then would.
* **Data loader** (:mod:`.loader`, switch ``shared_loader``), **endpoint resolver**
  (``endpoints.json``, read-only) and **exceptions factory** (a per-service cache of generated
  exception classes; a racing first build makes the same class twice, harmlessly; switch
  ``shared_components``): one per process and data path.

Private botocore names: ``HierarchicalEmitter._handlers`` and ``_unique_id_handlers``,
``Session._register_internal_component`` / ``_get_internal_component``. Each use is guarded where
it happens: on any surprise its switch goes off and sessions are built botocore's own way, slower
but equally correct.

``_lock`` guards publishing the prototype and the shared components, which are built outside it
(a botocore session is made, and may log) by one thread at a time; afterwards they are only
read. A :class:`~sessionpool._fork.Lock`: a forked child gets a fresh one. While a prototype is
being built, other threads wait for it holding no lock, by polling for at most ``BUILD_WAIT``
seconds (a burst of new threads then all copy the cheaper prototype instead of each building
a heavier emitter); the building thread itself, re-entering from a logging or signal handler,
never waits, and a forked child forgets builds under way in its parent.
"""

from __future__ import annotations

import copy
import logging
import os
import threading
import time
from typing import Any, cast

import botocore.handlers
import botocore.session
from botocore.configprovider import ConstantProvider
from botocore.credentials import CredentialProvider, CredentialResolver
from botocore.hooks import HierarchicalEmitter

from .. import _fork
from . import emitter as _emitter
from . import loader as _loader
from . import scope
from . import settings as _settings
from .guard import SURPRISES, Switch

__all__ = [
    "env_profile",
    "new_core_session",
    "new_watched_session",
    "set_credentials",
    "sync_builtins",
]

log = logging.getLogger("sessionpool")

prototype = Switch(
    "prototype_emitter",
    "register botocore's ~130 built-in handlers once and copy them into each new session; "
    "off: each session registers them itself (~9 ms)",
)
components = Switch(
    "shared_components",
    "one endpoint resolver and exceptions factory per process; off: one per session",
)

_SHARED_INTERNALS = ("endpoint_resolver", "exceptions_factory")

# Built under _lock, then only read. Inherited across fork, like the loader.
_lock = _fork.Lock()
_proto: tuple[int, HierarchicalEmitter] | None = None  # (BUILTIN_HANDLERS signature, prototype)
_internals: dict[str | None, dict[str, Any]] = {}
# The session from which the copy-on-write prototype replaces botocore's own (see _prototype).
COW_FROM = 3
_reference_uses = 0  # sessions copied from the current reference prototype
# BUILTIN_HANDLERS signature -> the ident of the thread building a prototype for it now.
_building: dict[int, int] = {}
# Seconds a thread waits for another's prototype build (~6-10 ms on a quiet machine) before it
# builds its session botocore's own way: only a bound, so that a builder stalled in a logging
# handler this thread holds cannot hang it.
BUILD_WAIT = 5.0


def _builtins() -> tuple[Any, ...]:
    return tuple(botocore.handlers.BUILTIN_HANDLERS)


def _builtins_signature() -> int:
    """Changes whenever anything is added to, removed from or replaced in BUILTIN_HANDLERS."""
    return hash(_builtins())


def _prototype() -> HierarchicalEmitter | None:
    """The emitter every new session copies: botocore's built-in handlers, registered once.

    The first one is botocore's own emitter, built as a plain session would build it; the first
    :data:`COW_FROM` - 1 sessions copy it (a trie copy, ~0.4 ms). The copy-on-write one (O(1)
    to copy and lighter per client, but ~6 ms to build and check against the reference) replaces
    it from session :data:`COW_FROM` on. A process that makes one client (a script, a Lambda cold
    start: a session to resolve credentials and the thread's own) never pays for it.
    """
    global _proto, _reference_uses
    if not prototype.active:
        return None
    try:
        signature = _builtins_signature()
    except SURPRISES as exc:
        prototype.off("botocore.handlers.BUILTIN_HANDLERS is not a list of handlers", exc)
        return None
    proto = _proto
    if proto is not None and proto[0] == signature:
        if isinstance(proto[1], _emitter.CowEmitter) or not _emitter.cow.active:
            return proto[1]
        if _reference_uses < COW_FROM - 1:
            _reference_uses += 1  # unlocked: a lost update only moves the switch by a session
            return proto[1]
    # Built outside the lock (building makes a botocore session, which may log: no user code
    # under a lock), by one thread at a time: meanwhile the others wait for it, holding no lock
    # and for at most BUILD_WAIT, then use what is published (or, with nothing published, build
    # their sessions botocore's own way: correct, only slower).
    me = threading.get_ident()
    with _lock:
        current: Any = _proto
        stale = current is None or current[0] != signature
        cow_due = not stale and _emitter.cow.active
        wants_cow = cow_due and not isinstance(current[1], _emitter.CowEmitter)
        builder = _building.get(signature)
        mine = (stale or wants_cow) and builder is None
        if mine:
            _building[signature] = me
    if not mine:
        if builder is not None and builder != me and _wait_for_build(signature):
            current = _proto
            stale = current is None or current[0] != signature
        return None if stale else cast(HierarchicalEmitter, current[1])
    try:
        if stale:
            built = _build_reference()
            if built is not None:
                with _lock:
                    _proto, _reference_uses = (signature, built), 1
                if current is not None:
                    log.debug("botocore's built-in handlers changed; rebuilt the prototype emitter")
            return built
        chosen = cast(HierarchicalEmitter, current[1])
        cow = _build_cow(chosen)
        if cow is None:
            return chosen
        with _lock:
            if _proto is current:
                _proto = (signature, cow)
        return cow
    finally:
        with _lock:
            _building.pop(signature, None)


def _wait_for_build(signature: int) -> bool:
    """Wait, holding no lock, until no thread builds a prototype for ``signature``; False if
    that took longer than :data:`BUILD_WAIT`."""
    deadline = time.monotonic() + BUILD_WAIT
    pause = 0.0005
    while signature in _building:  # a dict lookup: atomic, no lock needed
        if time.monotonic() >= deadline:
            return False
        _pause(pause)
        pause = min(pause * 2, 0.01)
    return True


_pause = time.sleep  # a name of its own, for the tests to watch the waits


def _forget_builds_after_fork() -> None:
    _building.clear()  # their threads are not in the child: nobody would finish them


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_builds_after_fork)


def _build_reference() -> HierarchicalEmitter | None:
    try:
        builtins = _builtins()
        reference: Any = _emitter.WatchedEmitter()
        botocore.session.Session(event_hooks=reference)  # registers the built-ins
        _copy_emitter(reference)  # the copy must work before any session relies on it
        reference.builtins = builtins
        return cast(HierarchicalEmitter, reference)
    except SURPRISES as exc:
        prototype.off("building the prototype emitter failed", exc)
        return None


def _build_cow(reference: Any) -> HierarchicalEmitter | None:
    try:
        cow: Any = _emitter.CowEmitter()
        botocore.session.Session(event_hooks=cow)
    except SURPRISES as exc:
        _emitter.cow.off("building the copy-on-write emitter failed", exc)
        return None
    if not _emitter.cow_supported(cow, reference):
        return None
    cow.builtins = reference.builtins
    return cast(HierarchicalEmitter, cow)


def _copy_emitter(proto: HierarchicalEmitter) -> HierarchicalEmitter:
    """A new session's emitter: O(1) for a :class:`CowEmitter`, a trie copy otherwise."""
    if isinstance(proto, _emitter.CowEmitter):
        return copy.copy(proto)
    emitter: Any = _emitter.WatchedEmitter()
    source: Any = proto
    emitter._handlers = copy.copy(source._handlers)
    emitter._unique_id_handlers = {k: dict(v) for k, v in source._unique_id_handlers.items()}
    emitter.builtins = source.builtins
    return cast(HierarchicalEmitter, emitter)


def _share_internals(core: Any, data_path: str | None) -> None:
    shared = _internals.get(data_path)
    if shared is None:
        # Built on this session (already using the shared loader), then published.
        built = {name: core._get_internal_component(name) for name in _SHARED_INTERNALS}
        with _lock:
            shared = _internals.setdefault(data_path, built)
    for name, component in shared.items():
        core._register_internal_component(name, component)


_FROM_ENVIRONMENT: Any = object()


def env_profile() -> str | None:
    """The profile the environment names now, as botocore reads it (``AWS_DEFAULT_PROFILE``,
    then ``AWS_PROFILE``), or None."""
    for name in ("AWS_DEFAULT_PROFILE", "AWS_PROFILE"):
        value = os.environ.get(name)
        if value is not None:
            return value
    return None


def new_core_session(profile: str | None, env_profile: str | None = _FROM_ENVIRONMENT) -> Any:
    """A new botocore session for ``profile``, sharing every read-only piece with its peers.

    Parameters:
        profile: the profile to select, or None for botocore's default resolution.
        env_profile: with ``profile`` None, the profile to read as the environment's
            (``AWS_PROFILE``) from now on, whatever the environment says later; by default the
            environment is read at every lookup, as botocore does.
    """
    return new_watched_session(profile, env_profile)[0]


def new_watched_session(
    profile: str | None, env_profile: str | None = _FROM_ENVIRONMENT
) -> tuple[Any, _emitter.Watched]:
    """As :func:`new_core_session`, and the session's :class:`~.emitter.Watched` emitter.

    Parameters:
        profile: the profile to select, or None for botocore's default resolution.
        env_profile: as for :func:`new_core_session`.
    """
    # Marked as the pool's work: the config files it parses are shared by content (.configfiles).
    with scope.pooled(None):
        return _new_watched_session(profile, env_profile)


def _new_watched_session(
    profile: str | None, env_profile: str | None
) -> tuple[Any, _emitter.Watched]:
    core = None
    events: Any = None
    proto = _prototype()
    if proto is not None:
        try:
            events = _copy_emitter(proto)
            core = botocore.session.Session(event_hooks=events, include_builtin_handlers=False)
        except SURPRISES as exc:
            prototype.off("copying the prototype emitter failed", exc)
    if core is None:
        events = _emitter.WatchedEmitter()
        builtins = _builtins()
        core = botocore.session.Session(event_hooks=events)  # botocore registers the built-ins
        events.builtins = builtins
    if _emitter.aliases.active:
        _share_alias_cache(core, events)
    if profile is not None:
        core.set_config_variable("profile", profile)
    elif env_profile is not _FROM_ENVIRONMENT:
        # Through the config store, not set_config_variable: botocore treats a profile set on the
        # session as explicit and then skips environment keys, which AWS_PROFILE does not.
        core.get_component("config_store").set_config_provider(
            "profile", ConstantProvider(value=env_profile)
        )
    _settings.tag(core)  # its configuration providers are botocore's defaults (but "profile")
    # Register the shared loader before boto3 wraps the session (HAZARDS S1): boto3 then appends
    # its data path to the shared loader's de-duplicating search path list.
    data_path = core.get_config_variable("data_path")
    loader = _loader.loader_for(data_path)
    if loader is not None:
        core.register_component("data_loader", loader)
    if components.active:
        try:
            _share_internals(core, data_path)
        except SURPRISES as exc:
            components.off("sharing the endpoint resolver and exceptions factory failed", exc)
    return core, events


def _share_alias_cache(core: Any, events: Any) -> None:
    """Wrap ``core``'s emitter in a :class:`~.emitter.SharedAliasCache` (session and clients)."""
    try:
        current = core._events
        if (
            type(current) is not _emitter._EventAliaser
            or current._emitter is not events
            or not isinstance(current._alias_name_cache, dict)
        ):
            _emitter.aliases.off(
                "botocore's session does not wrap its emitter in an EventAliaser as expected"
            )
            return
        shared = _emitter.SharedAliasCache(events, current._event_aliases)
        core._events = shared  # the session's own register/emit
        core.register_component("event_emitter", shared)  # what create_client copies
    except SURPRISES as exc:
        _emitter.aliases.off("sharing botocore's event alias cache failed", exc)


def sync_builtins(core: Any, events: _emitter.Watched) -> bool:
    """Bring a session's built-in handlers up to date with ``BUILTIN_HANDLERS``; True if changed.

    A plugin that edits botocore's built-in handlers after import (moto appends its
    ``before-send`` interceptor) changes what a plain botocore session made *now* would carry;
    this registers (or unregisters) the difference on ``core``, through botocore's public
    ``register*``/``unregister``, as botocore registers built-ins, so clients made from it
    afterwards carry exactly what a plain session's would.

    Parameters:
        core: a botocore session made by :func:`new_watched_session`.
        events: its emitter, whose ``builtins`` record what it carries.
    """
    current = _builtins()
    seen = events.builtins
    if current == seen:
        return False
    now, before = set(current), set(seen)
    for spec in seen:
        if spec not in now:
            core.unregister(spec[0], spec[1])
    for spec in current:
        if spec in before:
            continue
        if len(spec) == 2:
            core.register(spec[0], spec[1])
        elif spec[2] is botocore.handlers.REGISTER_FIRST:
            core.get_component("event_emitter").register_first(spec[0], spec[1])
        elif spec[2] is botocore.handlers.REGISTER_LAST:
            core.get_component("event_emitter").register_last(spec[0], spec[1])
    events.builtins = current
    return True


class _Given(CredentialProvider):
    METHOD = "sessionpool-shared"

    def __init__(self, credentials: Any) -> None:
        super().__init__()
        self.credentials = credentials

    def load(self) -> Any:
        return self.credentials


class _GivenResolver(CredentialResolver):
    """A credential resolver whose chain is the one given provider (still a CredentialResolver,
    so code that inserts providers into a session's resolver keeps working)."""

    def __init__(self, credentials: Any) -> None:
        super().__init__([_Given(credentials)])
        self.given = credentials

    def load_credentials(self) -> Any:
        return self.given


def set_credentials(core: Any, credentials: Any) -> None:
    """Make ``core.get_credentials()`` return ``credentials`` without walking the chain.

    Through botocore's public component API: the session's credential provider becomes one that
    answers with ``credentials``.

    Parameters:
        core: a botocore session that has not resolved credentials yet.
        credentials: the object its ``get_credentials()`` returns from now on (None: none).
    """
    core.register_component("credential_provider", _GivenResolver(credentials))
