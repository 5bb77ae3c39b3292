"""A pytest plugin (``-p pool_used_before_moto``) that uses a SessionPool before moto is imported.

As an application module imported by a conftest might: it makes a client at import time. The
recipe's tests then import moto and mock AWS (HAZARDS P1).
"""

from sessionpool import SessionPool

SessionPool(region="us-east-1").client("s3")
