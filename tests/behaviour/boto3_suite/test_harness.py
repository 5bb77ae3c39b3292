"""The harness that runs boto3's own suite against pooled sessions (tests/boto3_suite).

Running boto3's suite takes many minutes and needs its tests (``python3 tasks.py boto3suite``);
these tests check, without it, that the harness can tell: that in pooled mode every way boto3
makes a session hands out a pooled one (else the pooled run would quietly test plain boto3), that
what must stay plain stays plain, and that the comparison fails on a loss nobody explained.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import boto3.session
import pytest
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError

from sessionpool import PooledSession
from tests.boto3_suite import run
from tests.boto3_suite import sessionpool_boto3_suite as harness
from tests.support.aws import DUMMY_KEY_ID, DUMMY_SECRET
from tests.support.servers import MotoServer

KEYS = {"aws_access_key_id": DUMMY_KEY_ID, "aws_secret_access_key": DUMMY_SECRET}
ORIGINAL = boto3.session.Session


@pytest.fixture
def pooled(aws_env: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """boto3's Session redirected to the harness's pool for one test, then put back."""
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    harness.install()
    harness.COUNTS.reset()
    try:
        yield
    finally:
        harness.uninstall()
    assert boto3.session.Session is ORIGINAL and boto3.Session is ORIGINAL


def test_every_spelling_of_session_hands_out_this_threads_pooled_session(pooled: None) -> None:
    a = boto3.session.Session(region_name="eu-west-1", **KEYS)
    b = boto3.Session(region_name="eu-west-1", **KEYS)
    c = boto3.session.Session(DUMMY_KEY_ID, DUMMY_SECRET, None, "eu-west-1")  # boto3's order
    assert type(a) is PooledSession
    assert a is b is c
    assert a is harness.POOL.get_session(region_name="eu-west-1", **KEYS)
    assert boto3.Session(region_name="us-west-2", **KEYS) is not a  # another key
    assert (harness.COUNTS.pooled, harness.COUNTS.plain) == (4, 0)


def test_the_default_session_is_pooled(pooled: None) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    assert type(boto3.DEFAULT_SESSION) is PooledSession
    assert "Buckets" in s3.list_buckets()  # the moto server, through the pooled session
    assert boto3.DEFAULT_SESSION is harness.POOL.get_session()
    assert harness.COUNTS.pooled == 1


def test_what_a_pool_cannot_honour_is_built_plainly(pooled: None) -> None:
    plain = ORIGINAL()
    wrapped = boto3.session.Session(botocore_session=plain._session)
    assert type(wrapped) is ORIGINAL and wrapped._session is plain._session

    class MySession(boto3.session.Session):
        pass

    mine = MySession(region_name="eu-west-1")
    assert type(mine) is MySession
    assert (harness.COUNTS.pooled, harness.COUNTS.plain) == (0, 2)


def test_isinstance_and_issubclass_keep_their_meaning(pooled: None) -> None:
    pooled_session = boto3.Session(**KEYS)
    assert isinstance(pooled_session, boto3.session.Session)
    assert isinstance(ORIGINAL(), boto3.session.Session)
    assert issubclass(PooledSession, boto3.Session)
    assert not isinstance(object(), boto3.session.Session)


def test_the_network_guard_refuses_and_counts_anything_but_loopback(
    pooled: None, aws_env: MotoServer
) -> None:
    guard = harness.NetworkGuard()
    guard.start()
    try:
        s3 = boto3.session.Session(region_name="us-east-1", **KEYS).client(
            "s3",
            endpoint_url="http://192.0.2.1:9",
            config=Config(retries={"total_max_attempts": 1}),
        )
        with pytest.raises(EndpointConnectionError):
            s3.list_buckets()
        assert harness.COUNTS.refused == 1
        assert "Buckets" in boto3.session.Session(**KEYS).client("s3").list_buckets()
        assert harness.COUNTS.refused == 1  # the moto server, on 127.0.0.1
    finally:
        guard.stop()


def _junit(path: Path, cases: dict[str, str], refused: int = 0) -> Path:
    """A junit report: test id -> passed, failed, error or skipped; each test asked for two
    pooled sessions, and the first had ``refused`` connections refused."""
    rows = []
    for test_id, outcome in cases.items():
        classname, _, name = test_id.partition("::")
        inner = {
            "passed": "",
            "failed": '<failure message="AssertionError: boom">trace</failure>',
            "error": '<error message="RuntimeError: bad fixture">trace</error>',
            "skipped": '<skipped message="no crt" />',
        }[outcome]
        props = (
            '<properties><property name="pooled_sessions" value="2" />'
            f'<property name="refused_connections" value="{refused}" /></properties>'
        )
        refused = 0
        rows.append(f'<testcase classname="{classname}" name="{name}">{props}{inner}</testcase>')
    path.write_text(f"<testsuites><testsuite>{''.join(rows)}</testsuite></testsuites>")
    return path


VERSIONS = {
    "boto3": "1.0.0",
    "botocore": "1.0.0",
    "s3transfer": "0.1.0",
    "sessionpool": "0.1.0",
    "python": "3.11.0",
    "pytest": "9.0.0",
}


def test_a_loss_nobody_explained_fails_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run, "KNOWN", {"t.A::known": ("documented", "on purpose")})
    plain = run.read_junit(
        _junit(
            tmp_path / "plain.xml",
            {
                "t.A::same": "passed",
                "t.A::known": "passed",
                "t.A::new": "passed",
                "t.A::x": "failed",
            },
        )
    )
    pooled = run.read_junit(
        _junit(
            tmp_path / "pooled.xml",
            {
                "t.A::same": "passed",
                "t.A::known": "failed",
                "t.A::new": "error",
                "t.A::x": "passed",
            },
        )
    )
    diff = run.compare(plain, pooled)
    assert list(diff.lost) == ["t.A::known", "t.A::new"]
    assert diff.lost["t.A::new"].message == "RuntimeError: bad fixture"
    assert list(diff.gained) == ["t.A::x"]
    text, data, ok = run.summarise(plain, pooled, VERSIONS, "a test")
    assert not ok
    assert "`t.A::new` (error): UNEXPLAINED" in text
    assert "`t.A::known` (failed): documented: on purpose" in text
    assert data["pooled_sessions"] == 8 and data["tests_asking_for_sessions"] == 4


def test_only_explained_losses_pass_the_check_and_a_fixed_one_must_be_delisted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run, "KNOWN", {"t.A::known": ("artefact", "mocks an internal call")})
    plain = run.read_junit(_junit(tmp_path / "plain.xml", {"t.A::known": "passed"}))
    lost = run.read_junit(_junit(tmp_path / "lost.xml", {"t.A::known": "failed"}))
    assert run.summarise(plain, lost, VERSIONS, "a test")[2]
    fixed = run.read_junit(_junit(tmp_path / "fixed.xml", {"t.A::known": "passed"}))
    text, data, ok = run.summarise(plain, fixed, VERSIONS, "a test")
    assert not ok and data["known_but_passed"] == ["t.A::known"]
    # Unless it is known to depend on what ran before it in the worker.
    monkeypatch.setattr(run, "ORDER_DEPENDENT", frozenset({"t.A::known"}))
    text, data, ok = run.summarise(plain, fixed, VERSIONS, "a test")
    assert ok and data["order_dependent_not_seen"] == ["t.A::known"]


def test_a_pooled_run_that_tried_to_leave_the_machine_fails_the_check(tmp_path: Path) -> None:
    cases = {"t.A::a": "passed", "t.A::b": "passed"}
    plain = run.read_junit(_junit(tmp_path / "plain.xml", cases))
    pooled = run.read_junit(_junit(tmp_path / "pooled.xml", cases, refused=3))
    text, data, ok = run.summarise(plain, pooled, VERSIONS, "a test")
    assert not ok and data["refused_connections"] == {"plain": 0, "pooled": 3}
    assert "Connections refused off loopback: 0 plain, 3 pooled." in text


def test_every_known_difference_has_a_kind_and_a_reason() -> None:
    assert run.KNOWN  # the file was read
    for test_id, (kind, reason) in run.KNOWN.items():
        assert test_id.startswith("tests.") and "::" in test_id
        assert kind in ("documented", "artefact", "incompatibility"), test_id
        assert reason.strip(), test_id
    assert run.ORDER_DEPENDENT <= run.KNOWN.keys()
