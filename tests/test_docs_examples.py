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
* The README's recipe blocks (``<!-- recipe: docs/recipes/NAME.py -->``) are excerpts of the
  recipe files. Each must be word for word in its file; then the file's text up to the block's
  end runs in a fresh interpreter, followed by a driver that calls what the block defines against
  moto's server, under the integration suite's loopback guard (``tests/integration/worker_site``)
  so that no process it starts can leave the machine. A recipe whose framework is not installed
  (the integration extra) is skipped after the word-for-word check.

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
from sybil import Document, Example, Region
from sybil.parsers.markdown.lexers import FencedCodeBlockLexer
from sybil.parsers.myst import PythonCodeBlockParser

import sessionpool
from tests.integration import _support

pytestmark = [
    # The concepts page forks; Python 3.12+ warns when a process with threads forks (the moto
    # server's threads live in this process, not in the example).
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
RECIPES = DOCS / "recipes"
TIMEOUT = 300.0

BUCKET = "reports"
KEYS = [f"2026/11/{day:02d}.txt" for day in range(1, 9)]

INCLUDE = re.compile(r"^```\{include\}\s+(\S+)", re.M)
RECIPE_MARK = re.compile(r"<!-- recipe: (\S+) -->\s*\Z")
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


@dataclass
class Parsed:
    document: Document  # its regions: the examples to run, in order, in one namespace
    recipes: list[tuple[str, str, int]]  # README recipe blocks: (recipe path, code, line)


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
        _support.wait_until(
            lambda: not _support.processes_marked(directory), timeout=30, what="processes to exit"
        )
    except TimeoutError:
        for pid in _support.processes_marked(directory):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        raise
    refused = _support.violations(directory)
    assert refused == [], f"a process tried to leave the machine: {refused}"


def parse(path: Path, workdir: Path) -> Parsed:
    """Sybil's regions of ``path``: ordinary examples, programs, and README recipe blocks."""
    document = Document.parse(str(path), PythonCodeBlockParser())
    recipes: list[tuple[str, str, int]] = []
    kept: list[tuple[int, Region]] = []
    for start, region in document.regions:
        source = str(region.parsed)
        mark = RECIPE_MARK.search(document.text[:start])
        if mark is not None:
            line = document.text.count("\n", 0, start) + 1
            recipes.append((mark.group(1), source, line))
            continue
        if is_program(source):
            region.evaluator = ProgramEvaluator(workdir)
        kept.append((start, region))
    document.regions = kept
    return Parsed(document, recipes)


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
    parsed = parse(path, workdir)
    slug = re.sub(r"\W", "_", name_of(path).removesuffix(".md"))
    digest = hashlib.blake2b(str(path.resolve()).encode(), digest_size=4).hexdigest()
    module_name = f"docs_examples_{slug}_{digest}"
    module_dir = workdir / "modules"
    module_dir.mkdir(exist_ok=True)
    (module_dir / f"{module_name}.py").write_text(definitions(parsed.document), encoding="utf-8")
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
    parsed.document.namespace = namespace
    examples = list(parsed.document)
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
WITH_EXAMPLES = [p for p in DOCUMENTS if parse(p, Path("/nonexistent")).document.regions]


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
    parsed = parse(path, tmp_path)
    text = parsed.document.text
    fenced = [start for start, _ in parsed.document.regions if text.startswith("```", start)]
    python_fences = [line for info, line in fences(path) if info == "python"]
    assert len(fenced) + len(parsed.recipes) == len(python_fences), "a python block was missed"
    assert run_document(path, tmp_path, monkeypatch, request) == len(parsed.document.regions)


# -- the README's recipe blocks -----------------------------------------------------------------


@dataclass(frozen=True)
class Driver:
    needs: str | None  # the framework's module, if the block needs one
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


def readme_recipes() -> list[tuple[str, str, int]]:
    return parse(REPO / "README.md", Path("/nonexistent")).recipes


def recipe_script(recipe: str, code: str) -> str:
    """The recipe file's text up to the end of ``code`` (which must be in it word for word),
    then the driver as ``__main__``."""
    text = (REPO / recipe).read_text(encoding="utf-8")
    at = text.find(code)
    assert at >= 0, f"the README's block for {recipe} is not in that file as written"
    driver = DRIVERS[recipe]
    script = text[: at + len(code)]
    if driver.code:
        body = textwrap.indent(textwrap.dedent(driver.code).strip(), "    ")
        script += f"\n\nif __name__ == '__main__':\n    import os, sys\n{body}\n"
    return script


def run_recipe(recipe: str, code: str, workdir: Path, bucket: str) -> None:
    driver = DRIVERS[recipe]
    script = workdir / ("test_recipe.py" if driver.pytest else "recipe.py")
    script.write_text(recipe_script(recipe, code), encoding="utf-8")
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
        assert done.returncode == 0, f"{recipe}'s README block failed:\n{output}"


@pytest.mark.parametrize(
    ("recipe", "code", "line"), readme_recipes(), ids=[r for r, _, _ in readme_recipes()]
)
def test_the_readme_recipe_block(
    recipe: str, code: str, line: int, aws_env: Any, tmp_path: Path
) -> None:
    recipe_script(recipe, code)  # word for word in its file, or fail here
    needs = DRIVERS[recipe].needs
    if needs is not None and find_spec(needs) is None:
        pytest.skip(f"{needs} is not installed (python3 tasks.py integration installs it)")
    bucket = f"docs-{uuid.uuid4().hex[:16]}"
    with sessionpool.SessionPool() as pool:
        pool.client("s3").create_bucket(Bucket=bucket)
    run_recipe(recipe, code, tmp_path, bucket)


def test_every_recipe_file_has_a_readme_block_and_a_driver() -> None:
    """But the web framework recipes: their pages show them whole, and the integration suite
    serves each with its framework (``_support.PAGE_ONLY_RECIPES``)."""
    files = sorted(
        path
        for path in (p.relative_to(REPO).as_posix() for p in RECIPES.glob("*.py"))
        if path not in _support.PAGE_ONLY_RECIPES
    )
    assert sorted({recipe for recipe, _, _ in readme_recipes()}) == files
    assert sorted(DRIVERS) == files


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


def test_a_recipe_block_that_drifted_from_its_file_fails() -> None:
    recipe, code, _ = readme_recipes()[0]
    with pytest.raises(AssertionError, match="not in that file as written"):
        recipe_script(recipe, code.replace("pool", "pool2", 1))


def test_a_block_in_another_language_is_refused(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("```py\nprint('never run')\n```\n\n```python\nprint('run')\n```\n")
    assert [info for info, _ in fences(page)] == ["py", "python"]
    with pytest.raises(AssertionError, match="neither python"):
        test_every_block_is_python_or_a_shell_command_or_output(page)
