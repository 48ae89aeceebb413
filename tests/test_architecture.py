"""The import rules of docs/architecture.md, read from the source of every module under bot/.

import-linter (`lint-imports`, run by `python3 dev.py lint`) checks the layers and the
independence of the features; these tests add what it cannot say: no import cycle at all, the
features' own composition modules out of their reach, and services that never build messages.
Every import statement counts, including those inside functions and under TYPE_CHECKING.
"""

from __future__ import annotations

import ast
import tomllib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOT = ROOT / "bot"
FEATURES = BOT / "features"

# Above every feature: the package bot.features itself and the modules beside the feature
# folders (tables), plus the top-level composition (bot.wiring holds FEATURES).
COMPOSITION_ROOTS = (
    "bot.app",
    "bot.background",
    "bot.cli",
    "bot.demo",
    "bot.scheduling",
    "bot.simulator",
    "bot.wiring",
    "bot.worker",
)
# Besides flows (*_flow.py) and staff/, only these build messages (feature.py and __init__.py
# declare the feature); a service module imports none of MESSAGE_BUILDERS.
MESSAGE_MODULES = ("messages.py", "jobs.py", "feature.py", "__init__.py")
MESSAGE_BUILDERS = (
    "bot.conversation.engine",
    "bot.conversation.render",
    "bot.conversation.notifier",
    "bot.conversation.postback",
)


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module (a `from package import name` names the module when
    # `name` is one, else the package)
    line: int

    def __str__(self) -> str:
        return f"{self.source} -> {self.target} (l.{self.line})"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    """Every module under bot/, by dotted name."""
    return {module_name(path): path for path in sorted(BOT.rglob("*.py"))}


def _resolve(source: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute package a `from … import` reads from (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    package = source.split(".") if is_package else source.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def parse_imports(source: str, is_package: bool, text: str, known: set[str]) -> set[Import]:
    """Every import of a module in `known` by `source`, wherever it stands in `text`."""
    found: set[Import] = set()
    for node in ast.walk(ast.parse(text)):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            package = _resolve(source, is_package, node)
            for alias in node.names:
                submodule = f"{package}.{alias.name}"
                targets.append(submodule if submodule in known else package)
        for target in targets:
            while target and target not in known:  # `import a.b.name`: the module a.b
                target = target.rpartition(".")[0]
            if target and target != source:
                found.add(Import(source, target, node.lineno))
    return found


@cache
def imports_of(source: str) -> tuple[Import, ...]:
    """Every import of a bot module by the bot module `source`."""
    path = modules()[source]
    text = path.read_text(encoding="utf-8")
    found = parse_imports(source, path.name == "__init__.py", text, set(modules()))
    return tuple(sorted(found, key=lambda i: (i.target, i.line)))


def graph() -> dict[str, set[str]]:
    return {name: {i.target for i in imports_of(name)} for name in modules()}


def strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's components with more than one module, each sorted, largest first."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(start: str) -> None:
        # iterative, so a deep import chain cannot hit the recursion limit
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
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
                    components.append(sorted(component))

    for name in sorted(edges):
        if name not in index:
            visit(name)
    return sorted(components, key=lambda c: (-len(c), c))


def shortest_cycle(edges: dict[str, set[str]], component: list[str]) -> list[str]:
    """The shortest cycle through the first module of a component, as a path back to it."""
    members = set(component)
    start = component[0]
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(edges[node] & members):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if child not in came_from:
                came_from[child] = node
                queue.append(child)
    raise AssertionError(f"no cycle through {start}")  # a component always has one


def describe_cycle(cycle: list[str]) -> str:
    """`a -> b (l.3) -> c (l.9) -> a (l.1)`: each step with the line of its import."""
    steps = [cycle[0]]
    for source, target in zip(cycle, cycle[1:], strict=False):
        line = next(i.line for i in imports_of(source) if i.target == target)
        steps.append(f"{target} (l.{line} of {source})")
    return " -> ".join(steps)


def feature_names() -> list[str]:
    return sorted(p.name for p in FEATURES.iterdir() if (p / "__init__.py").exists())


def composition_modules() -> set[str]:
    """bot.features itself and the modules beside the feature folders."""
    return {"bot.features"} | {
        f"bot.features.{p.stem}" for p in FEATURES.glob("*.py") if p.name != "__init__.py"
    }


def is_under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def feature_modules(feature: str) -> list[str]:
    return sorted(m for m in modules() if is_under(m, f"bot.features.{feature}"))


def is_service(module: str) -> bool:
    """A feature module that is no flow, messages, jobs, declaration or staff module."""
    path = modules()[module]
    rel = path.relative_to(FEATURES)
    return not (
        path.name.endswith("_flow.py") or path.name in MESSAGE_MODULES or "staff" in rel.parts[:-1]
    )


# ---- the rules


def test_no_import_cycle_in_bot() -> None:
    edges = graph()
    cycles = [describe_cycle(shortest_cycle(edges, c)) for c in strongly_connected(edges)]
    assert not cycles, "import cycles (one path shown per cycle):\n" + "\n".join(cycles)


@pytest.mark.parametrize("feature", feature_names())
def test_feature_imports_no_other_feature_nor_the_composition(feature: str) -> None:
    others = [f"bot.features.{f}" for f in feature_names() if f != feature]
    above = composition_modules()
    bad = [
        str(i)
        for module in feature_modules(feature)
        for i in imports_of(module)
        if i.target in above or any(is_under(i.target, p) for p in [*others, *COMPOSITION_ROOTS])
    ]
    assert not bad, f"bot.features.{feature} reaches outside itself:\n" + "\n".join(bad)


@pytest.mark.parametrize("feature", feature_names())
def test_feature_services_build_no_messages(feature: str) -> None:
    bad = [
        str(i)
        for module in feature_modules(feature)
        if is_service(module)
        for i in imports_of(module)
        if any(is_under(i.target, m) for m in MESSAGE_BUILDERS)
    ]
    assert not bad, (
        f"services of bot.features.{feature} import message building (only *_flow.py, "
        "messages.py, jobs.py, feature.py and staff/ may):\n" + "\n".join(bad)
    )


def test_every_feature_folder_is_in_the_independence_contract() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}
    listed = set(contracts["features-independent"]["modules"])
    assert listed == {f"bot.features.{name}" for name in feature_names()}


# ---- the checker itself, on made-up graphs


def test_cycle_finder_reports_the_path() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    (component,) = strongly_connected(edges)
    assert component == ["a", "b", "c"]
    assert shortest_cycle(edges, component) == ["a", "b", "c", "a"]


def test_cycle_finder_accepts_a_dag() -> None:
    assert strongly_connected({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_imports_inside_functions_and_under_type_checking_count() -> None:
    text = """
from typing import TYPE_CHECKING
from . import sibling
from .. import b
if TYPE_CHECKING:
    from pkg.c import Name
def late():
    import pkg.d.e
    from pkg.d import e
"""
    known = {"pkg", "pkg.a", "pkg.a.sibling", "pkg.a.mod", "pkg.b", "pkg.c", "pkg.d", "pkg.d.e"}
    found = {(i.target, i.line) for i in parse_imports("pkg.a.mod", False, text, known)}
    assert found == {
        ("pkg.a.sibling", 3),
        ("pkg.b", 4),
        ("pkg.c", 6),
        ("pkg.d.e", 8),
        ("pkg.d.e", 9),
    }
