"""FastAPI under uvicorn, for real: ``docs/recipes/fastapi_app.py`` and ``fastapi_pitfalls.py``.

For each endpoint form, uvicorn serves the recipe (one process: its event loop and thread pool)
on a socket the test made, against the test's own moto server, with 5 tenant profiles, each
with its own dummy keys. 50 client threads, started together, send 200 requests, each naming its
tenant in a header (40 per tenant); every request makes one signed S3 PutObject, in the
endpoint or in a background task. After uvicorn has stopped (it waits for background tasks),
moto's count of PutObject requests by signing access key id must be exactly:

* the forms the recipe shows: 40 signed with each tenant's key, none with any other key;
* the forms a block does not reach, under the recipe's strict pool: none at all, each request
  (or background task) failing with ``KeyRequiredError`` in uvicorn's log, 200 of them;
* the same forms with a pool that is not strict: all 200 with the default key (the silent
  fallback that strict mode turns into an error).

uvicorn's log must hold no other traceback (none of ``ValueError: <Token> was created in a
different Context`` from a block left in another context) and none of the tenants' secrets.
"""

from __future__ import annotations

import collections
import os
import signal
import sys
from dataclasses import dataclass

import pytest

from tests.integration import _support, _web
from tests.integration.conftest import FrameworkEnv
from tests.support.servers import MotoServer

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

REQUESTS = 200
CLIENTS = 50
TENANTS = 5
KEY_REQUIRED = "sessionpool._errors.KeyRequiredError: "


@dataclass(frozen=True)
class Form:
    path: str
    status: int  # what every response answers
    signs: str  # "tenant": each request with its tenant's key; "none"; "default"
    resolutions: int | None = None  # credential resolutions of the pool that made clients


FORMS = {
    # fastapi_app.py: the block reaches the call, or the call names the key.
    "sync endpoint, async dependency": Form("/sync", 200, "tenant", TENANTS),
    "async endpoint, asyncio.to_thread": Form("/async/to-thread", 200, "tenant", TENANTS),
    "async endpoint, run_in_executor with pool.bind": Form(
        "/async/executor", 200, "tenant", TENANTS
    ),
    "def dependency yields the name, the call names it": Form(
        "/sync/named", 200, "tenant", TENANTS
    ),
    "background task bound with pool.bind": Form("/background", 200, "tenant", TENANTS),
    "async background task with its own block": Form("/background/async", 200, "tenant", TENANTS),
    # fastapi_pitfalls.py: an unbound background task, inside the block only because the
    # dependency's default scope ends after the background tasks (the page says so).
    "unbound background task, default-scope dependency": Form(
        "/fragile/background", 200, "tenant", TENANTS
    ),
    # fastapi_pitfalls.py under the strict pool: loud failures, nothing signed.
    "strict: block in a def dependency": Form("/wrong/def-dependency", 500, "none"),
    "strict: run_in_executor without bind": Form("/wrong/executor", 500, "none"),
    "strict: unbound background task after a function-scoped block": Form(
        "/wrong/background", 200, "none"
    ),
    # The same mistakes with a pool that is not strict: the default key signs, silently (the
    # pool resolved each tenant's profile for the dependency's block, and the default key).
    "lax: block in a def dependency": Form("/lax/def-dependency", 200, "default", TENANTS + 1),
    "lax: run_in_executor without bind": Form("/lax/executor", 200, "default", TENANTS + 1),
}


@pytest.fixture
def tenants(framework_env: FrameworkEnv, secrets_to_scan: set[str]) -> _web.Tenants:
    found = _web.write_tenants(framework_env.dir.parent / "tenants", TENANTS)
    secrets_to_scan.update(found.secrets.values())
    return found


@pytest.mark.parametrize("form", FORMS.values(), ids=list(FORMS))
def test_each_request_signs_with_its_tenants_key_or_fails_loudly(
    form: Form, framework_env: FrameworkEnv, moto: MotoServer, tenants: _web.Tenants
) -> None:
    before = moto.log.signers("PUT")
    cmd = [
        sys.executable, "-m", "uvicorn", "--fd", "{fd}", "--no-access-log",
        "--log-level", "info", "fastapi_pitfalls:app",
    ]  # fmt: skip
    with _web.serve(
        framework_env,
        cmd,
        ready="Application startup complete",
        extra_env=tenants.vars,
        name="uvicorn",
        stopped=-signal.SIGTERM,
    ) as server:
        responses = server.burst(form.path, tenants, REQUESTS, CLIENTS)
    # uvicorn has exited: every background task has run.
    signed = moto.log.signers("PUT") - before
    statuses = collections.Counter(status for status, _ in responses)
    log = server.text()
    errors = _web.tracebacks(log)
    print(f"{form.path}: statuses {dict(statuses)}; signed {dict(signed)}; {len(errors)} errors")

    assert statuses == {form.status: REQUESTS}, log[-3000:]
    if form.signs == "tenant":
        assert signed == tenants.expected(REQUESTS)
    elif form.signs == "default":
        assert signed == {_web.DEFAULT_KEY_ID: REQUESTS}
    else:
        assert signed == {}
    if form.signs == "none":
        assert len(errors) == REQUESTS, errors[:3]
        assert all(e.startswith(KEY_REQUIRED) for e in errors), set(errors)
    else:
        assert errors == []
    assert "different Context" not in log
    assert not any(secret in log for secret in tenants.secrets.values())

    if form.resolutions is not None:
        workers = _support.observed_workers(framework_env.dir)
        text = _support.describe(workers.values())
        print(text)
        assert len(workers) == 1 and os.getpid() not in workers, text
        (worker,) = workers.values()
        assert len(worker.pools) == 1, text
        assert worker.stats["credential_resolutions"] == form.resolutions, text
