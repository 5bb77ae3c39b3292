"""The AWS config file, parsed once per content instead of once per session (issue 20).

Every new botocore session parses the shared config file and the credentials file with
``configparser`` (``botocore.configloader.raw_config_parse``): ~0.12 ms each for a two-line
file, 3.5 ms for a config of 50 SSO profiles, paid by every new thread's session. The parse
depends only on the file's bytes (and the text encoding it is read with), so here the result is
kept per (path, bytes, encoding, ``parse_subsections``) and each session gets its own deep copy
(botocore edits a session's parsed config in place, e.g. ``SectionConfigProvider`` writes
overrides into a profile's ``s3`` section). The file is still read for every session: a changed
file is parsed again, exactly when botocore would see the change.

A file whose parse holds a secret (``aws_secret_access_key``, ``aws_session_token``: a
credentials file, or a config file with keys in it) is never kept: the process holds no secret
beyond the sessions that read it. A parse is kept only if the file read the same before and
after botocore parsed it.

The wrapper replaces ``botocore.configloader.raw_config_parse`` (the module global that
``load_config`` and ``Session.full_config`` look up) and acts only while the pool builds a
session or makes a client (:mod:`.scope`). Switch ``shared_config_files``.
"""

from __future__ import annotations

import locale
import os
from collections.abc import Hashable
from typing import Any

import botocore.configloader

from .._secrets import SECRET_NAMES
from . import scope
from .guard import SURPRISES, Switch

__all__ = ["files", "install"]

files = Switch(
    "shared_config_files",
    "parse each AWS config file once per content; off: every session parses it again "
    "(~0.1 ms for a small file, milliseconds for a large one)",
)

_SECRETS = SECRET_NAMES  # aws_secret_access_key, aws_session_token
_parsed: dict[Hashable, dict[str, Any]] = {}
_MAX_FILES = 16


@scope.on_first_use
def install() -> None:
    """Wrap ``botocore.configloader.raw_config_parse`` (once per process, by :mod:`.scope`)."""
    if not files.active:
        return
    loader: Any = botocore.configloader
    try:
        original = loader.raw_config_parse
        assert callable(original), "botocore.configloader.raw_config_parse is not callable"
        loader.raw_config_parse = _wrap(original)
    except SURPRISES as exc:
        files.off("wrapping botocore.configloader.raw_config_parse failed", exc)


def _read(config_filename: Any) -> tuple[str, bytes] | None:
    if type(config_filename) is not str:
        return None
    path = os.path.expanduser(os.path.expandvars(config_filename))  # as botocore does
    try:
        with open(path, "rb") as f:
            return path, f.read()
    except (OSError, ValueError):
        return None  # botocore raises its own error for a missing or unreadable file


def _wrap(original: Any) -> Any:
    def raw_config_parse(config_filename: Any, parse_subsections: bool = True) -> Any:
        if not files.active or not scope.making():
            return original(config_filename, parse_subsections)
        read = _read(config_filename)
        if read is None:
            return original(config_filename, parse_subsections)
        path, data = read
        key = (path, data, locale.getpreferredencoding(False), bool(parse_subsections))
        found = _parsed.get(key)
        if found is not None:
            return _copy(found)
        result = original(config_filename, parse_subsections)
        try:
            keep = _shareable(result)
        except SURPRISES as exc:
            files.off("a parsed config file is not shaped as expected", exc)
            return result
        if keep and _read(config_filename) == read:
            if len(_parsed) >= _MAX_FILES:
                _parsed.clear()
            _parsed[key] = _copy(result)
        return result

    raw_config_parse.__wrapped__ = original  # type: ignore[attr-defined]
    return raw_config_parse


def _shareable(parsed: Any) -> bool:
    """True if ``parsed`` is {section: {option: str or {option: str}}} and holds no secret."""
    assert type(parsed) is dict, "raw_config_parse did not return a dict"
    for section in parsed.values():
        assert type(section) is dict, "a parsed config section is not a dict"
        for option, value in section.items():
            if option in _SECRETS:
                return False
            if type(value) is dict:
                if not _SECRETS.isdisjoint(value):
                    return False
                assert all(type(v) is str for v in value.values()), "a nested value not a str"
            else:
                assert type(value) is str, "a parsed config value is not a str or dict"
    return True


def _copy(parsed: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a parse :func:`_shareable` accepted (three levels of dicts of str)."""
    return {
        name: {k: dict(v) if type(v) is dict else v for k, v in section.items()}
        for name, section in parsed.items()
    }
