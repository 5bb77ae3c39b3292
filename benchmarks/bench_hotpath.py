"""Hot path: ``pool.client("s3")`` on a warm thread, against a bare ``threading.local`` lookup.

Run: ``python benchmarks/bench_hotpath.py`` (dummy keys, no network: client creation makes no
calls). Prints ns per call, best of several repeats, and the ratio to the bare lookup. The rows
are timed round-robin (one repeat of every row, then the next repeat), so a burst of load from
other processes lands on all rows alike instead of on whichever row was running.
The two "floor" rows are the bare lookup behind boto3's call signature, then with the hit
counted exactly: what any pool keeping sessionpool's promises (boto3's call forms, exact
``stats()["hits"]``) pays before doing anything of its own.
``benchmarks/run.py`` reuses :func:`main` and :func:`measure` for its hot-path figure.
"""

from __future__ import annotations

import itertools
import os
import threading
import timeit

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

import boto3  # noqa: E402

from sessionpool import SessionPool  # noqa: E402

N = 1_000_000
REPEAT = 7


def measure(stmt: str, env: dict[str, object]) -> float:
    """ns per call of ``stmt``: the best of REPEAT timings of N calls."""
    times = timeit.repeat(stmt, globals=env, number=N, repeat=REPEAT)
    return min(times) / N * 1e9


def measure_rows(stmts: dict[str, str], env: dict[str, object]) -> dict[str, float]:
    """ns per call of each statement, best of REPEAT, timed round-robin across the rows.

    A row slower than ~0.3 us per call is timed with fewer calls (at least 20), so a slow
    lookup does not take minutes.
    """
    timers = {name: timeit.Timer(stmt, globals=env) for name, stmt in stmts.items()}
    numbers = {}
    for name, timer in timers.items():  # N calls, fewer for a slow row (~0.3 s per timing)
        per_call = timer.timeit(number=1000) / 1000
        numbers[name] = N if per_call * N <= 0.3 else max(20, int(0.3 / per_call))
    best = {name: float("inf") for name in stmts}
    for _ in range(REPEAT):
        for name, timer in timers.items():
            best[name] = min(best[name], timer.timeit(number=numbers[name]) / numbers[name])
    return {name: t * 1e9 for name, t in best.items()}


def main(
    extra: dict[str, str] | None = None, extra_env: dict[str, object] | None = None
) -> dict[str, float]:
    """Time the rows (plus ``extra`` statements, round-robin with them); print and return them.

    Parameters:
        extra: more rows, label -> statement, timed in the same round-robin (run.py adds the
            other approaches' warm-thread lookups).
        extra_env: names those statements use.
    """
    pool = SessionPool()
    s3 = pool.client("s3")
    pool.client("s3", region="eu-west-1")
    local = threading.local()
    local.clients = {"s3": s3}

    def bare(service: str) -> object:  # what a hand-rolled per-thread cache looks up
        return local.clients[service]

    # The floor the pool's promises set: boto3's call forms (a positional-only service name,
    # then *args and **kwargs, checked empty), and every hit counted exactly (stats()["hits"]),
    # here by the same C-level counting getter the pool uses (itertools.repeat's __next__).
    local.getters = {"s3": itertools.repeat(s3).__next__}

    def boto3_signature(service: str, /, *args: object, **kwargs: object) -> object:
        if not (args or kwargs):
            return local.clients[service]
        raise TypeError

    def boto3_signature_counted(service: str, /, *args: object, **kwargs: object) -> object:
        if not (args or kwargs):
            return local.getters[service]()
        raise TypeError

    session = pool.get_session()
    plain = boto3.session.Session()
    plain_client = plain.client("s3")
    env = {
        "pool": pool,
        "local": local,
        "bare": bare,
        "sig": boto3_signature,
        "counted": boto3_signature_counted,
        "session": session,
        **(extra_env or {}),
    }
    rows = measure_rows(
        {
            "bare local dict, inline": "local.clients['s3']",
            "bare local dict, function": "bare('s3')",
            "floor: boto3's signature": "sig('s3')",
            "floor: boto3's signature, hit counted": "counted('s3')",
            "pool.client('s3')": "pool.client('s3')",
            "session.client('s3') (cached)": "session.client('s3')",
            "pool.client('s3', region=...) (memo)": "pool.client('s3', region='eu-west-1')",
            **(extra or {}),
        },
        env,
    )
    with pool.session():
        rows["pool.client('s3') in a with block"] = measure("pool.client('s3')", env)
    assert pool.client("s3") is s3
    del plain_client
    base = rows["bare local dict, function"]
    print(f"{'hot path (warm thread)':40} {'ns/call':>9} {'x bare fn':>10}")
    for name, ns in rows.items():
        print(f"{name:40} {ns:9.1f} {ns / base:10.2f}")
    return rows


if __name__ == "__main__":
    main()
