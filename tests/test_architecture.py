"""The layering of docs/architecture.md holds: import contracts (.importlinter) and no framework internals.

The contracts are checked by import-linter on the source, so imports inside functions count too.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "cases", "evidence", "config")
FRAMEWORKS = ("django", "rest_framework", "django_filters", "reportlab")
# The one module allowed to reach into a framework's internals, documented as such in its docstring
# and pinned by tests/evidence/test_pdf_adapter.py.
ADAPTERS = {ROOT / "evidence" / "export" / "pdf" / "reportlab_adapter.py", ROOT / "core" / "api" / "drf_adapter.py"}


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache", "--config", str(cwd / ".importlinter")],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
    )


def test_every_import_contract_is_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "statement"),
    [
        ("cases/zz_upward.py", "from evidence.models import CustodyEvent\n"),
        ("core/zz_upward.py", "def late():\n    from cases.models import Case\n"),  # inside a function too
        ("evidence/lib/zz_impure.py", "import django.db\n"),
    ],
)
def test_an_upward_import_breaks_a_contract(tmp_path, module, statement):
    """The contracts can fail: the same tree with one import that points the wrong way."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "migrations"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    assert lint_imports(tmp_path).returncode == 0
    (tmp_path / module).write_text(statement)
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout


def _framework_internals(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules, names = [node.module], [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            modules, names = [alias.name for alias in node.names], []
        else:
            continue
        for module in modules:
            if module.split(".")[0] not in FRAMEWORKS:
                continue
            private = [name for name in names if name.startswith("_")]
            private += [part for part in module.split(".") if part.startswith("_") and not part.startswith("__")]
            if private:
                found.append(f"{path.name}:{node.lineno}: {module} {private}")
    return found


def test_no_framework_internal_is_imported_outside_the_adapters():
    offenders = [
        offender
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts and path not in ADAPTERS
        for offender in _framework_internals(path)
    ]
    assert offenders == [], "a framework's internals belong behind an adapter (see docs/architecture.md)"


def test_the_check_finds_a_private_import(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text("from rest_framework.pagination import _get_page_links\nimport django.db.models._private\n")
    assert len(_framework_internals(planted)) == 2


@pytest.mark.parametrize("adapter", sorted(ADAPTERS), ids=lambda path: path.name)
def test_each_adapter_says_what_it_is(adapter):
    docstring = ast.get_docstring(ast.parse(adapter.read_text())) or ""
    assert "adapter" in docstring.lower()
    assert (ROOT / "docs" / "architecture.md").read_text().count(adapter.name) >= 1
