"""``pool.warm()`` before forking: memory of 8 forked workers, with and without warming.

Run: ``python benchmarks/bench_warm.py``. Offline (dummy keys; client creation makes no calls).

Each run starts a fresh parent process, which optionally warms a pool (s3, sqs, dynamodb), then
forks 8 workers that each make those three clients through the pool. While all of them are
alive, every process reads its own ``/proc/self/smaps_rollup``. RSS counts pages shared with
the parent in full, so it hides copy-on-write sharing; PSS splits each shared page between the
processes sharing it, so the sum of PSS is the memory the group really uses, and USS (private
pages) is what each worker costs on its own.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys

SERVICES = ("s3", "sqs", "dynamodb")
WORKERS = 8


def _rollup() -> dict[str, int]:
    values: dict[str, int] = {}
    with open("/proc/self/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                values[parts[0].rstrip(":")] = int(parts[1])  # kB
    return {
        "rss": values.get("Rss", 0),
        "pss": values.get("Pss", 0),
        "uss": values.get("Private_Clean", 0) + values.get("Private_Dirty", 0),
    }


def _worker(pool, ready, done, out) -> None:  # type: ignore[no-untyped-def]
    for name in SERVICES:
        pool.client(name)
    ready.wait()  # everyone has built its clients
    out.put(_rollup())
    done.wait()  # stay alive until every process has measured


def one_run(warm: bool) -> dict[str, float]:
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    from sessionpool import SessionPool

    pool = SessionPool()
    if warm:
        pool.warm(services=SERVICES)
    ctx = multiprocessing.get_context("fork")
    ready, done, out = ctx.Barrier(WORKERS + 1), ctx.Barrier(WORKERS + 1), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(pool, ready, done, out)) for _ in range(WORKERS)]
    for p in procs:
        p.start()
    ready.wait()
    children = [out.get(timeout=120) for _ in procs]
    parent = _rollup()
    done.wait()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0, p.exitcode
    mib = 1024
    return {
        "worker_rss_mib": sum(c["rss"] for c in children) / len(children) / mib,
        "worker_uss_mib": sum(c["uss"] for c in children) / len(children) / mib,
        "group_pss_mib": (sum(c["pss"] for c in children) + parent["pss"]) / mib,
    }


def main() -> None:
    rows = {}
    for label, flag in (("without warm()", "cold"), ("with pool.warm()", "warm")):
        runs = []
        for _ in range(3):
            result = subprocess.run(
                [sys.executable, __file__, "--one", flag],
                capture_output=True,
                text=True,
                check=True,
            )
            runs.append(json.loads(result.stdout.strip().splitlines()[-1]))
        rows[label] = {k: sorted(r[k] for r in runs)[1] for k in runs[0]}  # median of 3
    print(f"{WORKERS} forked workers, each with {', '.join(SERVICES)} clients (median of 3 runs)")
    print(f"{'':18} {'RSS/worker MiB':>15} {'USS/worker MiB':>15} {'PSS all MiB':>12}")
    for label, r in rows.items():
        print(
            f"{label:18} {r['worker_rss_mib']:15.1f} {r['worker_uss_mib']:15.1f}"
            f" {r['group_pss_mib']:12.1f}"
        )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(json.dumps(one_run(sys.argv[2] == "warm")))
    else:
        main()
