"""The version of sessionpool: the one place it is written (pyproject.toml reads it from here)."""

#: The installed sessionpool version, e.g. ``"0.2.0"``.
__version__ = "0.2.0"
