"""Loopback servers the benchmark runs in the parent process: a fake IMDS, and moto for STS.

Both count the requests they receive, so the parent can read exact counts around each measured
subprocess. They bind 127.0.0.1 with an OS-chosen port and are never reachable from elsewhere.
"""

from __future__ import annotations

import collections
import datetime
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# The request log the tests use (tests/support/request_log.py, standard library only). The
# benchmark runs as `python benchmarks/run.py`, so the checkout's root is not on sys.path; only
# the parent process imports this module, never the measured subprocesses.
REPO = str(Path(__file__).resolve().parents[1])
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from tests.support.request_log import RequestLog  # noqa: E402

__all__ = ["FakeIMDS", "MotoSTS", "closed_port"]

ROLE_NAME = "sessionpool-bench-role"
TOKEN = "sessionpool-bench-imds-token"


def closed_port() -> tuple[socket.socket, str]:
    """A loopback URL nothing listens on (the socket is bound, never listening: keep it open).

    Used as ``AWS_ENDPOINT_URL`` wherever no server is meant to be called, so that an unexpected
    request fails at once on 127.0.0.1 instead of going anywhere else.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


class FakeIMDS:
    """IMDSv2 on loopback: token, role name, role credentials; optional throttling (HTTP 429).

    Counts requests by kind: ``token`` (PUT /latest/api/token), ``role`` (the role listing),
    ``credentials`` (the role's credentials), ``other``, and ``throttled`` (answered 429).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: collections.Counter[str] = collections.Counter()
        self.limit_per_second: int | None = None
        self._recent: collections.deque[float] = collections.deque()
        imds = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: str = "") -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_PUT(self) -> None:  # noqa: N802 - http.server's naming
                if imds._throttled():
                    return self._reply(429)
                imds._count("token")
                if self.path.rstrip("/") != "/latest/api/token":
                    return self._reply(404)
                if not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                    return self._reply(400)
                return self._reply(200, TOKEN)

            def do_GET(self) -> None:  # noqa: N802
                if imds._throttled():
                    return self._reply(429)
                base = "/latest/meta-data/iam/security-credentials/"
                kind = {base: "role", base + ROLE_NAME: "credentials"}.get(self.path, "other")
                imds._count(kind)
                if self.headers.get("X-aws-ec2-metadata-token") != TOKEN:
                    return self._reply(401)
                if kind == "role":
                    return self._reply(200, ROLE_NAME)
                if kind == "credentials":
                    return self._reply(200, json.dumps(imds._credentials()))
                return self._reply(404)

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # a 32-thread burst must not overflow the listen backlog

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    @staticmethod
    def _credentials() -> dict[str, str]:
        now = datetime.datetime.now(datetime.timezone.utc)
        fmt = "%Y-%m-%dT%H:%M:%SZ"
        return {
            "Code": "Success",
            "LastUpdated": now.strftime(fmt),
            "Type": "AWS-HMAC",
            "AccessKeyId": "ASIAIMDSBENCHEXAMPLE",
            "SecretAccessKey": "imds-bench-secret-EXAMPLE-not-real-000000",
            "Token": "imds-bench-token-EXAMPLE-not-real",
            "Expiration": (now + datetime.timedelta(hours=6)).strftime(fmt),
        }

    def _count(self, kind: str) -> None:
        with self.lock:
            self.counts[kind] += 1

    def _throttled(self) -> bool:
        """Admit at most ``limit_per_second`` requests in any one-second window."""
        with self.lock:
            if self.limit_per_second is None:
                return False
            now = time.monotonic()
            while self._recent and now - self._recent[0] >= 1.0:
                self._recent.popleft()
            if len(self._recent) >= self.limit_per_second:
                self.counts["throttled"] += 1
                return True
            self._recent.append(now)
            return False

    def reset(self, limit_per_second: int | None = None) -> None:
        with self.lock:
            self.counts.clear()
            self._recent.clear()
            self.limit_per_second = limit_per_second

    def snapshot(self) -> dict[str, int]:
        with self.lock:
            counts = dict(self.counts)
        counts["requests"] = sum(v for k, v in counts.items() if k != "throttled")
        return counts

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class MotoSTS:
    """moto's ThreadedMotoServer on 127.0.0.1 (free port), with requests counted by action
    (:class:`~tests.support.request_log.RequestLog`)."""

    def __init__(self) -> None:
        import logging

        from moto.moto_server.threaded_moto_server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no per-request lines on stderr

        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        inner = self._server._server
        self.log = RequestLog(inner.app)
        inner.app = self.log

    def reset(self) -> None:
        self.log.reset()

    def count(self, action: str) -> int:
        return self.log.count(action)

    def stop(self) -> None:
        self._server.stop()
