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
