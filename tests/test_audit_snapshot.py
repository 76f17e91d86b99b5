"""The offline dependency audit (.ci/audit_snapshot.py): both files' pins against the committed snapshot."""

import datetime as dt
import importlib.util
import json
import re
import subprocess
import sys

import pytest

from tests.processes import PROJECT_DIR

SCRIPT = PROJECT_DIR / ".ci" / "audit_snapshot.py"
SNAPSHOT = PROJECT_DIR / ".ci" / "advisories.json"


@pytest.fixture(scope="module")
def audit():
    spec = importlib.util.spec_from_file_location("audit_snapshot", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def pins(audit):
    return audit.read_pins(audit.REQUIREMENTS)


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, cwd=PROJECT_DIR)


def findings(output: str) -> list[str]:
    return [line for line in output.splitlines() if re.match(r"advisory snapshot: \S+ \S+: ", line)]


def test_todays_pins_pass_the_committed_snapshot_which_says_its_age():
    result = run("check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"data as of \d{4}-\d\d-\d\d \(\d+ days old\)", result.stdout)
    assert "not in the snapshot" not in result.stdout, "a pin was added after the last refresh"
    assert findings(result.stdout) == []


def test_the_snapshot_covers_both_files(pins):
    covered = json.loads(SNAPSHOT.read_text())["packages"]
    assert {"django", "celery", "pytest", "schemathesis"} <= set(pins)
    assert set(pins) <= set(covered)


def test_an_advisory_against_a_pinned_version_fails_naming_package_version_and_id(tmp_path, pins):
    snapshot = json.loads(SNAPSHOT.read_text())
    snapshot["packages"]["django"].append(
        {"id": "FAKE-2026-1", "aliases": ["CVE-2026-0001"], "affected": [f"=={pins['django']}"], "fixed_in": ["99.0"]}
    )
    # A development pin counts as much: tests and the audit itself run on the same machines.
    snapshot["packages"]["pytest"].append({"id": "FAKE-2026-2", "affected": [f">=1.0,<={pins['pytest']}"]})
    path = tmp_path / "advisories.json"
    path.write_text(json.dumps(snapshot))

    result = run("check", "--snapshot", str(path))

    assert result.returncode == 1
    assert findings(result.stdout) == [
        f"advisory snapshot: django {pins['django']}: FAKE-2026-1 (CVE-2026-0001) (fixed in 99.0)",
        f"advisory snapshot: pytest {pins['pytest']}: FAKE-2026-2 (fixed in no fix yet)",
    ]
    assert "FAILED - 2 advisory finding(s)" in result.stdout


def test_an_advisory_fixed_in_the_pinned_version_passes(tmp_path, pins):
    snapshot = json.loads(SNAPSHOT.read_text())
    snapshot["packages"]["django"].append(
        {"id": "FAKE-2026-3", "affected": [f"<{pins['django']}"], "fixed_in": [pins["django"]]}
    )
    path = tmp_path / "advisories.json"
    path.write_text(json.dumps(snapshot))
    assert run("check", "--snapshot", str(path)).returncode == 0


def test_an_old_snapshot_is_said_to_be_old(tmp_path):
    snapshot = {"source": "test", "data_as_of": "2026-01-01T00:00:00Z", "packages": {"django": []}}
    path = tmp_path / "advisories.json"
    path.write_text(json.dumps(snapshot))
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("Django==5.2.19\n")
    fresh = run("check", "--snapshot", str(path), "--requirements", str(requirements), "--today", "2026-02-01")
    stale = run("check", "--snapshot", str(path), "--requirements", str(requirements), "--today", "2026-06-01")
    assert "(31 days old)" in fresh.stdout
    assert "WARNING" not in fresh.stdout
    assert "(151 days old)" in stale.stdout
    assert "WARNING - older than 90 days" in stale.stdout


def test_a_requirement_that_is_not_pinned_is_an_error(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# comment\nDjango>=5.2\n")
    result = run("check", "--requirements", str(requirements))
    assert result.returncode == 2
    assert "requirements.txt:2: 'Django>=5.2' is not pinned with ==" in result.stdout


OSV_RECORD = """\
id: PYSEC-TEST-1
modified: 2026-01-02T00:00:00Z
aliases: [CVE-TEST-1]
affected:
- package: {ecosystem: PyPI, name: Django}
  ranges:
  - type: ECOSYSTEM
    events: [{introduced: "5.0"}, {fixed: 5.0.8}, {introduced: "4.2"}, {fixed: 4.2.15}]
- package: {ecosystem: PyPI, name: other-package}
  ranges:
  - type: ECOSYSTEM
    events: [{introduced: "0"}, {last_affected: "1.0"}]
"""


def test_refresh_from_osv_records_turns_their_ranges_into_specifiers(tmp_path):
    database = tmp_path / "osv" / "vulns" / "django"
    database.mkdir(parents=True)
    (database / "PYSEC-TEST-1.yaml").write_text(OSV_RECORD)
    (database / "PYSEC-TEST-2.yaml").write_text(OSV_RECORD.replace("TEST-1", "TEST-2") + "withdrawn: 2026-01-03\n")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("Django==4.2.14\n")
    path = tmp_path / "advisories.json"

    refreshed = run("refresh", "--snapshot", str(path), "--requirements", str(requirements),
                    "--from-osv-dir", str(tmp_path / "osv"))  # fmt: skip

    assert refreshed.returncode == 0, refreshed.stdout + refreshed.stderr
    assert json.loads(path.read_text())["packages"] == {
        "django": [
            {
                "id": "PYSEC-TEST-1",
                "aliases": ["CVE-TEST-1"],
                "affected": [">=4.2,<4.2.15", ">=5.0,<5.0.8"],
                "fixed_in": ["4.2.15", "5.0.8"],
            }
        ]
    }
    assert run("check", "--snapshot", str(path), "--requirements", str(requirements)).returncode == 1
    requirements.write_text("Django==4.2.15\n")
    assert run("check", "--snapshot", str(path), "--requirements", str(requirements)).returncode == 0


def test_last_affected_and_open_ranges(audit):
    affected = {
        "ranges": [
            {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"last_affected": "1.0"}]},
            {"type": "ECOSYSTEM", "events": [{"introduced": "2.0"}]},
            {"type": "GIT", "events": [{"introduced": "abc"}, {"fixed": "def"}]},
        ]
    }
    assert audit.specifiers_from_ranges(affected) == (["<=1.0", ">=2.0"], [])
    assert audit.specifiers_from_ranges({"versions": ["0.1"]}) == (["==0.1"], [])
    entry = {"affected": ["<=1.0", ">=2.0"]}
    assert [audit.affects(entry, version) for version in ("1.0", "1.1", "2.0rc1", "2.0")] == [True, False, False, True]


def test_make_audit_runs_pip_audit_and_always_the_snapshot():
    makefile = (PROJECT_DIR / "Makefile").read_text()
    recipe = makefile.split("\naudit: ", 1)[1].split("\n\n", 1)[0]
    assert "bash .ci/audit-dependencies" in recipe
    assert ".ci/audit_snapshot.py check" in recipe
    assert "audit-refresh:" in makefile
    assert dt.date.fromisoformat(json.loads(SNAPSHOT.read_text())["data_as_of"][:10])
