"""A pool's options are checked once, when the pool is made: a bad value, a conflict between two
spellings or an unknown option is refused there with one error naming the option (and the
value), before anything is built; a scope function that cannot pickle says so by name.
"""

from __future__ import annotations

import math
import pickle
from typing import Any

import pytest
from botocore.config import Config

from sessionpool import ConflictingArgumentError, InvalidArgumentError, SessionPool

# -- options refused at construction ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("max_keys", "2"),
        ("max_keys", 0),
        ("max_keys", -1),
        ("max_keys", 2.5),
        ("max_keys", True),
        ("idle_timeout", "60"),
        ("idle_timeout", 0),
        ("idle_timeout", -5),
        ("idle_timeout", math.nan),
        ("idle_timeout", math.inf),
        ("idle_timeout", True),
        ("retry_expired", "yes"),
        ("retry_expired", 1),
        ("retry_expired", None),
        ("clock", 42),
        ("clock", "monotonic"),
    ],
)
def test_a_bad_pool_option_is_refused_at_construction_naming_it(
    aws_env: Any, name: str, value: Any
) -> None:
    with pytest.raises(InvalidArgumentError, match=name) as info:
        SessionPool(**{name: value})
    assert repr(value) in str(info.value) or str(value) in str(info.value)


@pytest.mark.parametrize("name", ["config", "endpoint_url", "foo"])
def test_an_unknown_pool_argument_is_refused_naming_it(aws_env: Any, name: str) -> None:
    with pytest.raises(InvalidArgumentError, match=name):
        SessionPool(**{name: Config() if name == "config" else "x"})


def test_pool_defaults_with_conflicting_spellings_are_refused(aws_env: Any) -> None:
    with pytest.raises(ConflictingArgumentError, match="region"):
        SessionPool(region="eu-west-1", region_name="us-east-1")


@pytest.mark.parametrize(
    "defaults",
    [{"profile": ""}, {"region": 7}, {"aws_access_key_id": "AKIAEXAMPLE000000001"}],
    ids=["empty-profile", "int-region", "key-id-without-secret"],
)
def test_bad_pool_defaults_are_refused_at_construction(aws_env: Any, defaults: Any) -> None:
    with pytest.raises(InvalidArgumentError):
        SessionPool(**defaults)


@pytest.mark.compat
@pytest.mark.parametrize("bad", [0, -1, 1.5, "64", True])
def test_max_clients_must_be_a_positive_whole_number(aws_env: object, bad: Any) -> None:
    with pytest.raises(InvalidArgumentError, match="max_clients"):
        SessionPool(max_clients=bad)


def test_strict_must_be_a_bool(aws_env: object) -> None:
    with pytest.raises(InvalidArgumentError, match="strict"):
        SessionPool(strict="yes")  # type: ignore[arg-type]


@pytest.mark.compat
@pytest.mark.parametrize("bad", [0, -1, float("inf"), float("nan"), "10", True, None])
def test_bad_resolve_timeouts_are_refused(aws_env: Any, bad: Any) -> None:
    with pytest.raises(InvalidArgumentError, match="resolve_timeout"):
        SessionPool(resolve_timeout=bad)


def test_scopefunc_values_are_checked(aws_env: Any) -> None:
    for bad in ("process", "", 5, None):
        with pytest.raises(InvalidArgumentError, match="scopefunc"):
            SessionPool(scopefunc=bad)  # type: ignore[arg-type]


# -- what cannot pickle ----------------------------------------------------------------------------


def test_a_pool_with_a_lambda_scope_refuses_to_pickle_with_a_clear_error(aws_env: Any) -> None:
    with SessionPool(scopefunc=lambda: 1) as pool, pytest.raises(TypeError, match="scopefunc"):
        pickle.dumps(pool)
