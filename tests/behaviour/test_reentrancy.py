"""Code that re-enters the pool from a signal handler, a finalizer or a logging handler, on the
thread that is inside the pool: never a hang.

Each case runs in a fresh interpreter under ``signal.alarm`` and is judged by its exit code: a
deadlock or a thread waiting for itself dies of the alarm (exit -14) instead of hanging the
suite. ``resolve_timeout`` is left long, so a self-wait cannot pass by timing out.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sessionpool import SessionPool, _locks
from sessionpool._botocore import guard

pytestmark = [
    pytest.mark.compat,
    pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX signals"),
]

PRELUDE = textwrap.dedent(
    """
    import logging, os, signal, sys
    signal.alarm(90)  # a deadlock dies of SIGALRM: exit -14
    import sessionpool
    """
)


def run(program: str, tmp_path: Path, env: dict[str, str] | None = None) -> None:
    script = tmp_path / "program.py"
    script.write_text(PRELUDE + textwrap.dedent(program))
    proc = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, **(env or {})},
    )
    assert proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr[-3000:]}"


# -- the thread resolving a key's credentials re-enters the pool ---------------------------------


def test_a_logging_handler_that_uses_the_pool_while_its_thread_resolves_is_answered(
    aws_env: object, tmp_path: Path
) -> None:
    run(
        """
        pool = sessionpool.SessionPool(resolve_timeout=600)
        shipped, busy = [], []

        class Shipper(logging.Handler):  # ships records through the pool, as a CloudWatch one
            def emit(self, record):
                if busy:
                    return  # a handler's own guard against its own records
                busy.append(1)
                try:
                    shipped.append(pool.client("logs"))  # the key being resolved, same thread
                finally:
                    busy.pop()

        logger = logging.getLogger("botocore.credentials")
        logger.setLevel(logging.DEBUG)
        logger.addHandler(Shipper())
        s3 = pool.client("s3")
        assert shipped and all(c.meta.service_model.service_name == "logs" for c in shipped)
        assert s3.list_buckets()["Buckets"] is not None
        """,
        tmp_path,
    )


def test_a_signal_handler_that_uses_the_pool_while_its_thread_resolves_is_answered(
    aws_env: object, tmp_path: Path
) -> None:
    marker = tmp_path / "signalled"
    process = tmp_path / "process.py"
    process.write_text(
        textwrap.dedent(
            f"""
            import json, os, pathlib, signal, time
            marker = pathlib.Path({str(marker)!r})
            if not marker.exists():  # the first run: interrupt the pool while it waits for us
                marker.write_text("1")
                os.kill(os.getppid(), signal.SIGUSR1)
                time.sleep(0.5)  # the parent's handler runs meanwhile (not synchronisation:
                # the handler is answered whether it runs before or after this returns)
            print(json.dumps({{"Version": 1, "AccessKeyId": "AKIAPROCESSEXAMPLE01",
                               "SecretAccessKey": "process-secret-EXAMPLE"}}))
            """
        )
    )
    config = tmp_path / "config"
    config.write_text(
        f"[profile proc]\nregion = us-east-1\ncredential_process = {sys.executable} {process}\n"
    )
    run(
        """
        pool = sessionpool.SessionPool(profile="proc", resolve_timeout=600)
        got = []
        signal.signal(signal.SIGUSR1, lambda *a: got.append(pool.client("sqs")))
        s3 = pool.client("s3")
        assert os.path.exists(sys.argv[0])  # (keeps the script's name in tracebacks)
        assert len(got) == 1, got
        creds = pool.get_session().get_credentials()
        assert creds.access_key == "AKIAPROCESSEXAMPLE01"
        """,
        tmp_path,
        env={"AWS_CONFIG_FILE": str(config)},
    )


# -- a pool lock held when a handler or finalizer re-enters --------------------------------------


def test_a_signal_handler_or_finalizer_may_use_the_pool_while_its_lock_is_held(
    aws_env: object, tmp_path: Path
) -> None:
    run(
        """
        pool = sessionpool.SessionPool()
        pool.client("s3")
        seen = []

        def handler(*args):
            seen.append(pool.stats()["clients"])
            seen.append(pool.client("sqs"))  # a first call: a new session, counters, the lock

        class Finalised:
            def __del__(self):
                seen.append(pool.stats()["sessions"])

        signal.signal(signal.SIGUSR1, handler)
        with pool._lock:  # as stats(), a thread's first call or a counter update holds it
            os.kill(os.getpid(), signal.SIGUSR1)  # the handler runs at the next bytecode
            finalised = Finalised()
            del finalised  # its finalizer runs here, the lock still held
        assert len(seen) == 3, seen
        assert pool.stats()["clients"] == 2
        """,
        tmp_path,
    )


def test_a_warning_from_inside_a_refresh_reaches_a_handler_that_signs_with_that_key(
    aws_env: object, tmp_path: Path
) -> None:
    """A switch that turns off during a refresh logs a WARNING; a CloudWatch-style handler signs
    a request with the same key from inside it. The first credentials expire in 5 minutes
    (botocore's mandatory window: every reader waits for the refresh), the refreshed ones in an
    hour."""
    marker = tmp_path / "refreshed"
    process = tmp_path / "process.py"
    process.write_text(
        textwrap.dedent(
            f"""
            import datetime, json, pathlib
            marker = pathlib.Path({str(marker)!r})
            minutes = 60 if marker.exists() else 5
            marker.write_text("1")
            expiry = datetime.datetime.now(datetime.timezone.utc)
            expiry += datetime.timedelta(minutes=minutes)
            print(json.dumps({{"Version": 1, "AccessKeyId": "AKIAPROCESSEXAMPLE02",
                               "SecretAccessKey": "process-secret-EXAMPLE",
                               "SessionToken": "process-token-EXAMPLE",
                               "Expiration": expiry.isoformat()}}))
            """
        )
    )
    config = tmp_path / "config"
    config.write_text(
        f"[profile proc]\nregion = us-east-1\ncredential_process = {sys.executable} {process}\n"
    )
    run(
        """
        import sessionpool._credentials as credentials
        from sessionpool._botocore.credentials import snapshot

        original = credentials.refresh_deadlines

        def surprising(inner):  # botocore surprising the snapshot in the middle of a refresh
            snapshot.off("a surprise in the middle of a refresh")
            return original(inner)

        credentials.refresh_deadlines = surprising
        pool = sessionpool.SessionPool(profile="proc", resolve_timeout=600)
        s3 = pool.client("s3")
        signed = []

        class Shipper(logging.Handler):
            def emit(self, record):
                if record.levelno >= logging.WARNING and record.name == "sessionpool":
                    signed.append(s3.list_buckets()["ResponseMetadata"]["HTTPStatusCode"])

        logging.getLogger("sessionpool").addHandler(Shipper())
        s3.list_buckets()  # the first read refreshes (mandatory window) and meets the surprise
        assert signed == [200], signed
        """,
        tmp_path,
        env={"AWS_CONFIG_FILE": str(config)},
    )


# -- no record is emitted while a package lock is held ---------------------------------------------


def test_a_record_logged_under_a_package_lock_is_emitted_after_its_release(
    aws_env: object,
) -> None:
    emitted: list[bool] = []

    class Probe(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.name == "probe":
                emitted.append(_locks.held())

    probe, handler = logging.getLogger("probe"), Probe()
    probe.addHandler(handler)
    try:
        with SessionPool() as pool:
            with pool._lock, pool._lock:  # nested, as a re-entered critical section
                _locks.log(probe, logging.WARNING, "under the lock")
                assert emitted == []
            assert emitted == [False]
            _locks.log(probe, logging.WARNING, "no lock")
            assert emitted == [False, False]
    finally:
        probe.removeHandler(handler)


def test_a_switch_turning_off_under_a_lock_warns_after_the_lock_is_released(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    switch = guard.Switch("test_switch_under_lock", "a switch for this test")
    try:
        lock = _locks.Lock()
        with caplog.at_level(logging.WARNING, logger="sessionpool"), lock:
            switch.off("a surprise")
            assert not [r for r in caplog.records if "test_switch_under_lock" in r.getMessage()]
        assert [
            r.levelname for r in caplog.records if "test_switch_under_lock" in r.getMessage()
        ] == ["WARNING"]
    finally:
        with guard._lock:
            guard._switches.pop("test_switch_under_lock", None)
