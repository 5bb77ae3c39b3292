"""The package keeps its shape: no import cycles, the library never imports the command line,
and no private botocore or boto3 name is used outside ``sessionpool/_botocore/``.

Cheap static checks over the source (``ast``), so the house cannot drift.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import boto3
import botocore

import sessionpool

ROOT = Path(sessionpool.__file__).resolve().parent
INTERNALS = ROOT / "_botocore"
CLI = ROOT / "cli"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every sessionpool module that ``name`` imports, at any depth of its body."""
    package = name if is_package(path) else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            found.add(source)
            for alias in node.names:  # "from . import _fork" imports the module _fork
                if f"{source}.{alias.name}" in modules:
                    found.add(f"{source}.{alias.name}")
    # "from . import x" also runs the package's __init__, but only when it is not already
    # running: an edge to one's own enclosing package is not a cycle of ours to report.
    return {m for m in found if m in modules and m != name and not name.startswith(m + ".")}


@functools.cache
def graph() -> dict[str, set[str]]:
    modules = package_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def test_the_import_graph_has_no_cycle() -> None:
    g = graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(g[node]):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(g):
        if node not in state:
            visit(node, [node])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_the_scan_sees_imports_at_every_depth() -> None:
    # The CLI imports its commands inside a function: the graph must still have that edge,
    # or the cycle test could pass by not looking.
    assert "sessionpool.cli.demo" in graph()["sessionpool.cli"]
    assert "sessionpool._pool" in graph()["sessionpool"]


def test_the_library_never_imports_the_command_line() -> None:
    library = {
        n for n in graph() if not (n == "sessionpool.cli" or n.startswith("sessionpool.cli."))
    }
    library.discard("sessionpool.__main__")  # the entry point, not imported by the library
    offenders = {
        f"{n} -> {m}"
        for n in library
        for m in graph()[n]
        if m == "sessionpool.cli" or m.startswith("sessionpool.cli.")
    }
    assert not offenders


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


@functools.cache
def upstream_private_names() -> frozenset[str]:
    """Private names botocore and boto3 define: attributes they assign, defs, module globals."""
    names: set[str] = set()
    for package in (botocore, boto3):
        for path in Path(package.__file__).parent.rglob("*.py"):
            tree = ast.parse(path.read_bytes(), str(path))
            for node in tree.body:
                targets = node.targets if isinstance(node, ast.Assign) else []
                names.update(t.id for t in targets if isinstance(t, ast.Name))
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    names.add(node.name)
                elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                    names.add(node.attr)
                elif isinstance(node, (ast.Import, ast.ImportFrom)):
                    names.update(a.asname or a.name for a in node.names)
    return frozenset(n for n in names if _private(n))


class _Scanner(ast.NodeVisitor):
    """Flags uses of upstream private names. ``self._x`` is ours only in a class of ours (no
    botocore or boto3 base) that sets ``_x`` itself; anywhere else ``._x`` is botocore's."""

    def __init__(self, path: Path, private: frozenset[str]) -> None:
        self.path = path
        self.private = private
        self.found: list[str] = []
        self.classes: list[tuple[bool, set[str]]] = []  # (has an upstream base, names it sets)

    def flag(self, node: ast.AST, what: str) -> None:
        rel = self.path.relative_to(ROOT.parent)
        self.found.append(f"{rel}:{getattr(node, 'lineno', '?')}: {what}")

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        upstream = any(
            "boto" in ast.unparse(b) or ast.unparse(b) in _UPSTREAM_BASES for b in node.bases
        )
        own = {
            n.attr
            for n in ast.walk(node)
            if isinstance(n, ast.Attribute)
            and isinstance(n.ctx, ast.Store)
            and isinstance(n.value, ast.Name)
            and n.value.id in ("self", "cls", "new")
        }
        own |= {n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        self.classes.append((upstream, own))
        self.generic_visit(node)
        self.classes.pop()

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in self.private:
            receiver = node.value.id if isinstance(node.value, ast.Name) else None
            ours = False
            if receiver in ("self", "cls") and self.classes:
                upstream, own = self.classes[-1]
                ours = not upstream and node.attr in own
            if not ours:
                self.flag(node, f"{ast.unparse(node)} (botocore/boto3 private name)")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = ast.unparse(node.func)
        if func in ("getattr", "setattr", "hasattr", "delattr") and len(node.args) > 1:
            arg = node.args[1]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                if arg.value in self.private:
                    self.flag(node, f"{func}(..., {arg.value!r})")
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if (node.module or "").split(".")[0] in ("botocore", "boto3"):
            for part in (node.module or "").split("."):
                if _private(part):
                    self.flag(node, f"import from private module {node.module}")
            for alias in node.names:
                if _private(alias.name):
                    self.flag(node, f"from {node.module} import {alias.name}")
        self.generic_visit(node)


# Names our classes may subclass that come from botocore or boto3 under another name.
_UPSTREAM_BASES = {"Credentials", "Loader", "HierarchicalEmitter", "Session"}


def scan(path: Path) -> list[str]:
    scanner = _Scanner(path, upstream_private_names())
    scanner.visit(ast.parse(path.read_text(), str(path)))
    return scanner.found


def test_no_private_botocore_name_outside_the_internals_subpackage() -> None:
    found = [
        hit
        for path in sorted(ROOT.rglob("*.py"))
        if INTERNALS not in path.parents
        for hit in scan(path)
    ]
    assert not found, "private botocore/boto3 names outside _botocore/:\n" + "\n".join(found)


def test_the_private_name_scan_finds_what_it_is_for(tmp_path: Path) -> None:
    # The scan must see each form it guards against, or the test above could pass blind.
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from botocore.hooks import _PrefixTrie\n"
        "import boto3.session\n"
        "def f(core, session):\n"
        "    core._credentials = None\n"
        "    getattr(session, '_session')\n"
        "class S(boto3.session.Session):\n"
        "    def g(self):\n"
        "        return self._session\n"
    )
    ROOT_parent = ROOT.parent
    moved = ROOT_parent / "sessionpool" / "_layout_probe.py"
    try:
        moved.write_text(sample.read_text())
        hits = scan(moved)
    finally:
        moved.unlink()
    assert len(hits) == 4, hits


def test_the_internals_subpackage_is_where_the_private_names_are() -> None:
    # The other side of the rule: the optimisations do use private names, all in one place.
    assert any(scan(path) for path in INTERNALS.rglob("*.py"))


# -- no module reads another module's private attributes ---------------------------------------

# Protocol methods every fork-aware object has, called by _fork and by owners after a fork.
FORK_PROTOCOL = {"_after_fork_in_child", "_before_fork", "_after_fork_in_parent"}
LIBRARY = [
    p for p in sorted(ROOT.rglob("*.py")) if CLI not in p.parents and INTERNALS not in p.parents
]


def private_names_defined(tree: ast.AST) -> set[str]:
    """The underscore names a module defines: functions, classes, attributes it assigns, and
    names in ``__slots__``."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__slots__" for t in node.targets
        ):
            if isinstance(node.value, (ast.Tuple, ast.List)):
                names.update(str(e.value) for e in node.value.elts if isinstance(e, ast.Constant))
    return {n for n in names if n.startswith("_") and not n.startswith("__")}


def foreign_private_reads(paths: list[Path]) -> list[str]:
    """``obj._name`` where ``obj`` is not ``self``/``cls`` or one of our modules, and ``_name``
    is defined by another module of the list but not by this one."""
    trees = {p: ast.parse(p.read_text(), str(p)) for p in paths}
    defined = {p: private_names_defined(t) for p, t in trees.items()}
    found = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Attribute) and node.attr.startswith("_")):
                continue
            name, value = node.attr, node.value
            if name.startswith("__") or name in FORK_PROTOCOL or name in defined[path]:
                continue
            if isinstance(value, ast.Name) and (value.id in ("self", "cls") or value.id[0] == "_"):
                continue  # its own attribute, or a module of ours (_botocore.x)
            owners = [p.name for p, names in defined.items() if name in names and p != path]
            if owners:
                found.append(f"{path.name}:{node.lineno}: .{name} (defined in {owners})")
    return found


def test_no_module_reads_another_modules_private_attributes() -> None:
    assert foreign_private_reads(LIBRARY) == []


def test_the_private_attribute_scan_finds_what_it_is_for(tmp_path: Path) -> None:
    (tmp_path / "owner.py").write_text("class A:\n    def __init__(self):\n        self._x = 1\n")
    (tmp_path / "reader.py").write_text("def f(a):\n    return a._x + a._after_fork_in_child()\n")
    found = foreign_private_reads([tmp_path / "owner.py", tmp_path / "reader.py"])
    assert found == ["reader.py:2: ._x (defined in ['owner.py'])"]


# -- hazards are defined in the repository, in docs/internals --------------------------------------

REPO = ROOT.parent
HAZARDS_PAGE = REPO / "docs" / "internals" / "hazards.md"
CITED = re.compile(r"HAZARDS ((?:[A-Z]\d+(?:-[A-Z]?\d+)?)(?:, [A-Z]\d+(?:-[A-Z]?\d+)?)*)")


def cited_hazards() -> dict[str, list[str]]:
    """Each hazard id cited as ``HAZARDS X1`` (or ``X1-X3``, ``X1, X2``) -> where."""
    cited: dict[str, list[str]] = {}
    sources = [*ROOT.rglob("*.py"), *(REPO / "tests").rglob("*.py"), *(REPO / "docs").rglob("*.md")]
    for path in sources:
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            for match in CITED.finditer(line):
                for part in match.group(1).split(", "):
                    first, _, last = part.partition("-")
                    ids = [first]
                    if last:  # a range: T1-T3, F1-F6
                        prefix = first[0]
                        ids = [
                            f"{prefix}{n}"
                            for n in range(int(first[1:]), int(last.lstrip(prefix)) + 1)
                        ]
                    for hazard in ids:
                        cited.setdefault(hazard, []).append(f"{path.relative_to(REPO)}:{lineno}")
    return cited


def defined_hazards(path: Path) -> set[str]:
    """The ids a page defines: a definition-list term on a line of its own (``T1``)."""
    return set(re.findall(r"^([A-Z]\d+)\n: ", path.read_text(), flags=re.M))


def test_every_hazard_the_code_cites_is_defined_in_docs_internals() -> None:
    cited = cited_hazards()
    assert len(cited) >= 30, sorted(cited)  # the scan sees the citations
    undefined = {h: where for h, where in cited.items() if h not in defined_hazards(HAZARDS_PAGE)}
    assert undefined == {}


def test_no_file_outside_docs_internals_defines_a_hazard() -> None:
    elsewhere = [
        str(p.relative_to(REPO))
        for p in [*(REPO / "docs").rglob("*.md"), REPO / "README.md", REPO / "CONTRIBUTING.md"]
        if p.is_file() and "internals" not in p.parts and defined_hazards(p)
    ]
    assert elsewhere == []


def test_nothing_in_the_repository_points_outside_it() -> None:
    tracked = [*ROOT.rglob("*.py"), *(REPO / "tests").rglob("*.py"), *(REPO / "docs").rglob("*.md")]
    tracked += [REPO / name for name in ("README.md", "CONTRIBUTING.md", "pyproject.toml")]
    outside = [
        str(p.relative_to(REPO)) for p in tracked if p.is_file() and "../shared" in p.read_text()
    ]
    assert outside == [str(Path(__file__).relative_to(REPO))]  # this test's own pattern
