"""Requests counted at a server, by operation and by the key that signed them.

Standard library only: the benchmarks (``benchmarks/_servers.py``) count their STS calls with it
too, in a process that has no pytest.
"""

from __future__ import annotations

import collections
import io
import re
import threading
import urllib.parse
from typing import Any

__all__ = ["RequestLog", "operation_name", "signing_key_id"]


def operation_name(name: str) -> str:
    """The operation in an ``X-Amz-Target`` (``AmazonSQS.SendMessage`` -> ``SendMessage``); any
    other name (a query ``Action``, an HTTP method) as it is."""
    return name.rpartition(".")[2]


class RequestLog:
    """WSGI middleware that counts requests reaching the server by operation name, whichever
    wire protocol botocore uses for the service: the JSON protocols name the operation in
    ``X-Amz-Target`` (``AmazonSQS.SendMessage``, ``DynamoDB_20120810.PutItem``), the query
    protocol in an ``Action=`` parameter of the form body or the URL (``SendMessage``). Both
    count as ``SendMessage``: botocore 1.34 speaks query to SQS, newer releases JSON. REST
    requests (S3) count by HTTP method (``PUT``). ``count()`` takes either spelling.

    Requests are also counted by the access key id they were signed with (the ``Credential=``
    of a SigV4 ``Authorization`` header, or a presigned URL's ``X-Amz-Credential``), per
    operation: ``signers("PUT")`` is a Counter of key ids, so a test can tell exactly which
    key signed how many of its requests. Unsigned requests count under ``""``."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.counts: collections.Counter[str] = collections.Counter()
        self.by_signer: collections.Counter[tuple[str, str]] = collections.Counter()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        action = environ.get("HTTP_X_AMZ_TARGET", "")
        if not action and body[:200].find(b"Action=") >= 0:
            params = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            action = params.get("Action", [""])[0]
        if not action:
            params = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
            action = params.get("Action", [""])[0]
        operation = operation_name(action) or environ.get("REQUEST_METHOD", "?")
        key_id = signing_key_id(environ)
        with self.lock:
            self.counts[operation] += 1
            self.by_signer[key_id, operation] += 1
        return self.app(environ, start_response)

    def count(self, operation: str) -> int:
        """How many ``operation`` requests arrived (either spelling of the name)."""
        with self.lock:
            return self.counts[operation_name(operation)]

    def signers(self, operation: str) -> collections.Counter[str]:
        """How many ``operation`` requests each access key id signed (a snapshot)."""
        wanted = operation_name(operation)
        with self.lock:
            return collections.Counter(
                {key_id: n for (key_id, op), n in self.by_signer.items() if op == wanted}
            )

    def reset(self) -> None:
        """Forget every count."""
        with self.lock:
            self.counts.clear()
            self.by_signer.clear()


_CREDENTIAL = re.compile(r"Credential=([A-Za-z0-9]+)/")


def signing_key_id(environ: dict[str, Any]) -> str:
    """The access key id a request was signed with (SigV4 header or presigned query), or ``""``."""
    found = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if found is not None:
        return found.group(1)
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    credential = query.get("X-Amz-Credential", [""])[0]
    return credential.partition("/")[0]
