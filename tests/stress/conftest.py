"""The stress runs measure this process's descriptors, memory and threads, so their moto server
runs in a process of its own (``MotoProcess``), one per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.servers import MotoProcess, moto_process


@pytest.fixture(scope="module")
def own_server() -> Iterator[MotoProcess]:
    """moto in a process of its own behind a keep-alive front, for this module's tests."""
    with moto_process() as server:
        yield server
