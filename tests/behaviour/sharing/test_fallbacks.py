"""Fallbacks that really fall back: botocore's internals changed under the pool.

Every private botocore name the pool relies on is renamed (or reshaped) in a fresh interpreter,
before anything imports botocore, by an import hook that rewrites botocore's (and boto3's and
s3transfer's) source consistently: plain boto3 still works, which each case checks first. Then
``import sessionpool`` must work, the pool must make and use clients from two threads (and a
client with a Config, and refreshable credentials), the optimisations that relied on the name
must report themselves off in ``sessionpool.diagnostics()``, and each must have said so in
exactly one WARNING record.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.compat  # in the matrix's floor cell too (tasks.py matrix)

SCRIPT = r"""
import importlib.abc, importlib.machinery, json, logging, re, sys, threading

OLD, NEW, MODULES = sys.argv[1], sys.argv[2], sys.argv[3]
if sys.argv[4:] == ["hide-environ-class"]:  # a Python whose os.environ is shaped otherwise
    import os
    del os._Environ
pattern = re.compile((r"\b" if OLD[0].isalnum() or OLD[0] == "_" else "") + re.escape(OLD) + r"\b"
                     if OLD[0].isalnum() or OLD[0] == "_" else re.escape(OLD))
scope = re.compile(MODULES)


class Renaming(importlib.machinery.SourceFileLoader):
    def get_code(self, fullname):
        source = self.get_data(self.get_filename(fullname)).decode("utf-8")
        return compile(pattern.sub(NEW, source), self.get_filename(fullname), "exec")


class Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if not scope.match(name):
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or not str(spec.origin).endswith(".py"):
            return spec
        spec.loader = Renaming(name, spec.origin)
        return spec


sys.meta_path.insert(0, Finder())

records = []


class Keep(logging.Handler):
    def emit(self, record):
        records.append((record.levelname, record.getMessage()))


logging.getLogger("sessionpool").addHandler(Keep())
logging.getLogger("sessionpool").setLevel(logging.DEBUG)

import boto3
from botocore.config import Config

# Plain boto3 still works under the rename: otherwise the case tests nothing.
boto3.session.Session().client("s3").list_buckets()

import sessionpool
from sessionpool import SessionPool

errors = []


def work():
    try:
        pool.client("s3").list_buckets()
        pool.client("sqs", config=Config(retries={"max_attempts": 2})).list_queues()
        frozen = pool.get_session(profile="refreshing").get_credentials().get_frozen_credentials()
        assert frozen.access_key == "AKIAREFRESHEXAMPLE01", frozen.access_key
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}")


pool = SessionPool()
threads = [threading.Thread(target=work) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
sessionpool.client("dynamodb").list_tables()
diagnostics = sessionpool.diagnostics()["optimisations"]
off = sorted(name for name, state in diagnostics.items() if not state["active"])
warnings = {name: sum(1 for level, text in records if level == "WARNING" and f" {name} " in text)
            for name in diagnostics}
print(json.dumps({"errors": errors, "off": off, "warnings": warnings,
                  "stats": pool.stats()["sessions_created"]}))
"""

ANY = r"(botocore|boto3|s3transfer)(\.|$)"
CASES: dict[str, tuple[str, str, str, set[str]]] = {
    # case: (old, new, modules rewritten, optimisations expected off)
    "_PrefixTrie renamed": ("_PrefixTrie", "_PrefixTrieV2", ANY, {"cow_emitter"}),
    "trie node key children renamed": (
        "'children'",
        "'kids'",
        r"botocore\.hooks$",
        {"cow_emitter"},
    ),
    # The prototype (botocore's own emitter, copied node by node) goes off; the copy-on-write
    # emitter, built only to replace a working prototype, is then never tried.
    "emitter _handlers renamed": (
        "_handlers",
        "_handlers_v2",
        ANY,
        {"prototype_emitter"},
    ),
    "emitter _unique_id_handlers renamed": (
        "_unique_id_handlers",
        "_uid_handlers",
        ANY,
        {"prototype_emitter"},
    ),
    # The copy-on-write emitter only resets the lookup cache on a copy; botocore replaces its own
    # cache on every registration, so under another name the reset is merely redundant: the
    # pool must keep working, and there is nothing to switch off.
    "emitter _lookup_cache renamed": ("_lookup_cache", "_lookup_v2", ANY, set()),
    "EventAliaser _alias_name_cache renamed": (
        "_alias_name_cache",
        "_alias_cache_v2",
        ANY,
        {"shared_alias_cache"},
    ),
    "Loader.load_data_with_path renamed": (
        "load_data_with_path",
        "load_data_and_path",
        ANY,
        {"shared_loader"},
    ),
    "Loader._search_paths renamed": ("_search_paths", "_paths_v2", ANY, {"shared_loader"}),
    "Session._register_internal_component renamed": (
        "_register_internal_component",
        "_register_internal_v2",
        ANY,
        {"shared_components"},
    ),
    "Session._get_internal_component renamed": (
        "_get_internal_component",
        "_get_internal_v2",
        ANY,
        {"shared_components"},
    ),
    "Config._user_provided_options renamed": (
        "_user_provided_options",
        "_user_options_v2",
        ANY,
        {"config_by_value"},
    ),
    "RefreshableCredentials._expiry_time renamed": (
        "_expiry_time",
        "_expires_v2",
        ANY,
        {"credential_snapshot"},
    ),
    "RefreshableCredentials._advisory_refresh_timeout renamed": (
        "_advisory_refresh_timeout",
        "_advisory_v2",
        ANY,
        {"credential_snapshot"},
    ),
    "ClientCreator._create_client_class renamed": (
        "_create_client_class",
        "_make_client_class",
        ANY,
        {"client_class_cache"},
    ),
    # Shared client classes must not keep the session that made them alive through their
    # docstrings; if botocore's lazy docstrings change shape, classes are not shared.
    "lazy docstring _gen_kwargs renamed": (
        "_gen_kwargs",
        "_gen_kwargs_v2",
        ANY,
        {"client_class_cache"},
    ),
    "EndpointProvider renamed": (
        "EndpointProvider",
        "RulesEndpointProvider",
        ANY,
        {"shared_endpoint_rules"},
    ),
    # The emitter's remembered handler checks override a method botocore may stop calling:
    # then they are merely unused, and nothing needs switching off.
    "emitter _verify_accept_kwargs renamed": (
        "_verify_accept_kwargs",
        "_check_accepts_kwargs",
        ANY,
        set(),
    ),
    "credentials._local_now renamed": ("_local_now", "_now_v2", ANY, {"credential_snapshot"}),
    # The per-process answers (test_answers.py).
    "ClientCreator._load_service_model renamed": (
        "_load_service_model",
        "_load_model_v2",
        ANY,
        {"shared_discovery_answers"},
    ),
    "ServiceModel._service_description renamed": (
        "_service_description",
        "_description_v2",
        ANY,
        {"shared_discovery_answers"},
    ),
    "ServiceModel.endpoint_discovery_operation renamed": (
        "endpoint_discovery_operation",
        "discovery_operation_v2",
        ANY,
        {"shared_discovery_answers"},
    ),
    "get_environ_proxies renamed": (
        "get_environ_proxies",
        "environ_proxies_v2",
        ANY,
        {"shared_proxy_answers"},
    ),
    "URLLib3Session._get_ssl_context renamed": (
        "_get_ssl_context",
        "_ssl_context_v2",
        ANY,
        {"shared_tls_context"},
    ),
    "URLLib3Session._get_pool_manager_kwargs renamed": (
        "_get_pool_manager_kwargs",
        "_pool_manager_kwargs_v2",
        ANY,
        {"shared_tls_context"},
    ),
    # Read only when a client is made: the switch goes off at the first pooled client.
    "URLLib3Session._cert_file renamed": ("_cert_file", "_cert_v2", ANY, {"shared_tls_context"}),
    "configloader.raw_config_parse renamed": (
        "raw_config_parse",
        "parse_raw_config_v2",
        ANY,
        {"shared_config_files"},
    ),
    "ConfigValueStore._mapping renamed": (
        "_mapping",
        "_mapping_v2",
        r"botocore\.configprovider$",
        {"shared_config_answers"},
    ),
    "ConfigValueStore._overrides renamed": (
        "_overrides",
        "_overrides_v2",
        r"botocore\.configprovider$",
        {"shared_config_answers"},
    ),
    "BOTOCORE_DEFAUT_SESSION_VARIABLES renamed": (
        "BOTOCORE_DEFAUT_SESSION_VARIABLES",
        "BOTOCORE_DEFAULT_SESSION_VARIABLES",
        ANY,
        {"shared_config_answers"},
    ),
    "RefreshableCredentials._time_fetcher renamed": (
        "_time_fetcher",
        "_clock_v2",
        ANY,
        {"credential_snapshot"},
    ),
}

PROCESS = """\
import datetime, json
expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=2)
print(json.dumps({"Version": 1, "AccessKeyId": "AKIAREFRESHEXAMPLE01",
                  "SecretAccessKey": "refresh-secret-EXAMPLE",
                  "SessionToken": "refresh-token-EXAMPLE", "Expiration": expires.isoformat()}))
"""


def run_script(command: list[str], cwd: Path) -> dict[str, Any]:
    """Run ``command`` (a fresh interpreter); it must exit 0; its last line of output, as JSON."""
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=300, env=dict(os.environ), cwd=cwd
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_pool_works_and_says_which_optimisation_is_off(
    case: str, aws_env: Any, aws_files: tuple[Path, Path], tmp_path: Path
) -> None:
    old, new, modules, expected_off = CASES[case]
    config, _ = aws_files
    helper = tmp_path / "refreshing.py"
    helper.write_text(PROCESS)
    process = f"{sys.executable} {helper}"
    config.write_text(
        config.read_text()
        + f"\n[profile refreshing]\nregion = us-east-1\ncredential_process = {process}\n"
    )
    out = run_script([sys.executable, "-c", SCRIPT, old, new, modules], tmp_path)
    assert out["errors"] == [], out
    assert set(out["off"]) == expected_off, out
    for name in expected_off:
        assert out["warnings"][name] == 1, out["warnings"]
    assert out["stats"] == 4  # two threads x (default key, "refreshing")


def test_with_botocore_untouched_every_optimisation_is_on(aws_env: Any, tmp_path: Path) -> None:
    out = run_script(
        [sys.executable, "-c", SCRIPT, "_sessionpool_no_such_name", "_unused", ANY], tmp_path
    )
    assert out["off"] == [], out


def test_without_cpythons_environ_layout_the_environment_answers_go_off(
    aws_env: Any, aws_files: tuple[Path, Path], tmp_path: Path
) -> None:
    config, _ = aws_files
    helper = tmp_path / "refreshing.py"
    helper.write_text(PROCESS)
    config.write_text(
        config.read_text() + f"\n[profile refreshing]\nregion = us-east-1\ncredential_process = "
        f"{sys.executable} {helper}\n"
    )
    out = run_script(
        [sys.executable, "-c", SCRIPT, "_sessionpool_no_such_name", "_unused", ANY]
        + ["hide-environ-class"],
        tmp_path,
    )
    assert out["errors"] == [], out
    expected = {"shared_proxy_answers", "shared_config_answers"}
    assert set(out["off"]) == expected, out
    for name in expected:
        assert out["warnings"][name] == 1, out["warnings"]


UNEXPECTED_CONNECTIONS = r"""
import json, logging, os, sys
__import__("warnings").filterwarnings("ignore", category=DeprecationWarning)
records = []


class Keep(logging.Handler):
    def emit(self, record):
        records.append((record.levelname, record.getMessage()))


logging.getLogger("sessionpool").addHandler(Keep())
import sessionpool
from sessionpool import SessionPool
from sessionpool._botocore import clients

pool = SessionPool()
pool.client("s3").list_buckets()


class Reshaped:  # a client whose connection pools are not where the pool looks for them
    _endpoint = None


odd = [Reshaped(), Reshaped()]  # watched as the pool's clients are; kept alive here
for client in odd:
    clients.watch_for_fork(client)
read, write = os.pipe()
pid = os.fork()
if pid == 0:  # the child unlocks what it inherited: the switch goes off, and forks still work
    try:
        pool.client("s3").list_buckets()
        state = sessionpool.diagnostics()["optimisations"]["fork_safe_connections"]
        report = {
            "active": state["active"],
            "warnings": sum(1 for level, text in records if level == "WARNING"
                            and "fork_safe_connections" in text),
        }
        os.write(write, json.dumps(report).encode())
    except BaseException:
        os._exit(1)
    os._exit(0)
os.close(write)
with os.fdopen(read) as pipe:
    child = json.loads(pipe.read() or "{}")
_, status = os.waitpid(pid, 0)
state = sessionpool.diagnostics()["optimisations"]["fork_safe_connections"]
print(json.dumps({"child": child, "parent_active": state["active"],
                  "exit": os.waitstatus_to_exitcode(status)}))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_connection_pools_laid_out_otherwise_turn_the_fork_safety_off_once(
    aws_env: Any, tmp_path: Path
) -> None:
    out = run_script([sys.executable, "-c", UNEXPECTED_CONNECTIONS], tmp_path)
    assert out == {
        "child": {"active": False, "warnings": 1},
        "parent_active": True,  # the parent's clients were never touched
        "exit": 0,
    }
