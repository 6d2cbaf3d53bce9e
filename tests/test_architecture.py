"""The import direction of DESIGN.md: connectors/ and routing/ never reach Flask, the
database or inbox/, so each can be used and tested without an app."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = ("flask", "flask_sqlalchemy", "flask_socketio", "sqlalchemy", "inbox", "rq", "redis", "app")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", ["connectors", "routing"])
def test_plain_python_packages_import_no_framework(package):
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_modules(path) & set(FORBIDDEN))
        for path in (ROOT / package).rglob("*.py")
    }
    assert {file: mods for file, mods in offenders.items() if mods} == {}


def test_only_realtime_emits_to_browsers():
    emitters = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "inbox").rglob("*.py")
        if "socketio.emit(" in path.read_text(encoding="utf-8")
    ]
    assert emitters == ["inbox/realtime.py"]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports_of(path: Path, modules: set[str]) -> set[str]:
    """The project's modules ``path`` imports, anywhere in it (inside functions and under
    TYPE_CHECKING too: an import that only dodges a circle at run time is still a circle)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):  # the project imports absolutely: no relative imports
            base = node.module or ""
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        found.update(target for target in targets if target in modules)
    return found


def test_no_import_circles():
    """Every module of the product can be read after the modules it imports (DESIGN.md's layers,
    within a package too)."""
    from graphlib import CycleError, TopologicalSorter

    paths = [path for package in ("connectors", "routing", "inbox") for path in (ROOT / package).rglob("*.py")]
    paths.append(ROOT / "app.py")
    modules = {_module_name(path): path for path in paths}
    graph = {name: _imports_of(path, set(modules)) - {name} for name, path in modules.items()}
    try:
        list(TopologicalSorter(graph).static_order())
    except CycleError as error:
        pytest.fail(f"import circle: {' -> '.join(error.args[1])}")
