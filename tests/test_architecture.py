"""The import structure stays as the layout shows it.

Imports flow one way: ``app.cors`` <- ``app.runs`` <- the pure packages (``fix``, ``lessons``,
``labs``) and the harness <- ``app.web`` <- ``app.cli``. Inside ``app.web`` the routers never
import one another; the composition root (``app.py``) includes them and ``server.py`` serves
it. Only ``app.web`` imports the web framework. Every import counts, also one inside a
function, and no module may take part in a circle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app"
WEB_FRAMEWORKS = ("fastapi", "starlette", "jinja2", "markupsafe", "uvicorn", "sse_starlette")

# Lower numbers sit lower: a module may import its own package and anything below its layer.
LAYERS = {
    "app": 0,
    "app.cors": 0,
    "app.runs": 1,
    "app.scenario_file": 1,
    "app.fix": 2,
    "app.lessons": 2,
    "app.labs": 2,
    "app.attack": 2,
    # Workshop rooms: the engine and the run store; a lesson's question or an explanation
    # is computed by the web layer and passed in.
    "app.rooms": 2,
    "app.generate": 2,
    "app.generate_fetches": 2,
    "app.harness": 3,
    # Above app.fix, which it builds on; beside the harness, which it never imports.
    "app.troubleshoot": 3,
    # The stores' Redis implementations, for several processes: above what they store.
    "app.shared": 3,
    "app.web": 4,
    "app.cli": 5,
}
# Inside app.web, by the same rule; routers (rank 5) never import each other.
WEB_RANKS = {
    "app.web": 0,
    "app.web.config": 0,
    "app.web.protocol": 0,
    "app.web.events": 0,
    "app.web.render": 0,
    "app.web.shared_bus": 1,
    "app.web.state": 2,
    "app.web.deps": 3,
    "app.web.room_events": 4,
    "app.web.room_attacks": 4,
    "app.web.site": 5,
    "app.web.api_origin": 5,
    "app.web.attacker": 5,
    "app.web.app": 6,
    "app.web.server": 7,
}
ROUTER_RANK = 5


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(APP.rglob("*.py"))}


def imports(path: Path, name: str, known: frozenset[str] = frozenset()) -> Iterator[str]:
    """Every module ``path`` imports, wherever the import statement stands (``from pkg
    import mod`` imports the module ``pkg.mod`` when it is one of ``known``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield submodule if submodule in known else base


def owner(name: str, table: dict[str, int]) -> str | None:
    """The longest key of ``table`` that is ``name`` or a package containing it."""
    found = [k for k in table if name == k or name.startswith(k + ".")]
    return max(found, key=len) if found else None


def graph() -> dict[str, set[str]]:
    known = modules()
    names = frozenset(known)
    return {
        name: {i for i in imports(path, name, names) if i in known and i != name}
        for name, path in known.items()
    }


def upward_imports(edges: dict[str, set[str]]) -> list[str]:
    """Imports of a module from its own layer's other packages or from a layer above."""
    found = []
    for source, targets in edges.items():
        layer = owner(source, LAYERS)
        assert layer is not None, f"{source} belongs to no layer: add it to LAYERS"
        for target in targets:
            other = owner(target, LAYERS)
            assert other is not None, f"{target} belongs to no layer: add it to LAYERS"
            if other in (layer, "app"):
                continue
            if LAYERS[other] >= LAYERS[layer]:
                found.append(f"{source} -> {target}")
    return sorted(found)


def web_violations(edges: dict[str, set[str]]) -> list[str]:
    """Inside app.web: imports of a higher or equal rank, and routers importing routers."""
    found = []
    for source, targets in edges.items():
        if not source.startswith("app.web."):
            continue
        mine = owner(source, WEB_RANKS)
        assert mine is not None, f"{source} has no place in app.web: add it to WEB_RANKS"
        for target in targets:
            theirs = owner(target, WEB_RANKS)
            if theirs is None or theirs == "app.web" or target == mine:
                continue
            if WEB_RANKS[theirs] >= WEB_RANKS[mine]:
                found.append(f"{source} -> {target}")
    return sorted(found)


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_against_the_direction_of_the_layers() -> None:
    assert upward_imports(graph()) == []


def test_routers_never_import_each_other_and_web_imports_flow_down() -> None:
    assert web_violations(graph()) == []


def test_there_is_no_import_circle() -> None:
    assert circles(graph()) == []


@pytest.mark.parametrize("name", sorted(n for n in modules() if not n.startswith("app.web")))
def test_only_the_web_package_imports_the_web_framework(name: str) -> None:
    path = modules()[name]
    if name == "app.cli":
        return  # the command line starts the server through app.web, never the framework
    framework = sorted(
        i for i in imports(path, name) if i.split(".")[0] in WEB_FRAMEWORKS
    )
    assert framework == [], f"{name} imports {framework}"


# The checks themselves must be able to fail.


def test_an_upward_import_is_caught() -> None:
    assert upward_imports({"app.cors.headers": {"app.web.app"}}) == [
        "app.cors.headers -> app.web.app"
    ]


def test_a_router_importing_another_router_is_caught() -> None:
    found = web_violations({"app.web.site.labs": {"app.web.site.composer", "app.web.deps"}})
    assert found == ["app.web.site.labs -> app.web.site.composer"]


def test_a_circle_is_caught() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
