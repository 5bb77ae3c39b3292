"""Django under waitress, for real: the project in ``docs/recipes/django_app/``.

waitress serves the project on a socket the test made, against the test's own moto server, with
3 tenant profiles, each with its own dummy keys. Each request names its tenant in a header and
makes one signed S3 PutObject; moto counts them by signing access key id, exactly:

* 150 concurrent requests (30 client threads, 8 waitress threads) to a view, and to a streamed
  view whose generator enters its own block: 50 signed with each tenant's key;
* on one waitress thread: after a view raised inside the middleware's block, 30 requests naming
  no tenant fail with ``KeyRequiredError`` (the block ended; nothing was left to them).
"""

from __future__ import annotations

import collections
import os

import pytest

from tests.integration import _support, _web
from tests.integration.conftest import FrameworkEnv
from tests.support.servers import MotoServer

pytest.importorskip("django")
pytest.importorskip("waitress")

REQUESTS = 150
CLIENTS = 30
THREADS = 8
TENANTS = 3
AFTER = 30
APP = "django_app.wsgi:application"
KEY_REQUIRED = "sessionpool._errors.KeyRequiredError: "
VIEW_FAILED = "RuntimeError: the view failed after its call"


@pytest.fixture
def tenants(framework_env: FrameworkEnv, secrets_to_scan: set[str]) -> _web.Tenants:
    found = _web.write_tenants(framework_env.dir.parent / "tenants", TENANTS)
    secrets_to_scan.update(found.secrets.values())
    return found


@pytest.fixture
def django_env(tenants: _web.Tenants) -> dict[str, str]:
    return {**tenants.vars, "DJANGO_SECRET_KEY": "integration-test-EXAMPLE-not-secret"}


def statuses(responses: list[tuple[int, bytes]]) -> collections.Counter[int]:
    return collections.Counter(status for status, _ in responses)


@pytest.mark.parametrize("path", ["/store", "/stream"])
def test_each_request_signs_with_its_tenants_key(
    path: str,
    framework_env: FrameworkEnv,
    moto: MotoServer,
    tenants: _web.Tenants,
    django_env: dict[str, str],
) -> None:
    before = moto.log.signers("PUT")
    with _web.waitress(framework_env, APP, threads=THREADS, extra_env=django_env) as server:
        responses = server.burst(path, tenants, REQUESTS, CLIENTS)
    signed = moto.log.signers("PUT") - before
    log = server.text()
    print(f"{path}: statuses {dict(statuses(responses))}; signed {dict(signed)}")
    assert statuses(responses) == {200: REQUESTS}, log[-3000:]
    assert signed == tenants.expected(REQUESTS)
    assert _web.tracebacks(log) == []
    assert not any(secret in log for secret in tenants.secrets.values())
    workers = _support.observed_workers(framework_env.dir)
    text = _support.describe(workers.values())
    print(text)
    assert len(workers) == 1 and os.getpid() not in workers, text
    (worker,) = workers.values()
    assert len(worker.pools) == 1, text
    assert worker.stats["credential_resolutions"] == TENANTS, text
    assert len(worker.threads) <= THREADS, text


def test_a_view_that_raised_in_its_block_leaves_nothing_for_the_next_request(
    framework_env: FrameworkEnv,
    moto: MotoServer,
    tenants: _web.Tenants,
    django_env: dict[str, str],
) -> None:
    before = moto.log.signers("PUT")
    tenant = tenants.names[1]
    with _web.waitress(framework_env, APP, threads=1, extra_env=django_env) as server:
        first, _ = server.post("/fails", tenant)
        after = [server.post("/store", None) for _ in range(AFTER)]
    signed = moto.log.signers("PUT") - before
    errors = collections.Counter(_web.tracebacks(server.text()))
    print(f"/fails: {first}; then {dict(statuses(after))}; signed {dict(signed)}")
    assert first == 500
    assert statuses(after) == {500: AFTER}
    assert signed == {tenants.key_ids[tenant]: 1}
    assert errors[VIEW_FAILED] == 1
    assert sum(n for e, n in errors.items() if e.startswith(KEY_REQUIRED)) == AFTER
    assert sum(errors.values()) == 1 + AFTER, errors
