"""Which operation of a service discovers endpoints, worked out once per process (issue 20).

Every new client gets a new ``ServiceModel``, and botocore asks it, for every client, whether
the service does endpoint discovery (``ClientCreator._register_endpoint_discovery``):
``ServiceModel.endpoint_discovery_operation`` builds an ``OperationModel`` for every operation
until it finds one marked ``endpointoperation`` (all ~116 of s3's: ~0.2 ms; most services have
none), and for a service that has one (dynamodb), ``endpoint_discovery_required`` builds them
all again. Both answers depend only on the service's model data, which the shared loader holds
once per process. (Each is worked out here only when botocore would work it out itself, so the
process's first client pays nothing extra.)

Here each model data dict (by identity, held alive with its entry so the identity keeps meaning
it) maps to botocore's own answers, computed by botocore on the first client's ``ServiceModel``:
the operation's *name* (or None) and the boolean. A later client's new ``ServiceModel`` gets them
seeded as botocore's ``CachedProperty`` would have stored them: the ``OperationModel`` is that
model's own (``service_model.operation_model(name)``, its own cache), so nothing mutable is
shared. ``signature_version`` and everything else stay per model.

Private names: ``ClientCreator._load_service_model`` (wrapped, acting only while a pooled session
makes a client, :mod:`.scope`) and ``ServiceModel._service_description``; the two properties
must be non-data descriptors (checked at install). Switch ``shared_discovery_answers``.
"""

from __future__ import annotations

from typing import Any

import botocore.client
import botocore.model

from . import scope
from .guard import SURPRISES, Switch

__all__ = ["answers", "install"]

answers = Switch(
    "shared_discovery_answers",
    "work out once per service model which operation discovers endpoints; "
    "off: every client builds an OperationModel for each operation of its service",
)

_NAMES = ("endpoint_discovery_operation", "endpoint_discovery_required")
# id(model data) -> (model data, operation name or None, required or None). Published with
# setdefault. "required" is only worked out when the service has a discovery operation (botocore
# asks only then); None means "not known": botocore's property answers it if anyone asks.
_answers: dict[int, tuple[Any, str | None, bool | None]] = {}
# Bounded: with the shared loader off, every session loads its own model data.
_MAX_MODELS = 512


@scope.on_first_use
def install() -> None:
    """Wrap ``ClientCreator._load_service_model`` (run once per process by :mod:`.scope`)."""
    if not answers.active:
        return
    creator: Any = botocore.client.ClientCreator
    try:
        for name in _NAMES:
            descriptor = botocore.model.ServiceModel.__dict__[name]
            assert not hasattr(descriptor, "__set__"), f"ServiceModel.{name} is a data descriptor"
        original = creator._load_service_model
        assert callable(original), "ClientCreator._load_service_model is not callable"
        creator._load_service_model = _wrap(original)
    except SURPRISES as exc:
        answers.off("wrapping ClientCreator._load_service_model failed", exc)


def _wrap(original: Any) -> Any:
    def _load_service_model(self: Any, *args: Any, **kwargs: Any) -> Any:
        model = original(self, *args, **kwargs)
        if answers.active and scope.making():
            try:
                _seed(model)
            except SURPRISES as exc:
                answers.off("reading a service model's discovery answers failed", exc)
        return model

    _load_service_model.__wrapped__ = original  # type: ignore[attr-defined]
    return _load_service_model


def _seed(model: Any) -> None:
    data = model._service_description
    entry = _answers.get(id(data))
    if entry is None or entry[0] is not data:
        operation = model.endpoint_discovery_operation  # botocore's answer, cached on model
        name = None if operation is None else operation.name
        assert name is None or isinstance(name, str), "an OperationModel's name is not a str"
        required = None if name is None else model.endpoint_discovery_required
        assert required is None or isinstance(required, bool), "required is not a bool"
        if len(_answers) < _MAX_MODELS:
            _answers.setdefault(id(data), (data, name, required))
        return
    _, name, required = entry
    found = model.__dict__
    found["endpoint_discovery_operation"] = None if name is None else model.operation_model(name)
    if required is not None:
        found["endpoint_discovery_required"] = required
