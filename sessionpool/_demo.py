"""``sessionpool demo``: a realistic fan-out through one pool, and what it saves over boto3.

The parent starts moto's server on 127.0.0.1 (unless a real target was named), creates a bucket,
a queue and a table (when writing), and starts worker processes with ``spawn`` or
``forkserver``, handing each the pool, which pickles as its configuration. Each worker installs
the target's environment, starts its threads on a Barrier, measures their set-up (every thread
takes its three clients from the pool), then runs rounds until the deadline (or ``--ops``) and
finally measures the documented boto3 pattern (a ``boto3.session.Session()`` and three clients
per thread) with the same number of threads, in the same process, for comparison.

Workers report through one multiprocessing Queue: ``("progress", index, phase, rounds, ops,
errors)`` about ten times a second, then ``("done", index, result)`` or ``("failed", index,
message)``. Only the parent imports moto and rich (both lazily); a worker imports neither.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import multiprocessing
import os
import queue as queue_module
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ._cli import DEMO_EXTRA, fail
from ._pool import SessionPool

__all__ = ["run"]

SERVICES = ("s3", "sqs", "dynamodb")
NAME_PREFIX = "sessionpool-demo-"
# Dummy credentials for the local moto server; they never leave this machine.
_DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIADEMOEXAMPLE00000",
    "AWS_SECRET_ACCESS_KEY": "demo-secret-not-a-real-key-0000000000000",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    # Isolate the workers from the user's files: no profile, endpoint or role of theirs applies.
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
_REPORT_EVERY = 0.1  # seconds between a worker's progress messages
_LOST_AFTER = 5.0  # seconds to wait for a dead worker's last message before calling it lost


# ---------------------------------------------------------------------------------------------
# What the parent hands each worker


@dataclass(frozen=True)
class Target:
    """Where the workers send requests, and what they may touch. Holds no secret."""

    env: dict[str, str] = field(default_factory=dict)  # AWS_* variables the workers install
    clear_env: bool = False  # remove every other AWS_* variable first (the local moto server)
    profile: str | None = None
    region: str | None = None
    write: bool = True
    bucket: str | None = None
    queue_url: str | None = None
    table: str | None = None


@dataclass(frozen=True)
class Plan:
    index: int
    threads: int
    duration: float
    ops: int | None
    baseline: bool
    target: Target


@contextlib.contextmanager
def _environment(target: Target) -> Iterator[None]:
    """Install the target's AWS_* variables in this process; restore the old ones on exit."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    _install(target)
    try:
        yield
    finally:
        for name in [n for n in os.environ if n.startswith("AWS_")]:
            del os.environ[name]
        os.environ.update(saved)


def _install(target: Target) -> None:
    if target.clear_env:
        for name in [n for n in os.environ if n.startswith("AWS_")]:
            del os.environ[name]
    os.environ.update(target.env)


# ---------------------------------------------------------------------------------------------
# The worker process


class _Tally:
    """Counts shared by one worker's threads, under one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rounds = 0
        self.ops = 0
        self.errors = 0
        self.samples: list[str] = []
        self.phase = "set-up"

    def add(self, ops: int, error: BaseException | None = None) -> None:
        with self.lock:
            self.rounds += 1
            self.ops += ops
            if error is not None:
                self.errors += 1
                if len(self.samples) < 3:
                    self.samples.append(_describe(error))


class _Mismatch(Exception):
    """A read returned something other than what this thread wrote."""


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    # botocore's messages carry no secret, but scrub the ones this process knows, to be sure.
    for name in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        secret = os.environ.get(name)
        if secret:
            text = text.replace(secret, "***")
    return text[:300]


def _rss() -> int | None:
    """This process's resident set size in bytes (Linux), or None where /proc is missing."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _worker(plan: Plan, pool: SessionPool, reports: Any) -> None:
    """Entry point of a worker process: run the plan and put the result on ``reports``."""
    try:
        _install(plan.target)
        result = _Worker(plan, pool, reports).run()
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, then exit 1
        reports.put(("failed", plan.index, _describe(exc)))
        raise SystemExit(1) from None
    reports.put(("done", plan.index, result))


class _Worker:
    def __init__(self, plan: Plan, pool: SessionPool, reports: Any) -> None:
        self.plan = plan
        self.pool = pool
        self.reports = reports
        self.tally = _Tally()
        self.deadline = 0.0
        self.go = threading.Event()

    def run(self) -> dict[str, Any]:
        plan, tally = self.plan, self.tally
        stop = threading.Event()
        reporter = threading.Thread(target=self._report, args=(stop,), daemon=True)
        reporter.start()
        started = time.perf_counter()
        n = plan.threads
        ready, set_up = threading.Barrier(n + 1), threading.Barrier(n + 1)
        threads = [
            threading.Thread(target=self._thread, args=(i, ready, set_up), name=f"demo-{i}")
            for i in range(n)
        ]
        gc.collect()
        rss_before = _rss()
        for t in threads:
            t.start()
        ready.wait()
        t0 = time.perf_counter()
        set_up.wait()  # every thread has its session and three clients
        setup_seconds = time.perf_counter() - t0
        rss_after = _rss()
        with tally.lock:
            tally.phase = "running"
        run_started = time.perf_counter()
        self.deadline = time.monotonic() + plan.duration
        self.go.set()
        for t in threads:
            t.join()
        run_seconds = time.perf_counter() - run_started
        stats = self.pool.stats()
        baseline: dict[str, Any] | None = None
        if plan.baseline:
            with tally.lock:
                tally.phase = f"boto3 0/{n}"
            baseline = _boto3_pattern(n, plan.target.profile, plan.target.region, tally)
        wall = time.perf_counter() - started
        stop.set()
        reporter.join()
        self._send_progress()
        with tally.lock:
            return {
                "pid": os.getpid(),
                "rounds": tally.rounds,
                "ops": tally.ops,
                "errors": tally.errors,
                "samples": list(tally.samples),
                "stats": stats,
                "wall": wall,
                "run_seconds": run_seconds,
                "setup": {"seconds": setup_seconds, "rss": _growth(rss_before, rss_after)},
                "baseline": baseline,
            }

    def _report(self, stop: threading.Event) -> None:
        while not stop.wait(_REPORT_EVERY):
            self._send_progress()

    def _send_progress(self) -> None:
        t = self.tally
        with t.lock:
            message = ("progress", self.plan.index, t.phase, t.rounds, t.ops, t.errors)
        self.reports.put(message)

    def _thread(self, i: int, ready: threading.Barrier, set_up: threading.Barrier) -> None:
        ready.wait()
        ok = True
        try:
            for service in SERVICES:
                self.pool.client(service)
        except Exception as exc:  # noqa: BLE001 - counted and shown; this thread then stops
            self.tally.add(0, exc)
            ok = False
        set_up.wait()
        self.go.wait()
        if not ok:
            return
        step = self._write_round if self.plan.target.write else self._read_round
        ops = self.plan.ops
        n = 0
        while (n < ops) if ops is not None else (time.monotonic() < self.deadline):
            done = [0]
            try:
                step(i, n, done)
            except Exception as exc:  # noqa: BLE001 - an error is a result here, not a crash
                self.tally.add(done[0], exc)
            else:
                self.tally.add(done[0])
            n += 1

    def _write_round(self, i: int, n: int, done: list[int]) -> None:
        """Write, list and read an object; send and receive a message; put and get an item."""
        pool, target = self.pool, self.plan.target
        bucket, queue_url, table = _resources(target)
        key = f"p{self.plan.index}/t{i}/{n:07d}"
        body = f"{key}:{uuid.uuid4().hex}".encode() * 8

        s3 = pool.client("s3")
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        done[0] += 1
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=key)
        done[0] += 1
        if [o["Key"] for o in listed.get("Contents", [])] != [key]:
            raise _Mismatch(f"listing s3://{bucket}/{key} did not return exactly that key")
        got = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        done[0] += 1
        if got != body:
            raise _Mismatch(f"s3://{bucket}/{key} returned another body")

        sqs = pool.client("sqs")
        sqs.send_message(QueueUrl=queue_url, MessageBody=f"{NAME_PREFIX}{key}")
        done[0] += 1
        received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1)
        done[0] += 1
        for message in received.get("Messages", []):  # anyone's message: the queue is shared
            if not message["Body"].startswith(NAME_PREFIX):
                raise _Mismatch(f"unexpected message body {message['Body'][:40]!r}")
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            done[0] += 1

        ddb = pool.client("dynamodb")
        value = body[:64].decode()
        ddb.put_item(TableName=table, Item={"pk": {"S": key}, "v": {"S": value}})
        done[0] += 1
        item = ddb.get_item(TableName=table, Key={"pk": {"S": key}}, ConsistentRead=True)
        done[0] += 1
        if item.get("Item", {}).get("v", {}).get("S") != value:
            raise _Mismatch(f"item {key!r} in {table} came back different")

    def _read_round(self, i: int, n: int, done: list[int]) -> None:
        """List buckets, queues and tables, and head or describe the first of each."""
        pool = self.pool
        s3 = pool.client("s3")
        buckets = s3.list_buckets().get("Buckets", [])
        done[0] += 1
        if buckets:
            s3.head_bucket(Bucket=buckets[0]["Name"])
            done[0] += 1
        sqs = pool.client("sqs")
        urls = sqs.list_queues(MaxResults=10).get("QueueUrls", [])
        done[0] += 1
        if urls:
            sqs.get_queue_attributes(
                QueueUrl=urls[0], AttributeNames=["ApproximateNumberOfMessages"]
            )
            done[0] += 1
        ddb = pool.client("dynamodb")
        tables = ddb.list_tables(Limit=10).get("TableNames", [])
        done[0] += 1
        if tables:
            ddb.describe_table(TableName=tables[0])
            done[0] += 1


def _resources(target: Target) -> tuple[str, str, str]:
    if target.bucket is None or target.queue_url is None or target.table is None:
        raise RuntimeError("writing needs the bucket, queue and table the parent creates")
    return target.bucket, target.queue_url, target.table


def _growth(before: int | None, after: int | None) -> int | None:
    return None if before is None or after is None else after - before


def _boto3_pattern(
    n: int, profile: str | None, region: str | None, tally: _Tally | None = None
) -> dict[str, Any]:
    """Set-up cost of boto3's documented pattern: a Session and three clients per thread.

    Parameters:
        n: how many threads (each makes its own Session).
        profile, region: the Session's arguments, as the pool's key has them.
        tally: where to show progress ("boto3 k/n") while it runs, if given.
    """
    import boto3.session

    finished = [0]

    def count() -> None:
        if tally is not None:
            with tally.lock:
                finished[0] += 1
                tally.phase = f"boto3 {finished[0]}/{n}"

    ready, made = threading.Barrier(n + 1), threading.Barrier(n + 1)
    release = threading.Event()
    errors: list[str] = []

    def thread() -> None:
        ready.wait()
        clients: list[Any] = []
        try:
            session = boto3.session.Session(profile_name=profile, region_name=region)
            clients = [session.client("s3"), session.client("sqs"), session.client("dynamodb")]
        except Exception as exc:  # noqa: BLE001 - reported beside the figures
            errors.append(_describe(exc))
        count()
        made.wait()
        release.wait()  # keep the sessions alive until RSS is read
        for c in clients:
            c.close()

    threads = [threading.Thread(target=thread, name=f"boto3-{i}") for i in range(n)]
    gc.collect()
    rss_before = _rss()
    for t in threads:
        t.start()
    ready.wait()
    t0 = time.perf_counter()
    made.wait()
    seconds = time.perf_counter() - t0
    rss_after = _rss()
    release.set()
    for t in threads:
        t.join()
    return {"seconds": seconds, "rss": _growth(rss_before, rss_after), "errors": errors[:3]}


# ---------------------------------------------------------------------------------------------
# The parent


@dataclass
class _Progress:
    """What the parent knows about one worker."""

    index: int
    phase: str = "starting"
    rounds: int = 0
    ops: int = 0
    errors: int = 0
    running_since: float | None = None
    result: dict[str, Any] | None = None
    failure: str | None = None
    dead_since: float | None = None


def run(args: argparse.Namespace) -> int:
    """Run the demo described by parsed ``args``; return the exit status."""
    ui = _make_ui(args.plain)
    real = any(v is not None for v in (args.profile, args.region, args.endpoint_url))
    server = None
    if real:
        env = {"AWS_ENDPOINT_URL": args.endpoint_url} if args.endpoint_url else {}
        target = Target(env=env, profile=args.profile, region=args.region, write=args.write)
        where = ", ".join(
            f"{name} {value}"
            for name, value in (
                ("profile", args.profile),
                ("region", args.region),
                ("endpoint", args.endpoint_url),
            )
            if value is not None
        )
        ui.note(
            f"target: {where} ({'read-write' if args.write else 'read-only; --write to write'})"
        )
    else:
        try:
            from moto.moto_server.threaded_moto_server import ThreadedMotoServer
        except ImportError:
            return fail(f"the demo needs moto to run locally: {DEMO_EXTRA}", 2)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        target = Target(
            env={**_DUMMY_ENV, "AWS_ENDPOINT_URL": url},
            clear_env=True,
            region="us-east-1",
            write=True,
        )
        ui.note(f"target: moto server at {url} (in this process), dummy credentials")
    try:
        with _environment(target):
            return _run(args, target, ui, clean_up=real)
    except KeyboardInterrupt:
        ui.stop()
        return fail("interrupted", 130)
    finally:
        if server is not None:
            server.stop()


def _run(args: argparse.Namespace, target: Target, ui: _UI, clean_up: bool) -> int:
    setup_pool = SessionPool(profile=target.profile, region=target.region)
    resources: dict[str, str] = {}
    code = 1
    try:
        if target.write:
            try:
                _create(setup_pool, resources)
            except Exception as exc:  # noqa: BLE001 - one line, then clean up what was made
                return fail(f"could not create the demo's resources: {_describe(exc)}", 1)
            target = Target(
                env=target.env,
                clear_env=target.clear_env,
                profile=target.profile,
                region=target.region,
                write=True,
                bucket=resources["bucket"],
                queue_url=resources["queue_url"],
                table=resources["table"],
            )
            ui.note(f"bucket {target.bucket}, queue {resources['queue']}, table {target.table}")
        code = _fan_out(args, target, ui)
    finally:
        # Delete what we made in a real account, even on error or Ctrl-C. The local moto
        # server's state goes with it.
        if resources and clean_up:
            leftovers = _delete(setup_pool, resources)
            if leftovers:
                fail(f"could not delete {', '.join(leftovers)}; please delete by hand", 1)
                code = 1
            else:
                ui.note("deleted the demo's bucket, queue and table")
        setup_pool.close()
    return code


def _create(pool: SessionPool, made: dict[str, str]) -> None:
    name = f"{NAME_PREFIX}{uuid.uuid4().hex[:16]}"
    session = pool.get_session()
    region = session.region_name
    if region is None:
        raise ValueError("no region is configured; pass --region")
    s3 = pool.client("s3")
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        location: Any = {"LocationConstraint": region}
        s3.create_bucket(Bucket=name, CreateBucketConfiguration=location)
    made["bucket"] = name
    made["queue_url"] = pool.client("sqs").create_queue(QueueName=name)["QueueUrl"]
    made["queue"] = name
    ddb = pool.client("dynamodb")
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    made["table"] = name
    ddb.get_waiter("table_exists").wait(
        TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )


def _delete(pool: SessionPool, made: dict[str, str]) -> list[str]:
    """Delete the demo's table, queue and bucket (emptied first); return what could not be."""
    leftovers: list[str] = []

    def attempt(label: str, action: Callable[[], Any]) -> None:
        try:
            action()
        except Exception:  # noqa: BLE001 - reported by name, never with a secret
            leftovers.append(label)

    if "table" in made:
        attempt(
            f"table {made['table']}",
            lambda: pool.client("dynamodb").delete_table(TableName=made["table"]),
        )
    if "queue_url" in made:
        attempt(
            f"queue {made['queue']}",
            lambda: pool.client("sqs").delete_queue(QueueUrl=made["queue_url"]),
        )
    if "bucket" in made:
        attempt(f"bucket {made['bucket']}", lambda: _delete_bucket(pool, made["bucket"]))
    return leftovers


def _delete_bucket(pool: SessionPool, bucket: str) -> None:
    s3 = pool.client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys: Any = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    s3.delete_bucket(Bucket=bucket)


def _fan_out(args: argparse.Namespace, target: Target, ui: _UI) -> int:
    ctx = multiprocessing.get_context(args.start_method)
    reports = ctx.Queue()
    pool = SessionPool(profile=target.profile, region=target.region)  # travels as its config
    states = [_Progress(i) for i in range(args.processes)]
    workers = [
        ctx.Process(
            target=_worker,
            args=(
                Plan(i, args.threads, args.duration, args.ops, not args.no_baseline, target),
                pool,
                reports,
            ),
            name=f"sessionpool-demo-{i + 1}",
            daemon=True,
        )
        for i in range(args.processes)
    ]
    mode = f"{args.ops} rounds" if args.ops else f"{args.duration:g} s"
    ui.note(
        f"{args.processes} process(es) x {args.threads} threads, {mode} each "
        f"({args.start_method}); one SessionPool, pickled to each process"
    )
    ui.start(states, args)
    try:
        for w in workers:
            w.start()
        _collect(workers, states, reports, ui)
    finally:
        ui.stop()
        for w in workers:
            if w.is_alive():
                w.terminate()  # only on error or Ctrl-C: every worker has reported by now
            w.join(timeout=10)
    errors = ui.report(states, args, target)
    return 0 if errors == 0 else 1


def _collect(workers: list[Any], states: list[_Progress], reports: Any, ui: _UI) -> None:
    """Read the workers' reports until each has delivered a result or failed."""
    pending = set(range(len(workers)))
    while pending:
        try:
            message = reports.get(timeout=_REPORT_EVERY)
        except queue_module.Empty:
            message = None
        if message is not None:
            kind, index = message[0], message[1]
            state = states[index]
            if kind == "progress":
                state.phase, state.rounds, state.ops, state.errors = message[2:]
                if state.phase == "running" and state.running_since is None:
                    state.running_since = time.monotonic()
            elif kind == "done":
                state.result, state.phase = message[2], "done"
                pending.discard(index)
            elif kind == "failed":
                state.failure, state.phase = message[2], "failed"
                pending.discard(index)
        now = time.monotonic()
        for index in list(pending):
            if not workers[index].is_alive():
                state = states[index]
                state.dead_since = state.dead_since or now
                if now - state.dead_since > _LOST_AFTER:  # its last message never came
                    state.failure = f"exited with code {workers[index].exitcode} without a result"
                    state.phase = "failed"
                    pending.discard(index)
        ui.update(states)


# ---------------------------------------------------------------------------------------------
# Output: rich when available (and not --plain), plain text otherwise


def _seconds(value: float | None) -> str:
    if value is None:
        return "n/a"
    return (
        f"{value * 1000:.0f} ms"
        if value < 1
        else f"{value:.2f} s"
        if value < 10
        else f"{value:.1f} s"
    )


def _mib(value: int | None) -> str:
    return "n/a" if value is None else f"{value / 2**20:+.0f} MiB"


def _rows(states: list[_Progress]) -> tuple[list[list[str]], list[list[str]], int, list[str]]:
    """The work table, the set-up table, the total error count, and notes (failures, samples)."""
    work: list[list[str]] = []
    setup: list[list[str]] = []
    errors = 0
    notes: list[str] = []
    for s in states:
        label = f"#{s.index + 1}"
        r = s.result
        if r is None:
            errors += 1
            work.append([label, "-", "-", "failed", "-", "-", "-", "-", "-"])
            notes.append(f"process {label}: {s.failure}")
            continue
        label = f"#{s.index + 1} (pid {r['pid']})"
        st = r["stats"]
        errors += r["errors"]
        rate = r["ops"] / r["run_seconds"] if r["run_seconds"] > 0 else 0.0
        work.append(
            [
                label,
                f"{r['ops']:,}",
                f"{rate:,.0f}",
                f"{r['errors']:,}",
                str(st["sessions_created"]),
                str(st["clients_created"]),
                str(st["credential_resolutions"]),
                _seconds(r["run_seconds"]),
                _seconds(r["wall"]),
            ]
        )
        b = r["baseline"]
        ours = r["setup"]
        if b is None:
            setup.append([label, _seconds(ours["seconds"]), _mib(ours["rss"]), "skipped", "-", "-"])
        else:
            ratio = b["seconds"] / ours["seconds"] if ours["seconds"] > 0 else 0.0
            setup.append(
                [
                    label,
                    _seconds(ours["seconds"]),
                    _mib(ours["rss"]),
                    _seconds(b["seconds"]),
                    _mib(b["rss"]),
                    f"{ratio:.1f}x",
                ]
            )
            for e in b["errors"]:
                notes.append(f"process {label}, boto3 pattern: {e}")
        for sample in r["samples"]:
            notes.append(f"process {label}: {sample}")
    return work, setup, errors, notes


WORK_HEADERS = [
    "process",
    "operations",
    "ops/s",
    "errors",
    "sessions",
    "clients",
    "credential resolutions",
    "run time",
    "wall time",
]
SETUP_HEADERS = [
    "process",
    "sessionpool time",
    "sessionpool RSS",
    "boto3 time",
    "boto3 RSS",
    "boto3 / sessionpool",
]


def _setup_title(args: argparse.Namespace) -> str:
    return (
        f"Set-up of {args.threads} threads x {len(SERVICES)} clients "
        f"(sessionpool: cold, at the start; boto3.session.Session() per thread: after the run)"
    )


class _UI:
    """Plain text output: a progress line now and then, and aligned tables."""

    def __init__(self) -> None:
        self._last = 0.0
        self._total: float = 0.0

    def note(self, text: str) -> None:
        print(text, flush=True)

    def start(self, states: list[_Progress], args: argparse.Namespace) -> None:
        self._started = time.monotonic()

    def update(self, states: list[_Progress]) -> None:
        now = time.monotonic()
        if now - self._last < 2.0:
            return
        self._last = now
        parts = [f"#{s.index + 1} {s.phase} {s.ops:,} ops {s.errors} errors" for s in states]
        print(f"[{now - self._started:5.1f}s] " + " | ".join(parts), flush=True)

    def stop(self) -> None:
        pass

    def report(self, states: list[_Progress], args: argparse.Namespace, target: Target) -> int:
        work, setup, errors, notes = _rows(states)
        print()
        _plain_table("Work per process", WORK_HEADERS, work)
        print()
        _plain_table(_setup_title(args), SETUP_HEADERS, setup)
        for n in notes:
            print(f"  ! {n}")
        print()
        print(_verdict(errors), flush=True)
        return errors


def _verdict(errors: int) -> str:
    return "OK: no errors." if errors == 0 else f"FAILED: {errors} error(s)."


def _plain_table(title: str, headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print(title)
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )


class _RichUI(_UI):
    """rich's progress bar (one bar per process) and tables."""

    def __init__(self, rich: Any) -> None:
        super().__init__()
        self.rich = rich
        self.console = rich["console"].Console()
        self.progress: Any = None
        self.tasks: list[Any] = []

    def note(self, text: str) -> None:
        self.console.print(text, highlight=False, markup=False)

    def start(self, states: list[_Progress], args: argparse.Namespace) -> None:
        p = self.rich["progress"]
        self.by_ops = args.ops is not None
        self.total = float(args.threads * args.ops) if self.by_ops else float(args.duration)
        self.progress = p.Progress(
            p.TextColumn("[bold]{task.description}"),
            p.BarColumn(),
            p.TextColumn("{task.fields[phase]:<13}"),
            p.TextColumn("{task.fields[ops]:>9} ops"),
            p.TextColumn("{task.fields[errors]} errors"),
            p.TimeElapsedColumn(),
            console=self.console,
        )
        self.tasks = [
            self.progress.add_task(
                f"process #{s.index + 1}", total=self.total, phase=s.phase, ops="0", errors=0
            )
            for s in states
        ]
        self.progress.start()

    def update(self, states: list[_Progress]) -> None:
        now = time.monotonic()
        for task, s in zip(self.tasks, states, strict=True):
            if self.by_ops:
                done = float(s.rounds)
            elif s.running_since is None:
                done = 0.0
            else:
                done = min(self.total, now - s.running_since)
            if s.phase == "done" or s.phase.startswith("boto3"):
                done = self.total
            self.progress.update(
                task, completed=done, phase=s.phase, ops=f"{s.ops:,}", errors=s.errors
            )

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def report(self, states: list[_Progress], args: argparse.Namespace, target: Target) -> int:
        Table = self.rich["table"].Table
        work, setup, errors, notes = _rows(states)
        for title, headers, rows in (
            ("Work per process", WORK_HEADERS, work),
            (_setup_title(args), SETUP_HEADERS, setup),
        ):
            table = Table(title=title, title_justify="left")
            for i, h in enumerate(headers):
                table.add_column(h, justify="left" if i == 0 else "right")
            for r in rows:
                table.add_row(*r)
            self.console.print(table)
        for n in notes:
            self.console.print(f"  ! {n}", style="yellow", highlight=False, markup=False)
        self.console.print(_verdict(errors), style="bold green" if errors == 0 else "bold red")
        return errors


def _make_ui(plain: bool) -> _UI:
    if plain:
        return _UI()
    try:
        import rich.console
        import rich.progress
        import rich.table
    except ImportError:
        print(f"(plain output: {DEMO_EXTRA} for a progress bar and tables)", file=sys.stderr)
        return _UI()
    return _RichUI({"console": rich.console, "progress": rich.progress, "table": rich.table})
