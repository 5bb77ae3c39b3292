"""Why boto3's own tests that pass on plain boto3 fail with pooled sessions (``run.py``).

Test id (``classname::name`` as in pytest's junit report) -> (kind, reason). Kinds:

* ``documented``: sessionpool differs on purpose and its documentation says so;
* ``artefact``: the test checks how boto3 builds a session (a call on a mocked botocore session),
  not what the session does; the pooled session does the same by another route;
* ``incompatibility``: a real difference a user could meet; the reason names the fix, and
  ``tests/behaviour/boto3_suite/test_differences.py`` holds an ``xfail(strict=True)`` test
  that shows it (none is listed now: the two found were fixed).

``run.py`` fails when a loss is not listed here, and when a listed test ran and passed pooled,
except for the tests in ``ORDER_DEPENDENT``: they fail only when an earlier test in the same
pytest-xdist worker did something first, so a run may not show them.

Measured with boto3 1.43.78's tests (botocore 1.43.127).
"""

from __future__ import annotations

__all__ = ["KNOWN", "ORDER_DEPENDENT"]

_SESSION = "tests.unit.test_session.TestSession"

KNOWN: dict[str, tuple[str, str]] = {
    f"{_SESSION}::test_can_access_region_name": (
        "documented",
        "Session('abc123', region_name=...) passes a key id without a secret: the pool raises "
        "PartialCredentialsError (docs/concepts.md, Keys); boto3 accepts it. With both halves "
        "the test passes pooled",
    ),
    f"{_SESSION}::test_repr": (
        "documented",
        "the same lone key id (PartialCredentialsError). With both halves it would still fail: "
        "a PooledSession's repr shows its key and counts (<PooledSession profile=None "
        "region='us-west-2' credentials=#... pid=... clients=0 resources=0>), not boto3's "
        "Session(region_name='us-west-2')",
    ),
    f"{_SESSION}::test_credentials_can_be_set": (
        "artefact",
        "asserts that boto3 called the mocked botocore session's set_credentials(key, secret, "
        "token); the pool hands the botocore session one shared credentials object per key "
        "through a credential provider instead, and the session signs with the same keys",
    ),
    f"{_SESSION}::test_credentials_can_be_set_with_account_id": (
        "artefact",
        "as test_credentials_can_be_set, with aws_account_id: the pooled session's credentials "
        "carry the same keys and account id",
    ),
}

ORDER_DEPENDENT: frozenset[str] = frozenset()
