"""botocore's configuration answers, shared by the pool's sessions while their inputs agree
(issue 20).

Making a client resolves ~30 configuration variables (``retry_mode``, ``s3``, ``region``, ...)
through botocore's provider chains, and each chain reads the session's instance variables, the
environment and the session's profile in the config file; the profile alone is resolved ~50
times per client. That is ~0.1-0.3 ms per client (~17% of a new thread's client time), the same
answers for every session built the same way.

An answer of a *pristine* chain (the one ``create_botocore_default_config_mapping`` built for a
session the pool made, still in place) is a function of what the chain reads, and nothing else:

* the session's instance variables (``set_config_variable``): read at every lookup;
* the environment: named by :func:`.environ.token` at every lookup;
* the session's profile in its parsed config (``get_scoped_config()``, its own dict): read once
  per client being made (and again if the environment or the instance variables changed), by
  content; only a flat profile (every value a string) is used, so botocore's section providers
  never edit it; secret values enter the key only as a keyed digest;
* the chain's structure: botocore's default variable tables, compared with their first-seen
  contents when the session is made (a session made after a plugin edited them is not tagged).

So answers are kept per process under (variable, environment token, profile content, instance
variables) and handed to any pooled session whose lookup has the same inputs: a change of any
input (an environment variable, ``set_config_variable``, a rewritten config file read by a new
session, a user edit of a session's profile dict) is a different key, honoured exactly as
botocore would honour it. Overrides on the store (``ConfigValueStore.set_config_variable``) and
replaced providers (``set_config_provider``, smart defaults' copies) are not tagged: botocore
answers those. Only answers that botocore builds afresh are shared: scalars (None, bool, int,
float, str), and the dicts of section providers (``s3``, ``proxies_config``), handed out as
copies.

Races: the environment is named once per lookup, the profile once per client being made; an
edit of a session's parsed config *while one of its clients is being made* (from an event
handler of that client) is not seen until the next client.

Private names: ``ConfigValueStore._overrides`` and ``_mapping``; the module tables
``BOTOCORE_DEFAUT_SESSION_VARIABLES`` (sic), ``DEFAULT_S3_CONFIG_VARS`` and
``DEFAULT_PROXIES_CONFIG_VARS``. ``ConfigValueStore.get_config_variable`` is wrapped once per
process and acts only while a pooled session makes a client (:mod:`.scope`). Switch
``shared_config_answers``.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

import botocore.configprovider

from .._secrets import SECRET_NAMES, fingerprint
from . import environ, scope
from .guard import SURPRISES, Switch

__all__ = ["answers", "install", "tag"]

answers = Switch(
    "shared_config_answers",
    "share botocore's configuration answers between pooled sessions whose inputs agree "
    "(environment, profile, instance variables); off: each client resolves ~30 variables",
)

_TAG = "_sessionpool_config"  # on a pristine provider: (logical name, session, kind)
_SCALARS = (type(None), bool, int, float, str)
_MISSING: Any = object()

# (name, environment token, profile key, instance variables) -> answer. Only ever added to;
# replaced by an empty dict when it grows past _MAX_ANSWERS.
_answers: dict[Any, Any] = {}
_MAX_ANSWERS = 4096
_structure: tuple[Any, ...] | None = None  # botocore's tables as first seen (install)
# .context: (block, weak reference to the session, token, instance vars, profile key). Weak: a
# thread's memo must not keep a dropped session (and its credentials) alive.
_local = threading.local()


def _tables() -> tuple[Any, ...]:
    """What decides the structure of a new session's chains: botocore's builder functions and
    its three variable tables (live objects: copy them to keep a snapshot)."""
    module: Any = botocore.configprovider
    return (
        module.create_botocore_default_config_mapping,
        module.ConfigChainFactory.create_config_chain,
        module.BOTOCORE_DEFAUT_SESSION_VARIABLES,
        module.DEFAULT_S3_CONFIG_VARS,
        module.DEFAULT_PROXIES_CONFIG_VARS,
    )


@scope.on_first_use
def install() -> None:
    """Wrap ``ConfigValueStore.get_config_variable`` (once per process, by :mod:`.scope`)."""
    global _structure
    if not answers.active:
        return
    store: Any = botocore.configprovider.ConfigValueStore
    try:
        functions, tables = _tables()[:2], _tables()[2:]
        assert all(isinstance(t, dict) for t in tables), "a config variable table is not a dict"
        _structure = (*functions, *(dict(t) for t in tables))
        original = store.get_config_variable
        assert callable(original), "ConfigValueStore.get_config_variable is not callable"
        probe = store()
        assert isinstance(probe._overrides, dict), "ConfigValueStore._overrides is not a dict"
        assert isinstance(probe._mapping, dict), "ConfigValueStore._mapping is not a dict"
        store.get_config_variable = _wrap(original)
    except SURPRISES as exc:
        answers.off("wrapping ConfigValueStore.get_config_variable failed", exc)


def tag(core: Any) -> None:
    """Mark the providers of a new pooled session's config store as pristine.

    Parameters:
        core: a botocore session just made by the pool, before anyone else could change it.
    """
    if not answers.active or _structure is None:
        return
    try:
        if _tables() != _structure:
            return  # built from edited tables: botocore answers this session's lookups
        section = botocore.configprovider.SectionConfigProvider
        mapping = core.get_component("config_store")._mapping
        assert isinstance(mapping, dict), "ConfigValueStore._mapping is not a dict"
        for name, provider in mapping.items():
            setattr(provider, _TAG, (name, core, type(provider) is section))
    except SURPRISES as exc:
        answers.off("tagging a session's configuration providers failed", exc)


def _profile_key(core: Any) -> Any:
    """The content of ``core``'s profile as a hashable key, or None if it cannot be one."""
    scoped = core.get_scoped_config()
    if type(scoped) is not dict:
        return None
    items = []
    for option, value in scoped.items():
        if type(value) is not str or type(option) is not str:
            return None  # a nested section: botocore's section providers may edit it
        if option in SECRET_NAMES:
            value = fingerprint(value)  # the key never holds a secret
        items.append((option, value))
    return frozenset(items)


def _context(core: Any, token: object, ivars: Any) -> Any:
    """The profile key of ``core`` for this client's making (None: do not share)."""
    block = scope.block()
    memo = getattr(_local, "context", None)
    if (
        memo is not None
        and memo[0] == block
        and memo[1]() is core
        and memo[2] is token
        and memo[3] == ivars
    ):
        return memo[4]
    ref = weakref.ref(core)
    _local.context = (block, ref, token, ivars, None)  # lookups inside get_scoped_config
    try:
        key = _profile_key(core)
    except Exception:  # noqa: BLE001 - ProfileNotFound and friends: botocore raises them itself
        key = None
    _local.context = (block, ref, token, ivars, key)
    return key


def _wrap(original: Any) -> Any:
    def get_config_variable(self: Any, logical_name: Any) -> Any:
        if not answers.active or not scope.making():
            return original(self, logical_name)
        try:
            if logical_name in self._overrides:
                return original(self, logical_name)
            found = getattr(self._mapping.get(logical_name), _TAG, None)
            if found is None:
                return original(self, logical_name)
            name, core, section = found
            token = environ.token()
        except SURPRISES as exc:
            answers.off("reading a config store failed", exc)
            return original(self, logical_name)
        if token is None:
            return original(self, logical_name)
        ivars = tuple(core.instance_variables().items())
        if not SECRET_NAMES.isdisjoint(var for var, _ in ivars):
            return original(self, logical_name)
        profile = _context(core, token, ivars)
        if profile is None:
            return original(self, logical_name)
        key = (name, token, profile, ivars)
        try:
            value = _answers.get(key, _MISSING)
        except TypeError:  # an instance variable that is not hashable
            return original(self, logical_name)
        if value is not _MISSING:
            return dict(value) if type(value) is dict else value
        value = original(self, logical_name)
        if environ.token() is not token:  # the environment changed while botocore read it
            return value
        if type(value) in _SCALARS or (
            section and type(value) is dict and all(type(v) in _SCALARS for v in value.values())
        ):
            if len(_answers) >= _MAX_ANSWERS:
                _answers.clear()
            _answers[key] = dict(value) if type(value) is dict else value
        return value

    get_config_variable.__wrapped__ = original  # type: ignore[attr-defined]
    return get_config_variable
