"""The ``sessionpool`` argument parser: the ``demo`` and ``inspect`` sub-commands and their help."""

from __future__ import annotations

import argparse

from ._output import DEMO_EXTRA, PROG, WIDTH

__all__ = ["build_parser"]

# Each command: its name, the one line "sessionpool --help" lists, and its own --help text.
# The list is written here once; argparse's own listing of sub-commands is suppressed.
_DEMO_SUMMARY = (
    "fan out threads and processes through a SessionPool against a local\n"
    "moto server (or --profile/--region/--endpoint-url) and compare the\n"
    "set-up cost, cold and warm, with a boto3 Session per thread"
)
_INSPECT_SUMMARY = (
    "show which profile and region apply and where each comes from, and\n"
    "how the credentials resolve (source, expiry, masked key id; never\n"
    "the secret); --json for the same as JSON"
)

_EPILOG = 'run "sessionpool COMMAND --help" for a command\'s options.'

# The help texts are laid out for 80 columns, like the demo's output.
_DEMO_DESCRIPTION = f"""\
Run a realistic fan-out through one SessionPool: PROCESSES worker processes
(started with "spawn" or "forkserver", the pool passed to them pickled, as its
configuration), each running THREADS threads that write, list and read S3
objects (checking bodies), send and receive SQS messages, and put and get
DynamoDB items, all through pool.client(...).

With no target options it starts moto's server on 127.0.0.1 (a free port, in
this process), gives the workers dummy credentials pointed at it, and touches
nothing else.

With --profile, --region or --endpoint-url it runs against those instead,
READ-ONLY (it lists buckets, queues and tables, and heads/describes the first
of each) unless --write is given: then it creates a uniquely named bucket,
queue and table, uses them, and deletes them at the end, even on error or
Ctrl-C. Secrets are never printed.

At the end it prints two tables. Work per process: operations, operations per
second, errors, and the pool's own counts (pool.stats()): sessions, clients,
credential resolutions. Set-up: what it costs THREADS threads to take an s3,
sqs and dynamodb client each, measured three times in each process:
  sessionpool, cold  at the start of the worker process, before any other
                     work (the pool also parses each service model and
                     resolves the credentials here)
  sessionpool, warm  after the run: THREADS new threads beside the run's,
                     which still hold their clients; what a long-running
                     process pays for a new thread
  boto3 pattern      after the run: a boto3.session.Session() and three
                     clients per thread, boto3's documented pattern (each
                     Session parses the models again, so warm or cold it
                     costs about the same)
The README's and the docs' startup figures are warm ones (docs/performance.md,
figure (b)); figure (b') there is the cold one. The benchmark measures one
process at a time; here the processes measure at once, beside the moto server,
so times run longer.

Output: rich's progress bars and tables when stdout is a terminal at least
{WIDTH} columns wide and rich is installed ({DEMO_EXTRA});
plain text otherwise (piped, redirected or narrower). --plain or --rich decide.

Exit status: 0 if no operation failed, 1 if any did, 2 if it could not start.
"""

_INSPECT_DESCRIPTION = """\
Show how a profile's credentials resolve, as the pool would resolve them:
  profile      the profile whose settings apply, and where its name came from
               (--profile, AWS_PROFILE or AWS_DEFAULT_PROFILE, else "default")
  region       the region sessions get, and where it came from (--region,
               AWS_DEFAULT_REGION, the profile's region setting), or none
  credentials  the source (botocore's method: shared-credentials-file,
               assume-role, custom-process, env, iam-role, ...), whether they
               refresh, when they expire (a date, and how long from now), the
               access key id masked but for its last 4 characters; never the
               secret key or the session token
  pool key     what the pool's key fixes (what --profile and --region give)
               and what it leaves to each session to resolve, as above
--json prints the same facts as one JSON object, the key id masked the same way.

Resolving may call out (AssumeRole for a role profile, the metadata service on
EC2).

Exit status: 0 if credentials were found, 1 if the chain found none, 2 for an
unknown profile.
"""

_COMMANDS = (
    ("demo", _DEMO_SUMMARY, _DEMO_DESCRIPTION),
    ("inspect", _INSPECT_SUMMARY, _INSPECT_DESCRIPTION),
)


def _description() -> str:
    lines = [
        "boto3 sessions that are safe and cheap in many threads and many processes.",
        "",
        "commands:",
    ]
    for name, summary, _ in _COMMANDS:
        first, *rest = summary.split("\n")
        lines.append(f"  {name:<10}{first}")
        lines += [f"  {'':<10}{line}" for line in rest]
    return "\n".join(lines)


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
        prog=PROG,
        usage="%(prog)s [-h] [--version] COMMAND ...",
        description=_description(),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    # The commands are listed once, by the description: argparse's own list is suppressed.
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", help=argparse.SUPPRESS, prog=PROG
    )
    parsers = {
        name: commands.add_parser(
            name, description=text, formatter_class=argparse.RawDescriptionHelpFormatter
        )
        for name, _, text in _COMMANDS
    }

    demo = parsers["demo"]
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
    out = demo.add_argument_group(
        f"output (default: rich on a terminal of {WIDTH}+ columns, else plain)"
    ).add_mutually_exclusive_group()
    out.add_argument(
        "--plain",
        dest="output",
        action="store_const",
        const="plain",
        help="plain text, even on a wide terminal",
    )
    out.add_argument(
        "--rich",
        dest="output",
        action="store_const",
        const="rich",
        help=f"rich's progress bars and tables, even when piped (at COLUMNS, else {WIDTH} wide)",
    )

    inspect = parsers["inspect"]
    inspect.add_argument(
        "--profile",
        metavar="NAME",
        help="the profile to inspect (default: AWS_PROFILE, AWS_DEFAULT_PROFILE or 'default', "
        "as botocore chooses)",
    )
    inspect.add_argument(
        "--region",
        metavar="REGION",
        help="the region the pool's key names (default: none; each session takes botocore's: "
        "AWS_DEFAULT_REGION, then the profile's)",
    )
    inspect.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object instead of text (the same facts; never a secret)",
    )
    return parser


def _version() -> str:
    from .._version import __version__

    return __version__
