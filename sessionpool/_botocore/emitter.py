"""A copy-on-write event emitter for the sessions the pool makes.

botocore copies a session's event emitter for every client it creates (``copy.copy`` in
``botocore.args``), and a copy walks the whole handler trie: ~130 built-in handlers plus
boto3's, node by node. With models shared, that copy was the largest single cost left in a new
thread's session and clients (about a third of the time). Here a copy is O(1): both sides keep
the same trie nodes and treat them as frozen; whichever side registers or unregisters a handler
later first copies just the path to the node it changes ("path copying").

Two further differences from ``HierarchicalEmitter.__copy__``, both closing HAZARDS S2: a copy
gets its own lookup cache (botocore's copy shares the dict, so one side could be served handler
lists computed by the other) and its own unique-id bookkeeping (botocore's shares the inner
dicts, whose ``count`` an unregister decrements).

This relies on the layout of botocore's private ``_PrefixTrie`` (node dicts with ``chunk``,
``children`` and ``values``; ``NodeList``; ``_MIDDLE``) and ``HierarchicalEmitter``'s
``_handlers``, ``_unique_id_handlers`` and ``_lookup_cache``. Nothing here fails at import if
they are gone: :func:`cow_supported` checks the whole behaviour against botocore's own trie on
the real built-in handlers before the pool uses it, and any difference or error turns the
``cow_emitter`` switch off (the pool then copies botocore's own trie node by node).
"""

from __future__ import annotations

import contextlib
import copy
import types
import weakref
from typing import Any

from botocore import hooks
from botocore.hooks import HierarchicalEmitter

from .guard import SURPRISES, Switch

__all__ = [
    "CowEmitter",
    "SharedAliasCache",
    "Watched",
    "WatchedEmitter",
    "aliases",
    "checks",
    "cow",
    "cow_supported",
]

cow = Switch(
    "cow_emitter",
    "copy-on-write event emitters: a session's or client's copy of the handlers is O(1); "
    "off: each copy walks the whole handler trie",
)

_Node = dict[str, Any]
# Private botocore names, looked up once and never required at import: cow_supported() verifies
# the behaviour they imply before anything uses them.
_PrefixTrie: Any = getattr(hooks, "_PrefixTrie", object)
_MIDDLE: int = getattr(hooks, "_MIDDLE", 1)
NodeList: Any = getattr(hooks, "NodeList", None)


class _CowTrie(_PrefixTrie):  # type: ignore[misc]
    """A ``_PrefixTrie`` whose copies share nodes until one side writes.

    A node belongs to a trie when its ``_o`` entry is that trie's current token. ``__copy__``
    gives both tries fresh tokens, so every existing node is shared (frozen) from then on; a
    write copies the nodes on its path first (:meth:`_own_path`) and links the copies in.
    Readers (``prefix_search``) see ordinary nodes and need no change.
    """

    _root: _Node

    def __init__(self) -> None:
        super().__init__()
        self._token = object()
        self._root["_o"] = self._token

    def _own(self, node: _Node) -> _Node:
        if node.get("_o") is self._token:
            return node
        values = node["values"]
        return {
            "chunk": node["chunk"],
            "children": dict(node["children"]),
            "values": None
            if values is None
            else NodeList(list(values.first), list(values.middle), list(values.last)),
            "_o": self._token,
        }

    def _own_path(self, parts: list[str], create: bool) -> _Node | None:
        node = self._root = self._own(self._root)
        for part in parts:
            child = node["children"].get(part)
            if child is None:
                if not create:
                    return None
                child = {"chunk": part, "values": None, "children": {}, "_o": self._token}
            else:
                child = self._own(child)
            node["children"][part] = child
            node = child
        return node

    def append_item(self, key: str, value: Any, section: int = _MIDDLE) -> None:
        node = self._own_path(key.split("."), create=True)
        assert node is not None
        if node["values"] is None:
            node["values"] = NodeList([], [], [])
        node["values"][section].append(value)

    def remove_item(self, key: str, value: Any) -> None:
        self._own_path(key.split("."), create=False)
        super().remove_item(key, value)

    def __copy__(self) -> _CowTrie:
        new = self.__class__.__new__(self.__class__)
        new._root = self._root
        new._token = object()
        # The source must stop writing in place too: its nodes are now shared. Racing copies
        # of one source (the pool's prototype, copied by many threads) only ever replace this
        # token with another fresh one; the prototype itself is never written after it is built.
        self._token = object()
        return new


class Watched(HierarchicalEmitter):
    """An emitter that calls ``on_change()`` after every registration or unregistration made
    through its public methods, and remembers the built-in handlers it was given (``builtins``).

    A pooled session uses it to see ``s.events.register(...)`` and drop the clients it cached
    before (HAZARDS P2). A copy (botocore copies a session's emitter into each client) starts
    with no ``on_change``: a client's own registrations are not the session's.
    """

    on_change: Any = None
    builtins: tuple[Any, ...] = ()

    def _changed(self) -> None:
        callback = self.on_change
        if callback is not None:
            callback()

    def register(self, *args: Any, **kwargs: Any) -> Any:
        result = super().register(*args, **kwargs)
        self._changed()
        return result

    def register_first(self, *args: Any, **kwargs: Any) -> Any:
        result = super().register_first(*args, **kwargs)
        self._changed()
        return result

    def register_last(self, *args: Any, **kwargs: Any) -> Any:
        result = super().register_last(*args, **kwargs)
        self._changed()
        return result

    def unregister(self, *args: Any, **kwargs: Any) -> Any:
        result = super().unregister(*args, **kwargs)
        self._changed()
        return result

    def __copy__(self) -> Any:
        new = super().__copy__()
        new.on_change = None
        return new

    def _verify_accept_kwargs(self, func: Any) -> Any:
        # botocore inspects every handler's signature on every registration (~10 per client,
        # ~15 us each); the answer depends on the function alone, so remember the functions that
        # passed. A plain function with no attributes of its own (a closure made per session,
        # such as boto3's lazy_call handlers) is answered by its code object: inspect reads a
        # plain function's signature from its code, so every closure of one def gets the same
        # answer. Anything else (partials, wrapped or annotated functions) is asked by object.
        if not checks.active:
            return super()._verify_accept_kwargs(func)  # type: ignore[misc]
        target = getattr(func, "__func__", func)
        code = _plain_code(target)
        try:
            if target in _ACCEPTS_KWARGS or (code is not None and code in _ACCEPTS_BY_CODE):
                return None
        except TypeError:  # not hashable or not weakly referenceable: ask botocore
            return super()._verify_accept_kwargs(func)  # type: ignore[misc]
        result = super()._verify_accept_kwargs(func)  # type: ignore[misc]
        if result is None:
            with contextlib.suppress(TypeError):
                _ACCEPTS_KWARGS[target] = True
            if code is not None:
                _ACCEPTS_BY_CODE[code] = True
        return result


checks = Switch(
    "handler_check_memo",
    "remember which event handlers accept **kwargs (per function; per code object for plain "
    "closures); off: botocore inspects every handler at every registration (~15 us each)",
)

# Functions known to accept **kwargs (weakly: a function that goes is forgotten), and the code
# objects of plain functions known to (weakly too: code made by exec can go).
_ACCEPTS_KWARGS: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()
_ACCEPTS_BY_CODE: weakref.WeakKeyDictionary[types.CodeType, bool] = weakref.WeakKeyDictionary()


def _plain_code(target: Any) -> types.CodeType | None:
    """The code of a plain Python function with no attributes set on it, else None."""
    if type(target) is not types.FunctionType or target.__dict__:
        return None
    return target.__code__


class WatchedEmitter(Watched):
    """botocore's emitter, watched: used when the copy-on-write one is off."""


class CowEmitter(Watched):
    """A ``HierarchicalEmitter`` whose copies are O(1) and share no mutable bookkeeping."""

    def __init__(self) -> None:
        super().__init__()
        self._handlers = _CowTrie()

    def __copy__(self) -> CowEmitter:
        new = self.__class__.__new__(self.__class__)
        state = dict(self.__dict__)
        state["_handlers"] = copy.copy(state["_handlers"])
        state["_unique_id_handlers"] = {k: dict(v) for k, v in state["_unique_id_handlers"].items()}
        state["_lookup_cache"] = {}
        state["on_change"] = None
        new.__dict__.update(state)
        return new


def cow_supported(proto: CowEmitter, reference: Any) -> bool:
    """True if ``proto`` (built like ``reference``) answers every lookup exactly as it does;
    otherwise turn the ``cow_emitter`` switch off (with the reason) and return False.

    Checks each registered event name, through a copy and after a write on the copy, so a
    botocore release that changed the trie's layout is caught before any session uses it.
    """
    try:
        problem = _compare(proto, reference)
    except SURPRISES as exc:
        cow.off("checking the copy-on-write emitter against botocore's failed", exc)
        return False
    if problem:
        cow.off(problem)
        return False
    return True


def _compare(proto: CowEmitter, reference: Any) -> str | None:
    names: list[str] = []

    def walk(node: _Node, prefix: list[str]) -> None:
        for part, child in node["children"].items():
            names.append(".".join([*prefix, part]))
            walk(child, [*prefix, part])

    if _PrefixTrie is object or NodeList is None:
        return "botocore.hooks has no _PrefixTrie or NodeList"
    walk(reference._handlers._root, [])
    if not names:
        return "botocore's trie shows no registered event names"
    probe: Any = copy.copy(proto)
    original: Any = proto

    def marker(**kwargs: Any) -> None:
        return None

    probe.register("sessionpool-probe.event", marker)
    for name in names:
        expected = list(reference._handlers.prefix_search(name))
        if list(original._handlers.prefix_search(name)) != expected:
            return f"the copy-on-write trie answers {name!r} differently from botocore's"
        if list(probe._handlers.prefix_search(name)) != expected:
            return f"a copy of the copy-on-write trie answers {name!r} differently"
    probe.unregister("sessionpool-probe.event", marker)
    if original._handlers.prefix_search("sessionpool-probe.event"):
        return "a handler registered on a copy reached the original"
    return None


aliases = Switch(
    "shared_alias_cache",
    "one cache of botocore's event-name aliases per process, for every session and client; "
    "off: each client works out every event name's alias again (~0.35 ms per client)",
)

# botocore's aliaser is public; if a release drops it, the switch goes off at first use.
_EventAliaser: Any = getattr(hooks, "EventAliaser", object)
# One name cache per alias table (by content); a handful at most (one, unless a user passes
# botocore their own table). Entries are only ever added, with a value that depends on the event
# name and the table alone, so concurrent readers and writers agree.
_ALIAS_CACHES: dict[frozenset[tuple[Any, Any]], dict[str, str]] = {}
_MAX_ALIAS_TABLES = 8


class SharedAliasCache(_EventAliaser):  # type: ignore[misc]
    """botocore's ``EventAliaser`` whose event-name cache is shared by the whole process.

    botocore wraps each session's emitter in an ``EventAliaser`` and copies it into every
    client, and every copy starts with an empty cache: each client works out again, for every
    event it registers or emits, whether its name has an alias (~0.35 ms per client). The answer
    depends only on the name and the alias table, so copies made from this class (``__copy__``
    uses ``self.__class__``) share one cache per table. The table itself is still copied, as
    botocore copies it, so no handler, registration or table edit is shared. An aliaser whose
    table was edited in place after it was made (botocore's module table, or a client's own
    copy) notices at its next cache miss and goes on with a cache of its own, so the shared
    cache only ever holds answers computed from the table it is keyed by.
    """

    _alias_key: frozenset[tuple[Any, Any]] | None = None

    def __init__(self, event_emitter: Any, event_aliases: Any = None) -> None:
        super().__init__(event_emitter, event_aliases)
        try:
            key = frozenset(self._event_aliases.items())
            cache = _ALIAS_CACHES.get(key)
            if cache is None and len(_ALIAS_CACHES) < _MAX_ALIAS_TABLES:
                cache = _ALIAS_CACHES.setdefault(key, {})
        except (AttributeError, TypeError):  # an unhashable table: keep botocore's own cache
            return
        if cache is not None:
            self._alias_name_cache = cache
            self._alias_key = key

    def _alias_event_name(self, event_name: str) -> str:
        # Called on every emit: a hit costs what botocore's own method costs.
        cache = self._alias_name_cache
        if event_name in cache:
            hit: str = cache[event_name]
            return hit
        key = self._alias_key
        if key is not None:
            try:
                unchanged = frozenset(self._event_aliases.items()) == key
            except (AttributeError, TypeError):
                unchanged = False
            if not unchanged:  # the table was edited in place: stop sharing
                self._alias_name_cache = {}
                self._alias_key = None
        result: str = super()._alias_event_name(event_name)
        return result
