"""The import rule of DESIGN §3, checked on the source (AST) so it cannot regress.

Every import counts: at module top, inside functions, under TYPE_CHECKING, and string literals passed
to ``importlib.import_module``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = ("schemas", "enrichers", "adapters", "ingestors", "streams", "sinks", "deploy", "leadhub", "benchmarks", "tests")
CHECKED = ("schemas", "enrichers", "adapters", "ingestors", "streams", "sinks", "deploy", "leadhub", "benchmarks")

# Known exceptions, each with its reason; keep this empty unless a move would cost more than it says.
EXCEPTIONS = {
    # The benchmark times the very hostile inbox files the unit tests feed the hotline parser; a copy of
    # the generator would drift from the one the tests trust.
    ("benchmarks/inbox_bombs.py", "tests.bad_input"),
}

# Which of our packages each package may import (itself always allowed).
ALLOWED: dict[str, set[str]] = {
    "schemas": set(),
    "enrichers": {"schemas"},
    "adapters": {"schemas"},
    "ingestors": {"schemas", "enrichers", "adapters"},
    "streams": {"schemas", "enrichers", "adapters"},
    "sinks": {"schemas", "enrichers", "adapters"},
    "deploy": {"schemas", "adapters"},
    # The top may import every layer below it; nothing imports it, benchmarks or tests.
    "leadhub": {"schemas", "enrichers", "adapters", "ingestors", "streams", "sinks", "deploy"},
    "benchmarks": {"schemas", "enrichers", "adapters", "ingestors", "streams", "sinks", "deploy", "leadhub"},
}


def imported_modules(tree: ast.AST, package: str) -> list[tuple[int, str]]:
    """(line, absolute module name) for every import in ``tree``; relative imports resolve to ``package``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, package if node.level else (node.module or "")))
        elif isinstance(node, ast.Call) and _is_import_module(node.func) and _literal(node.args):
            found.append((node.lineno, node.args[0].value))
    return found


def _literal(args: list[ast.expr]) -> bool:
    return bool(args) and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str)


def _is_import_module(func: ast.expr) -> bool:
    if isinstance(func, ast.Attribute):
        return func.attr == "import_module" or func.attr == "__import__"
    return isinstance(func, ast.Name) and func.id in ("import_module", "__import__")


def violations() -> list[str]:
    found = []
    for package in CHECKED:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for line, module in imported_modules(tree, package):
                top = module.split(".")[0]
                if top in OURS and top != package and top not in ALLOWED[package] and (
                    (str(path.relative_to(ROOT)), module) not in EXCEPTIONS
                ):
                    found.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return found


def test_imports_run_one_way() -> None:
    assert violations() == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import leadhub.errors", ["leadhub.errors"]),
        ("from streams import records", ["streams"]),
        ("def f():\n    from sinks.x import y", ["sinks.x"]),
        ("import importlib\nimportlib.import_module('ingestors.feed')", ["importlib", "ingestors.feed"]),
        ("from . import sibling", ["pkg"]),
    ],
)
def test_every_kind_of_import_is_seen(source: str, expected: list[str]) -> None:
    assert [name for _, name in imported_modules(ast.parse(source), "pkg")] == expected
