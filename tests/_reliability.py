"""Helpers for the reliability tests (issue 4): descriptor and memory probes, a close counter,
and a moto server in a process of its own that can be stopped and restarted on the same port.

Why a separate process for the server: the tests count this process's open descriptors and
resident memory. The shared ``moto_server`` fixture lives in the test process, so every client
connection would also show up as the server's end of it (closed by a server thread at a time of
its choosing) and every stored object as server memory. In its own process the server leaves
only the client side here, which the pool alone is responsible for.
"""

from __future__ import annotations

import http.client
import logging
import multiprocessing
import os
import socket
import threading
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import botocore.client
import pytest

__all__ = [
    "CloseLog",
    "MotoProcess",
    "fd_count",
    "install_close_log",
    "moto_process",
    "quiet_botocore",
    "rss_bytes",
    "tag",
]


def fd_count() -> int:
    """Open file descriptors of this process (the listing's own descriptor included, always 1)."""
    return len(os.listdir("/proc/self/fd"))


def rss_bytes() -> int:
    """Resident set size of this process, in bytes."""
    with open("/proc/self/statm") as f:
        resident_pages = int(f.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


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


_TAG = "_sessionpool_test_tag"


def tag(obj: Any) -> str:
    """A name for ``obj`` that no other object ever gets, stored on the object itself.

    Unlike ``id(obj)``, which CPython hands to a new object as soon as ``obj`` is freed (3.13
    reuses a freed client's address at once), a tag is never reused: a random uuid, unique across
    processes too (a forked child inherits the tags of the objects it inherits, and gives new
    objects new ones). Remembering tags keeps nothing alive.
    """
    attrs = vars(obj)  # the instance dict: no __getattr__ hooks (botocore clients have one)
    return str(attrs.setdefault(_TAG, uuid.uuid4().hex))  # setdefault: one winner if two race


class CloseLog:
    """Counts ``BaseClient.close`` calls per client while installed; remembers each closed
    client's :func:`tag`, never the client, so that it keeps nothing alive (memory measurements
    stay honest) and a new client can never be mistaken for a freed one that was closed."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.closed_tags: list[str] = []

    def count(self, client: Any) -> int:
        name = tag(client)
        with self.lock:
            return self.closed_tags.count(name)

    def tags(self) -> list[str]:
        with self.lock:
            return list(self.closed_tags)

    def reset(self) -> None:
        with self.lock:
            self.closed_tags.clear()


def install_close_log(monkeypatch: pytest.MonkeyPatch) -> CloseLog:
    """Patch ``BaseClient.close`` (for this test) to record each call, then close for real."""
    log = CloseLog()
    original = botocore.client.BaseClient.close

    def close(self: Any) -> None:
        name = tag(self)
        with log.lock:
            log.closed_tags.append(name)
        original(self)

    monkeypatch.setattr(botocore.client.BaseClient, "close", close)
    return log


# -- a moto server in its own process ------------------------------------------------------------

_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "expect", "server", "date"}
)


class _KeepAliveHandler(BaseHTTPRequestHandler):
    """Forwards one request to moto and returns its answer on a connection that stays open."""

    protocol_version = "HTTP/1.1"  # keep-alive, as AWS endpoints do
    server: Any

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _forward(self) -> None:
        body = self._body()
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        upstream = http.client.HTTPConnection("127.0.0.1", self.server.upstream_port, timeout=60)
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            data = response.read()
        finally:
            upstream.close()
        self.send_response(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in _HOP_BY_HOP:
                self.send_header(name, value)
        if self.command == "HEAD":
            self.send_header("Content-Length", response.getheader("Content-Length") or "0")
        else:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _forward


class _KeepAliveFront(ThreadingHTTPServer):
    """The listening side: remembers accepted connections so that stopping can cut them."""

    daemon_threads = True

    def __init__(self, port: int, upstream_port: int) -> None:
        super().__init__(("127.0.0.1", port), _KeepAliveHandler)
        self.upstream_port = upstream_port
        self.accepted: weakref.WeakSet[socket.socket] = weakref.WeakSet()

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        # Headers and body go out in two writes: without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every response.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.accepted.add(sock)
        return sock, address

    def cut(self) -> None:
        self.shutdown()
        self.server_close()
        for sock in list(self.accepted):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by its handler


def _serve(conn: Any) -> None:
    """The server process: obey "start" / "stop" / "exit" from the pipe.

    Moto's server (werkzeug) closes the connection after every response, which would hide
    connection leaks entirely; real AWS endpoints keep connections alive. So clients talk to a
    small keep-alive front that forwards each request to moto's ``ThreadedMotoServer``. "stop"
    stops both, closing the front's listening socket *and* every open client connection (the
    clients then see refused connections, as with a dead endpoint); "start" starts both again on
    the same ports. Moto keeps its data in module-level backends, so data survives while this
    process lives.
    """
    import logging

    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request on stderr
    moto: Any = None
    front: _KeepAliveFront | None = None
    moto_port = front_port = 0
    while True:
        command = conn.recv()
        if command == "start":
            moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
            moto.start()
            moto_port = moto.get_host_and_port()[1]
            front = _KeepAliveFront(front_port, moto_port)
            front_port = front.server_address[1]
            threading.Thread(target=front.serve_forever, daemon=True).start()
            conn.send(front_port)
        elif command == "stop":
            assert front is not None
            front.cut()
            moto.stop()
            moto._server.server_close()
            conn.send("stopped")
        elif command == "exit":
            conn.send("bye")
            return


class MotoProcess:
    """A moto server (behind a keep-alive front) in a spawned process on 127.0.0.1;
    :meth:`stop` and :meth:`start` again keep the port and the data."""

    TIMEOUT = 60.0

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child_conn = ctx.Pipe()
        self._process = ctx.Process(target=_serve, args=(child_conn,), daemon=True)
        self._process.start()
        child_conn.close()
        self.port = self._ask("start")
        self.url = f"http://127.0.0.1:{self.port}"

    def _ask(self, command: str) -> Any:
        self._conn.send(command)
        if not self._conn.poll(self.TIMEOUT):
            raise TimeoutError(f"moto server process did not answer {command!r}")
        return self._conn.recv()

    def stop(self) -> None:
        assert self._ask("stop") == "stopped"

    def start(self) -> None:
        assert self._ask("start") == self.port

    def close(self) -> None:
        try:
            self._ask("exit")
        finally:
            self._process.join(self.TIMEOUT)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(self.TIMEOUT)
            self._conn.close()


@contextmanager
def moto_process() -> Iterator[MotoProcess]:
    server = MotoProcess()
    try:
        yield server
    finally:
        server.close()
