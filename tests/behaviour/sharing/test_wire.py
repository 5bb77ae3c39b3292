"""Byte-for-byte the same requests, and nothing shared that one client could change for another.

The pool shares per process what botocore rebuilds for every client (client classes, endpoint rule
providers, loaded models, the built-in handlers, handler checks, the endpoint discovery, proxy and
configuration answers, parsed config files and TLS contexts; the answers' own isolation tests are in
``test_answers.py``). Whatever it shares, a pooled client must send exactly what a plain boto3
client sends: the same method, URL, headers (apart from the signature, the date, the invocation id,
the user agent and the token) and body, for the same operations. Captured in ``before-send``, i.e.
as botocore hands the request to urllib3."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config

from sessionpool import SessionPool
from tests.support.threads import run_together

VARYING = {
    "authorization",
    "x-amz-date",
    "amz-sdk-invocation-id",
    "user-agent",
    "x-amz-security-token",
}


def recorder(log: list[tuple[str, str, dict[str, str], bytes]]) -> Callable[..., None]:
    def record(request: Any, **kwargs: Any) -> None:
        body = request.body
        if hasattr(body, "read"):
            position = body.tell()
            data = body.read()
            body.seek(position)
            body = data
        if isinstance(body, str):
            body = body.encode()
        headers = {
            k.lower(): (v.decode() if isinstance(v, bytes) else str(v))
            for k, v in request.headers.items()
            if k.lower() not in VARYING
        }
        log.append((request.method, request.url, headers, body or b""))

    return record


def operations(get: Callable[[str], Any], tag: str) -> None:
    bucket, queue = f"wire-{tag}", f"wire-{tag}"
    s3, sqs, dynamodb = get("s3"), get("sqs"), get("dynamodb")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a/b.txt", Body=b"the same bytes", ContentType="text/plain")
    assert s3.get_object(Bucket=bucket, Key="a/b.txt")["Body"].read() == b"the same bytes"
    s3.list_objects_v2(Bucket=bucket, Prefix="a/")
    url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="hello", MessageAttributes={})
    dynamodb.list_tables(Limit=5)


def capture(make: Callable[[str], Any], tag: str) -> list[tuple[str, str, dict[str, str], bytes]]:
    log: list[tuple[str, str, dict[str, str], bytes]] = []
    clients: dict[str, Any] = {}

    def get(service: str) -> Any:
        if service not in clients:
            clients[service] = make(service)
            clients[service].meta.events.register("before-send", recorder(log))
        return clients[service]

    operations(get, tag)
    return [
        (
            m,
            u.replace(tag, "<tag>"),
            {k: v.replace(tag, "<tag>") for k, v in h.items()},
            b.replace(tag.encode(), b"<tag>"),
        )
        for m, u, h, b in log
    ]


@pytest.mark.parametrize(
    "config", [None, Config(retries={"mode": "standard"})], ids=["default", "config"]
)
def test_pooled_clients_send_exactly_what_plain_boto3_clients_send(
    pool: SessionPool, config: Config | None
) -> None:
    options = {} if config is None else {"config": config}
    plain_session = boto3.session.Session()
    plain = capture(lambda s: plain_session.client(s, **options), uuid.uuid4().hex[:12])

    def in_a_new_thread() -> list[Any]:  # a new thread's session: built from the shared pieces
        found: list[Any] = []
        t = threading.Thread(
            target=lambda: found.extend(
                capture(lambda s: pool.client(s, **options), uuid.uuid4().hex[:12])
            )
        )
        t.start()
        t.join()
        return found

    # The first thread's clients may fill the per-process shares, the second's are answered
    # from them: both must send what plain boto3 sends.
    first, second = in_a_new_thread(), in_a_new_thread()
    assert len(plain) == 7  # one request per operation
    assert first == plain
    assert second == plain


# -- isolation: what is shared cannot be changed by one client for another ---------------------


def test_clients_share_their_class_but_not_their_state(pool: SessionPool) -> None:
    here = pool.client("sqs")
    other = run_together(1, lambda _: pool.client("sqs"))[0]  # another thread's client
    assert other is not here
    assert type(other) is type(here)  # one generated class per process
    assert type(boto3.session.Session().client("sqs")) is not type(here)  # plain boto3: its own
    calls: list[str] = []
    here.meta.events.register("before-call.sqs.ListQueues", lambda **kw: calls.append("here"))
    other.list_queues()
    assert calls == []  # a handler on one client's events never reaches another's
    here.list_queues()
    assert calls == ["here"]
    assert here.meta.config is not other.meta.config
    here.meta.config.retries = {"max_attempts": 9}
    assert other.meta.config.retries != {"max_attempts": 9}


def test_clients_share_the_alias_cache_but_not_their_handlers_or_alias_table(
    pool: SessionPool,
) -> None:
    from botocore.hooks import EventAliaser, HierarchicalEmitter
    from botocore.utils import EVENT_ALIASES

    old, new = next((k, v) for k, v in EVENT_ALIASES.items() if "." not in k)
    event = f"sessionpool-test.{old}.SomeOperation"
    here = pool.client("sqs")
    other = run_together(1, lambda _: pool.client("s3"))[0]  # another thread's client
    caches = [c.meta.events._alias_name_cache for c in (here, other)]
    assert caches[0] is caches[1]  # one alias cache per process, for every pooled client
    plain = boto3.session.Session().client("sqs")
    assert plain.meta.events._alias_name_cache is not caches[0]  # plain boto3 keeps its own
    calls: list[str] = []
    here.meta.events.register(event, lambda **kw: calls.append("here"))
    assert caches[0][event] == f"sessionpool-test.{new}.SomeOperation"
    # the same answer botocore's own aliaser gives
    assert caches[0][event] == EventAliaser(HierarchicalEmitter())._alias_event_name(event)
    other.meta.events.emit(event)
    assert calls == []  # the name is shared, the handler is not
    here.meta.events.emit(event)
    assert calls == ["here"]
    # a client that edits its own alias table gets its own answers, and changes no one else's
    here.meta.events._event_aliases[old] = "somewhere-else"
    later = f"sessionpool-test.{old}.AnotherOperation"
    assert (
        here.meta.events._alias_event_name(later)
        == "sessionpool-test.somewhere-else.AnotherOperation"
    )
    assert other.meta.events._alias_event_name(later) == f"sessionpool-test.{new}.AnotherOperation"
    assert caches[0][later] == f"sessionpool-test.{new}.AnotherOperation"
    assert other.meta.events._event_aliases[old] == new
    assert EVENT_ALIASES[old] == new


ENDPOINT_CASES = [
    ("s3", "us-east-1", None),
    ("s3", "eu-west-1", None),
    ("s3", "eu-west-1", Config(s3={"addressing_style": "path"})),
    ("s3", "us-west-2", Config(s3={"use_accelerate_endpoint": True})),
    ("s3", "eu-west-1", Config(s3={"use_dualstack_endpoint": True})),
    ("dynamodb", "us-east-1", Config(use_fips_endpoint=True)),
    ("dynamodb", "us-east-1", None),
    ("sqs", "ap-southeast-2", None),
]


def test_a_shared_endpoint_rule_set_resolves_each_clients_own_endpoint(aws_env: Any) -> None:
    import os

    url = os.environ.pop("AWS_ENDPOINT_URL")  # resolve real endpoints; nothing is sent
    try:
        with SessionPool() as pool:
            s3_clients = []
            for service, region, config in ENDPOINT_CASES:
                options = {} if config is None else {"config": config}
                pooled = pool.client(service, region=region, **options)
                plain = boto3.session.Session(region_name=region).client(service, **options)
                assert pooled.meta.endpoint_url == plain.meta.endpoint_url, (service, region)
                if service == "s3":
                    s3_clients.append(pooled)
                    params = {"Bucket": "my-bucket", "Key": "k"}
                    signed = [
                        c.generate_presigned_url("get_object", Params=params).split("?")[0]
                        for c in (pooled, plain)
                    ]
                    assert signed[0] == signed[1], (region, config)
            providers = {id(c._ruleset_resolver._provider) for c in s3_clients}
            assert len(providers) == 1  # one rule set object for every s3 client
            endpoints = {c.meta.endpoint_url for c in s3_clients}
            assert len(endpoints) >= 3  # and still each client's own endpoint
    finally:
        os.environ["AWS_ENDPOINT_URL"] = url


def test_a_handler_without_kwargs_is_still_refused_on_every_client(pool: SessionPool) -> None:
    def no_kwargs(request: Any) -> None:  # botocore requires **kwargs
        pass

    for _ in range(2):  # the second time, after the check's answers were remembered
        client = pool.client("s3", region="us-west-2")
        with pytest.raises(ValueError, match="must accept keyword arguments"):
            client.meta.events.register("before-send", no_kwargs)
