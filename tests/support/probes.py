"""This process's open file descriptors and resident memory, read from ``/proc``."""

from __future__ import annotations

import os

__all__ = ["fd_count", "rss_bytes"]


def fd_count() -> int:
    """Open file descriptors of this process (the listing's own descriptor included, always 1)."""
    return len(os.listdir("/proc/self/fd"))


def rss_bytes() -> int:
    """Resident set size of this process, in bytes."""
    with open("/proc/self/statm") as f:
        resident_pages = int(f.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")
