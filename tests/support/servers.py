"""Servers on 127.0.0.1 for the tests: moto's, in this process or in a process of its own, and
ports that refuse connections.

:class:`MotoServer` is moto's ``ThreadedMotoServer`` in this process on a port the OS picks, its
requests counted by a :class:`~tests.support.request_log.RequestLog` (the conftest's
``moto_server`` fixture: one per xdist worker).

:class:`MotoProcess` runs moto in a process of its own, behind a keep-alive front, and can be
stopped and restarted on the same port with its data. Tests that count this process's open
descriptors or resident memory need it: with the server in the test process, every client
connection would also show up as the server's end of it (closed by a server thread at a time of
its choosing) and every stored object as server memory. In its own process the server leaves
only the client side here, which the pool alone is responsible for.
"""

from __future__ import annotations

import http.client
import multiprocessing
import socket
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.request_log import RequestLog

__all__ = ["MotoProcess", "MotoServer", "moto_process", "refused_port"]


class MotoServer:
    """moto's ``ThreadedMotoServer`` on 127.0.0.1 (a port the OS picks), requests counted in
    :attr:`log`; :attr:`url` is its endpoint."""

    def __init__(self) -> None:
        from moto.moto_server.threaded_moto_server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        inner = self._server._server
        assert inner is not None
        self.log = RequestLog(inner.app)
        inner.app = self.log

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        self._server.stop()


@contextmanager
def refused_port() -> Iterator[int]:
    """A loopback port that refuses connections while the block runs: bound, never listening,
    so no one else can take it and a connection to it is refused at once."""
    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])
    finally:
        sock.close()


# -- moto's server in a process of its own --------------------------------------------------------

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
