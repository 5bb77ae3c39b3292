"""At-fork hooks of the user's, registered before ``import sessionpool``, never get the parent's
clients: Python runs after-fork hooks in the order they were registered, so such a hook runs
before the pool's own reset. Each case runs in a fresh interpreter (the hook must be registered
before sessionpool is imported), forks with ``os.fork()`` and is judged by the child's exit code,
under an alarm."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = [
    pytest.mark.compat,
    pytest.mark.skipif(not hasattr(os, "register_at_fork"), reason="needs os.fork"),
]

PROGRAM = textwrap.dedent(
    """
    import os, signal, sys
    signal.alarm(60)
    seen = {}

    def hook():  # registered before sessionpool is imported: it runs before the pool's reset
        seen["client"] = pool.client("s3")
        seen["memo"] = pool.client("s3", region_name="eu-west-1")
        with pool.session(profile=None) as s:
            seen["block"] = pool.client("s3")

    os.register_at_fork(after_in_child=hook)

    import sessionpool

    pool = sessionpool.SessionPool(region="us-east-1")
    parent = pool.client("s3")
    parent_memo = pool.client("s3", region_name="eu-west-1")
    with pool.session():
        parent_block = pool.client("s3")
    assert pool.client("s3") is parent  # warm: the hot path answers
    pid = os.fork()
    if pid == 0:
        ok = (
            seen["client"] is not parent
            and seen["memo"] is not parent_memo
            and seen["block"] is not parent_block
            and pool.client("s3") is seen["client"]  # the pool's own reset kept the child's
            and pool.stats()["forks_seen"] == 1
            and pool.stats()["sessions_created"] == 2  # the default key, and eu-west-1
        )
        os._exit(0 if ok else 3)
    _, status = os.waitpid(pid, 0)
    # The parent is untouched: its hot path still answers with its own client.
    assert pool.client("s3") is parent and pool.client("s3", region_name="eu-west-1") is parent_memo
    sys.exit(os.waitstatus_to_exitcode(status))
    """
)


def test_an_at_fork_hook_registered_before_import_never_gets_the_parents_client(
    aws_env: object,
) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROGRAM],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore::DeprecationWarning"},
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
