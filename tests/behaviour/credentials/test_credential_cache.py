"""The on-disk credential cache (``SessionPool(credential_cache=dir)``): no one else can write it,
a damaged entry or a failed write never fails a resolution, and the directory is the same one in
every process.

The conftest's ``role`` profile assumes a role with the ``dev`` profile's keys; AssumeRole calls
are counted at moto's server. Tests run as root here, which bypasses file permissions, so they
check the pool's own refusals, never the operating system denying access.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import pickle
import shutil
import signal
import time
from pathlib import Path

import pytest

from sessionpool import CredentialWaitTimeout, InvalidArgumentError, SessionPool
from sessionpool._credential_cache import credential_cache_at
from tests.support.servers import MotoServer

pytestmark = [
    pytest.mark.compat,
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]
JOIN = 120.0
ATTACKER_KEY = "AKIAATTACKEREXAMPLE1"
OTHER_UID = 65534  # "nobody"
needs_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="giving a file away needs root"
)
needs_fork = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="needs fork"
)


def filled_cache(
    aws_env: MotoServer, tmp_path: Path, secrets: set[str] | None = None
) -> tuple[Path, Path, Path]:
    """A cache directory holding one entry for the ``role`` profile, written by a pool:
    (cache, profile directory, entry). The entry's secret and token join ``secrets``."""
    cache = tmp_path / "cache"
    with SessionPool(profile="role", credential_cache=str(cache)) as pool:
        pool.client("s3").list_buckets()
    (profile_dir,) = [p for p in cache.iterdir() if p.name.startswith("profile-")]
    (entry,) = profile_dir.glob("*.json")
    if secrets is not None:
        credentials = json.loads(entry.read_text())["Credentials"]
        secrets.update({credentials["SecretAccessKey"], credentials["SessionToken"]})
    return cache, profile_dir, entry


def warnings_from(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "sessionpool" and r.levelno == logging.WARNING
    ]


def plant(directory: Path, entry: Path) -> Path:
    """A copy of ``entry`` in ``directory`` with another user's access key id in it."""
    data = json.loads(entry.read_text())
    data["Credentials"]["AccessKeyId"] = ATTACKER_KEY
    planted = directory / entry.name
    planted.write_text(json.dumps(data))
    planted.chmod(0o600)
    return planted


# -- every path below the cache root ----------------------------------------------------------


def test_a_profile_directory_that_is_a_symlink_is_refused_not_followed(
    aws_env: MotoServer, tmp_path: Path, secrets_to_scan: set[str]
) -> None:
    cache, profile_dir, entry = filled_cache(aws_env, tmp_path, secrets_to_scan)
    # Another user's world-writable directory holding an entry with their key, linked in place
    # of the profile's directory while the cache directory was open to them.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    elsewhere.chmod(0o777)
    planted = plant(elsewhere, entry)
    shutil.rmtree(profile_dir)
    profile_dir.symlink_to(elsewhere)
    before = aws_env.log.count("AssumeRole")
    with SessionPool(profile="role", credential_cache=str(cache)) as pool:
        with pytest.raises(InvalidArgumentError, match="symbolic link") as caught:
            pool.client("s3").list_buckets()
    assert str(profile_dir) in str(caught.value)
    assert "remove it" in str(caught.value)
    assert aws_env.log.count("AssumeRole") == before
    assert json.loads(planted.read_text())["Credentials"]["AccessKeyId"] == ATTACKER_KEY


@pytest.mark.parametrize(
    "change",
    ["writable by others", pytest.param("another user's", marks=needs_root)],
)
def test_a_profile_directory_others_can_write_is_refused(
    aws_env: MotoServer, tmp_path: Path, change: str
) -> None:
    cache, profile_dir, entry = filled_cache(aws_env, tmp_path)
    if change == "writable by others":
        profile_dir.chmod(0o777)
        problem = "other users"
    else:
        os.chown(profile_dir, OTHER_UID, OTHER_UID)
        problem = f"user id {OTHER_UID}"
    with SessionPool(profile="role", credential_cache=str(cache)) as pool:
        with pytest.raises(InvalidArgumentError, match=problem) as caught:
            pool.client("s3").list_buckets()
    assert str(profile_dir) in str(caught.value)


@pytest.mark.parametrize(
    "change",
    [
        "symlink",
        "readable by others",
        pytest.param("another user's", marks=needs_root),
    ],
)
def test_a_cached_entry_that_is_not_the_users_own_file_is_refused(
    aws_env: MotoServer, tmp_path: Path, secrets_to_scan: set[str], change: str
) -> None:
    cache, profile_dir, entry = filled_cache(aws_env, tmp_path, secrets_to_scan)
    if change == "symlink":
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        elsewhere.chmod(0o777)
        planted = plant(elsewhere, entry)
        entry.unlink()
        entry.symlink_to(planted)
        problem = "symbolic link"
    elif change == "readable by others":
        entry.chmod(0o644)
        problem = "other users"
    else:
        os.chown(entry, OTHER_UID, OTHER_UID)
        problem = f"user id {OTHER_UID}"
    before = aws_env.log.count("AssumeRole")
    with SessionPool(profile="role", credential_cache=str(cache)) as pool:
        with pytest.raises(InvalidArgumentError, match=problem) as caught:
            pool.client("s3").list_buckets()
    assert str(entry) in str(caught.value)
    assert aws_env.log.count("AssumeRole") == before


def test_a_refresh_lock_that_is_a_symlink_is_refused_not_followed(
    aws_env: MotoServer, tmp_path: Path
) -> None:
    cache, profile_dir, entry = filled_cache(aws_env, tmp_path)
    lock = profile_dir / ".refresh.lock"
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim"
    lock.unlink()
    lock.symlink_to(victim)
    with SessionPool(profile="role", credential_cache=str(cache)) as pool:
        with pytest.raises(InvalidArgumentError, match="symbolic link") as caught:
            pool.client("s3").list_buckets()
    assert str(lock) in str(caught.value)
    assert not victim.exists()  # not created, not locked


# -- damaged entries and failed writes ---------------------------------------------------------


@pytest.mark.parametrize("damage", ["truncated", "empty", "not credentials"])
def test_a_damaged_entry_is_a_miss_replaced_by_the_next_write_with_one_warning(
    aws_env: MotoServer,
    tmp_path: Path,
    secrets_to_scan: set[str],
    caplog: pytest.LogCaptureFixture,
    damage: str,
) -> None:
    cache, profile_dir, entry = filled_cache(aws_env, tmp_path, secrets_to_scan)
    text = entry.read_text()
    entry.write_text(
        {"truncated": text[: len(text) // 2], "empty": "", "not credentials": '{"a": 1}'}[damage]
    )
    before = aws_env.log.count("AssumeRole")
    caplog.clear()
    for _ in range(2):  # the second pool reads the replaced entry
        with SessionPool(profile="role", credential_cache=str(cache)) as pool:
            pool.client("s3").list_buckets()
    assert aws_env.log.count("AssumeRole") - before == 1
    assert json.loads(entry.read_text())["Credentials"]["AccessKeyId"].startswith("ASIA")
    (warning,) = warnings_from(caplog)
    assert str(entry) in warning


def _report_cache_warnings_by_signing(pool: SessionPool, seen: list[str]) -> logging.Handler:
    """A handler that, on each WARNING, signs a request with the pool's key (as a CloudWatch
    handler does): emitted while the key's refresh lock is held, it would wait for itself."""

    class Shipping(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno == logging.WARNING:
                seen.append(record.getMessage())
                pool.client("s3").list_buckets()

    handler = Shipping()
    logging.getLogger("sessionpool").addHandler(handler)
    return handler


def _use_role_and_check_warnings(cache: str, expect: str, file_size_limit: int | None) -> None:
    # Runs in a forked child: SIGALRM ends a deadlocked child (exit status -SIGALRM).
    signal.alarm(60)
    if file_size_limit is not None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails: EFBIG
        _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, hard))
    seen: list[str] = []
    with SessionPool(profile="role", credential_cache=cache) as pool:
        _report_cache_warnings_by_signing(pool, seen)
        pool.client("s3").list_buckets()
    if len(seen) != 1 or expect not in seen[0]:
        raise SystemExit(3)


@needs_fork
def test_a_cache_warning_is_emitted_with_no_lock_held(aws_env: MotoServer, tmp_path: Path) -> None:
    cache, profile_dir, entry = filled_cache(aws_env, tmp_path)
    entry.write_text(entry.read_text()[:40])
    child = multiprocessing.get_context("fork").Process(
        target=_use_role_and_check_warnings, args=(str(cache), str(entry), None)
    )
    child.start()
    child.join(JOIN)
    assert child.exitcode == 0


@needs_fork
@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs RLIMIT_FSIZE")
def test_a_cache_that_cannot_be_written_still_gives_the_credentials_with_one_warning(
    aws_env: MotoServer, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    before = aws_env.log.count("AssumeRole")
    # The child may write files of at most 16 bytes: the entry (some 1,000) fails: EFBIG.
    child = multiprocessing.get_context("fork").Process(
        target=_use_role_and_check_warnings, args=(str(cache), "File too large", 16)
    )
    child.start()
    child.join(JOIN)
    assert child.exitcode == 0  # the call succeeded, one WARNING said why nothing was cached
    assert aws_env.log.count("AssumeRole") - before == 1
    assert [p.name for p in cache.rglob("*") if p.is_file()] == [".refresh.lock"]  # no .tmp


# -- the directory itself ----------------------------------------------------------------------


def _use_pickled_pool_from(directory: str, pickled: bytes, env: dict[str, str]) -> None:
    os.environ.update(env)
    os.chdir(directory)
    pool = pickle.loads(pickled)
    pool.client("s3").list_buckets()


def test_a_relative_cache_path_names_the_same_directory_in_a_worker_started_elsewhere(
    aws_env: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here, elsewhere = tmp_path / "here", tmp_path / "elsewhere"
    here.mkdir()
    elsewhere.mkdir()
    monkeypatch.chdir(here)
    before = aws_env.log.count("AssumeRole")
    with SessionPool(profile="role", credential_cache="cache") as pool:
        pool.client("s3").list_buckets()
        env = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
        child = multiprocessing.get_context("spawn").Process(
            target=_use_pickled_pool_from, args=(str(elsewhere), pickle.dumps(pool), env)
        )
        child.start()
        child.join(JOIN)
    assert child.exitcode == 0
    assert aws_env.log.count("AssumeRole") - before == 1  # the worker read the parent's entry
    assert not (elsewhere / "cache").exists()


@pytest.mark.parametrize("where", ["a file", "below a file"])
def test_a_cache_path_that_is_not_a_directory_is_an_invalid_argument(
    aws_env: MotoServer, tmp_path: Path, where: str
) -> None:
    a_file = tmp_path / "credentials.json"
    a_file.write_text("{}")
    path = a_file if where == "a file" else a_file / "cache"
    with pytest.raises(InvalidArgumentError, match="credential_cache") as caught:
        SessionPool(credential_cache=str(path))
    assert str(path) in str(caught.value)


def test_the_refresh_lock_takes_a_deadline_and_names_the_directory_when_it_passes(
    aws_env: MotoServer, tmp_path: Path
) -> None:
    cache = credential_cache_at(tmp_path / "cache")
    lock = cache.lock_for("role")
    with lock(time.monotonic() + 60):
        # Held (as by another process: flock locks belong to the open file, not the process).
        with pytest.raises(CredentialWaitTimeout, match="refreshing credentials in") as caught:
            with cache.lock_for("role")(time.monotonic()):
                pass
    assert str(tmp_path / "cache") in str(caught.value)
    with cache.lock_for("role", 5.0)():  # the form that takes a timeout, for the old callers
        pass
