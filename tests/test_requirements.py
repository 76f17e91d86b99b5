"""requirements.txt is what the server runs on; requirements-dev.txt adds tests, lint, bench and audit.

Both are pinned with ==, dependencies included; every pin is used (imported, a dependency of a pin, or
named below with what uses it) and every import is pinned in the right file.
"""

import ast
import re
import sys
from functools import cache
from importlib.metadata import PackageNotFoundError, distribution, packages_distributions

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.processes import PROJECT_DIR

RUNTIME_CODE = ("cases", "config", "evidence", "manage.py")
DEV_CODE = ("tests", "bench")

# Pinned, though no import statement names them: what uses each.
RUNTIME_NOT_IMPORTED = {
    "gunicorn": "the production WSGI server (docs, tests/processes.py)",
    "psycopg": "Django's PostgreSQL backend (DATABASE_URL=postgres://...)",
    "django-csp": "config/settings.py names its middleware and app by string",
    "drf-spectacular-sidecar": "Swagger UI assets, an INSTALLED_APPS entry",
    "segno": "django-otp draws the TOTP QR code with it (503 without it)",
    "rl-accel": "ReportLab imports its accelerator when present (reportlab[accel])",
    "boto3": "django-storages' S3 backend (MEDIA_STORAGE=s3)",
}
DEV_NOT_IMPORTED = {
    "pytest-django": "pytest plugin",
    "pytest-env": "pytest plugin (pyproject env)",
    "pytest-timeout": "pytest plugin (pyproject timeout)",
    "pytest-xdist": "pytest plugin (make test -n)",
    "playwright": "the browser tests import it through pytest.importorskip and axe-playwright-python",
    "ruff": "make lint / make format",
    "pip-audit": "make audit",
    "flask": "moto's ThreadedMotoServer (the tests' S3 server) is a Flask app",
    "flask-cors": "moto's ThreadedMotoServer imports it",
    "import-linter": "tests/test_architecture.py runs its lint-imports command (.importlinter)",
}


def requirement_lines(name: str) -> list[str]:
    lines = []
    for raw in (PROJECT_DIR / name).read_text().splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


@cache
def pins(name: str) -> dict[str, Requirement]:
    return {
        canonicalize_name(requirement.name): requirement
        for requirement in (Requirement(line) for line in requirement_lines(name) if not line.startswith("-r "))
    }


def runtime() -> dict[str, Requirement]:
    return pins("requirements.txt")


def dev() -> dict[str, Requirement]:
    return pins("requirements-dev.txt")


def version_of(requirement: Requirement) -> str:
    (specifier,) = requirement.specifier
    return specifier.version


@cache
def imported_distributions(*roots: str) -> dict[str, set[str]]:
    """{third-party top-level module: its distributions} for every import in the given code."""
    first_party = {
        path.stem for path in PROJECT_DIR.iterdir() if (path / "__init__.py").exists() or path.suffix == ".py"
    }
    modules = set()
    for root in roots:
        path = PROJECT_DIR / root
        for file in [path] if path.is_file() else path.rglob("*.py"):
            for node in ast.walk(ast.parse(file.read_text(), str(file))):
                if isinstance(node, ast.Import):
                    modules |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module.split(".")[0])
    modules -= first_party | set(sys.stdlib_module_names) | {"__future__"}
    owners = packages_distributions()
    return {module: {canonicalize_name(name) for name in owners.get(module, [])} for module in sorted(modules)}


def dependencies(requirement: Requirement) -> set[str]:
    """The names an installed pinned distribution requires, with the extras its pin asks for."""
    names = set()
    for line in distribution(requirement.name).requires or []:
        dependency = Requirement(line)
        extras = requirement.extras or {""}
        if dependency.marker is None or any(
            dependency.marker.evaluate({**default_environment(), "extra": extra}) for extra in extras
        ):
            names.add(canonicalize_name(dependency.name))
            if dependency.extras:  # e.g. CacheControl[filecache] brings filelock
                names |= dependencies(dependency)
    return names - {"pip"}  # pip is pinned by the Makefile (PIP_VERSION)


def test_every_line_is_a_pin_and_the_dev_file_includes_the_runtime_file():
    assert requirement_lines("requirements-dev.txt")[0] == "-r requirements.txt"
    for name in ("requirements.txt", "requirements-dev.txt"):
        for requirement in pins(name).values():
            specifiers = [(spec.operator, spec.version) for spec in requirement.specifier]
            assert len(specifiers) == 1, f"{name}: {requirement}"
            assert specifiers[0][0] == "==", f"{name}: {requirement} is not pinned with =="
    assert not set(runtime()) & set(dev()), "pinned in both files"


def test_the_virtualenv_has_the_pinned_versions():
    wrong = []
    for requirement in [*runtime().values(), *dev().values()]:
        try:
            installed = distribution(requirement.name).version
        except PackageNotFoundError:
            installed = "not installed"
        if installed != version_of(requirement):
            wrong.append(f"{requirement.name}: pinned {version_of(requirement)}, installed {installed}")
    assert not wrong, "run `make install-dev`: " + "; ".join(wrong)


@pytest.mark.parametrize(
    ("code", "files"), [(RUNTIME_CODE, ("requirements.txt",)), (DEV_CODE, ("requirements.txt", "requirements-dev.txt"))]
)
def test_every_import_is_pinned_in_the_file_that_installs_it(code, files):
    pinned = set().union(*(pins(name) for name in files))
    unpinned = {module: owners for module, owners in imported_distributions(*code).items() if not owners & pinned}
    assert not unpinned, f"imported by {', '.join(code)} but not pinned in {', '.join(files)}: {unpinned}"


def test_the_pins_include_their_dependencies():
    missing = [
        f"requirements.txt: {name} needs {needed}"
        for name, requirement in runtime().items()
        for needed in dependencies(requirement) - set(runtime())
    ] + [
        f"requirements-dev.txt: {name} needs {needed}"
        for name, requirement in dev().items()
        for needed in dependencies(requirement) - set(runtime()) - set(dev())
    ]
    assert not missing


def test_every_pin_is_used():
    runtime_imports = set().union(*imported_distributions(*RUNTIME_CODE).values())
    dev_imports = set().union(*imported_distributions(*DEV_CODE).values())
    needed_by_runtime = set().union(*(dependencies(requirement) for requirement in runtime().values()))
    needed_by_dev = set().union(*(dependencies(requirement) for requirement in dev().values()))
    unused_runtime = set(runtime()) - runtime_imports - needed_by_runtime - set(RUNTIME_NOT_IMPORTED)
    unused_dev = set(dev()) - dev_imports - needed_by_dev - set(DEV_NOT_IMPORTED)
    assert not unused_runtime, f"requirements.txt pins what the server does not use: {sorted(unused_runtime)}"
    assert not unused_dev, f"requirements-dev.txt pins what nothing uses: {sorted(unused_dev)}"
    assert set(RUNTIME_NOT_IMPORTED) <= set(runtime())
    assert set(DEV_NOT_IMPORTED) <= set(dev())


def test_make_run_installs_the_runtime_and_the_other_targets_the_dev_requirements():
    makefile = (PROJECT_DIR / "Makefile").read_text()

    def recipe(target: str) -> str:
        pattern = rf"^{re.escape(target)}:(?! export)(.*?)(?=\n\n)"
        return re.search(pattern, makefile, re.MULTILINE | re.DOTALL).group(1)

    runtime_stamp = recipe("$(VENV)/.installed")
    assert runtime_stamp.split("\n")[0].split() == ["requirements.txt"]
    assert "-r requirements.txt" in runtime_stamp
    assert "requirements-dev" not in runtime_stamp
    assert recipe("$(VENV)/.installed-dev").split("\n")[0].split() == ["$(VENV)/.installed", "requirements-dev.txt"]
    assert recipe("run").split("\n")[0].split() == ["install"]
    for target in ("test", "lint", "format", "bench", "audit"):
        assert recipe(target).split("\n")[0].split() == ["install-dev"], target


def test_pip_is_pinned_not_upgraded():
    makefile = (PROJECT_DIR / "Makefile").read_text()
    assert "--upgrade pip" not in makefile
    assert "pip==$(PIP_VERSION)" in makefile
    (version,) = re.findall(r"^PIP_VERSION := (\S+)$", makefile, re.MULTILINE)
    assert distribution("pip").version == version
