"""sessionpool's pytest plugin: every pool in the process starts each test empty.

pytest loads it through the ``pytest11`` entry point named ``sessionpool``, wherever sessionpool
is installed. It clears every open pool (the default pool, pools held in modules, pools fixtures
made): sessions, clients and credentials are forgotten and the clients closed, so a test's
clients follow that test's mocks, environment and handlers, as plain boto3 clients made in the
test would. Without it, a client cached in one test (made under ``mock_aws``, or pointed at one
test's moto server, or carrying a ``Stubber``) is handed to the next test in that thread, whose
mock, ``AWS_ENDPOINT_URL`` or ``AWS_DEFAULT_REGION`` it then ignores (HAZARDS I6).

When: before each test's setup and after its teardown; never between setup and the call.

* Not around the call. Fixtures run in the setup phase and may use the pool under the test's
  settings: one monkeypatches the environment and makes a bucket through the pool, another
  returns ``pool.client("s3")`` or activates a ``Stubber`` on it. Clearing between setup and the
  call would close what they made, and the code under test would get another, unstubbed client.
  ``@mock_aws`` on the test function starts only at call time, but that needs no clear: moto 5
  intercepts from botocore's built-in handlers, which every client made after ``import moto``
  carries (the mock switches them on and off), and a pooled session takes in handlers added
  after it was made.
* Before setup: what was made outside any test (at import or collection, in another hook, by a
  previous test's late teardown) is gone before this test's fixtures run. Fixtures of a wider
  scope are set up inside the first test's setup, after this clear, so a session-scoped fixture
  that makes buckets through a pool works; its clients are cleared after that test like any
  other (the buckets stay: they live in moto, not in the client).
* After teardown: the test's clients are closed as soon as its fixtures (its moto server, its
  monkeypatched environment) are gone, and nothing of the test reaches code that runs between
  tests. It runs last among the teardown hooks, so after every fixture finaliser; if a finaliser
  raised, it is skipped, and the clear before the next test's setup covers it.

A client or ``Stubber`` held by a module- or session-scoped fixture survives the clear as an
object (a closed botocore client reopens its connections when used again), but the pool hands
the next test a new client: activate a ``Stubber`` in the test or in a function-scoped fixture.

On by default, because the failure it prevents is silent (a suite that looks mocked resolves
real AWS host names; a monkeypatched region is ignored) and its victims are exactly the users who
do not know a plugin is needed; with it, pooled clients follow each test's settings as plain
boto3's do. It is harmless where unused: this module imports nothing but pytest (it lives outside
the ``sessionpool`` package so that loading it does not import boto3), and a test costs one
``sys.modules`` lookup until something imports sessionpool, then one ``clear()`` per live pool
(microseconds for an empty pool). Switch it off with ``-p no:sessionpool`` (on the command line,
in ``addopts`` or in ``PYTEST_ADDOPTS``); under ``PYTEST_DISABLE_PLUGIN_AUTOLOAD``, switch it on
with ``-p sessionpool``.
"""

from __future__ import annotations

import sys

import pytest

__all__ = ["pytest_runtest_setup", "pytest_runtest_teardown"]


def _clear_every_pool() -> None:
    """Clear every open pool in this process, if sessionpool was ever imported here."""
    sessionpool = sys.modules.get("sessionpool")
    if sessionpool is None:
        return  # no pool can exist: nothing imported the library
    pool_class = getattr(sessionpool, "SessionPool", None)
    if pool_class is not None:  # None while the package is still being imported
        pool_class.clear_all()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Clear every pool before the test's fixtures are set up.

    Parameters:
        item: the test about to be set up.
    """
    _clear_every_pool()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Clear every pool after the test's fixtures were torn down.

    Parameters:
        item: the test just torn down.
        nextitem: the test that runs next, or None.
    """
    _clear_every_pool()
