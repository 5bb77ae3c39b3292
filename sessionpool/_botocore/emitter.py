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
``children`` and ``values``; ``NodeList``). :func:`cow_supported` checks it against botocore's
own trie on the real built-in handlers before the pool uses it, and the pool falls back to
botocore's emitter if anything differs.
"""

from __future__ import annotations

import copy
from typing import Any

from botocore import hooks
from botocore.hooks import HierarchicalEmitter, NodeList

__all__ = ["CowEmitter", "cow_supported"]

_Node = dict[str, Any]
# Private botocore names, looked up once (cow_supported() verifies the behaviour they imply).
_PrefixTrie: Any = getattr(hooks, "_PrefixTrie")  # noqa: B009
_MIDDLE: int = getattr(hooks, "_MIDDLE")  # noqa: B009


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


class CowEmitter(HierarchicalEmitter):
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
        new.__dict__.update(state)
        return new


def cow_supported(proto: CowEmitter, reference: Any) -> bool:
    """True if ``proto`` (built like ``reference``) answers every lookup exactly as it does.

    Checks each registered event name, through a copy and after a write on the copy, so a
    botocore release that changed the trie's layout is caught before any session uses it.
    """
    names: list[str] = []

    def walk(node: _Node, prefix: list[str]) -> None:
        for part, child in node["children"].items():
            names.append(".".join([*prefix, part]))
            walk(child, [*prefix, part])

    try:
        walk(reference._handlers._root, [])
        probe: Any = copy.copy(proto)
        cow: Any = proto

        def marker(**kwargs: Any) -> None:
            return None

        probe.register("sessionpool-probe.event", marker)
        for name in names:
            expected = list(reference._handlers.prefix_search(name))
            if list(cow._handlers.prefix_search(name)) != expected:
                return False
            if list(probe._handlers.prefix_search(name)) != expected:
                return False
        probe.unregister("sessionpool-probe.event", marker)
        return not cow._handlers.prefix_search("sessionpool-probe.event") and bool(names)
    except Exception:  # noqa: BLE001 - any surprise means: do not use it
        return False
