"""One measurement, in a fresh process: ``python benchmarks/run.py --one FIGURE APPROACH [N]``.

The parent (run.py) sets up the environment (dummy keys, temporary config files, and an
``AWS_ENDPOINT_URL`` on loopback) and reads the one JSON line this prints. RSS is this process's
resident set (``/proc/self/statm``), so each measurement that needs clean memory gets its own
process.

"Warm process" means the main thread has already done one thread's work with the same approach
(so lazily imported modules are imported, and whatever the approach shares is built), as in a
long-running service where threads come and go.
"""

from __future__ import annotations

import contextlib
import gc
import io
import os
import statistics
import sys
import threading
import time
import timeit
from collections.abc import Callable
from typing import Any

import _approaches

__all__ = ["run_one"]

SERVICES = ("s3", "dynamodb", "sqs")
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def _burst(n: int, fn: Callable[[int], Any]) -> tuple[float, int, list[Any]]:
    """Run ``fn(i)`` in n threads released by a Barrier; measure while all of them are alive.

    Returns (wall seconds from the first thread's start to the last one's finish, RSS growth
    in bytes with every thread still alive and holding its result, results). Threads are held
    alive until RSS is read, so nothing a thread made (or a pool releases when its thread ends)
    is freed before the measurement.
    """
    start = threading.Barrier(n + 1)
    done = threading.Barrier(n + 1)
    release = threading.Event()
    starts = [0.0] * n
    ends = [0.0] * n
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def target(i: int) -> None:
        try:
            start.wait()
            starts[i] = time.perf_counter()
            results[i] = fn(i)
            ends[i] = time.perf_counter()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            done.wait()
            release.wait()

    gc.collect()
    before = rss()
    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    start.wait()
    done.wait()
    after = rss()
    release.set()
    for t in threads:
        t.join(600)
    if errors:
        raise errors[0]
    return max(ends) - min(starts), after - before, results


def cold(approach: Any, samples: int = 3) -> dict[str, Any]:
    """A new thread's cost for s3 (first: includes its session), dynamodb, sqs: ms and bytes.

    ``samples`` new threads, one after another, each keeping what it made; medians over them,
    and each thread's total time in ``totals_s`` (for the spread)."""
    approach.thread_clients(SERVICES)  # warm process
    keep: list[Any] = []
    per: dict[str, list[tuple[float, int]]] = {name: [] for name in SERVICES}

    def new_thread() -> None:
        for i, name in enumerate(SERVICES):
            gc.collect()
            # What earlier threads made stays alive (so its memory is not reused); frozen, the
            # collector no longer walks it, so neither this collect() nor an automatic one
            # inside the measurement costs more with every thread before (40 documented
            # sessions are ~10 million objects).
            gc.freeze()
            r0, t0 = rss(), time.perf_counter()
            # The first call makes the thread's session (documented pattern: a new Session);
            # the next ones get the other clients the approach's own way, on that session.
            keep.append(approach.thread_clients([name])[0] if i == 0 else approach.client(name))
            per[name].append((time.perf_counter() - t0, rss() - r0))

    for _ in range(samples):
        t = threading.Thread(target=new_thread)
        t.start()
        t.join(600)
    assert len({id(c) for c in keep}) == len(keep) == samples * len(SERVICES), "clients shared"
    out: dict[str, Any] = {}
    for name, values in per.items():
        out[f"{name}_s"] = statistics.median(v[0] for v in values)
        out[f"{name}_b"] = statistics.median(v[1] for v in values)
    totals = [sum(per[n][i][0] for n in SERVICES) for i in range(samples)]
    out["total_s"] = statistics.median(totals)
    out["total_b"] = statistics.median(sum(per[n][i][1] for n in SERVICES) for i in range(samples))
    out["totals_s"] = totals
    return out


def startup(approach: Any, n: int, warm: bool = True) -> dict[str, Any]:
    """n Barrier-started threads each make s3, dynamodb and sqs clients: wall and RSS growth."""
    main_clients = approach.thread_clients(SERVICES) if warm else []
    wall, grown, results = _burst(n, lambda i: approach.thread_clients(SERVICES))
    ids = {id(c) for clients in results for c in clients} | {id(c) for c in main_clients}
    assert len(ids) == len(SERVICES) * (n + (1 if warm else 0)), "a client was shared by threads"
    return {"wall_s": wall, "rss_b": grown}


def hotpath(approach_names: list[str], quick: bool) -> dict[str, Any]:
    """bench_hotpath.py's rows, plus each other approach's warm-thread ``client('s3')``.

    The other approaches' rows are timed in the same round-robin as bench_hotpath's own; the
    documented pattern (which builds a new client per call) is timed apart, with a few calls.
    """
    import bench_hotpath

    if quick:
        bench_hotpath.N, bench_hotpath.REPEAT = 200_000, 3
    out: dict[str, Any] = {"rows": {}, "extra": {}, "errors": {}}
    extra: dict[str, str] = {}
    extra_env: dict[str, Any] = {}
    documented = None
    for name in approach_names:
        if name == "sessionpool":
            continue  # bench_hotpath measures it
        try:
            approach = _approaches.make(name)
            approach.thread_clients(["s3"])
        except Exception as exc:  # noqa: BLE001 - one failing approach must not sink the rest
            out["errors"][name] = f"{type(exc).__name__}: {exc}"[:160]
            continue
        if name == _approaches.BASELINE:
            documented = approach
            continue
        var = f"get_{len(extra_env)}"
        extra_env[var] = approach.client
        extra[f"approach:{name}"] = f"{var}('s3')"
    with contextlib.redirect_stdout(io.StringIO()):
        rows = dict(bench_hotpath.main(extra, extra_env))
    for label, ns in rows.items():
        if label.startswith("approach:"):
            out["extra"][label.split(":", 1)[1]] = ns
        else:
            out["rows"][label] = ns
    if documented is not None:
        env = {"get": documented.client}
        times = [timeit.timeit("get('s3')", globals=env, number=5) for _ in range(3)]
        out["extra"][_approaches.BASELINE] = min(times) / 5 * 1e9
    return out


def sts(approach: Any, n: int) -> dict[str, Any]:
    """n threads on an assume-role key each make an sqs client and call ListQueues.

    (sqs: a small model, so the threads' cost is mostly credentials, not model parsing.)
    """
    wall, _, results = _burst(n, lambda i: approach.thread_clients(["sqs"])[0].list_queues())
    return {"wall_s": wall, "ok": sum(1 for r in results if "ResponseMetadata" in r)}


def imds(approach: Any, n: int) -> dict[str, Any]:
    """n threads each make an sqs client; how many ended up with no credentials."""

    def work(i: int) -> bool:
        clients = approach.thread_clients(["sqs"])
        creds = approach.credentials(clients)
        return creds is not None and bool(creds.get_frozen_credentials().access_key)

    wall, _, results = _burst(n, work)
    return {"wall_s": wall, "without_credentials": sum(1 for ok in results if not ok)}


def first_client(name: str) -> dict[str, Any]:
    """A cold process's first client: import, session and s3 client, from nothing."""
    t0 = time.perf_counter()
    if name == "sessionpool":
        from sessionpool import SessionPool

        client = SessionPool().client("s3")
    else:
        import boto3.session

        client = boto3.session.Session().client("s3")
    return {"first_s": time.perf_counter() - t0, "ok": client is not None}


def workers_sts(name: str, how: str, tmp: str) -> dict[str, Any]:
    """Start 4 forked children after the parent used the key, or 8 spawned workers; each makes
    an sqs client and calls ListQueues. The parent run.py counts AssumeRole calls."""
    import multiprocessing

    if name == "documented":
        target, args = _documented_worker, ()
    else:
        from sessionpool import SessionPool

        options = {"credential_cache": os.path.join(tmp, "cache")} if how == "spawn+cache" else {}
        pool = SessionPool(profile="role", **options)
        target, args = _pool_worker, (pool,)
    if how == "fork":
        ctx = multiprocessing.get_context("fork")
        target(*args)  # the parent works too, before it forks
        children = [ctx.Process(target=target, args=args) for _ in range(4)]
    else:
        ctx = multiprocessing.get_context("spawn")
        children = [ctx.Process(target=target, args=args) for _ in range(8)]
    for child in children:
        child.start()
    for child in children:
        child.join(600)
    return {"ok": sum(1 for c in children if c.exitcode == 0), "workers": len(children)}


def _documented_worker() -> None:
    import boto3.session

    boto3.session.Session(profile_name="role").client("sqs").list_queues()


def _pool_worker(pool: Any) -> None:
    pool.client("sqs").list_queues()


def run_one(figure: str, name: str, arg: str | None, quick: bool) -> dict[str, Any]:
    """Build the approach and take one measurement; the parent prints the result as JSON."""
    if figure == "hotpath":
        return hotpath(name.split(","), quick)
    if figure == "first":
        return first_client(name)
    if figure == "workers":
        how, tmp = (arg or "fork:").split(":", 1)
        return workers_sts(name, how, tmp)
    profile = os.environ.get("BENCH_PROFILE") or None
    role_arn = os.environ.get("BENCH_ROLE_ARN") or None
    approach = _approaches.make(name, profile=profile, role_arn=role_arn)
    n = int(arg) if arg else 0
    if figure == "cold":
        return cold(approach, n or 3)
    if figure == "startup":
        return startup(approach, n)
    if figure == "startup-cold":
        return startup(approach, n, warm=False)
    if figure == "sts":
        return sts(approach, n)
    if figure == "imds":
        return imds(approach, n)
    raise SystemExit(f"unknown figure {figure!r}")


if __name__ == "__main__":
    sys.exit("run through benchmarks/run.py --one")
