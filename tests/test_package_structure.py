"""The house stays walkable: no import circles, floors in order, small modules, a split harness.

Every import statement counts, also those inside functions or under ``TYPE_CHECKING``:
a deferred import hides a circle, it does not remove it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import faceedit_bench

PACKAGE = Path(faceedit_bench.__file__).resolve().parent
ROOT = PACKAGE.parent
MAX_LINES = 500

# Floors of the house, lowest first: a module may import its own floor and the ones below.
FLOORS: list[tuple[str, ...]] = [
    ("api", "io", "paths", "config", "safe_load", "shipped", "cache_file", "registry", "plugins", "version"),
    ("data", "aurig", "editors", "baselines", "backends", "metrics", "annotate", "protocols", "planted",
     "user_editors", "testing"),
    ("harness", "training"),
    ("reports",),
    ("jobs",),
    ("cli", "public_api", "__init__"),
]  # fmt: skip


def _modules() -> dict[str, Path]:
    found = {}
    for folder, prefix in ((PACKAGE, "faceedit_bench"), (ROOT / "baselines", "faceedit_bench.baselines")):
        for path in folder.rglob("*.py"):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([prefix, *parts])] = path
    return found


def _imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    """module -> package modules it imports (a ``from pkg import name`` of a submodule counts as it)."""

    def owner(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets |= {owner(a.name) for a in node.names if a.name.startswith("faceedit_bench")}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([node.module] if node.module else []))
                if base.startswith("faceedit_bench"):
                    targets |= {
                        f"{base}.{a.name}" if f"{base}.{a.name}" in modules else owner(base)
                        for a in node.names
                    }
        graph[name] = {t for t in targets if t and t != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _floor(module: str) -> int:
    top = module.split(".")[1] if "." in module else "__init__"
    for level, names in enumerate(FLOORS):
        if top in names:
            return level
    raise AssertionError(f"{module}: top-level name {top!r} has no floor in tests/test_package_structure.py")


def test_the_cycle_finder_finds_a_planted_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle_among_package_modules():
    circles = _cycles(_imports(_modules()))
    assert not circles, "import circles (move the shared piece down):\n" + "\n".join(map(str, circles))


def test_floors_are_ordered():
    upward = [
        f"{a} (floor {_floor(a)}) imports {b} (floor {_floor(b)})"
        for a, targets in _imports(_modules()).items()
        for b in targets
        if _floor(b) > _floor(a)
    ]
    assert not upward, "imports that run up the house:\n" + "\n".join(sorted(upward))


def test_no_module_over_the_size_limit():
    big = {n: len(p.read_text(encoding="utf-8").splitlines()) for n, p in _modules().items()}
    assert not {n: k for n, k in big.items() if k > MAX_LINES}, "split these modules"


def test_the_harness_is_split_into_named_parts():
    harness = PACKAGE / "harness"
    loose = [p.name for p in harness.glob("*.py") if p.name != "__init__.py"]
    assert not loose, f"modules directly in harness/: {loose}"
    parts = {p.name for p in harness.iterdir() if (p / "__init__.py").is_file()}
    assert {"evaluation", "inputs", "stats", "outputs", "audit"} <= parts
