"""Flask under waitress, for real: ``docs/recipes/flask_app.py`` and ``flask_pitfalls.py``.

waitress serves the recipe on a socket the test made, against the test's own moto server, with
3 tenant profiles, each with its own dummy keys. Each request names its tenant in a header and
makes one signed S3 PutObject; moto counts them by signing access key id, exactly:

* 150 concurrent requests (30 client threads, 8 waitress threads) to the decorated view, the
  streamed view and the before/teardown hook pair: 50 signed with each tenant's key;
* on one waitress thread (so that every request meets what the one before left in it): after
  a decorated view that raised, or whose teardown function raised, 30 requests to a view with
  no block fail with ``KeyRequiredError``; after the hook pair's teardown raised, the same 30
  requests are all signed with the earlier request's key (the leak the recipe avoids).
"""

from __future__ import annotations

import collections
import os

import pytest

from tests.integration import _support, _web
from tests.integration.conftest import FrameworkEnv
from tests.support.servers import MotoServer

pytest.importorskip("flask")
pytest.importorskip("waitress")

REQUESTS = 150
CLIENTS = 30
THREADS = 8
TENANTS = 3
AFTER = 30  # requests to the unblocked view after a failure
KEY_REQUIRED = "sessionpool._errors.KeyRequiredError: "
VIEW_FAILED = "RuntimeError: the view failed after its call"
TEARDOWN_FAILED = "RuntimeError: a teardown function failed"


@pytest.fixture
def tenants(framework_env: FrameworkEnv, secrets_to_scan: set[str]) -> _web.Tenants:
    found = _web.write_tenants(framework_env.dir.parent / "tenants", TENANTS)
    secrets_to_scan.update(found.secrets.values())
    return found


def statuses(responses: list[tuple[int, bytes]]) -> collections.Counter[int]:
    return collections.Counter(status for status, _ in responses)


@pytest.mark.parametrize("path", ["/store", "/stream", "/hooks/store"])
def test_each_request_signs_with_its_tenants_key(
    path: str, framework_env: FrameworkEnv, moto: MotoServer, tenants: _web.Tenants
) -> None:
    before = moto.log.signers("PUT")
    with _web.waitress(
        framework_env, "flask_pitfalls:app", threads=THREADS, extra_env=tenants.vars
    ) as server:
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


FAILURES = {
    # id: (first request, its error, whether later requests on its thread run in its block)
    "decorated view raises": ("/fails", VIEW_FAILED, False),
    "decorated, teardown raises": ("/teardown-fails", TEARDOWN_FAILED, False),
    "hook pair, teardown raises": ("/hooks/teardown-fails", TEARDOWN_FAILED, True),
}


@pytest.mark.parametrize(("first", "first_error", "leaks"), FAILURES.values(), ids=list(FAILURES))
def test_what_a_failed_request_leaves_for_the_next_on_its_thread(
    first: str,
    first_error: str,
    leaks: bool,
    framework_env: FrameworkEnv,
    moto: MotoServer,
    tenants: _web.Tenants,
) -> None:
    before = moto.log.signers("PUT")
    leaker = tenants.names[1]
    with _web.waitress(
        framework_env, "flask_pitfalls:app", threads=1, extra_env=tenants.vars
    ) as server:
        status, _ = server.post(first, leaker)
        after = server.burst("/unblocked", tenants, AFTER, 1)
    signed = moto.log.signers("PUT") - before
    errors = collections.Counter(_web.tracebacks(server.text()))
    print(f"{first}: {status}; then {dict(statuses(after))}; signed {dict(signed)}")
    assert status == 500
    key_id = tenants.key_ids[leaker]
    if leaks:
        # Every later request on the thread ran in the leaked block, whatever its own tenant.
        assert statuses(after) == {200: AFTER}
        assert signed == {key_id: 1 + AFTER}
        assert errors == {first_error: 1}
    else:
        assert statuses(after) == {500: AFTER}
        assert signed == {key_id: 1}
        assert errors[first_error] == 1
        assert sum(n for e, n in errors.items() if e.startswith(KEY_REQUIRED)) == AFTER
        assert sum(errors.values()) == 1 + AFTER, errors
