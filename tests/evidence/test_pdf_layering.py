"""Where the PDF code may reach: pdf/ imports nothing above it, and only the adapter touches ReportLab internals.

Read from the source (ast), so that imports under TYPE_CHECKING and inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PDF = ROOT / "evidence" / "export" / "pdf"
ADAPTER = PDF / "reportlab_adapter.py"
# ReportLab modules that are its machinery rather than its API (documented: platypus, canvas, pdfmetrics...).
REPORTLAB_INTERNAL_MODULES = ("reportlab.pdfbase.pdfdoc", "reportlab.pdfbase.pdfutils")


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names imported from it) for every import statement in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


def _sources(*folders: str) -> list[Path]:
    return sorted(
        path for folder in folders for path in (ROOT / folder).rglob("*.py") if "migrations" not in path.parts
    )


@pytest.mark.parametrize("path", sorted(PDF.glob("*.py")), ids=lambda path: path.name)
def test_pdf_imports_only_itself_and_the_charts_from_the_project(path):
    for module, names in _imports(path):
        if module.split(".")[0] in ("evidence", "cases", "config"):
            allowed = module.startswith("evidence.export.pdf") or module == "evidence.export.charts"
            allowed = allowed or (module == "evidence.export" and set(names) <= {"charts"})
            assert allowed, f"{path.name} imports {module} {names}: pdf/ must not import anything above it"


def test_no_reportlab_internals_outside_the_adapter():
    offenders = []
    for path in _sources("evidence", "cases", "config"):
        if path == ADAPTER:
            continue
        for module, names in _imports(path):
            if not module.startswith("reportlab"):
                continue
            private = [name for name in names if name.startswith("_")]
            if private or any(part.startswith("_") for part in module.split(".")):
                offenders.append(f"{path.relative_to(ROOT)}: {module} {private}")
            if module.startswith(REPORTLAB_INTERNAL_MODULES) or any(
                f"{module}.{name}".startswith(REPORTLAB_INTERNAL_MODULES) for name in names
            ):
                offenders.append(f"{path.relative_to(ROOT)}: {module} {names}")
    assert offenders == [], "ReportLab internals belong in evidence/export/pdf/reportlab_adapter.py"


@pytest.mark.parametrize("path", sorted(set(PDF.glob("*.py")) - {ADAPTER}), ids=lambda path: path.name)
def test_pdf_reads_no_private_attribute_it_did_not_define(path):
    """Outside the adapter, a private attribute is one of our own: set in the same module, never ReportLab's."""
    tree = ast.parse(path.read_text(), str(path))
    defined = {
        target.attr
        for node in ast.walk(tree)
        for target in (node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)])
        if isinstance(target, ast.Attribute)
    }
    defined |= {  # class attributes and dataclass fields
        statement.target.id if isinstance(statement, ast.AnnAssign) else target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        for statement in node.body
        if isinstance(statement, ast.AnnAssign | ast.Assign)
        for target in ([statement.target] if isinstance(statement, ast.AnnAssign) else statement.targets)
        if isinstance(target, ast.Name)
    }
    defined |= {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.ClassDef)}
    used = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
    }
    assert used <= defined, f"{path.name} uses private attributes it does not define: {sorted(used - defined)}"
