"""The pool is typed as boto3 is, with whichever stub family is installed (or none).

``tests/typing/check.py`` runs mypy (and pyright, when installed) on ``tests/typing/examples.py``
in this environment: the test suite's venv has boto3-stubs; the compatibility matrix runs the
same script in a venv with types-boto3 instead. The generator is checked here on a small
``session.pyi`` of each family, since the real one changes with every stubs release.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

TYPING = Path(__file__).resolve().parents[1] / "typing"  # tests/typing


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"typing_{name}", TYPING / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pool_client_and_resource_are_typed_as_boto3s_own() -> None:
    done = subprocess.run(
        [sys.executable, str(TYPING / "check.py")],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "typing check passed: 20 pairs" in done.stdout


SESSION_PYI = """
from {prefix}s3.client import S3Client
from {prefix}s3.service_resource import S3ServiceResource

class Session:
    @overload
    def client(self, service_name: Literal["s3"], region_name: str | None = ...) -> S3Client: ...
    @overload
    def resource(
        self, service_name: Literal["s3"], region_name: str | None = ...
    ) -> S3ServiceResource: ...
"""


def test_generator_writes_both_families_from_either() -> None:
    generator = load("generate_stubs")
    texts = {
        prefix: generator.render(
            "stubs", "1.0", prefix, ast.parse(SESSION_PYI.format(prefix=prefix))
        )
        for prefix in ("mypy_boto3_", "types_boto3_")
    }
    assert texts["mypy_boto3_"] == texts["types_boto3_"]
    text = texts["mypy_boto3_"]
    ast.parse(text)  # a valid stub
    overloads = [line.strip() for line in text.splitlines() if "def __call__" in line]
    assert overloads[:3] == [
        'def __call__(self: _Clients[mypy_boto3_s3.client.S3Client], service_name: Literal["s3"],'
        " *args: Any, **kwargs: Unpack[CallArgs]) -> types_boto3_s3.client.S3Client: ...",
        'def __call__(self, service_name: Literal["s3"], *args: Any, **kwargs: Unpack[CallArgs])'
        " -> mypy_boto3_s3.client.S3Client: ...",
        "def __call__(self, service_name: str, *args: Any, **kwargs: Unpack[CallArgs]) -> Any: ...",
    ]
    assert len(overloads) == 6  # two per service and a fallback, for clients and resources
    for module in ("s3.client", "s3.service_resource"):
        assert f"import mypy_boto3_{module}" in text.splitlines()
        assert f"import types_boto3_{module}" in text.splitlines()
