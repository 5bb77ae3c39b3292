"""Flask: a block in a ``before_request``/``teardown_request`` pair, and what it does.

    waitress-serve flask_pitfalls:app    # flask_app's routes, and these

The pair enters the block in one function and leaves it in another, and Flask does not promise
that the second runs: a teardown function that raises (one of yours, or an extension's) stops
the ones registered before it. The block is then never left, and the server thread's next
request, whatever its tenant, runs inside it: a call that names no key signs with the earlier
request's key, even with a strict pool. The integration suite shows it, and that the decorator
of ``flask_app`` leaves nothing behind, when the view raises or a teardown function does.
"""

from __future__ import annotations

from flask import g, request
from flask_app import app, pool, store, tenant_profile, with_tenant

__all__ = ["app"]


@app.before_request
def enter_block() -> None:
    """Wrong: enters a block that only ``leave_block`` leaves. (Here only for ``/hooks/``, so
    that this file's other routes show what they do on their own.)"""
    if request.path.startswith("/hooks/"):
        block = pool.session(profile=tenant_profile())
        block.__enter__()
        g.aws_block = block


@app.teardown_request
def leave_block(exc: BaseException | None) -> None:
    block = g.pop("aws_block", None)
    if block is not None:
        block.__exit__(None, None, None)


@app.teardown_request
def close_something(exc: BaseException | None) -> None:
    """Registered after ``leave_block``, so Flask runs it first; when it raises, Flask runs no
    other teardown function, and the block is never left."""
    if g.get("fail_teardown"):
        raise RuntimeError("a teardown function failed")


@app.post("/hooks/store")
def hooks_store() -> dict[str, str]:
    return {"key": store("hooks-store")}


@app.post("/hooks/teardown-fails")
def hooks_teardown_fails() -> dict[str, str]:
    g.fail_teardown = True
    return {"key": store("hooks-teardown-fails")}


@app.post("/teardown-fails")
@with_tenant
def decorated_teardown_fails() -> dict[str, str]:
    """Not a pitfall: the decorator's block ended before any teardown function runs."""
    g.fail_teardown = True
    return {"key": store("teardown-fails")}


@app.post("/fails")
@with_tenant
def fails() -> dict[str, str]:
    """Not a pitfall: the decorator's block ends when the view raises."""
    store("fails")
    raise RuntimeError("the view failed after its call")


@app.post("/unblocked")
def unblocked() -> dict[str, str]:
    """No block: with the strict pool, ``KeyRequiredError`` (500), unless a block leaked."""
    return {"key": store("unblocked")}
