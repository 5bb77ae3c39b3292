"""Hot path: ``pool.client("s3")`` on a warm thread, against a bare ``threading.local`` lookup.

Run: ``python benchmarks/bench_hotpath.py`` (dummy keys, no network: client creation makes no
calls). Prints ns per call, best of several repeats, and the ratio to the bare lookup.
Target (issue 2): pool.client("s3") at most 2x the bare function lookup.
"""

from __future__ import annotations

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
    times = timeit.repeat(stmt, globals=env, number=N, repeat=REPEAT)
    return min(times) / N * 1e9


def main() -> dict[str, float]:
    pool = SessionPool()
    s3 = pool.client("s3")
    local = threading.local()
    local.clients = {"s3": s3}

    def bare(service: str) -> object:  # what a hand-rolled per-thread cache looks up
        return local.clients[service]

    session = pool.get_session()
    plain = boto3.session.Session()
    plain_client = plain.client("s3")
    env = {"pool": pool, "local": local, "bare": bare, "session": session}
    rows = {
        "bare local dict, inline": measure("local.clients['s3']", env),
        "bare local dict, function": measure("bare('s3')", env),
        "pool.client('s3')": measure("pool.client('s3')", env),
        "session.client('s3') (cached)": measure("session.client('s3')", env),
    }
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
