"""The ``sessionpool`` argument parser: the ``demo`` and ``inspect`` sub-commands and their help."""

from __future__ import annotations

import argparse

from ._output import DEMO_EXTRA, PROG

__all__ = ["build_parser"]

_DESCRIPTION = """\
boto3 sessions that are safe and cheap in many threads and many processes.

commands:
  demo      fan out threads and processes through a SessionPool against a local moto
            server (or, with --profile/--region/--endpoint-url, against those) and compare
            the set-up cost with a boto3 Session per thread
  inspect   show how a profile's credentials resolve (source, expiry, masked key id; never
            the secret), its region, and the key the pool would use

run "sessionpool COMMAND --help" for a command's options.
"""

_DEMO_DESCRIPTION = f"""\
Run a realistic fan-out through one SessionPool: PROCESSES worker processes (started with
"spawn" or "forkserver", the pool passed to them pickled, as its configuration), each running
THREADS threads that write, list and read S3 objects (checking bodies), send and receive SQS
messages, and put and get DynamoDB items, all through pool.client(...).

With no target options it starts moto's server on 127.0.0.1 (a free port, in this process),
gives the workers dummy credentials pointed at it, and touches nothing else.

With --profile, --region or --endpoint-url it runs against those instead, READ-ONLY (it lists
buckets, queues and tables, and heads/describes the first of each) unless --write is given: then
it creates a uniquely named bucket, queue and table, uses them, and deletes them at the end,
even on error or Ctrl-C. Secrets are never printed.

At the end it prints, per process: operations, errors, sessions, clients and credential
resolutions (pool.stats()), wall time, and the set-up cost (wall time and RSS growth) of the
same threads with sessionpool and with the documented boto3 pattern (a boto3.session.Session()
and three clients per thread), measured in that process after the run.

Exit status: 0 if no operation failed, 1 if any did, 2 if the demo could not start.
A progress bar and tables need rich ({DEMO_EXTRA}); without it the output is plain text.
"""

_INSPECT_DESCRIPTION = """\
Show how a profile's credentials resolve, as the pool would resolve them: the credential
source (botocore's method, e.g. shared-credentials-file, assume-role, custom-process, env,
iam-role), whether they refresh and when they expire, the access key id masked except its last
4 characters (never the secret or the session token), the region, and the pool's key.

Resolving may call out (AssumeRole for a role profile, the metadata service on EC2). Without
--profile it inspects the default chain (AWS_PROFILE, the environment, the default profile).

Exit status: 0 if credentials were found, 1 if the chain found none, 2 for an unknown profile.
"""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The ``sessionpool`` argument parser, with its ``demo`` and ``inspect`` sub-commands."""
    parser = argparse.ArgumentParser(
        prog=PROG, description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="fan out threads and processes through a pool (moto on 127.0.0.1 by default)",
        description=_DEMO_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    work = demo.add_argument_group("workload")
    work.add_argument(
        "--processes",
        type=_positive_int,
        default=2,
        metavar="N",
        help="worker processes (default: 2)",
    )
    work.add_argument(
        "--threads",
        type=_positive_int,
        default=32,
        metavar="N",
        help="threads per process (default: 32)",
    )
    work.add_argument(
        "--duration",
        type=_positive_float,
        default=10.0,
        metavar="SECONDS",
        help="how long each thread works (default: 10)",
    )
    work.add_argument(
        "--ops",
        type=_positive_int,
        default=None,
        metavar="N",
        help="instead of --duration, run exactly N rounds per thread "
        "(a round is one pass over every service)",
    )
    work.add_argument(
        "--start-method",
        choices=("spawn", "forkserver"),
        default="spawn",
        help="how worker processes start (default: spawn)",
    )
    work.add_argument(
        "--no-baseline",
        action="store_true",
        help="skip measuring the boto3 Session-per-thread pattern",
    )
    target = demo.add_argument_group(
        "target (any of these replaces the local moto server; read-only unless --write)"
    )
    target.add_argument("--profile", metavar="NAME", help="AWS profile to use")
    target.add_argument("--region", metavar="REGION", help="AWS region to use")
    target.add_argument(
        "--endpoint-url",
        metavar="URL",
        help="send every request to URL (e.g. LocalStack or a moto server)",
    )
    target.add_argument(
        "--write",
        action="store_true",
        help="create a uniquely named bucket, queue and table, use them, "
        "and delete them at the end",
    )
    out = demo.add_argument_group("output")
    out.add_argument(
        "--plain", action="store_true", help="plain text instead of rich's progress bar and tables"
    )

    inspect = commands.add_parser(
        "inspect",
        help="show how a profile's credentials resolve (never the secret)",
        description=_INSPECT_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    inspect.add_argument(
        "--profile",
        metavar="NAME",
        help="the profile to inspect (default: botocore's default chain)",
    )
    inspect.add_argument(
        "--region",
        metavar="REGION",
        help="the region the pool's key names (default: the profile's)",
    )
    return parser


def _version() -> str:
    from .._version import __version__

    return __version__
