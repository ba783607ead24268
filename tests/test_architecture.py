"""The architecture as tests (issue "One way in"): the layer rules of `.importlinter`, no
session or SQL above the domain, no two files importing each other, and files, functions
and states a person can hold in their head.

There are no known exceptions: a new one fails `make test` with the rule it breaks.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "medspa"
ENTRY_POINTS = ("features", "api", "jobs", "cli", "web")
OUTSIDE_SHAPE_RULES = ("demo",)  # generated fixtures of the demo clinic; alembic and tests are outside the package

MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80
MAX_STATE_LINES = 250
MAX_STATE_VARS = 25


def _lint_imports(cwd: Path, extra_path: Path | None = None) -> subprocess.CompletedProcess:
    env = None
    if extra_path is not None:
        import os

        env = {**os.environ, "PYTHONPATH": str(extra_path)}
    script = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(script), "--no-cache", "--config", str(cwd / ".importlinter")], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_layer_contracts_hold():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 5 kept, 0 broken." in result.stdout, result.stdout


@pytest.mark.parametrize("source, line, rule", [
    ("features/_probe.py", "from medspa.db import tenant_session\n", "Rule 2"),
    ("api/_probe.py", "import sqlalchemy\n", "Rule 2"),
    ("domain/_probe.py", "import reflex\n", "Rule 1"),
    ("api/_probe.py", "from medspa.features.calendar import state\n", "Rule 3"),
    ("ops/_probe.py", "from medspa.cli import app\n", "Rule 4"),
    ("live/_probe.py", "from medspa.features.calendar import push\n", "Rule 5"),
])
def test_a_forbidden_import_fails_naming_the_rule(tmp_path, source, line, rule):
    """A copy of the package with one forbidden import added breaks the contract it names."""
    shutil.copytree(PACKAGE, tmp_path / "medspa", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    (tmp_path / "medspa" / source).write_text(line)
    result = _lint_imports(tmp_path, extra_path=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert rule in broken and "_probe" in broken, result.stdout


def _python_files(*parts: str) -> list[Path]:
    files: list[Path] = []
    for part in parts:
        path = PACKAGE / part
        files.extend([path] if path.suffix == ".py" else sorted(path.rglob("*.py")))
    return [f for f in files if f.exists()]


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


# a session, a SQLAlchemy/SQLModel import or a bare select(/text( (rx.select and rx.text have a dot)
_SQL = re.compile(r"tenant_session|\bSession\b|^\s*(from|import) (sqlalchemy|sqlmodel)\b|(?<![\w.])(select|text)\(",
                  re.M)


def test_no_session_or_sql_above_the_domain():
    offenders = {_rel(f) for f in _python_files(*ENTRY_POINTS) if _SQL.search(f.read_text())}
    assert offenders == set(), "entry points must call domain actions"


def _direct_imports() -> dict[str, set[str]]:
    """module -> medspa modules it imports (anywhere in the file, also inside functions)."""
    def name_of(path: Path) -> str:
        rel = path.relative_to(ROOT).with_suffix("")
        return ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)

    files = {name_of(p): p for p in _python_files(".")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from pkg import sub` imports the submodule sub, not (only) the package
                subs = {f"{node.module}.{a.name}" for a in node.names} & files.keys()
                targets.update(subs or {node.module})
        graph[name] = {t for t in targets if t in files and t != name}
    return graph


def test_no_two_files_import_each_other():
    graph = _direct_imports()
    cycles = {frozenset((a, b)) for a, targets in graph.items() for b in targets if a in graph.get(b, ())}
    assert cycles == set()


def _is_state(cls: ast.ClassDef) -> bool:
    names = {b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", "") for b in cls.bases}
    return any(n == "State" or n.endswith("State") for n in names)


def _shape() -> tuple[set[str], set[str], set[str]]:
    long_modules, long_functions, big_states = set(), set(), set()
    for path in _python_files("."):
        rel = _rel(path)
        if rel.split("/")[1] in OUTSIDE_SHAPE_RULES:
            continue
        source = path.read_text()
        if source.count("\n") > MAX_MODULE_LINES:
            long_modules.add(rel)
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES:
                    long_functions.add(f"{rel}::{node.name}")
            elif isinstance(node, ast.ClassDef) and _is_state(node):
                fields = [s for s in node.body if isinstance(s, ast.AnnAssign)]
                if node.end_lineno - node.lineno + 1 > MAX_STATE_LINES or len(fields) > MAX_STATE_VARS:
                    big_states.add(f"{rel}::{node.name}")
    return long_modules, long_functions, big_states


def test_files_functions_and_states_stay_small():
    """No module over 500 lines, no function over 80, no state class over 250 lines or 25 vars
    (outside demo/, alembic/ and tests/)."""
    long_modules, long_functions, big_states = _shape()
    assert (long_modules, long_functions, big_states) == (set(), set(), set())
