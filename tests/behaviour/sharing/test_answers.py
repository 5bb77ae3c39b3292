"""What the pool works out once per process instead of once per client, each answer
checked against botocore's own, each change of its inputs honoured as botocore honours it, and
nothing one client or session changes visible to another.

* endpoint discovery per service model (``shared_discovery_answers``);
* proxies per environment and URL (``shared_proxy_answers``);
* one TLS context per certificate setting (``shared_tls_context``);
* config files parsed once per content (``shared_config_files``);
* configuration answers per inputs (``shared_config_answers``);
* handler checks per code object (``handler_check_memo``).

The equality tests also check that the share was used (its table holds the entry), so they
cannot pass by never sharing; each change test was seen to fail with the input left out of its
share's key. Clients made "in a new thread" come from a new pooled session.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import botocore.httpsession
import botocore.model
import botocore.session
import pytest
from botocore.config import Config

from sessionpool import SessionPool, _botocore
from sessionpool._botocore import configfiles, emitter, models, proxies, settings, tls
from tests.support.threads import run_together

pytestmark = pytest.mark.compat  # leans on botocore internals: the floor cell runs it too


def in_a_new_thread(fn: Callable[[], Any]) -> Any:
    return run_together(1, lambda _: fn())[0]


# -- endpoint discovery ------------------------------------------------------------------------

DISCOVERY_SERVICES = ["dynamodb", "s3", "sqs", "timestream-write"]


@pytest.mark.parametrize("service", DISCOVERY_SERVICES)
def test_discovery_answers_are_botocores_and_each_client_keeps_its_own_model(
    pool: SessionPool, service: str
) -> None:
    first, second = (in_a_new_thread(lambda: pool.client(service)) for _ in range(2))
    loader = botocore.session.Session().get_component("data_loader")
    reference = botocore.model.ServiceModel(loader.load_service_model(service, "service-2"))
    expected = reference.endpoint_discovery_operation
    for client in (first, second):
        model = client.meta.service_model
        found = model.endpoint_discovery_operation
        assert (found and found.name) == (expected and expected.name)
        assert model.endpoint_discovery_required == reference.endpoint_discovery_required
        if found is not None:  # the model's own OperationModel, not one shared with a peer
            assert found is model.operation_model(found.name)
    data = second.meta.service_model._service_description
    assert models._answers[id(data)][0] is data  # the second model was seeded from the share
    assert second.meta.service_model is not first.meta.service_model
    if expected is not None:
        ops = [c.meta.service_model.endpoint_discovery_operation for c in (first, second)]
        assert ops[0] is not ops[1]
    # a public setter on one client's model changes no other client's
    first.meta.service_model.signature_version = "sessionpool-test"
    third = in_a_new_thread(lambda: pool.client(service))
    assert second.meta.service_model.signature_version != "sessionpool-test"
    assert third.meta.service_model.signature_version != "sessionpool-test"


# -- proxies from the environment ---------------------------------------------------------------

PROXY_ENVIRONMENTS: dict[str, dict[str, str]] = {
    "none": {},
    "https proxy": {"HTTPS_PROXY": "http://proxy.invalid:3128"},
    "https proxy, no_proxy for it": {
        "HTTPS_PROXY": "http://proxy.invalid:3128",
        "NO_PROXY": ".amazonaws.com",
    },
    "lowercase wins": {
        "HTTPS_PROXY": "http://upper.invalid:3128",
        "https_proxy": "http://lower.invalid:3128",
        "HTTP_PROXY": "http://plain.invalid:3128",
    },
}


def _proxies_of(client: Any) -> dict[str, str]:
    found: dict[str, str] = client._endpoint.http_session._proxy_config._proxies
    return found


def test_proxy_answers_follow_the_environment_as_botocores_do(
    pool: SessionPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL")  # real endpoint URLs; nothing is sent
    seen = []
    for label, env in PROXY_ENVIRONMENTS.items():
        for name in [n for n in os.environ if n.lower().endswith("_proxy")]:
            monkeypatch.delenv(name)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        for _ in range(2):  # the second new thread's client is answered from the share
            pooled = in_a_new_thread(lambda: pool.client("sqs", region="eu-west-1"))
            plain = boto3.session.Session(region_name="eu-west-1").client("sqs")
            assert _proxies_of(pooled) == _proxies_of(plain), label
            seen.append(_proxies_of(pooled))
        assert proxies._table[1][pooled.meta.endpoint_url] == _proxies_of(plain)
    assert {"https": "http://lower.invalid:3128", "http": "http://plain.invalid:3128"} in seen
    # each client holds its own copy: one client's dict edited changes nobody else's
    _proxies_of(pooled)["https"] = "http://edited.invalid:1"
    later = in_a_new_thread(lambda: pool.client("sqs", region="eu-west-1"))
    assert _proxies_of(later)["https"] == "http://lower.invalid:3128"


def test_a_proxy_set_later_is_used_and_no_proxy_set_later_is_honoured(
    pool: SessionPool, monkeypatch: pytest.MonkeyPatch, refused_port: int
) -> None:
    in_a_new_thread(lambda: pool.client("sqs").list_queues())  # no proxy: reaches moto
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{refused_port}")
    with pytest.raises(botocore.exceptions.ProxyConnectionError):
        in_a_new_thread(lambda: pool.client("sqs").list_queues())
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    in_a_new_thread(lambda: pool.client("sqs").list_queues())


# -- TLS contexts -------------------------------------------------------------------------------


def _tls_of(client: Any) -> Any:
    return client._endpoint.http_session._manager.connection_pool_kw["ssl_context"]


def test_clients_share_a_tls_context_only_with_equal_certificate_settings(
    pool: SessionPool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)  # default: verify=True
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(Path(botocore.httpsession.where()).read_bytes())
    pem = str(bundle)

    def clients() -> dict[str, Any]:
        return {
            "default": pool.client("s3"),
            "no verify": pool.client("s3", verify=False),
            "bundle": pool.client("s3", verify=pem),
            "client cert": pool.client("s3", config=Config(client_cert=pem)),
        }

    here, there = clients(), in_a_new_thread(clients)
    for label in ("default", "no verify", "bundle"):
        assert _tls_of(here[label]) is _tls_of(there[label]), label
    assert _tls_of(here["client cert"]) is not _tls_of(there["client cert"])
    contexts = {id(_tls_of(c)) for c in here.values()}
    assert len(contexts) == 4  # no two settings share
    assert _tls_of(boto3.session.Session().client("s3")) is not _tls_of(here["default"])
    assert _tls_of(here["default"]) in tls._contexts.values()

    # a rewritten CA bundle is a new context for new clients, as a new client loads the new file
    bundle.write_bytes(bundle.read_bytes() + b"\n")
    later = in_a_new_thread(lambda: pool.client("s3", verify=pem))
    assert _tls_of(later) is not _tls_of(here["bundle"])

    # botocore edits the proxy TLS context it makes: that one is never the shared context
    http = here["default"]._endpoint.http_session
    http._proxy_config._proxies_settings = {"proxy_ca_bundle": pem}
    with _botocore.pooled(None):
        proxy_context = http._setup_proxy_ssl_context("http://proxy.invalid:3128")
    assert proxy_context is not None and proxy_context is not _tls_of(here["default"])


# -- config files -------------------------------------------------------------------------------

CONFIGS = {
    "flat": "[default]\nregion = us-east-1\nretry_mode = standard\n",
    "nested s3 section": "[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n",
    "sso session": (
        "[default]\nregion = us-east-1\n\n[profile sso]\nsso_session = corp\n"
        "sso_account_id = 123456789012\nsso_role_name = Reader\n\n"
        "[sso-session corp]\nsso_region = us-east-1\nsso_start_url = https://example.invalid\n"
    ),
}


def _full_config(pool: SessionPool) -> Any:
    return pool.get_session().botocore_session.full_config


@pytest.mark.parametrize("content", sorted(CONFIGS))
def test_parsed_config_files_are_botocores_and_each_session_owns_its_copy(
    pool: SessionPool, aws_files: tuple[Path, Path], content: str
) -> None:
    config, credentials = aws_files
    config.write_text(CONFIGS[content])
    # no secret in it, so it is shared too; its profile is not in the config file, so botocore
    # puts the parsed section itself into the session's config
    credentials.write_text("[from-credentials]\ncredential_process = /bin/false\n")
    first, second = (in_a_new_thread(lambda: _full_config(pool)) for _ in range(2))
    plain = botocore.session.Session().full_config
    assert first == second == plain
    assert {str(config), str(credentials)} <= {key[0] for key in configfiles._parsed}
    # a session's parsed config edited (one that was given the shared parse): no other
    # session sees it
    second["profiles"]["default"]["region"] = "edited-1"
    second["profiles"]["from-credentials"]["credential_process"] = "edited-2"
    third = in_a_new_thread(lambda: _full_config(pool))
    assert first == third == plain


def test_a_rewritten_config_file_is_read_by_the_next_session_even_with_the_same_mtime(
    pool: SessionPool, aws_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    config, _ = aws_files
    monkeypatch.delenv("AWS_DEFAULT_REGION")  # the region comes from the file

    def region() -> str:
        found: str = pool.get_session().botocore_session.get_config_variable("region")
        return found

    config.write_text("[default]\nregion = us-east-1\n")
    stat = config.stat()
    assert [in_a_new_thread(region) for _ in range(2)] == ["us-east-1"] * 2
    config.write_text("[default]\nregion = eu-west-1\n")  # the same size
    os.utime(config, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the same times
    assert in_a_new_thread(region) == "eu-west-1"
    assert botocore.session.Session().get_config_variable("region") == "eu-west-1"


def test_a_config_file_holding_a_secret_is_never_kept(
    pool: SessionPool, aws_files: tuple[Path, Path]
) -> None:
    config, credentials = aws_files
    secret = "config-secret-EXAMPLE-not-real-0000000000"
    config.write_text(
        "[default]\nregion = us-east-1\naws_access_key_id = AKIACONFIGEXAMPLE001\n"
        f"aws_secret_access_key = {secret}\n"
    )
    in_a_new_thread(lambda: pool.client("sqs"))
    kept = {key[0] for key in configfiles._parsed}
    assert str(config) not in kept and str(credentials) not in kept
    assert not any(secret.encode() in key[1] for key in configfiles._parsed)


# -- configuration answers ----------------------------------------------------------------------

ENVIRONMENTS: dict[str, dict[str, str]] = {
    "fixture": {},
    "retries and s3 from the environment": {
        "AWS_RETRY_MODE": "standard",
        "AWS_MAX_ATTEMPTS": "7",
        "AWS_S3_US_EAST_1_REGIONAL_ENDPOINT": "regional",
        "AWS_USE_DUALSTACK_ENDPOINT": "true",
    },
    "another profile": {"AWS_PROFILE": "prod"},
}


def _answers(core: Any) -> dict[str, Any]:
    store = core.get_component("config_store")
    return {name: store.get_config_variable(name) for name in sorted(store._mapping)}


@pytest.mark.parametrize("environment", sorted(ENVIRONMENTS))
def test_every_config_answer_is_botocores(
    pool: SessionPool, monkeypatch: pytest.MonkeyPatch, environment: str
) -> None:
    for name, value in ENVIRONMENTS[environment].items():
        monkeypatch.setenv(name, value)
    cores = [in_a_new_thread(lambda: pool.get_session().botocore_session) for _ in range(2)]
    plain = botocore.session.Session()
    for name, value in cores[0].instance_variables().items():
        plain.set_config_variable(name, value)
    expected = _answers(plain)
    for core in cores:
        with _botocore.pooled(None):  # as while the pool makes a client
            assert _answers(core) == expected  # the first fills the share
            assert _answers(core) == expected  # the second reads it
    assert len(settings._answers) >= len(expected) // 2


def test_a_profile_with_a_section_is_answered_by_botocore_and_still_equal(
    pool: SessionPool, aws_files: tuple[Path, Path]
) -> None:
    config, _ = aws_files
    config.write_text(CONFIGS["nested s3 section"])
    core = in_a_new_thread(lambda: pool.get_session().botocore_session)
    with _botocore.pooled(None):
        assert _answers(core) == _answers(botocore.session.Session())
        assert core.get_config_variable("s3") == {"addressing_style": "path"}


def _retries(client: Any) -> Any:
    return client.meta.config.retries


def test_config_changes_reach_the_next_client_as_in_botocore(
    pool: SessionPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = pool.get_session()  # one session; each region below makes a new client on it

    def both(region: str) -> tuple[Any, Any]:
        plain = boto3.session.Session().client("sqs", region)
        return _retries(mine.client("sqs", region)), _retries(plain)

    first = both("us-east-1")
    assert first[0] == first[1]
    monkeypatch.setenv("AWS_RETRY_MODE", "adaptive")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "9")
    second = both("us-east-2")
    assert second[0] == second[1] == {"mode": "adaptive", "total_max_attempts": 9}
    monkeypatch.delenv("AWS_RETRY_MODE")
    third = both("us-west-1")
    assert third[0] == third[1] != second[0]
    monkeypatch.setenv("AWS_RETRY_MODE", "adaptive")  # back to an environment seen before
    assert both("us-west-2")[0] == second[0]


def test_a_change_through_one_session_is_invisible_to_another(pool: SessionPool) -> None:
    mine = pool.get_session()  # this thread's; its clients below are new ones (new regions)

    def others(region: str) -> Any:
        return in_a_new_thread(lambda: _retries(pool.get_session().client("sqs", region)))

    mine.botocore_session.set_config_variable("retry_mode", "adaptive")
    assert _retries(mine.client("sqs", "us-east-2"))["mode"] == "adaptive"
    assert others("us-east-2")["mode"] != "adaptive"
    # an edit of this session's profile dict, which botocore reads at every lookup
    mine.botocore_session.full_config["profiles"]["default"]["max_attempts"] = "4"
    assert _retries(mine.client("sqs", "us-west-2"))["total_max_attempts"] == 4
    assert others("us-west-2").get("total_max_attempts") != 4


# -- handler checks -----------------------------------------------------------------------------


def _with_kwargs() -> Callable[..., None]:
    def handler(**kwargs: Any) -> None:
        pass

    return handler


def test_a_handler_is_refused_by_its_own_signature_even_when_its_code_passed(
    pool: SessionPool,
) -> None:
    client = pool.client("s3", region="us-west-2")
    client.meta.events.register("before-send", _with_kwargs())
    client.meta.events.register("before-send", _with_kwargs())  # another closure, same code
    assert _with_kwargs().__code__ in emitter._ACCEPTS_BY_CODE
    disguised = _with_kwargs()
    disguised.__signature__ = inspect.signature(lambda request: None)  # type: ignore[attr-defined]
    for _ in range(2):
        with pytest.raises(ValueError, match="must accept keyword arguments"):
            client.meta.events.register("before-send", disguised)
