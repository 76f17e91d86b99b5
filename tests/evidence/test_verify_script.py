"""The standalone verify.py of evidence packages, against the reference implementation and the spec.

Packages are built with evidence.lib.ledger (pure, no database). Most checks call the script's
main() in-process (loaded from its file, as the other side would run it); a few run it as a real
subprocess with sys.executable.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import importlib.util
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence.lib import ledger

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "evidence" / "export" / "verify.py"
SPEC = ROOT / "docs" / "custody-format.md"
CASE = "PGO-2024-0001"
# RFC 8032, section 7.1, TEST 1: a published test key, used by the worked example of the spec.
RFC8032_TEST1 = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")


def load_script():
    spec = importlib.util.spec_from_file_location("attest_package_verify", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


verify = load_script()

PHOTO, DOSSIER = b"\xff\xd8 photo", b"%PDF"  # the package's two evidence files
ITEM = {"id": 7, "title": "Rocket motor casing", "place": "Харків", "note": 'a "stamp"\nline\u2028'}
EVENTS = [
    ("item.created", {"item": ITEM}, None, {"id": 3, "name": "ivan"}),
    (
        "custody.transfer",
        {"item": ITEM, "transfer": {"from": "Police", "to": "Lab", "seal_intact": True, "notes": ""}},
        None,
        {"id": 3, "name": "ivan"},
    ),
    (
        "item.examined",
        {"item": ITEM, "examination": {"findings": "주체112 stamp"}},
        None,
        {"id": 4, "name": "o"},
    ),
    ("event.corrected", {"reason": "typo", "correction": {"findings": "주체111"}}, 3, None),
    # The ledger records each file the package ships (section 10): the photo as it was added, the
    # dossier as the package was sealed.
    ("photo.added", {"photo": {"id": 1, "sha256": hashlib.sha256(PHOTO).hexdigest(), "size": len(PHOTO)}}, None,
     {"id": 3, "name": "ivan"}),
    ("package.sealed", {"files": [{"path": "exports/dossier.pdf", "sha256": hashlib.sha256(DOSSIER).hexdigest(),
                                   "size": len(DOSSIER)}]}, None, None),
]  # fmt: skip


def build_chain(case: str = CASE) -> list[dict]:
    entries, prev = [], ledger.GENESIS_HASH
    for seq, (event_type, payload, corrects, actor) in enumerate(EVENTS, start=1):
        record = ledger.event_record(
            case=case,
            seq=seq,
            event_type=event_type,
            subject={"type": "evidence_item", "id": 7, "label": "EX-0001"},
            actor=actor,
            occurred_at=f"2024-01-0{seq}T05:40:00.000000Z",
            recorded_at=f"2024-01-0{seq}T09:00:00.123456Z",
            corrects=corrects,
            payload=payload,
            prev=prev,
        )
        prev = ledger.event_hash(record)
        entries.append({**record, "hash": prev})
    return entries


def line_of(entry: dict) -> bytes:
    return ledger.ledger_line({k: v for k, v in entry.items() if k != "hash"}, entry["hash"]) + b"\n"


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def sign(key, chain: list[dict], size: int, signed_at: str) -> dict:
    head = chain[size - 1]["hash"] if size else ledger.GENESIS_HASH
    return ledger.sign_checkpoint(key, case=CASE, size=size, head=head, signed_at=signed_at)


def write_package(root: Path, key: Ed25519PrivateKey, chain: list[dict]) -> Path:
    data = root / "data"
    for folder in ("ledger", "checkpoints", "public-keys", "originals", "exports"):
        (data / folder).mkdir(parents=True)
    (data / "ledger" / f"{CASE}.jsonl").write_bytes(b"".join(line_of(entry) for entry in chain))
    checkpoints = [
        sign(key, chain, 2, "2024-02-01T00:00:00.000000Z"),
        sign(key, chain, 4, "2024-02-02T00:00:00.000000Z"),
        sign(key, chain, 6, "2024-02-03T00:00:00.000000Z"),
    ]
    (data / "checkpoints" / f"{CASE}.json").write_text(json.dumps(checkpoints, indent=2))
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (data / "public-keys" / "attest.pem").write_bytes(pem)
    manifest = []
    for relative, content in (("originals/photo-1.jpg", PHOTO), ("exports/dossier.pdf", DOSSIER)):
        (data / relative).write_bytes(content)
        manifest.append({"path": relative, "sha256": hashlib.sha256(content).hexdigest(), "size": len(content)})
    (data / "files.json").write_text(json.dumps(manifest))
    return root


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def chain() -> list[dict]:
    return build_chain()


@pytest.fixture
def package(tmp_path, key, chain) -> Path:
    return write_package(tmp_path / "bag", key, chain)


def run(package: Path, *args: str) -> tuple[int, str]:
    """main() in-process: the exit status and what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        status = verify.main([str(package), *args])
    return status, out.getvalue()


def run_subprocess(*args: str, code: str | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", code, *args] if code else [sys.executable, str(SCRIPT), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def ledger_path(package: Path) -> Path:
    return package / "data" / "ledger" / f"{CASE}.jsonl"


def edit_lines(package: Path, change) -> None:
    lines = ledger_path(package).read_bytes().splitlines(keepends=True)
    ledger_path(package).write_bytes(b"".join(change(lines)))


# --- The real invocation -----------------------------------------------------------------


def test_an_intact_package_without_anchors_exits_2_as_a_subprocess(package, chain):
    result = run_subprocess(str(package))
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout.startswith(
        f"{CASE}: INTACT BUT UNANCHORED (6 events, head {chain[-1]['hash']}, 3 checkpoints, 2 files): "
        "nothing from outside the package vouches for it; give the head (--head) and the key fingerprint"
    )


def test_an_intact_package_with_its_anchors_exits_0_as_a_subprocess(package, chain, key):
    fingerprint = hashlib.sha256(raw_public(key)).hexdigest()
    result = run_subprocess(str(package), "--head", f"4:{chain[3]['hash']}", "--key-fingerprint", fingerprint)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == (
        f"{CASE}: INTACT AND ANCHORED (6 events, head {chain[-1]['hash']}, 3 checkpoints, 2 files; anchors: "
        f"head 4:{chain[3]['hash']}; key {fingerprint} signed up to event 6)\n"
    )


def test_without_cryptography_it_refuses_to_run(package):
    code = (
        "import runpy, sys; sys.modules['cryptography'] = None; "
        f"sys.argv = [{str(SCRIPT)!r}, *sys.argv[1:]]; runpy.run_path({str(SCRIPT)!r}, run_name='__main__')"
    )
    result = run_subprocess(str(package), code=code)
    assert result.returncode == 3
    assert "cryptography" in result.stderr
    assert result.stdout == ""


# --- Each kind of tampering --------------------------------------------------------------


def test_a_head_alone_anchors_the_ledger_but_not_files_recorded_after_it(package, chain):
    status, output = run(package, "--head", f"2:{chain[1]['hash'].upper()}")
    assert status == 2
    assert output.startswith(
        f"{CASE}: INTACT BUT UNANCHORED (6 events, head {chain[-1]['hash']}, 3 checkpoints, 2 files"
    )
    assert (
        "cover the ledger up to event 2, and it records exports/dossier.pdf, originals/photo-1.jpg only after" in output
    )
    status, output = run(package, "--head", f"6:{chain[5]['hash'].upper()}")
    assert (status, f"anchors: head 6:{chain[5]['hash']})" in output) == (0, True)


def test_one_byte_of_a_file_changed(package):
    path = package / "data" / "exports" / "dossier.pdf"
    path.write_bytes(b"%PDX")
    status, output = run(package)
    assert status == 1
    assert output.startswith(f"{CASE}: BROKEN - file exports/dossier.pdf: its SHA-256 is ")


def test_a_missing_file(package):
    (package / "data" / "originals" / "photo-1.jpg").unlink()
    assert run(package) == (1, f"{CASE}: BROKEN - file originals/photo-1.jpg: the file is missing\n")


def test_a_payload_edited_in_canonical_form(package):
    def change(lines):
        entry = json.loads(lines[1])
        entry["payload"]["transfer"]["to"] = "Somebody else"
        return [lines[0], ledger.canonical_json(entry) + b"\n", *lines[2:]]

    edit_lines(package, change)
    status, output = run(package)
    assert status == 1
    assert output == f"{CASE}: BROKEN - event 2: its content does not match its hash (the event was altered)\n"


def test_a_line_removed_from_the_middle(package):
    edit_lines(package, lambda lines: [lines[0], *lines[2:]])
    status, output = run(package)
    assert status == 1
    assert "event 3: sequence number 3 where 2 was expected" in output


def test_the_last_line_removed_under_a_checkpoint(package):
    edit_lines(package, lambda lines: lines[:-1])
    status, output = run(package)
    assert status == 1
    assert "checkpoint of size 6 signed 2024-02-03T00:00:00.000000Z: the ledger has 5 events, fewer than 6" in output


def test_a_checkpoint_signed_by_an_untrusted_key(package, chain):
    path = package / "data" / "checkpoints" / f"{CASE}.json"
    stranger = Ed25519PrivateKey.generate()
    forged = sign(stranger, chain, 4, "2024-02-03T00:00:00.000000Z")
    path.write_text(json.dumps([*json.loads(path.read_text()), forged]))
    status, output = run(package)
    assert status == 1
    assert f"signed with key '{ledger.key_id(raw_public(stranger))}', which is not a trusted key" in output


def test_only_keys_given_with_key_are_trusted(package, tmp_path):
    other = tmp_path / "other.pem"
    other.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    status, output = run(package, "--key", str(other))
    assert status == 1
    assert "not a trusted key" in output
    assert run(package, "--key", str(package / "data" / "public-keys" / "attest.pem"))[0] == 0


def test_a_checkpoint_altered_after_signing(package, chain):
    path = package / "data" / "checkpoints" / f"{CASE}.json"
    checkpoints = json.loads(path.read_text())
    checkpoints[0] |= {"size": 3, "head": chain[2]["hash"]}
    path.write_text(json.dumps(checkpoints))
    status, output = run(package)
    assert status == 1
    assert "checkpoint of size 3 signed 2024-02-01T00:00:00.000000Z: the checkpoint signature does not verify" in output


def test_checkpoints_never_shrink(package, key, chain):
    path = package / "data" / "checkpoints" / f"{CASE}.json"
    later = sign(key, chain, 3, "2024-02-05T00:00:00.000000Z")
    path.write_text(json.dumps([*json.loads(path.read_text()), later]))
    assert "the ledger shrank: an earlier checkpoint had size 6" in run(package)[1]


def test_missing_checkpoints_are_not_an_empty_list(package):
    (package / "data" / "checkpoints" / f"{CASE}.json").unlink()
    status, output = run(package)
    assert status == 1
    assert f"data/checkpoints/{CASE}.json: missing" in output


@pytest.mark.parametrize(
    ("head", "reason"),
    [
        ("3:{event2}", "event 3 no longer has hash {event2} (the chain was rewritten)"),
        ("7:{event2}", "the ledger has 6 events, fewer than 7 (events were removed)"),
        ("0:{event2}", "size 0 must have the genesis head"),
    ],
)
def test_a_wrong_published_head(package, chain, head, reason):
    event2 = chain[1]["hash"]
    status, output = run(package, "--head", head.format(event2=event2))
    assert status == 1
    assert output == f"{CASE}: BROKEN - published head {head.format(event2=event2)}: {reason.format(event2=event2)}\n"


def test_a_non_canonical_line(package):
    edit_lines(package, lambda lines: [lines[0], lines[1].replace(b",", b", ", 1), *lines[2:]])
    assert run(package) == (1, f"{CASE}: BROKEN - line 2: not in canonical form\n")


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"a":1.5}', "not valid ledger JSON (the number 1.5 is not an integer"),
        (b'{"a":1,"a":1}', "not valid ledger JSON (the key 'a' appears twice)"),
        (b'{"a":9007199254740992}', "not valid ledger JSON (an integer beyond"),
        (b'{"a":"\\ud800"}', "not valid ledger JSON (a string with a lone surrogate)"),
        (b'{"a":' + b"1" * 5000 + b"}", "not valid ledger JSON ("),
        (b"[" * 100_000 + b"]" * 100_000, "not valid ledger JSON ("),
        (b'{"a":"\\u00e9"}', "not in canonical form"),
        (b'{"a":"\\u001F"}', "not in canonical form"),
    ],
)
def test_malformed_lines_are_reported_not_crashed_on(package, line, reason):
    edit_lines(package, lambda lines: [lines[0], line + b"\n", *lines[1:]])
    status, output = run(package)
    assert status == 1
    assert f"line 2: {reason}" in output


def test_a_missing_final_newline(package):
    path = ledger_path(package)
    path.write_bytes(path.read_bytes()[:-1])
    assert run(package) == (1, f"{CASE}: BROKEN - line 6: not terminated by a newline\n")


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["BAG", "--head", "2:abc"],
        ["BAG", "--head", "x:" + "0" * 64],
        ["BAG", "--head", "OTHER:0:" + "0" * 64],
        ["BAG", "--bogus"],
        ["BAG", "--key-fingerprint", "abc"],
    ],
)
def test_usage_errors_exit_3_with_one_line(package, args):
    out = io.StringIO()
    with contextlib.redirect_stderr(out), contextlib.redirect_stdout(out):
        status = verify.main([str(package) if arg == "BAG" else arg for arg in args])
    assert status == 3
    assert out.getvalue().count("\n") == 1
    assert out.getvalue().startswith("verify.py: ")


def test_a_folder_that_is_not_a_package(tmp_path):
    assert run(tmp_path)[0] == 3


# --- Forgeries by someone holding the server: rewritten, re-signed, files swapped ---------------


def resign(package: Path, chain: list[dict], forger: Ed25519PrivateKey) -> None:
    """The forger's own key replaces the package's, and signs checkpoints of the rewritten chain."""
    (package / "data" / "ledger" / f"{CASE}.jsonl").write_bytes(b"".join(line_of(entry) for entry in chain))
    checkpoints = [sign(forger, chain, len(chain), "2024-02-03T00:00:00.000000Z")]
    (package / "data" / "checkpoints" / f"{CASE}.json").write_text(json.dumps(checkpoints))
    for old in (package / "data" / "public-keys").glob("*.pem"):
        old.unlink()
    pem = forger.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (package / "data" / "public-keys" / "attest.pem").write_bytes(pem)


def rewritten(chain: list[dict], seq: int, payload: dict) -> list[dict]:
    """The chain from event `seq` on rewritten consistently (every later hash recomputed)."""
    entries, prev = list(chain[: seq - 1]), chain[seq - 2]["hash"] if seq > 1 else ledger.GENESIS_HASH
    for entry in chain[seq - 1 :]:
        record = {name: entry[name] for name in ledger.EVENT_FIELDS}
        record["prev"] = prev
        if entry["seq"] == seq:
            record["payload"] = payload
        prev = ledger.event_hash(record)
        entries.append({**record, "hash": prev})
    return entries


def test_a_rewritten_resigned_history_is_unanchored_alone_and_broken_against_the_dossiers_anchors(package, chain, key):
    true_fingerprint = hashlib.sha256(raw_public(key)).hexdigest()
    forged = rewritten(chain, 3, {"item": ITEM, "examination": {"findings": "nothing found"}})
    resign(package, forged, Ed25519PrivateKey.generate())
    status, output = run(package)
    assert status == 2
    assert "INTACT BUT UNANCHORED" in output
    status, output = run(package, "--head", f"4:{chain[3]['hash']}")
    assert status == 1
    assert "event 4 no longer has hash" in output
    status, output = run(package, "--key-fingerprint", true_fingerprint)
    assert status == 1
    assert "which is not a trusted key" in output


def test_a_photo_replaced_with_files_json_updated_is_broken(package, chain, key):
    altered = b"\xff\xd8 altered photo"
    (package / "data" / "originals" / "photo-1.jpg").write_bytes(altered)
    manifest = json.loads((package / "data" / "files.json").read_text())
    manifest[0].update(sha256=hashlib.sha256(altered).hexdigest(), size=len(altered))
    (package / "data" / "files.json").write_text(json.dumps(manifest))
    fingerprint = hashlib.sha256(raw_public(key)).hexdigest()
    status, output = run(package, "--head", f"6:{chain[5]['hash']}", "--key-fingerprint", fingerprint)
    assert status == 1
    assert "file originals/photo-1.jpg: the ledger records no file with SHA-256" in output


def test_a_photo_replaced_and_recorded_by_an_appended_event_is_not_anchored(package, chain, key):
    """The forger appends a photo.added for the altered copy: the chain still holds every earlier head."""
    altered = b"\xff\xd8 altered photo"
    (package / "data" / "originals" / "photo-1.jpg").write_bytes(altered)
    manifest = json.loads((package / "data" / "files.json").read_text())
    manifest[0].update(sha256=hashlib.sha256(altered).hexdigest(), size=len(altered))
    (package / "data" / "files.json").write_text(json.dumps(manifest))
    record = ledger.event_record(
        case=CASE, seq=7, event_type="photo.added", subject={"type": "photo", "id": 1, "label": "EX-0001"},
        actor=None, occurred_at="2024-03-01T00:00:00.000000Z", recorded_at="2024-03-01T00:00:00.000000Z",
        corrects=None, payload={"photo": {"sha256": manifest[0]["sha256"]}}, prev=chain[-1]["hash"],
    )  # fmt: skip
    with ledger_path(package).open("ab") as handle:
        handle.write(line_of({**record, "hash": ledger.event_hash(record)}))
    status, output = run(package, "--head", f"6:{chain[5]['hash']}")
    assert status == 2
    assert "records originals/photo-1.jpg only after that" in output


@pytest.mark.parametrize(
    ("forge", "reason"),
    [
        (lambda data: (data / "case.json").write_text('{"incidents": [{"killed": 999}]}'),
         "file case.json: the ledger records no file with SHA-256"),
        (lambda data: (data / "originals" / "extra.jpg").write_bytes(b"\xff\xd8"),
         "file originals/extra.jpg: not listed in data/files.json"),
        (lambda data: (data / "originals" / "link.jpg").symlink_to(data / "originals" / "photo-1.jpg"),
         "file originals/link.jpg: a symbolic link"),
    ],
)  # fmt: skip
def test_anything_in_data_the_ledger_does_not_vouch_for_is_broken(package, forge, reason):
    forge(package / "data")
    status, output = run(package)
    assert status == 1
    assert reason in output


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda manifest: manifest.append(dict(manifest[0])), "listed twice in data/files.json"),
        (lambda manifest: manifest[0].update(path="originals\\photo-1.jpg"), "must be relative, use /"),
        (lambda manifest: manifest[0].update(path="ledger/PGO-2024-0001.jsonl"), "a package's own metadata"),
    ],
)
def test_files_json_paths_are_strict(package, change, reason):
    manifest = json.loads((package / "data" / "files.json").read_text())
    change(manifest)
    (package / "data" / "files.json").write_text(json.dumps(manifest))
    status, output = run(package)
    assert status == 1
    assert reason in output


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, key) -> tuple[Path, bytes]:
    package = write_package(tmp_path_factory.mktemp("flip") / "bag", key, build_chain())
    return package, ledger_path(package).read_bytes()


def reference_says_broken(package: Path, raw: bytes, key: Ed25519PrivateKey) -> bool:
    *lines, rest = raw.split(b"\n")
    try:
        entries = ledger.parse_ledger_lines([line + b"\n" for line in lines] + ([rest] if rest else []))
    except ledger.LedgerFormatError:
        return True
    chain = ledger.verify_chain(entries, case=CASE)
    if not chain.intact:
        return True
    hashes = {entry["seq"]: entry["hash"] for entry in entries}
    checkpoints = json.loads((package / "data" / "checkpoints" / f"{CASE}.json").read_text())
    trusted = {ledger.key_id(raw_public(key)): raw_public(key)}
    return ledger.verify_checkpoints(checkpoints, hashes, case=CASE, public_keys=trusted) is not None


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_any_flipped_byte_of_the_ledger_is_caught(pristine, key, data):
    package, original = pristine
    position = data.draw(st.integers(0, len(original) - 1), label="position")
    value = data.draw(st.integers(0, 255).filter(lambda byte: byte != original[position]), label="value")
    changed = bytearray(original)
    changed[position] = value
    try:
        ledger_path(package).write_bytes(bytes(changed))
        status, output = run(package)
    finally:
        ledger_path(package).write_bytes(original)
    assert status == 1, output
    assert ": BROKEN - " in output
    assert reference_says_broken(package, bytes(changed), key)


# --- One specification, two implementations ------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-ledger.MAX_SAFE_INTEGER, ledger.MAX_SAFE_INTEGER)
    | st.text(st.characters(exclude_categories=["Cs"])),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(st.characters(exclude_categories=["Cs"]), max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_the_script_encodes_exactly_like_the_reference(value):
    encoded = verify.canonical(value)
    assert encoded == ledger.canonical_json(value)
    assert verify.parse_json(encoded) == value


@pytest.mark.parametrize("value", [{"a": 1.0}, {"a": 2**53}, {"a": -(2**53)}, {"a": "\ud800"}, {1: "a"}])
def test_both_implementations_refuse_the_same_values(value):
    with pytest.raises(ledger.LedgerFormatError):
        ledger.canonical_json(value)
    with pytest.raises(ValueError, match=r"float|beyond|surrogate|key"):
        verify.canonical(value)


def test_the_script_hashes_like_the_reference(chain):
    for entry in chain:
        assert verify.event_hash(entry) == ledger.event_hash({k: entry[k] for k in ledger.EVENT_FIELDS})
        assert verify.event_hash(entry) == entry["hash"]
    assert verify.key_id(b"\x01" * 32) == ledger.key_id(b"\x01" * 32)


def test_the_script_imports_only_the_standard_library_cryptography_and_for_timestamps_rfc3161_client():
    tree = ast.parse(SCRIPT.read_text(encoding="utf-8"))
    modules = set()
    # orjson, a faster JSON codec, is optional: imported only in a try that falls back without it.
    optional = [
        node.body[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Try)
        and any(getattr(handler.type, "id", "") == "ImportError" for handler in node.handlers)
        and isinstance(node.body[0], ast.Import)
        and [alias.name for alias in node.body[0].names] == ["orjson"]
    ]
    assert len(optional) == 1
    for node in ast.walk(tree):
        if node in optional:
            continue
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports"
            modules.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "__import__":
            pytest.fail("no dynamic imports")
    roots = {name.split(".")[0] for name in modules}
    assert roots - set(sys.stdlib_module_names) == {"cryptography", "rfc3161_client"}


# --- The worked example of docs/custody-format.md is real ---------------------------------


def spec_blocks(kind: str) -> list[str]:
    return [body for lang, body in re.findall(r"```(\w+)\n(.*?)```", SPEC.read_text("utf-8"), re.S) if lang == kind]


def test_the_worked_example_hashes(tmp_path):
    text = SPEC.read_text("utf-8")
    hashed = [block.strip() for block in spec_blocks("text") if block.startswith('{"actor"')]
    listed = re.findall(r"SHA-256: `([0-9a-f]{64})`", text)
    assert len(hashed) == len(listed) == 2
    exported = spec_blocks("jsonl")[0].encode("utf-8")
    entries = ledger.parse_ledger_lines(exported.splitlines(keepends=True))
    for body, digest, entry in zip(hashed, listed, entries, strict=True):
        assert hashlib.sha256(ledger.EVENT_DOMAIN + body.encode("utf-8")).hexdigest() == digest
        assert ledger.event_hash({k: entry[k] for k in ledger.EVENT_FIELDS}) == digest
        assert verify.event_hash(entry) == digest == entry["hash"]
        assert f"these {len(body.encode())} bytes" in text
    assert f"{len(exported)} bytes" in text
    assert hashlib.sha256(exported).hexdigest() in text
    assert ledger.EVENT_DOMAIN.hex(" ") in text
    assert ledger.CHECKPOINT_DOMAIN.hex(" ") in text


def test_the_worked_example_canonical_bytes():
    text = SPEC.read_text("utf-8")
    first = {"Z": {}, "a": 'Ж\n"x"\u0001\u007f', "b": [1, True, None], "é": -5}
    second = {"😀": 1, "\uff61": 2, "b": "\u2028\t\u007f"}
    for value in (first, second):
        encoded = ledger.canonical_json(value)
        assert verify.canonical(value) == encoded
        hex_text = encoded.hex(" ")
        assert any(" ".join(block.split()) == hex_text for block in spec_blocks("text")), hex_text
        assert f"these {len(encoded)} bytes" in text


def test_the_worked_example_checkpoints_are_reproducible():
    text = SPEC.read_text("utf-8")
    key = Ed25519PrivateKey.from_private_bytes(RFC8032_TEST1)
    (checkpoint,) = json.loads(spec_blocks("json")[0])
    again = ledger.sign_checkpoint(key, case=CASE, size=2, head=checkpoint["head"], signed_at=checkpoint["signed_at"])
    assert again == checkpoint
    empty = ledger.sign_checkpoint(
        key, case=CASE, size=0, head=ledger.GENESIS_HASH, signed_at="2024-01-03T00:00:00.000000Z"
    )
    assert f"`{empty['signature']}`" in text
    message = ledger.checkpoint_message(**{k: checkpoint[k] for k in ledger.CHECKPOINT_FIELDS[1:]})
    assert message.removeprefix(ledger.CHECKPOINT_DOMAIN).decode() in text
    assert raw_public(key).hex() in text
    assert hashlib.sha256(raw_public(key)).hexdigest() in text


def test_the_worked_example_package_verifies_as_the_spec_says(tmp_path):
    text = SPEC.read_text("utf-8")
    data = tmp_path / "bag" / "data"
    for folder in ("ledger", "checkpoints", "public-keys"):
        (data / folder).mkdir(parents=True)
    (data / "ledger" / f"{CASE}.jsonl").write_bytes(spec_blocks("jsonl")[0].encode("utf-8"))
    (data / "checkpoints" / f"{CASE}.json").write_text(spec_blocks("json")[0])
    (pem,) = [block for block in spec_blocks("text") if "BEGIN PUBLIC KEY" in block]
    (data / "public-keys" / "rfc8032-test1.pem").write_text(pem)
    (data / "files.json").write_text("[]")
    shutil.copy(SCRIPT, tmp_path / "bag" / "verify.py")
    head = re.search(r"`python verify.py BAG_DIR --head (\S+)`", text).group(1)
    (expected,) = [block for block in spec_blocks("text") if f"{CASE}: INTACT AND ANCHORED (" in block]
    result = subprocess.run(
        [sys.executable, "verify.py", ".", "--head", head],
        cwd=tmp_path / "bag",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout) == (0, expected)


# --- Strict where the format page is strict (sections 4 and 8) ----------------------------------


def rechained(chain: list[dict], seq: int, **changes) -> list[dict]:
    """The chain with event `seq` changed and every hash from it on recomputed: only the rule breaks."""
    entries, prev = [], ledger.GENESIS_HASH
    for entry in chain:
        record = {name: entry[name] for name in ledger.EVENT_FIELDS}
        record["prev"] = prev
        if entry["seq"] == seq:
            record.update(changes)
        prev = verify.event_hash(record)
        entries.append({**record, "hash": prev})
    return entries


@pytest.mark.parametrize(
    ("seq", "changes", "reason"),
    [
        (1, {"case": 7}, "case and type must be strings"),
        (1, {"type": ""}, "case and type must be strings"),
        (1, {"subject": {"type": "evidence_item", "id": "7", "label": "EX-0001"}}, "its id an integer"),
        (1, {"subject": {"type": 1, "id": 7, "label": "EX-0001"}}, "subject's type and label must be strings"),
        (1, {"actor": {"id": "3", "name": "ivan"}}, "actor's id must be an integer"),
        (1, {"actor": {"id": 3, "name": None}}, "actor's id must be an integer and its name a string"),
        (1, {"occurred_at": "2024-01-01T05:40:00Z"}, "occurred_at is not a timestamp"),
        (2, {"recorded_at": "2024-01-02 09:00:00.123456Z"}, "recorded_at is not a timestamp"),
        (4, {"corrects": 4}, "must name an earlier event"),
        (4, {"corrects": 9}, "must name an earlier event"),
        (4, {"corrects": None}, "must name an earlier event"),
        (2, {"corrects": 1}, "corrects must be null except in an event.corrected"),
    ],
)
def test_every_member_has_the_type_section_4_gives_it(package, chain, seq, changes, reason):
    forged = rechained(chain, seq, **changes)
    (package / "data" / "ledger" / f"{CASE}.jsonl").write_bytes(b"".join(line_of(entry) for entry in forged))
    status, output = run(package)
    assert status == 1
    assert output.startswith(f"{CASE}: BROKEN - event {seq}: ")
    assert reason in output


def checkpoints_of(package: Path) -> list[dict]:
    return json.loads((package / "data" / "checkpoints" / f"{CASE}.json").read_text())


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda cp: cp.update(note="hi"), "unknown field(s) note"),
        (lambda cp: cp.update(key=cp["key"].upper()), "key is not 16 lowercase hex digits"),
        (lambda cp: cp.update(signature=cp["signature"].rstrip("=")), "not the canonical base64"),
        (lambda cp: cp.update(signature=" " + cp["signature"]), "not the canonical base64"),
        # The last character of 64 bytes in base64 carries 2 spare bits: a second spelling of the same bytes.
        (lambda cp: cp.update(signature=cp["signature"][:85] + chr(ord(cp["signature"][85]) ^ 1) + "=="),
         "not the canonical base64"),
    ],
)  # fmt: skip
def test_checkpoints_hold_exactly_the_members_of_section_8(package, change, reason):
    checkpoints = checkpoints_of(package)
    change(checkpoints[0])
    (package / "data" / "checkpoints" / f"{CASE}.json").write_text(json.dumps(checkpoints))
    status, output = run(package)
    assert status == 1
    assert reason in output


def test_checkpoints_with_equal_times_are_taken_smallest_size_first(package, key, chain):
    """Section 8: in signed_at order, then by size. Listed largest first, they still do not shrink."""
    same_time = "2024-02-04T00:00:00.000000Z"
    checkpoints = [sign(key, chain, 6, same_time), sign(key, chain, 5, same_time)]
    (package / "data" / "checkpoints" / f"{CASE}.json").write_text(json.dumps(checkpoints))
    assert run(package)[0] == 2
