"""Helpers for the web framework tests: tenants' AWS files, a served app, a burst of requests.

Each test serves a recipe on a listening socket it made itself (port 0: the port is its own) and
hands to the server as an inherited file descriptor, so nothing can take the port between
choosing and binding it. Requests go over ``http.client`` to 127.0.0.1 (no proxy settings are
read), from threads released together by a Barrier.
"""

from __future__ import annotations

import collections
import http.client
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.integration import _support
from tests.integration.conftest import FrameworkEnv
from tests.support.threads import run_together
from tests.support.waits import wait_until

DEFAULT_KEY_ID = "AKIADEFAULTEXAMPLE00"  # what a call that names no key signs with (not strict)
WSGI_SERVER = Path(__file__).resolve().parent / "_wsgi_server.py"


@dataclass(frozen=True)
class Tenants:
    """Profiles with distinct dummy keys, and the environment that points a server at them."""

    names: tuple[str, ...]
    key_ids: dict[str, str]
    secrets: dict[str, str]
    vars: dict[str, str]

    def of(self, i: int) -> str:
        """The tenant of request ``i`` (round robin: each tenant gets an equal share)."""
        return self.names[i % len(self.names)]

    def expected(self, requests: int) -> collections.Counter[str]:
        """Requests signed per access key id if request ``i`` signs as ``of(i)``."""
        return collections.Counter(self.key_ids[self.of(i)] for i in range(requests))


def write_tenants(directory: Path, count: int) -> Tenants:
    """``count`` profiles ``tenant0``... with their own static dummy keys, plus ``default`` (what
    a call naming no key uses): a config and a credentials file in ``directory``."""
    names = tuple(f"tenant{i}" for i in range(count))
    key_ids = {name: f"AKIATENANT{i}EXAMPLE0" for i, name in enumerate(names)}
    secrets = {name: f"tenant{i}-secret-EXAMPLE-not-real-000000" for i, name in enumerate(names)}
    config = "[default]\nregion = us-east-1\n" + "".join(
        f"\n[profile {name}]\nregion = us-east-1\n" for name in names
    )
    credentials = (
        f"[default]\naws_access_key_id = {DEFAULT_KEY_ID}\n"
        "aws_secret_access_key = default-secret-EXAMPLE-not-real-0000000\n"
    ) + "".join(
        f"\n[{name}]\naws_access_key_id = {key_ids[name]}\n"
        f"aws_secret_access_key = {secrets[name]}\n"
        for name in names
    )
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config").write_text(config)
    (directory / "credentials").write_text(credentials)
    env = {
        "AWS_CONFIG_FILE": str(directory / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(directory / "credentials"),
        "AWS_PROFILE": "default",
        "TENANTS": ",".join(names),
    }
    return Tenants(names, key_ids, secrets, env)


@dataclass
class Server:
    """A framework serving on 127.0.0.1:``port``, writing its output to ``log``."""

    port: int
    log: Path

    def post(self, path: str, tenant: str | None) -> tuple[int, bytes]:
        """POST ``path`` as ``tenant`` (header ``X-Tenant``; None: no header); (status, body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {} if tenant is None else {"X-Tenant": tenant}
        try:
            conn.request("POST", path, body=b"", headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def burst(
        self, path: str, tenants: Tenants, requests: int, clients: int
    ) -> list[tuple[int, bytes]]:
        """``requests`` POSTs of ``path``, request ``i`` as ``tenants.of(i)``, from ``clients``
        threads started together; the responses, by request."""
        results: list[Any] = [None] * requests

        def client(c: int) -> None:
            for i in range(c, requests, clients):
                results[i] = self.post(path, tenants.of(i))

        run_together(clients, client, timeout=600)
        return results

    def text(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def serve(
    env: FrameworkEnv,
    cmd: Sequence[str],
    *,
    ready: str,
    extra_env: dict[str, str],
    name: str,
    stopped: int = 0,
) -> Iterator[Server]:
    """Run ``cmd`` (``{fd}`` in it: the listening socket's descriptor) until the log shows
    ``ready``; yield the server; stop it with SIGTERM and require the exit code ``stopped``
    (uvicorn, having shut down gracefully, raises the signal it caught again: -SIGTERM)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(256)
    listener.set_inheritable(True)
    port = listener.getsockname()[1]
    log = env.dir / f"{name}.log"
    argv = [part.format(fd=listener.fileno()) for part in cmd]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            argv,
            env={**env.vars, "BUCKET": env.bucket, **extra_env},
            cwd=_support.RECIPES,
            pass_fds=(listener.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    listener.close()  # the server holds it now
    server = Server(port, log)
    try:
        wait_until(
            lambda: proc.poll() is not None or ready in server.text(),
            timeout=120,
            what=f"{name} to start serving",
        )
        assert proc.poll() is None, f"{name} exited early:\n{server.text()[-3000:]}"
        yield server
    finally:
        code = _support.stop(proc, signal.SIGTERM)
    assert code == stopped, f"{name} exited with {code}:\n{server.text()[-3000:]}"


def waitress(
    env: FrameworkEnv, app: str, *, threads: int, extra_env: dict[str, str]
) -> AbstractContextManager[Server]:
    """Serve the WSGI application ``module:attribute`` with waitress and ``threads`` threads."""
    return serve(
        env,
        [sys.executable, str(WSGI_SERVER), "{fd}", app, str(threads)],
        ready="Serving on",
        extra_env=extra_env,
        name="waitress",
    )


def tracebacks(log: str) -> list[str]:
    """The last line (the exception) of every traceback in a server's log."""
    found = []
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Traceback (most recent call last)"):
            for after in lines[i + 1 :]:
                if after and not after.startswith((" ", "\t")):
                    found.append(after)
                    break
    return found
