"""Benchmark sessionpool against the documented pattern and the alternatives, side by side.

    python benchmarks/run.py                  # full run (~10 minutes on 2 cores)
    python benchmarks/run.py --quick          # shorter run (fewer thread counts, 1 repeat)
    python benchmarks/run.py --threads 1,32   # startup thread counts to measure
    python benchmarks/run.py --repeats 5      # fresh-process repeats per figure (medians)
    python benchmarks/run.py --json out.json  # also write every figure as JSON (charts.py)

Everything runs offline: dummy keys, temporary AWS config files, IMDS disabled except in the
IMDS figure (which talks to a fake IMDS on 127.0.0.1), and ``AWS_ENDPOINT_URL`` pointing at
either the moto server this starts on 127.0.0.1 or a loopback port nothing listens on. Each
measurement runs in a fresh subprocess (``run.py --one FIGURE APPROACH [N]``, which prints one
JSON line); the table shows medians over the repeats, and every figure in it was measured in
this run. Progress goes to stderr, the report to stdout.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _approaches  # noqa: E402
from _approaches import APPROACHES, BASELINE, NOTES  # noqa: E402

MiB = 1024 * 1024
DUMMY_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
DUMMY_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
ROLE_ARN = "arn:aws:iam::123456789012:role/bench-worker"
TIMEOUT = 600

STS_CONFIG = f"""\
[default]
region = us-east-1

[profile dev]
region = us-east-1

[profile role]
region = us-east-1
role_arn = {ROLE_ARN}
source_profile = dev
"""
STS_CREDENTIALS = """\
[dev]
aws_access_key_id = AKIADEVEXAMPLE000002
aws_secret_access_key = dev-secret-EXAMPLE-not-real-00000000000
"""


class Failed(Exception):
    """A measurement could not be taken; the message is the reason shown in the table."""


def compile_package() -> None:
    """Write sessionpool's bytecode once, as ``pip install`` does for boto3 and botocore.

    The subprocesses never write bytecode (``PYTHONDONTWRITEBYTECODE``), and an editable install
    has none: without this, every fresh process would compile sessionpool's modules from source
    (about 25 ms here) while boto3's and botocore's come from the ``.pyc`` files pip wrote, and
    figure (g) would compare a compile with a load.
    """
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("sessionpool")
    for location in (spec and spec.submodule_search_locations) or []:
        compileall.compile_dir(location, quiet=1)


class Runner:
    """Runs ``--one`` subprocesses with a prepared environment and keeps per-approach failures."""

    def __init__(self, repeats: int, quick: bool) -> None:
        self.repeats = repeats
        self.quick = quick
        self.unavailable: dict[str, str] = {}
        self.errors: dict[tuple[str, str], str] = {}
        self.tmp = tempfile.TemporaryDirectory(prefix="sessionpool-bench-")
        root = Path(self.tmp.name)
        (root / "config").write_text("[default]\nregion = us-east-1\n")
        (root / "credentials").write_text("")
        (root / "sts-config").write_text(STS_CONFIG)
        (root / "sts-credentials").write_text(STS_CREDENTIALS)
        self.root = root
        from _servers import closed_port

        self._closed_sock, self.closed_url = closed_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            {
                "AWS_ACCESS_KEY_ID": DUMMY_KEY_ID,
                "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET,
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_CONFIG_FILE": str(root / "config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(root / "credentials"),
                "AWS_ENDPOINT_URL": self.closed_url,  # nothing may be called outside figures d, e
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        )
        env.pop("BENCH_PROFILE", None)
        compile_package()
        env.pop("BENCH_ROLE_ARN", None)
        self.env = env

    def close(self) -> None:
        self._closed_sock.close()
        self.tmp.cleanup()

    def once(
        self,
        figure: str,
        name: str,
        arg: str | None = None,
        env: dict[str, str | None] | None = None,
    ) -> dict[str, Any]:
        if name in self.unavailable:
            raise Failed(self.unavailable[name])
        cmd = [sys.executable, str(HERE / "run.py"), "--one", figure, name]
        if arg is not None:
            cmd.append(arg)
        if self.quick:
            cmd.append("--quick")
        t0 = time.monotonic()
        try:
            merged = {**self.env, **(env or {})}
            merged = {k: v for k, v in merged.items() if v is not None}  # None: unset it
            proc = subprocess.run(cmd, env=merged, capture_output=True, text=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired as exc:
            raise Failed(f"timed out after {TIMEOUT}s") from exc
        print(
            f"  {time.monotonic() - t0:6.1f} s  {figure} {name} {arg or ''}".rstrip(),
            file=sys.stderr,
            flush=True,
        )
        lines = proc.stdout.strip().splitlines()
        if proc.returncode != 0 or not lines:
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise Failed(f"exit {proc.returncode}: {tail[:160]}")
        result: dict[str, Any] = json.loads(lines[-1])
        if "unavailable" in result:
            self.unavailable[name] = result["unavailable"]
            raise Failed(result["unavailable"])
        return result

    def median(
        self,
        figure: str,
        name: str,
        arg: str | None = None,
        env: dict[str, str | None] | None = None,
        repeats: int | None = None,
    ) -> dict[str, Any] | None:
        """Median of each numeric field over fresh-process repeats; None (reason kept) if failed."""
        runs = []
        for _ in range(repeats or self.repeats):
            try:
                runs.append(self.once(figure, name, arg, env))
            except Failed as exc:
                self.errors[(figure, name)] = str(exc)
                return None
        out = {
            k: statistics.median(r[k] for r in runs)
            for k, v in runs[0].items()
            if isinstance(v, (int, float))
        }
        out["runs"] = runs
        return out

    def why(self, figure: str, name: str) -> str:
        return self.unavailable.get(name) or self.errors.get((figure, name), "not measured")


# -- formatting ------------------------------------------------------------------------------


def ratio(base: float | None, value: float | None) -> str:
    if base is None or value is None or value <= 0:
        return "-"
    return f"{base / value:.1f}x"


def na(runner: Runner, figure: str, name: str, notes: list[str]) -> str:
    notes.append(f"{name}: n/a in {figure}: {runner.why(figure, name)}")
    return "n/a"


def header(args: argparse.Namespace, repeats: int) -> list[str]:
    def version(dist: str) -> str:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    libs = ", ".join(
        f"{d} {version(d)}"
        for d in (
            "sessionpool",
            "boto3",
            "botocore",
            "boto-session-manager",
            "boto3-refresh-session",
            "moto",
        )
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"sessionpool benchmarks, {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}, "
        f"{'quick' if args.quick else 'full'} run",
        f"machine: {os.cpu_count()} CPUs, {platform.platform()}, "
        f"Python {platform.python_version()}",
        f"libraries: {libs}",
        f"fresh-process repeats per figure: {repeats} (medians shown); "
        f"load average at start: {load}",
        "",
        "approaches:",
        *(f"  {name:22} {NOTES[name]}" for name in APPROACHES),
    ]


# -- figures ---------------------------------------------------------------------------------


def figure_cold(runner: Runner, out: list[str], notes: list[str], samples: int) -> dict[str, Any]:
    out += [
        "",
        "(a) A new thread in a warm process: cold cost of its s3 (with its session), "
        "dynamodb and sqs clients",
        f"{'approach':22} {'s3 ms':>7} {'ddb ms':>7} {'sqs ms':>7} {'total ms':>9} {'x doc':>6}"
        f" {'MiB':>6} {'x doc':>6}",
    ]
    res = {name: runner.median("cold", name, str(samples)) for name in APPROACHES}
    notes.append(
        f"(a): median of {samples} new threads per process, median over {runner.repeats} "
        "process(es)"
    )
    base = res.get(BASELINE)
    for name in APPROACHES:
        r = res[name]
        if r is None:
            out.append(f"{name:22} {na(runner, 'cold', name, notes)}")
            continue
        out.append(
            f"{name:22} {r['s3_s'] * 1e3:7.1f} {r['dynamodb_s'] * 1e3:7.1f} {r['sqs_s'] * 1e3:7.1f}"
            f" {r['total_s'] * 1e3:9.1f} {ratio(base and base['total_s'], r['total_s']):>6}"
            f" {r['total_b'] / MiB:6.2f} {ratio(base and base['total_b'], r['total_b']):>6}"
        )
    return res


def _thread_totals(result: dict[str, Any] | None) -> list[float]:
    """Every thread's total time of a figure (a) result, over all its processes."""
    return [t for run in (result or {}).get("runs", []) for t in run.get("totals_s", [])]


def headline(cold: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """Figure (a)'s ratio, the report's first figure (issue 20's target: >= 30x)."""
    sp, doc = cold.get("sessionpool"), cold.get(BASELINE)
    if not (sp and doc):
        return ["", "Headline: figure (a) was not measured in this run"], {}
    a, b = _thread_totals(sp), _thread_totals(doc)

    def spread(values: list[float]) -> str:
        q = statistics.quantiles(values, n=4) if len(values) >= 2 else values * 3
        return f"quartiles {q[0] * 1e3:.1f}-{q[2] * 1e3:.1f} ms over {len(values)} threads"

    r = doc["total_s"] / sp["total_s"]
    lines = [
        "",
        "Headline: a new thread's first three clients (s3, dynamodb, sqs), warm process, "
        "medians of figure (a):",
        f"  sessionpool {sp['total_s'] * 1e3:.2f} ms ({spread(a)}),",
        f"  a new boto3.Session's three clients {doc['total_s'] * 1e3:.1f} ms ({spread(b)}):",
        f"  {r:.1f}x less time (issue 20 target: >= 30x: {'HELD' if r >= 30 else 'NOT HELD'})",
    ]
    data = {
        "sessionpool_s": sp["total_s"],
        "documented_s": doc["total_s"],
        "ratio": r,
        "sessionpool_threads_s": a,
        "documented_threads_s": b,
    }
    return lines, data


def figure_startup(
    runner: Runner,
    threads: list[int],
    out: list[str],
    notes: list[str],
    cold: bool,
    approaches: tuple[str, ...] = APPROACHES,
    single_above: int | None = None,
) -> dict[int, dict[str, Any]]:
    figure = "startup-cold" if cold else "startup"
    if cold:
        out += [
            "",
            "(b') Startup in a cold process (nothing made before the burst): "
            f"{threads[0]} threads x (s3, dynamodb, sqs)",
        ]
    else:
        out += [
            "",
            "(b) Startup: N Barrier-started threads, each making s3 + dynamodb + sqs "
            "clients (warm process;",
            "    RSS growth read while every thread is still alive)",
        ]
    out.append(
        f"{'threads':>7}  {'approach':22} {'wall s':>8} {'x doc':>7} {'RSS MiB':>9} {'x doc':>7}"
    )
    table: dict[int, dict[str, Any]] = {}
    for n in threads:
        repeats = 1 if single_above is not None and n > single_above else None
        if repeats == 1 and runner.repeats > 1:
            label = "(b')" if cold else "(b)"
            notes.append(f"{label}: {n} threads: 1 run per approach, not a median (time budget)")
        res = {name: runner.median(figure, name, str(n), repeats=repeats) for name in approaches}
        table[n] = res
        base = res.get(BASELINE)
        for name in approaches:
            r = res[name]
            if r is None:
                out.append(f"{n:>7}  {name:22} {na(runner, figure, name, notes)}")
                continue
            out.append(
                f"{n:>7}  {name:22} {r['wall_s']:8.3f}"
                f" {ratio(base and base['wall_s'], r['wall_s']):>7}"
                f" {r['rss_b'] / MiB:9.1f} {ratio(base and base['rss_b'], r['rss_b']):>7}"
            )
    return table


HOT_ROWS = {
    "threading.local": "threading.local cache: get_client('s3')",
    "boto-session-manager": "boto-session-manager: bsm.get_client('s3')",
    "boto3-refresh-session": "boto3-refresh-session: session.client('s3')",
    "documented": "documented: session.client('s3') (new client)",
}


def figure_hotpath(runner: Runner, out: list[str], notes: list[str]) -> dict[str, float] | None:
    out += [
        "",
        "(c) Hot path on a warm thread (ns per call; benchmarks/bench_hotpath.py, best of "
        "its repeats, median over processes)",
    ]
    res = runner.median("hotpath", ",".join(APPROACHES))
    if res is None:
        out.append(f"  n/a: {runner.why('hotpath', ','.join(APPROACHES))}")
        return None
    runs = res["runs"]
    rows: dict[str, float] = {}
    for key in runs[0]["rows"]:
        rows[key] = statistics.median(r["rows"][key] for r in runs)
    for name, label in HOT_ROWS.items():
        values = [r["extra"][name] for r in runs if name in r["extra"]]
        if values:
            rows[label] = statistics.median(values)
        else:
            reason = runs[0]["errors"].get(name, "not measured")
            notes.append(f"{name}: n/a in hotpath: {reason}")
            rows[label] = float("nan")
    base = rows["bare local dict, function"]
    out.append(f"{'':48} {'ns/call':>12} {'x bare fn':>10}")
    for label, ns in rows.items():
        if ns != ns:  # nan: unavailable
            out.append(f"{label:48} {'n/a':>12}")
        else:
            out.append(f"{label:48} {ns:12.1f} {ns / base:10.2f}")
    return rows


def figure_sts(
    runner: Runner, counts: list[int], out: list[str], notes: list[str]
) -> dict[str, Any]:
    out += [
        "",
        "(d) STS AssumeRole calls: N Barrier-started threads on an assume-role profile, "
        "each making an sqs",
        "    client and calling ListQueues (moto server on 127.0.0.1; "
        "requests counted by a WSGI middleware)",
    ]
    try:
        from _servers import MotoSTS

        server = MotoSTS()
    except Exception as exc:  # noqa: BLE001 - moto missing or failing: the figure is n/a
        out.append(f"  n/a: cannot start moto: {type(exc).__name__}: {exc}")
        return {}
    table: dict[str, Any] = {"threads": list(counts)}
    cols = "".join(f" {f'{n} thr':>8}" for n in counts)
    out.append(f"{'approach':22} {'AssumeRole calls at N threads':>{9 * len(counts)}}")
    out.append(f"{'':22}{cols}")
    env: dict[str, str | None] = {
        "AWS_ENDPOINT_URL": server.url,
        "AWS_CONFIG_FILE": str(runner.root / "sts-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(runner.root / "sts-credentials"),
        "BENCH_PROFILE": "role",
    }
    brs_env = {**env, "BENCH_PROFILE": "dev", "BENCH_ROLE_ARN": ROLE_ARN}
    try:
        for name in APPROACHES:
            cells = []
            for n in counts:
                server.reset()
                r = runner.median(
                    "sts",
                    name,
                    str(n),
                    brs_env if name == "boto3-refresh-session" else env,
                    repeats=1,
                )
                if r is None:
                    cells.append(na(runner, "sts", name, notes))
                    break
                calls = server.count("AssumeRole")
                if r["ok"] != n:
                    notes.append(f"{name}: sts at {n} threads: only {r['ok']} ListQueues succeeded")
                cells.append(str(calls))
            out.append(f"{name:22}" + "".join(f" {c:>8}" for c in cells))
            table[name] = [int(c) if c.isdigit() else None for c in cells]
    finally:
        server.stop()
    notes.append(
        "sts: boto3-refresh-session assumes the role itself (RoleArn argument, source "
        "profile 'dev'); the others use profile 'role' (role_arn + source_profile)"
    )
    return table


def figure_imds(
    runner: Runner, n: int, out: list[str], notes: list[str], throttled: bool = True
) -> dict[str, Any]:
    from _servers import FakeIMDS

    out += [
        "",
        f"(e) Instance metadata (fake IMDSv2 on 127.0.0.1): {n} Barrier-started threads "
        "each make an sqs client",
        "    from the default chain; requests counted by the "
        "server." + (" Throttled: the fake answers 429 above 20 requests/s." if throttled else ""),
    ]
    columns = f"{'':22} {'requests':>9} {'token':>6} {'creds':>6} {'no creds':>9}"
    if throttled:
        columns += f"   {'throttled: requests':>19} {'429s':>5} {'no creds':>9}"
    out.append(columns)
    imds = FakeIMDS()
    table: dict[str, Any] = {}
    env = {
        "AWS_EC2_METADATA_DISABLED": "false",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url,
        "AWS_ACCESS_KEY_ID": None,
        "AWS_SECRET_ACCESS_KEY": None,
    }
    try:
        for name in APPROACHES:
            row = []
            for limit in (None, 20) if throttled else (None,):
                imds.reset(limit)
                r = runner.median("imds", name, str(n), env, repeats=1)
                if r is None:
                    row = None
                    break
                c = imds.snapshot()
                row.append(
                    (
                        c["requests"],
                        c.get("token", 0),
                        c.get("credentials", 0),
                        c.get("throttled", 0),
                        int(r["without_credentials"]),
                    )
                )
            if row is None:
                out.append(f"{name:22} {na(runner, 'imds', name, notes)}")
                continue
            req, tok, cred, _, none = row[0]
            line = f"{name:22} {req:9} {tok:6} {cred:6} {none:9}"
            if throttled:
                treq, _, _, t429, tnone = row[1]
                line += f"   {treq:19} {t429:5} {tnone:9}"
            out.append(line)
            fields = ("requests", "token", "credentials", "throttled", "without_credentials")
            table[name] = [dict(zip(fields, cells, strict=True)) for cells in row]
    finally:
        imds.stop()
    return table


SWITCHES = (
    "shared_loader",
    "prototype_emitter",
    "cow_emitter",
    "shared_components",
    "client_class_cache",
    "shared_endpoint_rules",
    "shared_alias_cache",
    # issue 20
    "shared_discovery_answers",
    "shared_proxy_answers",
    "shared_tls_context",
    "shared_config_files",
    "shared_config_answers",
    "handler_check_memo",
)


def figure_pieces(runner: Runner, out: list[str], notes: list[str], samples: int) -> dict[str, Any]:
    out += [
        "",
        "(f) What each shared piece saves: figure (a) with one optimisation switched off "
        "(sessionpool.diagnostics() names them)",
        f"{'approach':40} {'total ms':>9} {'x all on':>9} {'MiB':>6} {'x all on':>9}",
    ]
    names = ("sessionpool", *(f"{_approaches.WITHOUT}{s}" for s in SWITCHES), BASELINE)
    res = {name: runner.median("cold", name, str(samples)) for name in names}
    base = res.get("sessionpool")
    for name in names:
        r = res[name]
        if r is None:
            out.append(f"{name:40} {na(runner, 'cold', name, notes)}")
            continue
        times = ratio(r["total_s"], base and base["total_s"])
        memory = ratio(r["total_b"], base and base["total_b"])
        out.append(
            f"{name:40} {r['total_s'] * 1e3:9.1f} {times:>9} {r['total_b'] / MiB:6.2f} {memory:>9}"
        )
    notes.append("(f): 'x all on' is how many times more that row costs than sessionpool")
    return res


def figure_first(runner: Runner, out: list[str], notes: list[str]) -> dict[str, Any]:
    out += [
        "",
        "(g) The first client of a cold process: import, session and s3 client, from nothing",
        f"{'approach':22} {'ms':>8} {'x doc':>7}",
    ]
    # A difference of a few percent between two ~0.25 s runs: alternate the two approaches, so
    # the machine's drift (other tenants, CPU frequency) falls on both, and take more runs.
    names = ("sessionpool", BASELINE)
    rounds = 3 if runner.quick else max(7, 2 * runner.repeats + 1)
    times: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(rounds):
        for name in names:
            if ("first", name) in runner.errors:
                continue
            try:
                times[name].append(runner.once("first", name)["first_s"])
            except Failed as exc:
                runner.errors[("first", name)] = str(exc)
    res = {
        name: {"first_s": statistics.median(times[name])}
        if times[name] and ("first", name) not in runner.errors
        else None
        for name in names
    }
    for name, r in res.items():
        if r is not None:
            r["runs_s"] = times[name]
    notes.append(f"(g): median of {rounds} runs each, the two approaches alternating")
    base = res.get(BASELINE)
    for name, r in res.items():
        if r is None:
            out.append(f"{name:22} {na(runner, 'first', name, notes)}")
            continue
        times = ratio(base and base["first_s"], r["first_s"])
        out.append(f"{name:22} {r['first_s'] * 1e3:8.1f} {times:>7}")
    return res


def figure_workers(runner: Runner, out: list[str], notes: list[str]) -> dict[str, Any]:
    out += [
        "",
        "(h) STS AssumeRole calls of worker processes on an assume-role profile (each makes an sqs",
        "    client and calls ListQueues): a parent and 4 forked children, or 8 spawned workers",
        f"{'approach':40} {'AssumeRole':>10}",
    ]
    try:
        from _servers import MotoSTS

        server = MotoSTS()
    except Exception as exc:  # noqa: BLE001 - moto missing or failing: the figure is n/a
        out.append(f"  n/a: cannot start moto: {type(exc).__name__}: {exc}")
        return {}
    env: dict[str, str | None] = {
        "AWS_ENDPOINT_URL": server.url,
        "AWS_CONFIG_FILE": str(runner.root / "sts-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(runner.root / "sts-credentials"),
    }
    rows = [
        ("documented: parent + 4 forked children", BASELINE, "fork"),
        ("sessionpool: parent + 4 forked children", "sessionpool", "fork"),
        ("documented: 8 spawned workers", BASELINE, "spawn"),
        ("sessionpool: 8 spawned workers", "sessionpool", "spawn"),
        ("sessionpool: 8 spawned, credential_cache", "sessionpool", "spawn+cache"),
    ]
    counts: dict[str, int] = {}
    try:
        for label, name, how in rows:
            server.reset()
            with tempfile.TemporaryDirectory(prefix="sessionpool-bench-cache-") as tmp:
                r = runner.median("workers", name, f"{how}:{tmp}", env, repeats=1)
            if r is None:
                out.append(f"{label:40} {na(runner, 'workers', name, notes)}")
                continue
            if r["ok"] != r["workers"]:
                notes.append(f"(h) {label}: only {r['ok']} of {r['workers']} workers exited 0")
            counts[label] = server.count("AssumeRole")
            out.append(f"{label:40} {counts[label]:>10}")
    finally:
        server.stop()
    return counts


def targets(
    cold: dict[str, Any],
    startup: dict[int, dict[str, Any]],
    hot: dict[str, float] | None,
    first: dict[str, Any],
) -> tuple[list[str], list[dict[str, Any]]]:
    """Issue 20's four targets, judged on this run's medians: report lines, and the same as data."""
    out = ["", "Issue 20 targets, judged on this run's medians:"]
    judged: list[dict[str, Any]] = []

    def verdict(name: str, value: float, target: str, held: bool, line: str) -> None:
        judged.append({"target": name, "value": value, "goal": target, "held": held})
        out.append(f"  {line}: {'HELD' if held else 'NOT HELD'}")

    sp, doc = cold.get("sessionpool"), cold.get(BASELINE)
    if sp and doc:
        r = doc["total_s"] / sp["total_s"]
        verdict(
            "new thread's three clients vs a new Session's",
            r,
            ">= 30x",
            r >= 30,
            f"a new thread's 3 clients, warm process (figure (a)): documented "
            f"{doc['total_s'] * 1e3:.1f} ms / sessionpool {sp['total_s'] * 1e3:.2f} ms = "
            f"{r:.1f}x (target >= 30x)",
        )
    else:
        out.append("  a new thread's 3 clients: not measured in this run")
    if hot:
        pool_ns, bare_fn = hot["pool.client('s3')"], hot["bare local dict, function"]
        r = pool_ns / bare_fn
        verdict(
            "hot path vs a bare thread-local lookup",
            r,
            "<= 1.5x",
            r <= 1.5,
            f"hot path: pool.client('s3') {pool_ns:.1f} ns / bare threading.local lookup "
            f"through a function {bare_fn:.1f} ns = {r:.2f}x (target <= 1.5x)",
        )
    else:
        out.append("  hot path: not measured in this run")
    row = startup.get(32)
    sp32, doc32 = (row or {}).get("sessionpool"), (row or {}).get(BASELINE)
    if sp32 and doc32:
        w, m = doc32["wall_s"] / sp32["wall_s"], doc32["rss_b"] / max(sp32["rss_b"], 1)
        verdict(
            "startup 32 threads, wall",
            w,
            ">= 35x",
            w >= 35,
            f"startup 32 threads, wall: documented {doc32['wall_s']:.3f} s / sessionpool "
            f"{sp32['wall_s']:.3f} s = {w:.1f}x (target >= 35x)",
        )
        verdict(
            "startup 32 threads, RSS growth",
            m,
            ">= 50x",
            m >= 50,
            f"startup 32 threads, RSS growth: documented {doc32['rss_b'] / MiB:.1f} MiB / "
            f"sessionpool {sp32['rss_b'] / MiB:.1f} MiB = {m:.1f}x (target >= 50x)",
        )
    else:
        out.append("  startup 32 threads: not measured in this run")
    if first.get("sessionpool") and first.get(BASELINE):
        a, b = first["sessionpool"]["first_s"], first[BASELINE]["first_s"]
        verdict(
            "first client of a cold process vs plain boto3",
            a / b,
            "<= 1.0x",
            a <= b,
            f"first client of a cold process: sessionpool {a * 1e3:.1f} ms, plain boto3 "
            f"{b * 1e3:.1f} ms = {(a / b - 1) * 100:+.1f}% (target: no slower)",
        )
    else:
        out.append("  first client of a cold process: not measured in this run")
    return out, judged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter run")
    parser.add_argument("--threads", help="startup thread counts, e.g. 1,8,32,64")
    parser.add_argument("--repeats", type=int, help="fresh-process repeats per figure")
    parser.add_argument(
        "--figures",
        default="abcdefgh",
        help="which figures to run, e.g. 'bc' (default: abcdefgh, all)",
    )
    parser.add_argument(
        "--json", metavar="PATH", help="also write every figure to PATH as JSON (charts.py)"
    )
    parser.add_argument("--one", nargs="+", metavar="ARG", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.one:
        from _workers import run_one

        figure, name, *rest = args.one
        try:
            result = run_one(figure, name, rest[0] if rest else None, args.quick)
        except _approaches.Unavailable as exc:
            result = {"unavailable": str(exc)}
        print(json.dumps(result))
        return 0

    threads = (
        [int(x) for x in args.threads.split(",")]
        if args.threads
        else [1, 16, 32]
        if args.quick
        else [1, 8, 16, 32, 64]
    )
    repeats = args.repeats or (1 if args.quick else 3)
    samples = 10 if args.quick else 40  # new threads per process in figures (a) and (f)
    started = time.monotonic()
    runner = Runner(repeats, args.quick)
    out = header(args, repeats)
    top = len(out)  # the headline goes here, once figure (a) is measured
    notes: list[str] = []
    data: dict[str, Any] = {
        "date": datetime.datetime.now().isoformat(timespec="minutes"),
        "run": "quick" if args.quick else "full",
        "header": list(out),
        "repeats": repeats,
        "samples": samples,
        "approaches": dict(NOTES),
    }
    try:
        print("measuring (progress on stderr)...", file=sys.stderr, flush=True)
        figures = set(args.figures)
        cold: dict[str, Any] = {}
        startup: dict[int, dict[str, Any]] = {}
        hot = None
        first: dict[str, Any] = {}
        if "a" in figures:
            cold = data["a"] = figure_cold(runner, out, notes, samples)
            lines, data["headline"] = headline(cold)
            out[top:top] = lines
        if "b" in figures:
            startup = figure_startup(
                runner, threads, out, notes, cold=False, single_above=None if args.threads else 32
            )
            data["b"] = startup
            if not args.quick:
                cold_n = 32 if 32 in threads else threads[-1]
                data["b_cold"] = figure_startup(
                    runner,
                    [cold_n],
                    out,
                    notes,
                    cold=True,
                    approaches=("sessionpool", BASELINE),
                    single_above=0,
                )
        if "c" in figures:
            hot = data["c"] = figure_hotpath(runner, out, notes)
        if "d" in figures:
            data["d"] = figure_sts(runner, [16, 64], out, notes)
        if "e" in figures:
            data["e"] = figure_imds(runner, 32, out, notes, throttled=not args.quick)
        if "f" in figures:
            data["f"] = figure_pieces(runner, out, notes, samples)
        if "g" in figures:
            first = data["g"] = figure_first(runner, out, notes)
        if "h" in figures:
            data["h"] = figure_workers(runner, out, notes)
        lines, data["targets"] = targets(cold, startup, hot, first)
        out += lines
        out += ["", "Notes:", *(f"  {n}" for n in dict.fromkeys(notes))] if notes else []
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        out += [
            "",
            f"total run time {time.monotonic() - started:.0f} s; load average at end: {load}",
        ]
        data["notes"] = list(dict.fromkeys(notes))
        data["footer"] = out[-1]
    finally:
        runner.close()
    report = "\n".join(out)
    print(report)
    if args.json:
        data["report"] = report
        Path(args.json).write_text(json.dumps(data, indent=1, default=str) + "\n")
        print(f"wrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
