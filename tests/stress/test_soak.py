"""Soak: 64 threads x 5 keys x s3/sqs/dynamodb for a configurable time make no error, read back
every object as written, and keep descriptors and memory flat.

``SESSIONPOOL_SOAK_SECONDS`` sets the measured phase (30 s in the suite; run longer by hand, e.g.
``SESSIONPOOL_SOAK_SECONDS=600 pytest tests/stress/test_soak.py``). Keys: the profiles
default, prod and dev, and two pairs of explicit keys. Each thread first makes every one of its
15 clients (the warm-up), then cycles through keys and services until the time is up, checking
every read against what it wrote; at the end every S3 object and DynamoDB item is read back.

Descriptors and memory are sampled during the measured phase. The server runs in a process of its
own behind a keep-alive front (``MotoProcess``, ``tests/support/servers.py``): each of the 960
clients keeps one connection open, as with AWS, so a leaked or duplicated connection shows up as a
descriptor. Bodies are derived from a per-run seed rather than stored, so that the test's own
bookkeeping does not grow with the number of requests.

The run happens once per module; each test checks one promise.
"""

from __future__ import annotations

import hashlib
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from sessionpool import SessionPool
from tests.support.aws import isolate_aws_env
from tests.support.logs import quiet_botocore
from tests.support.probes import fd_count, rss_bytes
from tests.support.servers import MotoProcess

THREADS = 64
SECONDS = float(os.environ.get("SESSIONPOOL_SOAK_SECONDS", "30"))
JOIN_TIMEOUT = 600.0
EXPLICIT = [
    {
        "aws_access_key_id": "AKIASOAKEXAMPLE00001",
        "aws_secret_access_key": "soak-secret-one-EXAMPLE-not-real-000000",
    },
    {
        "aws_access_key_id": "AKIASOAKEXAMPLE00002",
        "aws_secret_access_key": "soak-secret-two-EXAMPLE-not-real-000000",
    },
]
KEYS: list[dict[str, str]] = [{}, {"profile": "prod"}, {"profile": "dev"}, *EXPLICIT]
SERVICES = ("s3", "sqs", "dynamodb")
SECRETS = {
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "prod-secret-EXAMPLE-not-real-0000000000",
    "dev-secret-EXAMPLE-not-real-00000000000",
    *(k["aws_secret_access_key"] for k in EXPLICIT),
}
# Memory may move a little (allocator arenas, thread stacks touched for the first time); a leak
# of one client, session or connection per request would cost tens of MB in 30 s.
RSS_SLACK = 16 * 1024 * 1024


WARM_UP_OPS = len(KEYS) * len(SERVICES)


@pytest.fixture
def _scan_soak_secrets(secrets_to_scan: set[str]) -> None:
    secrets_to_scan.update(SECRETS)


pytestmark = pytest.mark.usefixtures("_scan_soak_secrets")


def plan(i: int, n: int) -> tuple[dict[str, str], str]:
    """The key and service of thread i's n-th operation: first each of its 15 (key, service)
    pairs once, then a rotation that mixes them differently in every thread."""
    if n < WARM_UP_OPS:
        return KEYS[n // len(SERVICES)], SERVICES[n % len(SERVICES)]
    return KEYS[(i + n) % len(KEYS)], SERVICES[(i + n // len(KEYS)) % len(SERVICES)]


@dataclass
class Soak:
    seed: str = field(default_factory=lambda: uuid.uuid4().hex)
    errors: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    ops: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SERVICES, 0))
    written: dict[str, int] = field(default_factory=lambda: {"s3": 0, "dynamodb": 0})
    read_back: dict[str, int] = field(default_factory=lambda: {"s3": 0, "dynamodb": 0})
    fds_baseline: int = 0
    fds_samples: list[int] = field(default_factory=list)
    fds_end: int = 0
    rss_baseline: int = 0
    rss_samples: list[int] = field(default_factory=list)
    rss_end: int = 0
    stats: dict[str, int] = field(default_factory=dict)
    failure: str | None = None

    def body(self, name: str) -> str:
        return f"{name} {hashlib.sha256(f'{self.seed}/{name}'.encode()).hexdigest()}"


@pytest.fixture(scope="module")
def soak(own_server: MotoProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Soak]:
    home = tmp_path_factory.mktemp("soak")
    (home / "config").write_text(
        "[default]\nregion = us-east-1\n\n[profile prod]\nregion = us-east-1\n\n"
        "[profile dev]\nregion = us-east-1\n"
    )
    (home / "credentials").write_text(
        "[prod]\naws_access_key_id = AKIAPRODEXAMPLE00001\n"
        "aws_secret_access_key = prod-secret-EXAMPLE-not-real-0000000000\n\n"
        "[dev]\naws_access_key_id = AKIADEVEXAMPLE000002\n"
        "aws_secret_access_key = dev-secret-EXAMPLE-not-real-00000000000\n"
    )
    with pytest.MonkeyPatch.context() as mp:
        isolate_aws_env(mp, home / "config", home / "credentials", own_server.url)
        # botocore quiet for the whole run (see quiet_botocore): ~100k retained records would
        # otherwise triple the run time and sit in the memory being measured.
        with SessionPool() as pool, quiet_botocore():
            yield run_soak(pool)


def run_soak(pool: SessionPool, seconds: float = SECONDS) -> Soak:
    out = Soak()
    lock = threading.Lock()
    run = out.seed[:12]
    bucket, table = f"soak-{run}", f"soak-{run}"
    pool.client("s3").create_bucket(Bucket=bucket)
    ddb = pool.client("dynamodb")
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    queues = [
        pool.client("sqs").create_queue(QueueName=f"soak-{run}-{i}")["QueueUrl"]
        for i in range(THREADS)
    ]
    warmed = threading.Barrier(THREADS + 1)
    finished = threading.Barrier(THREADS + 1)
    checked = threading.Barrier(THREADS + 1)
    stop = threading.Event()

    def one_op(
        i: int, n: int, key_args: dict[str, str], service: str, mine: dict[str, int]
    ) -> None:
        client = pool.client(service, **key_args)
        name = f"t{i}/n{n}"
        body = out.body(name)
        if service == "s3":
            client.put_object(Bucket=bucket, Key=name, Body=body.encode())
            got = client.get_object(Bucket=bucket, Key=name)["Body"].read().decode()
        elif service == "dynamodb":
            item = {"pk": {"S": name}, "body": {"S": body}}
            client.put_item(TableName=table, Item=item)
            got = client.get_item(TableName=table, Key={"pk": {"S": name}}, ConsistentRead=True)[
                "Item"
            ]["body"]["S"]
        else:
            client.send_message(QueueUrl=queues[i], MessageBody=body)
            messages = client.receive_message(QueueUrl=queues[i], MaxNumberOfMessages=1)
            got = messages["Messages"][0]["Body"] if messages.get("Messages") else "<none>"
            if messages.get("Messages"):
                client.delete_message(
                    QueueUrl=queues[i], ReceiptHandle=messages["Messages"][0]["ReceiptHandle"]
                )
        mine[service] += 1
        if got != body:
            with lock:
                out.mismatches.append(f"{service} {name}")

    def worker(i: int) -> None:
        mine = dict.fromkeys(SERVICES, 0)
        read = {"s3": 0, "dynamodb": 0}
        n = 0
        try:
            for n in range(WARM_UP_OPS):  # every client this thread will use
                one_op(i, n, *plan(i, n), mine)
            n = WARM_UP_OPS
            warmed.wait(JOIN_TIMEOUT)
            while not stop.is_set():
                one_op(i, n, *plan(i, n), mine)
                n += 1
            finished.wait(JOIN_TIMEOUT)
            for m in range(n):  # read back everything this thread stored, with the same key
                key_args, service = plan(i, m)
                name = f"t{i}/n{m}"
                if service == "s3":
                    s3 = pool.client("s3", **key_args)
                    got = s3.get_object(Bucket=bucket, Key=name)["Body"].read().decode()
                elif service == "dynamodb":
                    item = pool.client("dynamodb", **key_args).get_item(
                        TableName=table, Key={"pk": {"S": name}}, ConsistentRead=True
                    )
                    got = item.get("Item", {}).get("body", {}).get("S", "<missing>")
                else:
                    continue  # messages were received and deleted as they were checked
                read[service] += 1
                if got != out.body(name):
                    with lock:
                        out.mismatches.append(f"read back {service} {name}")
            with lock:
                for service in SERVICES:
                    out.ops[service] += mine[service]
                for service in read:
                    out.written[service] += mine[service]
                    out.read_back[service] += read[service]
            checked.wait(JOIN_TIMEOUT)
        except BaseException as exc:
            with lock:
                out.errors.append(f"thread {i}: {type(exc).__name__}: {exc}"[:500])
            for barrier in (warmed, finished, checked):
                barrier.abort()

    threads = [threading.Thread(target=worker, args=(i,), name=f"soak-{i}") for i in range(THREADS)]
    for t in threads:
        t.start()
    try:
        warmed.wait(JOIN_TIMEOUT)
        out.fds_baseline, out.rss_baseline = fd_count(), rss_bytes()
        ticks = max(1, int(seconds))
        for _ in range(ticks):  # a sampling period, not synchronisation
            stop.wait(seconds / ticks)
            out.fds_samples.append(fd_count())
            out.rss_samples.append(rss_bytes())
        stop.set()
        finished.wait(JOIN_TIMEOUT)
        out.fds_end, out.rss_end = fd_count(), rss_bytes()
        checked.wait(JOIN_TIMEOUT)
    except threading.BrokenBarrierError:
        out.failure = "a worker failed; see errors"
    stop.set()
    for t in threads:
        t.join(JOIN_TIMEOUT)
    out.stats = pool.stats()
    return out


def test_soak_report(soak: Soak) -> None:
    print(
        f"soak {SECONDS:.0f}s: ops {soak.ops}, written {soak.written}, read back "
        f"{soak.read_back}, fds {soak.fds_baseline} -> max {max(soak.fds_samples, default=0)}"
        f" -> end {soak.fds_end}, rss {soak.rss_baseline // 1024} KiB -> max "
        f"{max(soak.rss_samples, default=0) // 1024} -> end {soak.rss_end // 1024} KiB, "
        f"stats {soak.stats}"
    )
    assert soak.failure is None, soak.errors[:5]


def test_soak_makes_zero_errors(soak: Soak) -> None:
    assert soak.errors == []
    assert sum(soak.ops.values()) > THREADS * WARM_UP_OPS  # it ran past the warm-up


def test_soak_reads_back_every_object_exactly_as_written(soak: Soak) -> None:
    assert soak.mismatches == []
    assert soak.read_back == soak.written
    assert soak.written["s3"] > 0 and soak.written["dynamodb"] > 0


def test_soak_keeps_descriptors_flat_after_warm_up(soak: Soak) -> None:
    # One keep-alive connection per client, made during the warm-up, and never another.
    assert soak.fds_samples and max(soak.fds_samples) == soak.fds_baseline, soak.fds_samples
    assert soak.fds_end == soak.fds_baseline


def test_soak_keeps_memory_flat_after_warm_up(soak: Soak) -> None:
    assert max([*soak.rss_samples, soak.rss_end]) - soak.rss_baseline < RSS_SLACK, [
        r // 1024 for r in soak.rss_samples
    ]


def test_soak_made_one_session_per_thread_and_key_and_one_client_per_service(soak: Soak) -> None:
    # Plus the main thread's session and its s3, dynamodb and sqs clients (set-up).
    assert soak.stats["sessions_created"] == THREADS * len(KEYS) + 1
    assert soak.stats["clients_created"] == THREADS * len(KEYS) * len(SERVICES) + 3
    assert soak.stats["credential_resolutions"] == len(KEYS)
