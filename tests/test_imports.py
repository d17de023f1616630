"""The house plan, checked from the source: imports run one way (no cycles, nothing below the CLI imports it),
nets import no surgery/export code, the on-device script imports nothing of edgeflow, and modules stay small.

Every ``import`` counts, also those inside functions: a lazy import still ties two modules together.
"""

from __future__ import annotations

import ast
from pathlib import Path

import edgeflow

PACKAGE = Path(edgeflow.__file__).parent
# entry points may import the CLI: the CLI itself, and `python -m edgeflow.train` (torchrun's entry)
ENTRY_POINTS = ("edgeflow.cli", "edgeflow.train")
MAX_LINES = 300
MAX_BODY = 60


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, name: str) -> set[str]:
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}  # `from pkg import module`
    return {m for m in found if m == "edgeflow" or m.startswith("edgeflow.")}


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in files.items():
        targets = set()
        for imported in _imports(path, name):
            while imported and imported not in files:  # `from edgeflow.x import func` names module edgeflow.x
                imported = imported.rpartition(".")[0]
            if imported and imported != name and not name.startswith(imported + "."):  # a parent package is not a dependency
                targets.add(imported)
        graph[name] = targets
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_planted_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_nothing_below_the_cli_imports_it():
    offenders = {m: sorted(t for t in deps if t.startswith("edgeflow.cli"))
                 for m, deps in _graph().items() if not m.startswith(ENTRY_POINTS)}
    assert {m: d for m, d in offenders.items() if d} == {}


def test_nets_build_networks_only():
    allowed = ("edgeflow.nets", "edgeflow.layers", "edgeflow.errors")
    graph = _graph()
    wrong = {m: sorted(d for d in deps if not d.startswith(allowed)) for m, deps in graph.items()
             if m.startswith("edgeflow.nets")}
    assert {m: d for m, d in wrong.items() if d} == {}


def test_the_on_device_script_stands_alone():
    assert _graph()["edgeflow.devices.ondevice_bench"] == set()


def test_modules_stay_small():
    big = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
           if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert big == {}


def _body_lines(fn: ast.FunctionDef) -> int:
    body = fn.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring does not count; neither does a typer signature
    return body[-1].end_lineno - body[0].lineno + 1 if body else 0


def test_functions_stay_short_or_say_why():
    """A body over MAX_BODY lines needs a comment on its first line saying why it is long."""
    long = {}
    for p in PACKAGE.rglob("*.py"):
        lines = p.read_text().splitlines()
        for fn in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(fn, ast.FunctionDef) and _body_lines(fn) > MAX_BODY:
                if "# long:" not in lines[fn.lineno - 1]:
                    long[f"{p.relative_to(PACKAGE)}:{fn.name}"] = _body_lines(fn)
    assert long == {}
