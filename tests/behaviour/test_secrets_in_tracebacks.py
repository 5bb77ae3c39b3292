"""Tracebacks formatted with local variables show no secret (HAZARDS X1).

``traceback.TracebackException(..., capture_locals=True)`` (and tools built on it: error
trackers, rich tracebacks, pytest's ``--showlocals``) print ``repr()`` of every local of every
frame. sessionpool wraps secret arguments in a string whose repr is masked as soon as they enter
it, so no frame of its own, nor boto3's or botocore's below it, can show one.
"""

from __future__ import annotations

import pickle
import traceback
from collections.abc import Callable
from typing import Any

import pytest

import sessionpool
from sessionpool import SessionPool

SECRET = "locals-secret-EXAMPLE-0123456789abcdefghij"
TOKEN = "locals-token-EXAMPLE-9876543210zyxwvutsrq"
KEYS = {
    "aws_access_key_id": "AKIAEXAMPLELOCALS001",
    "aws_secret_access_key": SECRET,
    "aws_session_token": TOKEN,
}


def _with_locals(call: Callable[[], Any]) -> str:
    with pytest.raises(Exception) as info:
        call()
    exc = info.value
    text = "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())
    return text + str(exc) + repr(exc)


CASES: dict[str, Callable[[SessionPool], Any]] = {
    "pool defaults with a bad option": lambda p: SessionPool(clock=42, **KEYS),
    "pool defaults with a conflict": lambda p: SessionPool(region="a", region_name="b", **KEYS),
    "call with an unknown service": lambda p: p.client("no-such-service", **KEYS),
    "call with a conflict": lambda p: p.client("s3", region="a", region_name="b", **KEYS),
    "call with a bad endpoint type": lambda p: p.client("s3", endpoint_url=5, **KEYS),
    "resource with an unknown service": lambda p: p.resource("no-such-service", **KEYS),
    "session with an unknown profile": lambda p: p.get_session(profile="no-such-profile", **KEYS),
    "key id without its secret": lambda p: p.client(
        "s3", aws_access_key_id="AKIAEXAMPLELOCALS002", aws_session_token=TOKEN
    ),
    "session client with a bad argument": lambda p: p.get_session().client(
        "s3", aws_access_key_id="AKIAEXAMPLELOCALS003", aws_secret_access_key=SECRET, verify=[1]
    ),
    "session client with an unknown service": lambda p: p.get_session().client(
        "no-such-service", aws_access_key_id="AKIAEXAMPLELOCALS004", aws_secret_access_key=SECRET
    ),
    "default pool function": lambda p: sessionpool.client("no-such-service", **KEYS),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_traceback_with_locals_shows_no_secret(
    case: str, pool: SessionPool, secrets_to_scan: set[str]
) -> None:
    secrets_to_scan.update({SECRET, TOKEN})
    text = _with_locals(lambda: CASES[case](pool))
    assert SECRET not in text
    assert TOKEN not in text
    pool.client("s3").list_buckets()  # and the pool still works


def test_a_pool_with_explicit_keys_still_signs_with_them_and_pickles_them(
    aws_env: Any, secrets_to_scan: set[str]
) -> None:
    secrets_to_scan.update({SECRET, TOKEN})
    with SessionPool(**KEYS) as pool:
        frozen = pool.get_session().get_credentials().get_frozen_credentials()
        assert (frozen.access_key, frozen.secret_key, frozen.token) == (
            KEYS["aws_access_key_id"],
            SECRET,
            TOKEN,
        )
        assert SECRET not in repr(frozen)  # botocore's namedtuple shows its fields' reprs
        # Explicit keys travel with the pool (documented): the other side needs them.
        assert SECRET.encode() in pickle.dumps(pool)
        pool.client("s3").list_buckets()


# -- network failures ------------------------------------------------------------------------
# The session token travels in a request header. sessionpool masks it in every object it can
# reach without changing the bytes sent: the credentials' frozen token and the prepared
# request's header value (a bytes subclass with a masked repr, same bytes). What it cannot
# reach are the raw request bytes that http.client sends: those three frames, and only those,
# hold the token after a network failure (exactly as with plain boto3). The secret key never
# goes on the wire, so it is in no frame at all.

RAW_REQUEST_FRAMES = {
    ("http/client.py", "send"),
    ("botocore/awsrequest.py", "_send_output"),
    ("botocore/awsrequest.py", "send"),
}
FILE_TOKEN = "file-token-EXAMPLE-from-the-credentials-file-0000"
FILE_SECRET = "file-secret-EXAMPLE-from-the-credentials-file"


def _frames_with(exc: BaseException, needle: str) -> tuple[set[tuple[str, str]], int]:
    """(file suffix, function) of every frame in the chain with a local whose repr holds
    ``needle``, and how many frames had locals at all."""
    found: set[tuple[str, str]] = set()
    frames = 0
    seen: list[BaseException] = []
    while exc is not None and not any(exc is e for e in seen):
        seen.append(exc)
        for frame in traceback.TracebackException.from_exception(exc, capture_locals=True).stack:
            if frame.filename == __file__:
                continue  # this test's own frame holds the values it plants
            frames += 1
            if any(needle in value for value in (frame.locals or {}).values()):
                path = frame.filename.replace("\\", "/")
                suffix = "/".join(path.split("/")[-2:])
                found.add((suffix, frame.name))
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return found, frames


@pytest.fixture
def silent_port() -> Any:
    """A port that accepts connections and never answers (for read timeouts)."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield server.getsockname()[1]
    stop.set()
    t.join(10)
    for s in held:
        s.close()
    server.close()


@pytest.mark.parametrize("failure", ["connection refused", "read timeout"])
@pytest.mark.parametrize("source", ["explicit keys", "credentials file"])
def test_after_a_network_failure_only_the_raw_request_bytes_hold_the_token(
    failure: str,
    source: str,
    aws_env: Any,
    aws_files: Any,
    silent_port: int,
    refused_port: int,
    secrets_to_scan: set[str],
) -> None:
    from botocore.config import Config

    secrets_to_scan.update({SECRET, TOKEN, FILE_SECRET, FILE_TOKEN})
    if source == "credentials file":
        _, credentials = aws_files
        credentials.write_text(
            "[tokened]\naws_access_key_id = AKIAEXAMPLELOCALS009\n"
            f"aws_secret_access_key = {FILE_SECRET}\naws_session_token = {FILE_TOKEN}\n"
        )
        pool, secret, token = SessionPool(profile="tokened"), FILE_SECRET, FILE_TOKEN
    else:
        pool, secret, token = SessionPool(**KEYS), SECRET, TOKEN
    port = silent_port if failure == "read timeout" else refused_port
    config = Config(retries={"max_attempts": 1}, read_timeout=0.5, connect_timeout=5)
    s3 = pool.client("s3", endpoint_url=f"http://127.0.0.1:{port}", config=config)
    with pytest.raises(Exception) as info:
        s3.list_buckets()
    with_token, frames = _frames_with(info.value, token)
    with_secret, _ = _frames_with(info.value, secret)
    masked, _ = _frames_with(info.value, "b'***'")
    pool.close()
    assert frames > 10
    assert with_secret == set()
    assert with_token <= RAW_REQUEST_FRAMES, sorted(with_token - RAW_REQUEST_FRAMES)
    assert masked, "no frame showed the masked token header: the masking was not exercised"
