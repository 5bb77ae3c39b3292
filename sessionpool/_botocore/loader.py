"""One botocore data loader per process and data path, shared by every session the pool makes.

botocore parses a service's JSON model (megabytes for s3 or ec2) once per *loader*, and a fresh
``botocore.session.Session`` builds a fresh loader: that is most of the 75 ms and 14 MB a
per-thread session costs (HAZARDS S1). Sharing one loader is safe under three conditions, each
kept here:

* Loaded models are treated as read-only. botocore edits a few cached dicts in place, but
  idempotently (sdk-extras merges, endpoint data), so concurrent readers see the same result.
* The first load of each file is serialised: a cold burst of threads would otherwise parse the
  same file once per thread. A re-entrant lock covers every loader method; a warm call holds it
  for a dict lookup, and :func:`warm` takes the cold loads out of the burst altogether. A wait
  for it is bounded (``LOAD_WAIT``), past which a thread loads for itself.
* ``boto3.Session`` appends its data path to ``loader.search_paths`` every time it wraps a botocore
  session (1,003 entries after 1,001 sessions), so the list here ignores duplicates.

The loader is inherited across ``fork``: it is read-only data, and sharing its pages
copy-on-write is the point of :func:`warm`. Only its lock is replaced in the child.

Private names: ``Loader._search_paths`` (replaced by the de-duplicating list) and the names of
the cached entry points. If any is missing, or ``search_paths`` is not the list given, the
``shared_loader`` switch goes off and each session builds botocore's own loader.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from typing import Any

import boto3
from botocore.exceptions import DataNotFoundError
from botocore.loaders import Loader

from .. import _fork
from .guard import SURPRISES, Switch

__all__ = ["SharedLoader", "loader_for", "shared", "warm"]

shared = Switch(
    "shared_loader",
    "one data loader per process, so each model is parsed once; "
    "off: every session parses the models it uses (~75 ms and ~14 MB per thread)",
)

# botocore's cached entry points, serialised below. They call one another, hence the RLock.
_CACHED = (
    "list_available_services",
    "determine_latest_version",
    "list_api_versions",
    "load_service_model",
    "load_data_with_path",
    "load_data",
)
_MISSING = [name for name in _CACHED if not callable(getattr(Loader, name, None))]

_BOTO3_DATA_PATH = os.path.join(os.path.dirname(boto3.__file__), "data")
# Seconds a thread waits for another's first load of a file before loading it itself: parsing the
# largest model takes well under a second; this is only a bound (see _locked).
LOAD_WAIT = 10.0


class _DedupList(list[str]):
    """A search path list whose ``append`` and ``extend`` skip entries already present."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)

    def extend(self, paths: Iterable[str]) -> None:
        for path in paths:
            self.append(path)


def _locked(name: str) -> Any:
    # A missing name (a future botocore) must not break import: loader_for() checks _MISSING
    # and never builds a SharedLoader then.
    unbound = getattr(Loader, name, None)

    def method(self: SharedLoader, *args: Any, **kwargs: Any) -> Any:
        # The one lock of the package held while botocore runs (it parses the file, and may log
        # a DEBUG record): so the wait for it is bounded. A thread that waited LOAD_WAIT loads
        # for itself, unserialised (a duplicate parse, never a wrong answer): a logging handler
        # holding its own lock while it waits here can never deadlock with the loading thread.
        got = self._load_lock.acquire(timeout=LOAD_WAIT)
        try:
            return unbound(self, *args, **kwargs)  # type: ignore[misc]
        finally:
            if got:
                self._load_lock.release()

    method.__name__ = name
    method.__doc__ = getattr(unbound, "__doc__", None)
    return method


class SharedLoader(Loader):
    """A botocore ``Loader`` safe to share between sessions and threads (see the module doc)."""

    def __init__(self, extra_search_paths: list[str] | None = None) -> None:
        super().__init__(extra_search_paths=extra_search_paths)
        self._search_paths = _DedupList(list(self.search_paths))
        self._search_paths.append(_BOTO3_DATA_PATH)
        self._load_lock = threading.RLock()
        _fork.register(self)

    # Every cached entry point, serialised. They call one another, hence the RLock.
    list_available_services = _locked("list_available_services")
    determine_latest_version = _locked("determine_latest_version")
    list_api_versions = _locked("list_api_versions")
    load_service_model = _locked("load_service_model")
    load_data_with_path = _locked("load_data_with_path")
    load_data = _locked("load_data")

    def _after_fork_in_child(self) -> None:
        # Another thread may have been inside a load at fork time; the cache it was filling is
        # only written after the load completes, so what the child inherits is consistent.
        self._load_lock = threading.RLock()


# data path string (or None) -> loader. Guarded by _loaders_lock; entries are never removed.
_loaders: dict[str | None, SharedLoader] = {}
_loaders_lock = _fork.Lock()


def loader_for(data_path: str | None) -> SharedLoader | None:
    """The process's shared loader for a botocore ``data_path`` setting (``AWS_DATA_PATH``), or
    None when the ``shared_loader`` switch is off (then sessions build their own)."""
    loader = _loaders.get(data_path)
    if loader is not None:
        return loader
    if not shared.active:
        return None
    extra = None
    if data_path is not None:
        # As botocore.loaders.create_loader does.
        extra = [os.path.expanduser(os.path.expandvars(p)) for p in data_path.split(os.pathsep)]
    try:
        if _MISSING:
            raise AttributeError(f"botocore's Loader has no {', '.join(_MISSING)}")
        candidate = SharedLoader(extra)
        if not isinstance(candidate.search_paths, _DedupList):
            raise AttributeError("Loader.search_paths is not the list the loader was given")
    except SURPRISES as exc:
        shared.off("building the shared data loader failed", exc)
        return None
    with _loaders_lock:
        return _loaders.setdefault(data_path, candidate)


def warm(loader: SharedLoader, services: Iterable[str]) -> None:
    """Load the service models, paginators, waiters and endpoint data of ``services``."""
    loader.load_data("endpoints")
    loader.load_data("partitions")
    for service in services:
        for type_name in ("service-2", "endpoint-rule-set-1", "paginators-1", "waiters-2"):
            try:
                loader.load_service_model(service, type_name)
            except DataNotFoundError:  # not every service has every file
                pass


def _reset_registry_after_fork() -> None:
    global _loaders_lock
    _loaders_lock = _fork.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_registry_after_fork)
