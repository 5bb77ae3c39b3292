"""Building a botocore session cheaply: everything read-only is made once per process.

A fresh ``botocore.session.Session`` costs ~9 ms before it has made a single client: it registers
~130 built-in event handlers one by one (each through an alias check and a signature
inspection), and it builds its own data loader, endpoint resolver and exceptions factory. Only the
*state* of a session must be per thread; these pieces are read-only or idempotent caches, so we
build them once and hand every new session its own copy or a shared reference:

* **Built-in handlers**: a prototype emitter holds them, registered once. Each session gets a
  copy whose lookup cache and unique-id table are its own (``copy.copy`` of a botocore emitter
  would share both, HAZARDS S2). The prototype is a copy-on-write :class:`~.emitter.CowEmitter`,
  so the copy is O(1), and so are the copies botocore makes of it for every client; if that
  emitter does not match this botocore's trie, a plain emitter whose trie is copied node by
  node. Passed through botocore's public ``event_hooks`` / ``include_builtin_handlers``.
* **Data loader** (:mod:`.loader`), **endpoint resolver** (``endpoints.json``, read-only) and
  **exceptions factory** (a per-service cache of generated exception classes; a racing first
  build makes the same class twice, harmlessly): one per process and data path.

Relied-on private botocore attributes: ``HierarchicalEmitter._handlers`` and
``_unique_id_handlers``, ``Session._register_internal_component`` / ``_get_internal_component``.
If any is missing (a future botocore), we fall back to plain sessions, which are slower but
equally correct.
"""

from __future__ import annotations

import copy
import logging
from typing import Any, cast

import botocore.session
from botocore.hooks import HierarchicalEmitter

from .. import _fork
from . import loader as _loader
from .emitter import CowEmitter, cow_supported

__all__ = ["new_core_session"]

log = logging.getLogger("sessionpool")

_SHARED_INTERNALS = ("endpoint_resolver", "exceptions_factory")

# Built once per process under _lock, then only read. Inherited across fork, like the loader.
_lock = _fork.Lock()
_proto_emitter: HierarchicalEmitter | None = None
_internals: dict[str | None, dict[str, Any]] = {}
_fast = True


def _prototype() -> HierarchicalEmitter | None:
    """The emitter every new session copies: botocore's built-in handlers, registered once."""
    global _proto_emitter, _fast
    if _proto_emitter is not None or not _fast:
        return _proto_emitter
    with _lock:
        if _proto_emitter is None and _fast:
            try:
                reference = HierarchicalEmitter()
                botocore.session.Session(event_hooks=reference)  # registers the built-ins
                cow = CowEmitter()
                botocore.session.Session(event_hooks=cow)
                chosen: HierarchicalEmitter = cow if cow_supported(cow, reference) else reference
                _copy_emitter(chosen)
            except (AttributeError, TypeError):  # botocore changed its internals
                log.debug("prototype emitter unavailable; using plain sessions", exc_info=True)
                _fast = False
                return None
            if chosen is reference:
                log.debug("copy-on-write emitter does not match this botocore; not using it")
            _proto_emitter = chosen
    return _proto_emitter


def _copy_emitter(proto: HierarchicalEmitter) -> HierarchicalEmitter:
    """A new session's emitter: O(1) for a :class:`CowEmitter`, a trie copy otherwise."""
    if isinstance(proto, CowEmitter):
        return copy.copy(proto)
    emitter: Any = HierarchicalEmitter()
    source: Any = proto
    emitter._handlers = copy.copy(source._handlers)
    emitter._unique_id_handlers = {k: dict(v) for k, v in source._unique_id_handlers.items()}
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


def new_core_session(profile: str | None) -> Any:
    """A new botocore session for ``profile``, sharing every read-only piece with its peers.

    Parameters:
        profile: the profile to select, or None for botocore's default resolution.
    """
    proto = _prototype()
    if proto is None:
        core = botocore.session.Session()
    else:
        core = botocore.session.Session(
            event_hooks=_copy_emitter(proto), include_builtin_handlers=False
        )
    if profile is not None:
        core.set_config_variable("profile", profile)
    # Register the shared loader before boto3 wraps the session (HAZARDS S1): boto3 then appends
    # its data path to the shared loader's de-duplicating search path list.
    data_path = core.get_config_variable("data_path")
    core.register_component("data_loader", _loader.loader_for(data_path))
    if _fast:
        try:
            _share_internals(core, data_path)
        except AttributeError:
            log.debug("cannot share botocore internals", exc_info=True)
    return core
