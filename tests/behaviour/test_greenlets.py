"""Greenlets: under gevent's monkey patching, the greenlets of one OS thread share its sessions
and clients (HAZARDS G1); ``scopefunc`` chooses otherwise.

``threading.local`` is per greenlet once gevent patches it, so a pool keyed by it made one
session and one client per greenlet (500 greenlets: 501 sessions, +191 MiB). Each case runs in a
fresh interpreter that patches first, as gevent requires, and talks to the moto server on
loopback. Also: ``scopefunc="greenlet"`` for a session per greenlet, a callable scope function,
a pool made *before* patching (as with gunicorn ``--preload``), credentials resolved while other
greenlets wait on I/O, and a service resource shared by greenlets that each keep their own
sub-resources and batch writers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PRELUDE = r"""
import json, os, sys
MODE = sys.argv[1]
if MODE != "made-before-patching":
    from gevent import monkey
    monkey.patch_all()
import gevent
import sessionpool
from sessionpool import SessionPool

SCOPES = {"made-before-patching": "thread", "thread": "thread", "greenlet": "greenlet",
          "callable": lambda: getattr(gevent.getcurrent(), "tenant", None),
          "slow-credentials": "thread"}
pool = SessionPool(scopefunc=SCOPES[MODE],
                   **({"profile": "slow"} if MODE == "slow-credentials" else {}))
if MODE == "made-before-patching":
    # As gunicorn --preload does. ssl is left alone: gevent cannot patch an ssl module that is
    # already imported (RecursionError, for plain boto3 too; HAZARDS G1), and moto is plain HTTP.
    from gevent import monkey
    monkey.patch_all(ssl=False)
"""

GREENLETS = (
    PRELUDE
    + r"""
clients = []


def work(i):
    gevent.getcurrent().tenant = f"tenant-{i % 4}"
    s3 = pool.client("s3")
    s3.list_buckets()  # real I/O: greenlets switch here
    clients.append(s3)
    assert pool.client("s3") is s3


jobs = [gevent.spawn(work, i) for i in range(200)]
gevent.joinall(jobs, raise_error=True)
stats = pool.stats()
print(json.dumps({"sessions": stats["sessions_created"], "clients": stats["clients_created"],
                  "resolutions": stats["credential_resolutions"],
                  "distinct": len({id(c) for c in clients}), "calls": len(clients)}))
"""
)

EXPECTED = {
    # mode: (sessions, clients, distinct clients handed out)
    "thread": (1, 1, 1),
    "made-before-patching": (1, 1, 1),
    "slow-credentials": (1, 1, 1),
    "callable": (4, 4, 4),
    "greenlet": (200, 200, 200),
}

SLOW_PROCESS = """\
import json, time
time.sleep(0.2)  # other greenlets run meanwhile (gevent patches subprocess)
print(json.dumps({"Version": 1, "AccessKeyId": "AKIAGREENLETEXAMPLE1",
                  "SecretAccessKey": "slow-greenlet-secret-EXAMPLE"}))
"""


def run(script: str, mode: str, cwd: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", script, mode],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
        cwd=cwd,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


@pytest.fixture
def slow_profile(aws_files: tuple[Path, Path], tmp_path: Path) -> None:
    config, _ = aws_files
    helper = tmp_path / "slow.py"
    helper.write_text(SLOW_PROCESS)
    config.write_text(
        config.read_text()
        + f"\n[profile slow]\nregion = us-east-1\ncredential_process = {sys.executable} {helper}\n"
    )


@pytest.mark.parametrize("mode", sorted(EXPECTED))
def test_200_greenlets_share_what_their_scope_says(
    mode: str, aws_env: Any, slow_profile: None, tmp_path: Path
) -> None:
    out = run(GREENLETS, mode, tmp_path)
    sessions, clients, distinct = EXPECTED[mode]
    assert out["calls"] == 200
    assert (out["sessions"], out["clients"], out["distinct"]) == (sessions, clients, distinct), out
    assert out["resolutions"] == 1


RESOURCES = (
    PRELUDE
    + r"""
import uuid

table_name = f"greenlets-{uuid.uuid4().hex[:8]}"
pool.client("dynamodb").create_table(
    TableName=table_name,
    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
    BillingMode="PAY_PER_REQUEST",
)
shared = []


def writer(g):
    dynamodb = pool.resource("dynamodb")  # shared by the greenlets of this thread
    shared.append(dynamodb)
    table = dynamodb.Table(table_name)  # a sub-resource: this greenlet's own
    with table.batch_writer() as batch:  # its own buffer: never share one between greenlets
        for i in range(60):
            batch.put_item(Item={"pk": f"{g}-{i}", "writer": g})
            if i % 10 == 0:
                gevent.sleep(0)  # interleave with the other writers
    return sum(1 for _ in table.scan(ProjectionExpression="pk")["Items"])


jobs = [gevent.spawn(writer, g) for g in range(4)]
gevent.joinall(jobs, raise_error=True)
items = pool.resource("dynamodb").Table(table_name).scan()["Items"]
by_writer = {}
for item in items:
    by_writer.setdefault(item["writer"], set()).add(item["pk"])
print(json.dumps({"same_resource": all(r is shared[0] for r in shared),
                  "per_writer": {str(k): len(v) for k, v in sorted(by_writer.items())},
                  "total": len(items)}))
"""
)


def test_greenlets_share_the_service_resource_and_keep_their_own_batch_writers(
    aws_env: Any, slow_profile: None, tmp_path: Path
) -> None:
    out = run(RESOURCES, "thread", tmp_path)
    assert out["same_resource"] is True
    assert out["per_writer"] == {"0": 60, "1": 60, "2": 60, "3": 60}
    assert out["total"] == 240


def test_a_callable_scope_is_released_explicitly(aws_env: Any) -> None:
    from sessionpool import SessionPool

    owner = ["request-1"]
    with SessionPool(scopefunc=lambda: owner[0]) as pool:
        first = pool.client("s3")
        owner[0] = "request-2"
        second = pool.client("s3")
        assert second is not first
        assert pool.stats()["sessions"] == 2
        assert pool.release() == 1  # request-2's client closed
        assert pool.stats()["sessions"] == 1
        owner[0] = "request-1"
        assert pool.client("s3") is first


def test_release_in_a_thread_closes_its_clients_and_starts_afresh(aws_env: Any) -> None:
    from sessionpool import SessionPool

    with SessionPool() as pool:
        first = pool.client("s3")
        assert pool.release() == 1
        assert pool.client("s3") is not first
        assert pool.release() == 1
        assert pool.release() == 0
