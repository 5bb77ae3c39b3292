"""Log records scanned for secrets, and botocore's loggers quietened where records pile up.

Every test runs with sessionpool's (and every other non-wire) logger at DEBUG, and every record
emitted during the test is scanned for known secrets (the conftest's autouse fixture).
botocore's wire loggers (auth, endpoint, parsers) and urllib3 print signed headers at DEBUG:
that is botocore's output, not ours, and HAZARDS X1 excludes it, so they stay at INFO.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

__all__ = ["WIRE_LOGGERS", "SecretScan", "quiet_botocore"]

WIRE_LOGGERS = ("botocore.auth", "botocore.endpoint", "botocore.parsers", "urllib3", "werkzeug")


class SecretScan(logging.Handler):
    """A handler that records which logger emitted a record holding one of ``secrets``
    (in its message or its traceback), never the secret itself. Wire loggers are not scanned.

    Parameters:
        secrets: the strings to look for; the set may grow while the handler is installed.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__(level=logging.DEBUG)
        self.secrets = secrets
        self.leaks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(WIRE_LOGGERS):
            return
        try:
            text = record.getMessage()
        except Exception:
            text = str(record.msg)
        if record.exc_info:
            text += "".join(traceback.format_exception(*record.exc_info))
        for secret in self.secrets:
            if secret and secret in text:
                # Never the secret itself: say which logger leaked it.
                self.leaks.append(f"{record.name}:{record.levelname}")


@contextmanager
def quiet_botocore() -> Iterator[None]:
    """Raise botocore's loggers to INFO inside the block (sessionpool's stay at DEBUG).

    The conftest runs every test at DEBUG, and pytest keeps every captured record in memory
    until the test ends: botocore writes ~34 DEBUG records per request (event-handler traces,
    endpoint rules; no credentials once sessions exist). Tests that measure memory over
    thousands of requests would measure pytest's capture, and run several times slower.
    sessionpool's own records are still emitted and still scanned for secrets.
    """
    logger = logging.getLogger("botocore")
    saved = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.setLevel(saved)
