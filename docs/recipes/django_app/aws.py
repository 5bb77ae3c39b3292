"""The project's one pool, and the tenants requests may name."""

from __future__ import annotations

import os

from sessionpool import SessionPool

pool = SessionPool(strict=True)  # no block, no key named: an error, never the default key
BUCKET = os.environ["BUCKET"]
TENANTS = frozenset(os.environ["TENANTS"].split(","))
