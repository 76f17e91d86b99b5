"""Offline dependency audit: the pins of requirements.txt and requirements-dev.txt against a committed
snapshot of the advisory database (.ci/advisories.json).

  check    exit 1 with one line per pin an advisory affects (package, pinned version, advisory id);
           says how old the snapshot is. Needs no network, so CI audits something on every run.
  refresh  rewrite the snapshot for every pinned package: from OSV's API (online), or with
           --from-osv-dir from a local copy of an OSV-format database (e.g. PyPA's advisory-database).

pip-audit (make audit, .ci/audit-dependencies) stays the full audit where the network reaches its
vulnerability service; this check is only as new as the snapshot it reads.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

PROJECT_DIR = Path(__file__).resolve().parent.parent
SNAPSHOT = PROJECT_DIR / ".ci" / "advisories.json"
REQUIREMENTS = [PROJECT_DIR / "requirements.txt", PROJECT_DIR / "requirements-dev.txt"]
OSV_QUERY = "https://api.osv.dev/v1/query"
STALE_DAYS = 90
PREFIX = "advisory snapshot:"


class PinError(ValueError):
    pass


def read_pins(paths: list[Path]) -> dict[str, str]:
    """{canonical name: pinned version} of every requirement line; each must be name==version."""
    pins: dict[str, str] = {}
    for path in paths:
        for number, raw in enumerate(path.read_text().splitlines(), 1):
            line = raw.split(" #", 1)[0].strip()
            if not line or line.startswith("#") or line.startswith("-r "):
                continue
            try:
                requirement = Requirement(line)
            except InvalidRequirement as error:
                raise PinError(f"{path.name}:{number}: {error}") from error
            specifiers = list(requirement.specifier)
            if len(specifiers) != 1 or specifiers[0].operator != "==":
                raise PinError(f"{path.name}:{number}: {line!r} is not pinned with ==")
            pins[canonicalize_name(requirement.name)] = specifiers[0].version
    return pins


def affects(entry: dict, version: str) -> bool:
    """Whether an advisory entry's affected specifiers include the version."""
    try:
        parsed = Version(version)
    except InvalidVersion:
        return False
    for specifier in entry.get("affected", []):
        try:
            if SpecifierSet(specifier).contains(parsed, prereleases=True):
                return True
        except InvalidSpecifier:
            continue
    return False


def age_line(snapshot: dict, today: dt.date) -> tuple[str, int | None]:
    as_of = snapshot.get("data_as_of")
    try:
        days = (today - dt.date.fromisoformat(as_of[:10])).days
    except (TypeError, ValueError):
        return f"data date unknown ({as_of!r})", None
    return f"data as of {as_of[:10]} ({days} days old)", days


def check(snapshot_path: Path, requirement_paths: list[Path], today: dt.date) -> int:
    try:
        snapshot = json.loads(snapshot_path.read_text())
        pins = read_pins(requirement_paths)
    except (OSError, ValueError) as error:
        print(f"{PREFIX} ERROR - {error}")
        return 2
    packages = {canonicalize_name(name): entries for name, entries in snapshot.get("packages", {}).items()}
    age, days = age_line(snapshot, today)
    advisories = sum(len(entries) for entries in packages.values())
    print(f"{PREFIX} {snapshot.get('source', 'unknown source')}, {age}; {len(pins)} pins, {advisories} advisories")
    if days is None or days > STALE_DAYS:
        print(
            f"{PREFIX} WARNING - older than {STALE_DAYS} days: run `make audit-refresh` where the network reaches OSV"
        )
    uncovered = sorted(name for name in pins if name not in packages)
    if uncovered:
        print(f"{PREFIX} WARNING - not in the snapshot (pinned since its refresh): {', '.join(uncovered)}")
    findings = 0
    for name, version in sorted(pins.items()):
        for entry in packages.get(name, []):
            if affects(entry, version):
                findings += 1
                aliases = ", ".join(entry.get("aliases", []))
                fixed = ", ".join(entry.get("fixed_in", [])) or "no fix yet"
                print(
                    f"{PREFIX} {name} {version}: {entry['id']}{f' ({aliases})' if aliases else ''} (fixed in {fixed})"
                )
    if findings:
        print(f"{PREFIX} FAILED - {findings} advisory finding(s) against the pins")
        return 1
    print(f"{PREFIX} no pinned version is affected by an advisory in the snapshot")
    return 0


# --- refresh --------------------------------------------------------------------------------------


def specifiers_from_ranges(affected: dict) -> tuple[list[str], list[str]]:
    """OSV ranges (introduced/fixed/last_affected events) as PEP 440 specifiers, and the fixed versions."""
    specifiers, fixed_in = [], []
    for version_range in affected.get("ranges", []):
        if version_range.get("type") not in ("ECOSYSTEM", "SEMVER"):
            continue
        introduced = None
        for event in version_range.get("events", []):
            if "introduced" in event:
                introduced = event["introduced"]
            elif "fixed" in event or "last_affected" in event:
                if introduced is None:
                    continue
                lower = [] if introduced == "0" else [f">={introduced}"]
                if "fixed" in event:
                    specifiers.append(",".join([*lower, f"<{event['fixed']}"]))
                    fixed_in.append(event["fixed"])
                else:
                    specifiers.append(",".join([*lower, f"<={event['last_affected']}"]))
                introduced = None
        if introduced is not None:
            specifiers.append(">=0" if introduced == "0" else f">={introduced}")
    if not specifiers:
        specifiers = [f"=={version}" for version in affected.get("versions", [])]
    return specifiers, fixed_in


def entries_from_record(record: dict, name: str) -> list[dict]:
    """The snapshot entry an OSV record makes for one package (none if withdrawn or not about it)."""
    if record.get("withdrawn"):
        return []
    specifiers, fixed_in = [], []
    for affected in record.get("affected", []):
        package = affected.get("package", {})
        if package.get("ecosystem") != "PyPI" or canonicalize_name(package.get("name", "")) != name:
            continue
        found, fixed = specifiers_from_ranges(affected)
        specifiers += found
        fixed_in += fixed
    if not specifiers:
        return []
    return [
        {
            "id": record["id"],
            "aliases": sorted(record.get("aliases", [])),
            "affected": sorted(set(specifiers)),
            "fixed_in": sorted(set(fixed_in), key=_version_key),
        }
    ]


def _version_key(version: str):
    try:
        return (0, Version(version))
    except InvalidVersion:
        return (1, version)


def records_from_osv(name: str) -> list[dict]:
    records, token = [], None
    while True:
        query = {"package": {"name": name, "ecosystem": "PyPI"}}
        if token:
            query["page_token"] = token
        request = urllib.request.Request(
            OSV_QUERY, data=json.dumps(query).encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - a fixed https URL
            answer = json.load(response)
        records += answer.get("vulns", [])
        token = answer.get("next_page_token")
        if not token:
            return records


def records_from_dir(root: Path) -> dict[str, list[dict]]:
    """OSV records (YAML or JSON) under root, by the canonical names of the PyPI packages they affect."""
    import yaml  # PyYAML is pinned (drf-spectacular needs it)

    by_package: dict[str, list[dict]] = {}
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".yaml", ".yml", ".json") or not path.is_file():
            continue
        text = path.read_text()
        record = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        if not isinstance(record, dict) or "id" not in record:
            continue
        for affected in record.get("affected", []):
            package = affected.get("package", {})
            if package.get("ecosystem") == "PyPI":
                by_package.setdefault(canonicalize_name(package.get("name", "")), []).append(record)
    return by_package


def source_of_dir(root: Path) -> tuple[str, str]:
    """A name for a local database and the date of its data (its git commit's, else now)."""
    try:
        commit, date = subprocess.run(  # noqa: S603 - git on a path the caller named
            ["git", "-C", str(root), "log", "-1", "--format=%h %cI"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        return f"OSV records of {root.name}@{commit}", date
    except (OSError, subprocess.CalledProcessError, ValueError):
        return f"OSV records of {root.name}", dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def refresh(snapshot_path: Path, requirement_paths: list[Path], from_dir: Path | None, name: str | None) -> int:
    pins = read_pins(requirement_paths)
    packages: dict[str, list[dict]] = {}
    if from_dir is not None:
        by_package = records_from_dir(from_dir)
        source, as_of = source_of_dir(from_dir)
        source = source.replace(from_dir.name, name, 1) if name else source
    else:
        by_package, source = {}, "OSV API (api.osv.dev)"
        as_of = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        for name in sorted(pins):
            try:
                by_package[name] = records_from_osv(name)
            except OSError as error:
                print(f"{PREFIX} refresh FAILED - OSV could not be queried for {name}: {error}")
                print(f"{PREFIX} the snapshot is left as it was; offline, use --from-osv-dir DIR")
                return 2
    for name in sorted(pins):
        entries = [entry for record in by_package.get(name, []) for entry in entries_from_record(record, name)]
        packages[name] = sorted({entry["id"]: entry for entry in entries}.values(), key=lambda entry: entry["id"])
    snapshot = {
        "about": "Advisories for every pinned package, read offline by .ci/audit_snapshot.py check. "
        "Regenerate with `make audit-refresh` (online) and commit.",
        "source": source,
        "data_as_of": as_of,
        "packages": packages,
    }
    snapshot_path.write_text(json.dumps(snapshot, indent=1, sort_keys=False) + "\n")
    count = sum(len(entries) for entries in packages.values())
    print(f"{PREFIX} wrote {snapshot_path.name}: {count} advisories for {len(packages)} pinned packages ({source})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["check", "refresh"])
    parser.add_argument("--snapshot", type=Path, default=SNAPSHOT)
    parser.add_argument("--requirements", type=Path, action="append", help="default: both requirements files")
    parser.add_argument("--from-osv-dir", type=Path, help="refresh from a local OSV-format database")
    parser.add_argument("--source-name", help="how the snapshot names that database, e.g. pypa/advisory-database")
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.datetime.now(dt.UTC).date())
    args = parser.parse_args(argv)
    paths = args.requirements or REQUIREMENTS
    if args.command == "check":
        return check(args.snapshot, paths, args.today)
    return refresh(args.snapshot, paths, args.from_osv_dir, args.source_name)


if __name__ == "__main__":
    sys.exit(main())
