"""Serve a WSGI application with waitress on an inherited listening socket (run as a script).

    python _wsgi_server.py FD module:attribute THREADS

waitress's command line takes only a host and port; the tests make the socket themselves (so the
port is theirs) and pass its descriptor. SIGTERM stops the server gracefully: waitress lets the
requests in progress finish, and the process exits 0.
"""

from __future__ import annotations

import importlib
import logging
import signal
import socket
import sys
from typing import Any

import waitress


def _stop(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # waitress's run loop closes the server on it


def main() -> None:
    fd, target, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    module_name, _, attribute = target.partition(":")
    app = getattr(importlib.import_module(module_name), attribute)
    listener = socket.socket(fileno=int(fd))
    signal.signal(signal.SIGTERM, _stop)
    logging.basicConfig()  # errors (tracebacks) to stderr, and waitress's "Serving on" line
    logging.getLogger("waitress").setLevel(logging.INFO)
    waitress.serve(app, sockets=[listener], threads=threads)


if __name__ == "__main__":
    main()
