"""``sessionpool.diagnostics()``: what this process runs on, and which optimisations are on."""

from __future__ import annotations

import platform
from typing import Any

import boto3
import botocore

from . import _botocore
from ._version import __version__

__all__ = ["diagnostics"]


def diagnostics() -> dict[str, Any]:
    """Versions, and each optimisation that leans on botocore's internals with its state.

    ``optimisations`` maps a name (``shared_loader``, ``prototype_emitter``, ``cow_emitter``,
    ``shared_components``, ``credential_snapshot``, ``config_by_value``, ...) to
    ``{"active": bool, "reason": str | None, "what": str}``. An optimisation turns itself off for
    the process, with one WARNING record on the ``sessionpool`` logger, when botocore surprises
    it; the pool then takes botocore's public path for that piece: slower, equally correct.
    """
    return {
        "sessionpool": __version__,
        "boto3": boto3.__version__,
        "botocore": botocore.__version__,
        "python": platform.python_version(),
        "optimisations": _botocore.diagnostics(),
    }
