"""``sessionpool demo``: a realistic fan-out through one pool, and what it saves over boto3.

The parent starts moto's server on 127.0.0.1 (unless a real target was named), creates a bucket,
a queue and a table (when writing), and starts worker processes with ``spawn`` or
``forkserver``, handing each the pool, which pickles as its configuration. It then reads the
workers' reports until each has delivered a result or failed, and shows the tables.

The rest lives beside it, each module importing only those after it: ``_rich`` and
``_report`` (the output), ``_resources`` (the bucket, queue and table),
``_worker`` (each worker process), ``_measure`` (its tally and the set-up bursts it
measures) and ``_plan`` (what the parent hands a worker). Only the parent imports moto
and rich (both lazily); a worker imports neither.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import queue as queue_module
import time
from typing import Any

from ... import SessionPool
from .._output import DEMO_EXTRA, fail
from ._plan import REPORT_EVERY, Plan, Target, describe, environment
from ._report import PlainUI, Progress
from ._resources import create, delete
from ._rich import make_ui
from ._worker import run_worker

__all__ = ["run"]

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
_LOST_AFTER = 5.0  # seconds to wait for a dead worker's last message before calling it lost


def run(args: argparse.Namespace) -> int:
    """Run the demo described by parsed ``args``; return the exit status."""
    ui = make_ui(args.output)
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
        ui.note(f"target: a moto server in this process at {url}, dummy keys")
    try:
        with environment(target):
            return _run(args, target, ui, clean_up=real)
    except KeyboardInterrupt:
        ui.stop()
        return fail("interrupted", 130)
    finally:
        if server is not None:
            server.stop()


def _run(args: argparse.Namespace, target: Target, ui: PlainUI, clean_up: bool) -> int:
    setup_pool = SessionPool(profile=target.profile, region=target.region)
    resources: dict[str, str] = {}
    code = 1
    try:
        if target.write:
            try:
                create(setup_pool, resources)
            except Exception as exc:  # noqa: BLE001 - one line, then clean up what was made
                return fail(f"could not create the demo's resources: {describe(exc)}", 1)
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
            names = {target.bucket, resources["queue"], target.table}
            if len(names) == 1:
                ui.note(f"bucket, queue and table: {target.bucket}")
            else:
                ui.note(f"bucket {target.bucket}, queue {resources['queue']}, table {target.table}")
        code = _fan_out(args, target, ui)
    finally:
        # Delete what we made in a real account, even on error or Ctrl-C. The local moto
        # server's state goes with it.
        if resources and clean_up:
            leftovers = delete(setup_pool, resources)
            if leftovers:
                fail(f"could not delete {', '.join(leftovers)}; please delete by hand", 1)
                code = 1
            else:
                ui.note("deleted the demo's bucket, queue and table")
        setup_pool.close()
    return code


def _fan_out(args: argparse.Namespace, target: Target, ui: PlainUI) -> int:
    ctx = multiprocessing.get_context(args.start_method)
    reports = ctx.Queue()
    pool = SessionPool(profile=target.profile, region=target.region)  # travels as its config
    states = [Progress(i) for i in range(args.processes)]
    workers = [
        ctx.Process(
            target=run_worker,
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
    mode = f"{args.ops} round(s)" if args.ops else f"{args.duration:g} s"
    ui.note(
        f"{args.processes} process(es) ({args.start_method}) x {args.threads} threads, "
        f"{mode} each; one SessionPool, pickled"
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


def _collect(workers: list[Any], states: list[Progress], reports: Any, ui: PlainUI) -> None:
    """Read the workers' reports until each has delivered a result or failed."""
    pending = set(range(len(workers)))
    while pending:
        try:
            message = reports.get(timeout=REPORT_EVERY)
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
                state.finished_at = time.monotonic()
                pending.discard(index)
            elif kind == "failed":
                state.failure, state.phase = message[2], "failed"
                state.finished_at = time.monotonic()
                pending.discard(index)
        now = time.monotonic()
        for index in list(pending):
            if not workers[index].is_alive():
                state = states[index]
                state.dead_since = state.dead_since or now
                if now - state.dead_since > _LOST_AFTER:  # its last message never came
                    state.failure = f"exited with code {workers[index].exitcode} without a result"
                    state.phase = "failed"
                    state.finished_at = now
                    pending.discard(index)
        ui.update(states)
