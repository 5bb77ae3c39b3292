"""What runs in each of the demo's worker processes.

:func:`run_worker` is the process's entry point (importable at module level, as ``spawn`` and
``forkserver`` need). It installs the target's environment, starts the threads on a Barrier and
measures their set-up, cold (every thread takes its three clients from the pool in a process
that has made none yet: the pool parses each service model and resolves credentials here),
then runs rounds until the deadline (or ``--ops``): writing, listing and reading S3 objects, SQS
messages and DynamoDB items, checking what comes back, or only listing and describing when
read-only. While the run's threads still hold their sessions it measures the set-up of as many
new threads again, warm, and after they end the documented boto3 pattern with the same number
of threads, in the same process, for comparison.

It reports through one multiprocessing Queue: ``("progress", index, phase, rounds, ops,
errors)`` about ten times a second, then ``("done", index, result)`` or ``("failed", index,
message)``. A worker imports neither moto nor rich.
"""

from __future__ import annotations

import gc
import os
import threading
import time
import uuid
from typing import Any

from ... import SessionPool
from ._measure import Tally, boto3_burst, growth, pool_burst, rss
from ._plan import NAME_PREFIX, REPORT_EVERY, SERVICES, Plan, Target, describe, install

__all__ = ["run_worker"]


class _Mismatch(Exception):
    """A read returned something other than what this thread wrote."""


def run_worker(plan: Plan, pool: SessionPool, reports: Any) -> None:
    """Entry point of a worker process: run the plan and put the result on ``reports``."""
    try:
        install(plan.target)
        result = _Worker(plan, pool, reports).run()
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, then exit 1
        reports.put(("failed", plan.index, describe(exc)))
        raise SystemExit(1) from None
    reports.put(("done", plan.index, result))


class _Worker:
    def __init__(self, plan: Plan, pool: SessionPool, reports: Any) -> None:
        self.plan = plan
        self.pool = pool
        self.reports = reports
        self.tally = Tally()
        self.deadline = 0.0
        self.go = threading.Event()
        self.hold = threading.Event()  # set when the run's threads may end

    def run(self) -> dict[str, Any]:
        plan, tally = self.plan, self.tally
        stop = threading.Event()
        reporter = threading.Thread(target=self._report, args=(stop,), daemon=True)
        reporter.start()
        n = plan.threads
        ready, set_up = threading.Barrier(n + 1), threading.Barrier(n + 1)
        finished = threading.Barrier(n + 1)
        threads = [
            threading.Thread(
                target=self._thread, args=(i, ready, set_up, finished), name=f"demo-{i}"
            )
            for i in range(n)
        ]
        gc.collect()
        rss_before = rss()
        for t in threads:
            t.start()
        ready.wait()
        t0 = time.perf_counter()
        set_up.wait()  # every thread has its session and three clients
        cold_seconds = time.perf_counter() - t0
        rss_after = rss()
        tally.set_phase("running")
        run_started = time.perf_counter()
        self.deadline = time.monotonic() + plan.duration
        self.go.set()
        finished.wait()  # every thread has done its rounds and still holds its clients
        run_seconds = time.perf_counter() - run_started
        stats = self.pool.stats()  # the run's counts, before the warm burst adds its own
        # Warm: new threads while the run's still hold theirs, so no freed memory is reused.
        try:
            warm = pool_burst(self.pool, n, tally)
        finally:
            self.hold.set()  # even on error: the run's threads must not outlive the worker
        for t in threads:
            t.join()
        baseline: dict[str, Any] | None = None
        if plan.baseline:
            baseline = boto3_burst(n, plan.target.profile, plan.target.region, tally)
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
                "run_seconds": run_seconds,
                "cold": {"seconds": cold_seconds, "rss": growth(rss_before, rss_after)},
                "warm": warm,
                "baseline": baseline,
            }

    def _report(self, stop: threading.Event) -> None:
        while not stop.wait(REPORT_EVERY):
            self._send_progress()

    def _send_progress(self) -> None:
        t = self.tally
        with t.lock:
            message = ("progress", self.plan.index, t.phase, t.rounds, t.ops, t.errors)
        self.reports.put(message)

    def _thread(
        self,
        i: int,
        ready: threading.Barrier,
        set_up: threading.Barrier,
        finished: threading.Barrier,
    ) -> None:
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
        try:
            if ok:
                self._rounds(i)
        finally:  # the worker waits for every thread here, whatever happened to it
            finished.wait()
            self.hold.wait()  # hold its session and clients until the warm burst is measured

    def _rounds(self, i: int) -> None:
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
