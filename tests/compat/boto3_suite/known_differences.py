"""Why boto3's own tests that pass on plain boto3 fail with pooled sessions (``run.py``).

Test id (``classname::name`` as in pytest's junit report) -> (kind, reason). Kinds:

* ``documented``: sessionpool differs on purpose and its documentation says so;
* ``artefact``: the test checks how boto3 builds a session (a call on a mocked botocore session),
  not what the session does; the pooled session does the same by another route;
* ``incompatibility``: a real difference a user could meet; the reason names the fix, and
  ``tests/test_boto3_suite_differences.py`` holds an ``xfail(strict=True)`` test that shows it.

``run.py`` fails when a loss is not listed here, and when a listed test ran and passed pooled,
except for the tests in ``ORDER_DEPENDENT``: they fail only when an earlier test in the same
pytest-xdist worker did something first, so a run may not show them.

Measured with boto3 1.43.78's tests (botocore 1.43.127).
"""

from __future__ import annotations

__all__ = ["KNOWN", "ORDER_DEPENDENT"]

_TABLE = "tests.functional.dynamodb.test_table.TestTableResourceCustomizations"
_SESSION = "tests.unit.test_session.TestSession"

KNOWN: dict[str, tuple[str, str]] = {
    f"{_TABLE}::test_operation_without_output": (
        "incompatibility",
        "a session held across the plugin's clear (here boto3.DEFAULT_SESSION, made by an "
        "earlier test in the worker) is retired, but goes on caching clients and resources, "
        "which no later clear reaches: test_batch_write_does_not_double_serialize's handler "
        "(LateStubber, on the default session's cached DynamoDB client) fires in this test. "
        "Plain boto3 makes a new resource and client per boto3.resource(). Fix: a retired "
        "PooledSession makes a new client and resource per call, as a plain Session does "
        "(check retired on the slow path of client() and resource(); memoise nothing then)",
    ),
    f"{_SESSION}::test_account_id_set_without_credentials": (
        "incompatibility",
        "the pool raises botocore's NoCredentialsError (a subclass) for aws_account_id without "
        "keys, as boto3 does, but with its own text only; the test looks for botocore's "
        "'Unable to locate credentials'. Fix: the botocore-derived errors in _errors.py keep "
        "botocore's message first and add the explanation after it",
    ),
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

ORDER_DEPENDENT = frozenset({f"{_TABLE}::test_operation_without_output"})
