"""Every Python example in README.md and the docs runs here, against moto's server.

Sybil finds the examples (``python`` fences, and MyST or HTML-comment ``invisible-code-block``s)
in README.md, every page under docs/ and every file a page includes with ``{include}``. One test
per document runs its examples in order, in one namespace, as a reader would (under pytest-xdist
the examples of one document must not be split between workers, so they are not separate items).
Each document gets the ``aws_env`` fixture's isolated environment (dummy keys, profiles
``default``, ``prod``, ``dev`` and ``role``, every endpoint on the moto server) and the names the
pages promise: a bucket ``reports`` holding an object under each name in ``keys``.

* Workers started with ``spawn`` or ``forkserver`` import the functions they run by module name.
  So the namespace is a real module's: its imports and definitions (``def``, ``class``, bare
  annotations) are written to ``<tmp>/docs_examples_<page>.py`` first, that file is imported, and
  the examples run in its ``__dict__``. A worker process imports the same file, as your worker
  would import your module.
* An example with an ``if __name__ == "__main__":`` block is a whole program (the gevent one must
  patch before anything else is imported): it runs as a program in a fresh interpreter.
* The recipe files (``docs/recipes/*.py``) are shown whole on their recipe pages
  (``literalinclude``), which Sybil does not run. Each is checked to be shown there; then each
  that the integration suite does not serve with its web framework runs here in a fresh
  interpreter (its text up to its own ``if __name__ == "__main__":`` block, which would start a
  real cluster), followed by a driver that calls what it defines against moto's server, under the
  integration suite's loopback guard (``tests/integration/worker_site``) so that no process it
  starts can leave the machine. A recipe whose framework is not installed (the integration extra)
  is skipped.

``test_a_broken_*`` feed broken documents through the same machinery: a check that cannot fail is
no check.
"""

from __future__ import annotations

import ast
import gc
import hashlib
import importlib
import os
import re
import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest
from sybil import Document, Example
from sybil.parsers.markdown.lexers import FencedCodeBlockLexer
from sybil.parsers.myst import PythonCodeBlockParser

import sessionpool
from tests.integration import _support
from tests.support.waits import wait_until

pytestmark = [
    # The concepts page forks; Python 3.12+ warns when a process with threads forks (the moto
    # server's threads live in this process, not in the example).
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
RECIPES = DOCS / "recipes"
TIMEOUT = 300.0

BUCKET = "reports"
KEYS = [f"2026/11/{day:02d}.txt" for day in range(1, 9)]

INCLUDE = re.compile(r"^```\{include\}\s+(\S+)", re.M)
# Fences that are not Python: shell commands and output, and the MyST directives of the site.
NOT_PYTHON = {"bash", "text", "{toctree}", "{include}", "{literalinclude}", "{eval-rst}"}


def documents() -> list[Path]:
    """README.md, every page under docs/, and every file a page includes (each once)."""
    pages = sorted(p for p in DOCS.rglob("*.md") if "_build" not in p.relative_to(DOCS).parts)
    included = {
        (page.parent / target).resolve()
        for page in pages
        for target in INCLUDE.findall(page.read_text(encoding="utf-8"))
    }
    return [REPO / "README.md", *pages, *sorted(included - set(pages))]


def name_of(path: Path) -> str:
    """The path from the checkout's root (a page elsewhere, as in the tests below: its name)."""
    try:
        return path.resolve().relative_to(REPO).as_posix()
    except ValueError:
        return path.name


# -- parsing ------------------------------------------------------------------------------------


def is_program(source: str) -> bool:
    """Whether the example has a top-level ``if __name__ == "__main__":`` block."""
    for node in ast.parse(source).body:
        if (
            isinstance(node, ast.If)
            and isinstance(node.test, ast.Compare)
            and isinstance(node.test.left, ast.Name)
            and node.test.left.id == "__name__"
        ):
            return True
    return False


class ProgramEvaluator:
    """Runs an example as a program (``python FILE``) in a fresh interpreter."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir

    def __call__(self, example: Example) -> str | None:
        script = self.workdir / f"program_line_{example.line}.py"
        script.write_text(str(example.parsed), encoding="utf-8")
        with guarded_env(self.workdir / f"guarded_line_{example.line}") as env:
            done = subprocess.run(
                [sys.executable, str(script)],
                cwd=self.workdir,
                env=env,
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
            )
        if done.returncode != 0:
            return f"the program exited with {done.returncode}:\n{done.stderr[-3000:]}"
        return None


@contextmanager
def guarded_env(directory: Path) -> Iterator[dict[str, str]]:
    """This process's environment for a subprocess, with the integration suite's loopback guard
    installed in it and every process it starts (``worker_site``'s ``sitecustomize``). Afterwards:
    none of them tried to leave the machine, and none is left running (those left are killed)."""
    directory.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHONPATH", "PYTEST_"))}
    env["PYTHONPATH"] = str(_support.WORKER_SITE)
    env[_support.MARKER] = str(directory)
    yield env
    try:
        wait_until(
            lambda: not _support.processes_marked(directory), timeout=30, what="processes to exit"
        )
    except TimeoutError:
        for pid in _support.processes_marked(directory):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        raise
    refused = _support.violations(directory)
    assert refused == [], f"a process tried to leave the machine: {refused}"


def parse(path: Path, workdir: Path) -> Document:
    """Sybil's regions of ``path``, the examples to run in order in one namespace: ordinary
    examples, and programs (run by a ``ProgramEvaluator``)."""
    document = Document.parse(str(path), PythonCodeBlockParser())
    for _, region in document.regions:
        if is_program(str(region.parsed)):
            region.evaluator = ProgramEvaluator(workdir)
    return document


def definitions(document: Document) -> str:
    """The imports, ``def``s, ``class``es and bare annotations of the document's examples (not
    of its programs), as one module's source."""
    parts = []
    for _, region in document.regions:
        if isinstance(region.evaluator, ProgramEvaluator):
            continue
        for node in ast.parse(str(region.parsed)).body:
            if isinstance(
                node, ast.Import | ast.ImportFrom | ast.FunctionDef | ast.AsyncFunctionDef
            ) or isinstance(node, ast.ClassDef):
                parts.append(ast.unparse(node))
            elif isinstance(node, ast.AnnAssign) and node.value is None:
                parts.append(ast.unparse(node))
    return "\n\n".join(parts) + "\n"


def fences(path: Path) -> Iterator[tuple[str, int]]:
    """(info string, line) of every fenced block in the document."""
    document = Document(path.read_text(encoding="utf-8"), str(path))
    for region in FencedCodeBlockLexer(language=r"[^\n]*")(document):
        yield region.lexemes["language"].strip(), document.text.count("\n", 0, region.start) + 1


# -- running a document -------------------------------------------------------------------------


def make_reports_bucket() -> None:
    """The bucket the pages promise: ``reports``, an object under each name in ``keys``."""
    with sessionpool.SessionPool() as pool:
        s3 = pool.client("s3")
        s3.create_bucket(Bucket=BUCKET)  # already yours in us-east-1: no error
        for key in KEYS:
            s3.put_object(Bucket=BUCKET, Key=key, Body=f"report {key}".encode())


def run_document(
    path: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> int:
    """Run the examples of ``path`` in order; return how many ran. Raises on the first failure."""
    document = parse(path, workdir)
    slug = re.sub(r"\W", "_", name_of(path).removesuffix(".md"))
    digest = hashlib.blake2b(str(path.resolve()).encode(), digest_size=4).hexdigest()
    module_name = f"docs_examples_{slug}_{digest}"
    module_dir = workdir / "modules"
    module_dir.mkdir(exist_ok=True)
    (module_dir / f"{module_name}.py").write_text(definitions(document), encoding="utf-8")
    monkeypatch.syspath_prepend(str(module_dir))
    if path.parent == RECIPES:
        monkeypatch.syspath_prepend(str(RECIPES))  # the recipe pages import the recipe files
    importlib.invalidate_caches()
    module = importlib.import_module(module_name)
    namespace: dict[str, Any] = module.__dict__
    request.addfinalizer(lambda: forget(module_name, namespace))
    make_reports_bucket()
    sessionpool.set_default_pool(None)
    namespace["keys"] = list(KEYS)
    document.namespace = namespace
    examples = list(document)
    for example in examples:
        example.evaluate()
    return len(examples)


def forget(module_name: str, namespace: dict[str, Any]) -> None:
    """Leave nothing for a later test to find: close the document's pools and the default pool,
    and free the namespace now. (Its functions refer to it, a cycle that only a garbage
    collection frees; one during a later test would close clients under that test's counts.)"""
    sys.modules.pop(module_name, None)
    for value in list(namespace.values()):
        if isinstance(value, sessionpool.SessionPool):
            value.close()
    sessionpool.default_pool().close()
    sessionpool.set_default_pool(None)
    namespace.clear()
    gc.collect()


DOCUMENTS = documents()
WITH_EXAMPLES = [p for p in DOCUMENTS if parse(p, Path("/nonexistent")).regions]


def test_every_document_is_checked() -> None:
    names = {name_of(p) for p in DOCUMENTS}
    assert {"README.md", "CHANGELOG.md", "CONTRIBUTING.md", "docs/index.md"} <= names
    assert "README.md" in {name_of(p) for p in WITH_EXAMPLES}


@pytest.mark.parametrize("path", DOCUMENTS, ids=name_of)
def test_every_block_is_python_or_a_shell_command_or_output(path: Path) -> None:
    """A block in any other language (``py``, ``python3``, ``console``, no language) would not
    run: only shell commands and output may be left unchecked."""
    bad = [
        (line, info)
        for info, line in fences(path)
        if info != "python" and info.partition(" ")[0] not in NOT_PYTHON
    ]
    assert bad == [], f"{name_of(path)}: blocks neither python nor {sorted(NOT_PYTHON)}: {bad}"


@pytest.mark.parametrize("path", WITH_EXAMPLES, ids=name_of)
def test_the_examples_in(
    path: Path,
    aws_env: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    document = parse(path, tmp_path)
    fenced = [start for start, _ in document.regions if document.text.startswith("```", start)]
    python_fences = [line for info, line in fences(path) if info == "python"]
    assert len(fenced) == len(python_fences), "a python block was missed"
    assert run_document(path, tmp_path, monkeypatch, request) == len(document.regions)


# -- the recipe files ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Driver:
    needs: str | None  # the framework's module, if the recipe needs one
    code: str  # runs after the recipe's text, as __main__, with BUCKET set
    pytest: bool = False  # run the script with pytest instead (the moto/Stubber recipe)
    mocked: bool = False  # no endpoint: moto's mock_aws answers in-process


DRIVERS: dict[str, Driver] = {
    "docs/recipes/gunicorn_app.py": Driver(
        None,
        """
        import io

        def call(method, path, body=b""):
            seen = []
            environ = {"REQUEST_METHOD": method, "PATH_INFO": path,
                       "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)}
            out = b"".join(app(environ, lambda status, headers: seen.append(status)))
            return seen[0], out

        assert call("PUT", "/a.txt", b"hello") == ("201 Created", b"")
        assert call("GET", "/a.txt") == ("200 OK", b"hello")
        assert call("GET", "/missing.txt")[0] == "404 Not Found"
        """,
    ),
    "docs/recipes/celery_app.py": Driver(
        "celery",
        """
        # A task called directly runs in this process: no broker, no worker.
        assert upload(os.environ["BUCKET"], "celery.txt", "text") == "celery.txt"
        assert download(os.environ["BUCKET"], "celery.txt") == "text"
        """,
    ),
    "docs/recipes/spark_job.py": Driver(
        "pyspark",
        """
        # The partition function, iterated here: the integration suite runs it under Spark.
        rows = [(f"spark/{i}.txt", f"text {i}") for i in range(4)]
        assert list(upload_partition(SessionPool(), sys.argv[1], rows)) == rows
        """,
    ),
    "docs/recipes/ray_job.py": Driver(
        "ray",
        """
        import shutil, tempfile
        # Short: Ray's unix sockets live under it, and their paths are limited to ~107 bytes.
        temp_dir = tempfile.mkdtemp(prefix="docs-ray-", dir="/tmp")
        ray.init(num_cpus=1, include_dashboard=False, _node_ip_address="127.0.0.1",
                 _temp_dir=temp_dir, log_to_driver=False, configure_logging=False)
        try:
            items = [(f"ray/{i}.txt", f"text {i}") for i in range(4)]
            assert upload_all(SessionPool(), sys.argv[1], items) == dict(items)
        finally:
            ray.shutdown()
            shutil.rmtree(temp_dir, ignore_errors=True)
        """,
    ),
    "docs/recipes/loky_job.py": Driver(
        "joblib",
        """
        items = [(f"loky/{i}.txt", f"text {i}") for i in range(4)]
        assert upload_all(SessionPool(), sys.argv[1], items) == dict(items)
        """,
    ),
    "docs/recipes/multiprocessing_pool.py": Driver(
        None,
        """
        items = [(f"mp/{i}.txt", f"text {i}") for i in range(8)]
        assert upload_all(SessionPool(), sys.argv[1], items) == dict(items)
        """,
    ),
    "docs/recipes/test_with_moto.py": Driver(None, "", pytest=True, mocked=True),
}


def recipe_files() -> list[str]:
    """Every recipe file, as a path from the checkout's root."""
    return sorted(p.relative_to(REPO).as_posix() for p in RECIPES.glob("*.py"))


def driven_recipes() -> list[str]:
    """The recipe files this test runs: all but the web framework recipes, which the integration
    suite serves whole with their frameworks (``_support.SERVED_RECIPES``)."""
    return [path for path in recipe_files() if path not in _support.SERVED_RECIPES]


def recipe_script(recipe: str, text: str) -> str:
    """The recipe's text up to its own ``if __name__ == "__main__":`` block, if it has one (that
    block would start a real cluster), then the recipe's driver as ``__main__``."""
    for node in ast.parse(text).body:
        if is_program(ast.unparse(node)):
            text = "".join(text.splitlines(keepends=True)[: node.lineno - 1]).rstrip() + "\n"
            break
    driver = DRIVERS[recipe]
    script = text
    if driver.code:
        body = textwrap.indent(textwrap.dedent(driver.code).strip(), "    ")
        script += f"\n\nif __name__ == '__main__':\n    import os, sys\n{body}\n"
    return script


def run_recipe(recipe: str, text: str, workdir: Path, bucket: str) -> None:
    driver = DRIVERS[recipe]
    script = workdir / ("test_recipe.py" if driver.pytest else "recipe.py")
    script.write_text(recipe_script(recipe, text), encoding="utf-8")
    if driver.pytest:
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(script)]
    else:
        cmd = [sys.executable, str(script), bucket]
    with guarded_env(workdir / "guarded") as env:
        env.update(
            BUCKET=bucket,
            RAY_USAGE_STATS_ENABLED="0",
            RAY_AUTH_MODE="disabled",  # no token written under ~/.ray
            PYTHONUNBUFFERED="1",
        )
        if driver.mocked:
            del env["AWS_ENDPOINT_URL"]
        done = subprocess.run(
            cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=TIMEOUT
        )
        output = (done.stdout + done.stderr)[-4000:]
        assert done.returncode == 0, f"the recipe {recipe} failed:\n{output}"


def fresh_bucket() -> str:
    bucket = f"docs-{uuid.uuid4().hex[:16]}"
    with sessionpool.SessionPool() as pool:
        pool.client("s3").create_bucket(Bucket=bucket)
    return bucket


@pytest.mark.parametrize("recipe", driven_recipes())
def test_the_recipe(recipe: str, aws_env: Any, tmp_path: Path) -> None:
    needs = DRIVERS[recipe].needs
    if needs is not None and find_spec(needs) is None:
        pytest.skip(f"{needs} is not installed (python3 tasks.py integration installs it)")
    text = (REPO / recipe).read_text(encoding="utf-8")
    run_recipe(recipe, text, tmp_path, fresh_bucket())


def test_every_recipe_file_but_the_served_ones_has_a_driver() -> None:
    assert sorted(DRIVERS) == driven_recipes()
    assert _support.SERVED_RECIPES < set(recipe_files()), "a served recipe file does not exist"


@pytest.mark.parametrize("recipe", recipe_files())
def test_every_recipe_file_is_shown_whole_on_a_recipe_page(recipe: str) -> None:
    name = recipe.rpartition("/")[2]
    pages = [
        page.name
        for page in RECIPES.glob("*.md")
        if f"```{{literalinclude}} {name}\n" in page.read_text(encoding="utf-8")
    ]
    assert pages, f"no page in docs/recipes shows {name} with literalinclude"


# -- the machinery can fail ---------------------------------------------------------------------


def test_a_broken_example_fails(
    aws_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    page = tmp_path / "broken.md"
    page.write_text(
        "# A page\n\n```python\nfrom sessionpool import SessionPool\n\n"
        "pool = SessionPool()\n```\n\nThen:\n\n```python\n"
        "pool.client('s3').get_object(Bucket='reports', Key='no-such-key')\n```\n"
    )
    with pytest.raises(Exception, match="NoSuchKey"):
        run_document(page, tmp_path, monkeypatch, request)


def test_a_broken_program_fails(
    aws_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    page = tmp_path / "broken_program.md"
    page.write_text("```python\nimport sys\n\nif __name__ == '__main__':\n    sys.exit(3)\n```\n")
    with pytest.raises(AssertionError, match="exited with 3"):
        run_document(page, tmp_path, monkeypatch, request)


def test_a_broken_recipe_fails(aws_env: Any, tmp_path: Path) -> None:
    recipe = "docs/recipes/gunicorn_app.py"  # needs nothing but the test extra
    text = (REPO / recipe).read_text(encoding="utf-8")
    broken = text.replace('"201 Created"', '"200 OK"')
    assert broken != text
    with pytest.raises(AssertionError, match=f"the recipe {recipe} failed"):
        run_recipe(recipe, broken, tmp_path, fresh_bucket())


def test_a_recipe_runs_without_its_main_block() -> None:
    text = (REPO / "docs/recipes/spark_job.py").read_text(encoding="utf-8")
    script = recipe_script("docs/recipes/spark_job.py", text)
    assert script.count("if __name__") == 1  # the driver's, not the recipe's own
    assert "def spark_session()" in script


def test_a_block_in_another_language_is_refused(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("```py\nprint('never run')\n```\n\n```python\nprint('run')\n```\n")
    assert [info for info, _ in fences(page)] == ["py", "python"]
    with pytest.raises(AssertionError, match="neither python"):
        test_every_block_is_python_or_a_shell_command_or_output(page)
