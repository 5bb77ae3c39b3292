"""``sessionpool inspect``: where a profile's credentials and region come from, with the access
key id masked and never a secret, refreshable credentials with their expiry, and one line (never
a traceback) when a profile or a credential source fails; as text and as ``--json``.

Runs in-process through ``main([...])`` against the ``aws_env`` fixture's profiles (moto
answers the role profile's AssumeRole).
"""

from __future__ import annotations

import datetime
import json
import re
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from sessionpool import SessionPool
from sessionpool.__main__ import main
from sessionpool.cli import _inspect
from sessionpool.cli._output import describe_expiry
from tests.support.aws import CREDENTIALS, DUMMY_KEY_ID, DUMMY_SECRET, PROD_KEY_ID
from tests.support.servers import MotoServer

SECRETS = [
    line.split("=", 1)[1].strip()
    for line in CREDENTIALS.splitlines()
    if line.startswith("aws_secret_access_key")
]


def inspect(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["inspect", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_fixture_secrets_are_known_to_this_module() -> None:
    # Guards the secret scans below: they are only as good as this list.
    assert DUMMY_SECRET in SECRETS and len(SECRETS) == 3


def test_inspect_shows_the_credential_source(aws_env: MotoServer, capsys: Any) -> None:
    code, out, _ = inspect(capsys, "--profile", "prod")
    assert code == 0
    assert re.search(r"^credentials\s+shared-credentials-file$", out, re.M)


def test_inspect_masks_the_access_key_id_to_its_last_four(aws_env: MotoServer, capsys: Any) -> None:
    _, out, _ = inspect(capsys, "--profile", "prod")
    assert PROD_KEY_ID not in out
    assert "*" * 16 + "0001" in out


@pytest.mark.parametrize("profile", ["default", "prod", "dev", "role"])
def test_inspect_never_prints_a_secret(aws_env: MotoServer, capsys: Any, profile: str) -> None:
    code, out, err = inspect(capsys, "--profile", profile)
    assert code == 0
    for secret in SECRETS:
        assert secret not in out + err


def test_inspect_resolves_a_role_profile_once_and_shows_it_refreshable_with_expiry(
    aws_env: MotoServer, capsys: Any
) -> None:
    before = aws_env.log.count("AssumeRole")
    code, out, _ = inspect(capsys, "--profile", "role")
    assert code == 0
    assert aws_env.log.count("AssumeRole") - before == 1
    assert re.search(r"^credentials\s+assume-role$", out, re.M)
    assert re.search(r"refreshable\s+yes", out)
    # moto's role credentials last an hour: a date, then how far off it is, in hours/minutes.
    expiry = r"expires\s+\d{4}-\d\d-\d\d \d\d:\d\d UTC \(in (1 h|\d\d? min)\)$"
    assert re.search(expiry, out, re.M)
    assert re.search(r"role_arn\s+arn:aws:iam::123456789012:role/worker", out)
    assert re.search(r"session token\s+present \(never shown\)", out)


def test_inspect_static_credentials_are_not_refreshable(aws_env: MotoServer, capsys: Any) -> None:
    _, out, _ = inspect(capsys, "--profile", "dev")
    assert re.search(r"refreshable\s+no", out)
    assert re.search(r"session token\s+none", out)


def test_inspect_without_a_profile_reports_environment_credentials(
    aws_env: MotoServer, capsys: Any
) -> None:
    code, out, _ = inspect(capsys)
    assert code == 0
    assert re.search(r"^credentials\s+env$", out, re.M)
    assert DUMMY_KEY_ID not in out and DUMMY_KEY_ID[-4:] in out
    assert re.search(r"^profile\s+default \(none named by --profile, AWS_PROFILE", out, re.M)


def test_inspect_names_the_profile_and_the_region_and_where_each_came_from(
    aws_env: MotoServer, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")  # it would win over the profile's region
    _, out, _ = inspect(capsys, "--profile", "prod")
    assert re.search(r"^profile\s+prod \(from --profile\)$", out, re.M)
    assert re.search(r"^region\s+eu-west-1 \(from profile prod's region setting\)$", out, re.M)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ca-central-1")
    monkeypatch.setenv("AWS_PROFILE", "dev")
    _, out, _ = inspect(capsys)
    assert re.search(r"^profile\s+dev \(from the AWS_PROFILE variable\)$", out, re.M)
    region = r"^region\s+ca-central-1 \(from the AWS_DEFAULT_REGION variable\)$"
    assert re.search(region, out, re.M)


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        (["--profile", "prod"], {}),
        (["--profile", "prod"], {"AWS_DEFAULT_REGION": "ca-central-1"}),
        (["--profile", "prod", "--region", "ap-south-1"], {}),
        ([], {"AWS_PROFILE": "dev"}),
        ([], {}),
    ],
)
def test_inspect_tells_one_region_story_the_pool_keeps(
    aws_env: MotoServer,
    capsys: Any,
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    env: dict[str, str],
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, out, _ = inspect(capsys, "--json", *argv)
    assert code == 0
    shown = json.loads(out)
    given = dict(zip(argv[::2], argv[1::2], strict=True))
    with SessionPool(profile=given.get("--profile"), region=given.get("--region")) as p:
        session = p.get_session()
        # The region shown is the one the pool's sessions get, and the key shown is the pool's.
        assert shown["region"]["name"] == session.region_name
        assert shown["pool_key"] == {
            "profile": session.pool_key.profile,
            "region": session.pool_key.region,
        }
    # The key names the region exactly when --region gave it; else each session resolves it.
    assert (shown["pool_key"]["region"] is not None) == (shown["region"]["source"] == "--region")
    code, text, _ = inspect(capsys, *argv)
    story = " ".join(text.split())  # the rows wrap at 80 columns
    if shown["pool_key"]["region"] is None:
        assert re.search(r"each session resolves the (profile and the )?region as above", story)
    else:
        assert "region='ap-south-1': the pool fixes both" in story


def test_inspect_unknown_profile_exits_2_with_one_line_naming_it(
    aws_env: MotoServer, capsys: Any
) -> None:
    name = f"nope-{uuid.uuid4().hex[:8]}"
    code, out, err = inspect(capsys, "--profile", name)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert f"profile {name!r} (from --profile) was not found" in err


def test_inspect_names_the_unknown_profile_aws_profile_asked_for(
    aws_env: MotoServer, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "nope")
    for argv in ([], ["--json"]):
        code, out, err = inspect(capsys, *argv)
        assert code == 2
        assert out == ""
        assert err.count("\n") == 1
        assert "profile 'nope' (from the AWS_PROFILE variable) was not found" in err
        assert "None" not in err


@pytest.mark.parametrize("profile", ["default", "prod", "dev", "role"])
def test_inspect_json_has_the_same_facts_and_no_secret(
    aws_env: MotoServer, capsys: Any, monkeypatch: pytest.MonkeyPatch, profile: str
) -> None:
    seen: list[Any] = []
    original = _inspect.facts

    def keep_what_it_resolved(pool: SessionPool, *args: Any) -> dict[str, Any]:
        found = original(pool, *args)
        seen.append(pool.get_session().get_credentials().get_frozen_credentials())
        return found

    monkeypatch.setattr(_inspect, "facts", keep_what_it_resolved)
    code, out, err = inspect(capsys, "--json", "--profile", profile)
    assert code == 0
    shown = json.loads(out)
    (frozen,) = seen  # the credentials it resolved (for "role", moto's fresh AssumeRole answer)
    for secret in (*SECRETS, frozen.secret_key, frozen.token, frozen.access_key):
        if secret:
            assert secret not in out + err
    creds = shown["credentials"]
    assert creds["access_key_id"] == "*" * (len(frozen.access_key) - 4) + frozen.access_key[-4:]
    assert creds["session_token"] is (profile == "role")
    assert set(creds) == {
        "found",
        "method",
        "refreshable",
        "expires",
        "expires_in_seconds",
        "access_key_id",
        "session_token",
        "account_id",
    }
    assert shown["profile"]["name"] == profile and shown["profile"]["source"] == "--profile"
    # The same facts as the text output (which, for "role", assumes the role afresh).
    _, text, _ = inspect(capsys, "--profile", profile)
    assert re.search(rf"^credentials\s+{re.escape(creds['method'])}$", text, re.M)
    key_id = r"\*{16}\w{4}" if profile == "role" else re.escape(creds["access_key_id"])
    assert re.search(rf"access key id\s+{key_id}$", text, re.M)
    if profile == "role":
        assert creds["refreshable"] is True and 0 < creds["expires_in_seconds"] <= 3600
        assert shown["profile"]["settings"]["role_arn"].endswith(":role/worker")
        assert creds["expires"][:16].replace("T", " ") in text  # the same expiry, to the minute


NOW = datetime.datetime(2026, 11, 29, 16, 7, 30, tzinfo=datetime.timezone.utc)


@pytest.mark.parametrize(
    ("after", "shown"),
    [
        (datetime.timedelta(seconds=42), "2026-11-29 16:08 UTC (in 42 s)"),
        (datetime.timedelta(minutes=37), "2026-11-29 16:44 UTC (in 37 min)"),
        (datetime.timedelta(hours=1), "2026-11-29 17:07 UTC (in 1 h)"),
        (datetime.timedelta(hours=5, minutes=12), "2026-11-29 21:19 UTC (in 5 h 12 min)"),
        (datetime.timedelta(days=1, minutes=5), "2026-11-30 16:12 UTC (in 1 day)"),
        (datetime.timedelta(days=3, hours=4), "2026-12-02 20:07 UTC (in 3 days 4 h)"),
        (datetime.timedelta(days=45, hours=4), "2027-01-13 20:07 UTC (in 45 days)"),
        # Far in the future (once shown as "in 37911955 min"):
        (
            datetime.timedelta(minutes=37911955),
            "2098-12-29 10:02 UTC (in 26,327 days (about 72 years))",
        ),
        (-datetime.timedelta(minutes=5), "2026-11-29 16:02 UTC (expired 5 min ago)"),
    ],
)
def test_inspect_expiry_reads_as_a_date_and_days_hours_minutes(
    after: datetime.timedelta, shown: str
) -> None:
    assert describe_expiry(NOW + after, NOW) == shown


def test_inspect_expiry_is_shown_in_utc_whatever_zone_it_comes_in() -> None:
    zone = datetime.timezone(datetime.timedelta(hours=2))
    expiry = datetime.datetime(2026, 11, 29, 19, 0, tzinfo=zone)  # 17:00 UTC
    assert describe_expiry(expiry, NOW) == "2026-11-29 17:00 UTC (in 52 min)"
    naive = datetime.datetime(2026, 11, 29, 17, 0)  # taken as UTC
    assert describe_expiry(naive, NOW) == "2026-11-29 17:00 UTC (in 52 min)"


# -- a credential source that fails ------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (f"{sys.executable} -c \"print('this is not json')\"", "did not print JSON"),
        (f"{sys.executable} -c \"print('{{')\"", "did not print JSON"),
        ("/no/such/credential/helper --token hunter2-EXAMPLE", "could not be run"),
    ],
    ids=["text", "broken-json", "missing-command"],
)
@pytest.mark.parametrize("output", [[], ["--json"]], ids=["as-text", "as-json"])
def test_a_misbehaving_credential_process_gives_one_line_and_exit_1(
    aws_env: Any,
    aws_files: tuple[Path, Path],
    capsys: Any,
    command: str,
    expected: str,
    output: list[str],
) -> None:
    config, _ = aws_files
    config.write_text(
        config.read_text()
        + f"\n[profile broken]\nregion = us-east-1\ncredential_process = {command}\n"
    )
    assert main(["inspect", "--profile", "broken", *output]) == 1
    out, err = capsys.readouterr()
    assert out == ""  # with --json too: no half-made object on stdout, the exit status says why
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("sessionpool: resolving credentials for broken failed")
    assert expected in lines[0]
    assert "Traceback" not in out + err
    assert "hunter2" not in out + err  # the command line may carry a token: never shown
