"""The ledger encoding, hashing, checkpoints and verification: pure, no database."""

from __future__ import annotations

import hashlib
import itertools
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence.lib import ledger

CASE = "PGO-2024-0001"


def build_chain(payloads: list[dict], case: str = CASE) -> list[dict]:
    entries, prev = [], ledger.GENESIS_HASH
    for seq, payload in enumerate(payloads, start=1):
        record = ledger.event_record(
            case=case,
            seq=seq,
            event_type="item.updated",
            subject={"type": "evidence_item", "id": 7, "label": "EX-0001"},
            actor={"id": 3, "name": "ivan"},
            occurred_at=f"2024-01-02T05:4{seq % 10}:00.000000Z",
            recorded_at="2024-01-03T09:00:00.123456Z",
            corrects=None,
            payload=payload,
            prev=prev,
        )
        digest = ledger.event_hash(record)
        entries.append({**record, "hash": digest})
        prev = digest
    return entries


PAYLOADS = [
    {"item": {"title": "Rocket motor casing", "seal": "UA-0042"}},
    {"item": {"title": "Guidance section", "note": "Маркування: 주체112"}},
    {"transfer": {"from": "Police", "to": "Lab", "seal_intact": True}},
    {"examination": {"findings": "Stamp reads 2312", "lines": ["a", "b\nc"]}},
]


class TestCanonicalEncoding:
    def test_keys_sorted_no_spaces_utf8(self):
        assert ledger.canonical_json({"b": 1, "a": "Київ 평양"}) == '{"a":"Київ 평양","b":1}'.encode()

    def test_floats_and_huge_integers_are_refused(self):
        with pytest.raises(ledger.LedgerFormatError, match="floats"):
            ledger.canonical_json({"lat": 49.99})
        with pytest.raises(ledger.LedgerFormatError, match="2\\^53"):
            ledger.canonical_json({"n": 2**60})

    def test_event_hash_is_sha256_of_domain_and_canonical_record(self):
        record = build_chain(PAYLOADS[:1])[0]
        body = {name: record[name] for name in ledger.EVENT_FIELDS}
        expected = hashlib.sha256(
            b"attest-custody-event/v1\n"
            + json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        ).hexdigest()
        assert record["hash"] == expected

    def test_timestamps_are_utc_with_microseconds(self):
        from datetime import datetime, timedelta, timezone

        kyiv = timezone(timedelta(hours=2))
        moment = datetime(2024, 1, 2, 7, 40, 0, 5, tzinfo=kyiv)
        assert ledger.format_timestamp(moment) == "2024-01-02T05:40:00.000005Z"
        with pytest.raises(ledger.LedgerFormatError):
            ledger.format_timestamp(datetime(2024, 1, 2))


class TestVerifyChain:
    def test_an_untouched_chain_is_intact(self):
        chain = build_chain(PAYLOADS)
        report = ledger.verify_chain(chain, case=CASE)
        assert report.intact
        assert (report.size, report.head) == (4, chain[-1]["hash"])

    def test_an_empty_ledger_is_intact_at_genesis(self):
        report = ledger.verify_chain([], case=CASE)
        assert report.intact
        assert report.head == ledger.GENESIS_HASH

    def test_an_edited_payload_names_its_event(self):
        chain = build_chain(PAYLOADS)
        chain[1]["payload"]["item"]["title"] = "Something else"
        problem = ledger.verify_chain(chain, case=CASE).problem
        assert problem.seq == 2
        assert "does not match its hash" in problem.reason

    def test_a_missing_middle_event(self):
        chain = build_chain(PAYLOADS)
        del chain[1]
        problem = ledger.verify_chain(chain, case=CASE).problem
        assert problem.seq == 2
        assert "missing" in problem.reason

    def test_reordered_events(self):
        chain = build_chain(PAYLOADS)
        chain[1], chain[2] = chain[2], chain[1]
        problem = ledger.verify_chain(chain, case=CASE).problem
        assert problem.seq == 2
        assert "out of order" in problem.reason

    def test_an_event_of_another_case(self):
        chain = build_chain(PAYLOADS)
        chain[2] = build_chain(PAYLOADS, case="PGO-2024-0099")[2]
        assert ledger.verify_chain(chain, case=CASE).problem.seq == 3

    def test_a_relinked_forgery_breaks_at_the_following_event(self):
        chain = build_chain(PAYLOADS)
        forged = build_chain([PAYLOADS[0], {"item": {"title": "Planted"}}])[1]
        # A forged event whose hash is right, inserted as number 2: event 3's link no longer fits.
        chain[1] = forged
        problem = ledger.verify_chain(chain, case=CASE).problem
        assert problem.seq == 3
        assert "link" in problem.reason


def export_lines(chain: list[dict]) -> list[bytes]:
    return [ledger.ledger_line({k: v for k, v in e.items() if k != "hash"}, e["hash"]) + b"\n" for e in chain]


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_single_byte_changed_in_an_exported_ledger_is_detected(data):
    lines = export_lines(build_chain(PAYLOADS))
    index = data.draw(st.integers(0, len(lines) - 1), label="line")
    position = data.draw(st.integers(0, len(lines[index]) - 1), label="byte")
    replacement = data.draw(st.integers(0, 255).filter(lambda b: b != lines[index][position]), label="value")
    changed = bytearray(lines[index])
    changed[position] = replacement
    lines[index] = bytes(changed)
    try:
        entries = ledger.parse_ledger_lines(lines)
    except ledger.LedgerFormatError:
        return  # refused as unreadable or non-canonical: detected
    assert not ledger.verify_chain(entries, case=CASE).intact


class TestCheckpoints:
    @pytest.fixture
    def key(self):
        return Ed25519PrivateKey.generate()

    @pytest.fixture
    def trusted(self, key):
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {ledger.key_id(raw): raw}

    def sign(self, key, chain, size, signed_at="2024-02-01T00:00:00.000000Z"):
        head = chain[size - 1]["hash"] if size else ledger.GENESIS_HASH
        return ledger.sign_checkpoint(key, case=CASE, size=size, head=head, signed_at=signed_at)

    def test_a_checkpoint_verifies_against_its_chain(self, key, trusted):
        chain = build_chain(PAYLOADS)
        hashes = {e["seq"]: e["hash"] for e in chain}
        checkpoint = self.sign(key, chain, 3)
        assert ledger.verify_checkpoints([checkpoint], hashes, case=CASE, public_keys=trusted) is None

    def test_truncation_below_a_checkpoint_is_caught(self, key, trusted):
        chain = build_chain(PAYLOADS)
        checkpoint = self.sign(key, chain, 4)
        hashes = {e["seq"]: e["hash"] for e in chain[:2]}
        problem = ledger.verify_checkpoints([checkpoint], hashes, case=CASE, public_keys=trusted)
        assert "has 2 events but a head of size 4" in problem.reason

    def test_a_chain_rewritten_without_the_key_no_longer_matches(self, key, trusted):
        chain = build_chain(PAYLOADS)
        checkpoint = self.sign(key, chain, 4)
        rewritten = build_chain([PAYLOADS[0], {"item": {"title": "Rewritten"}}, *PAYLOADS[2:]])
        assert ledger.verify_chain(rewritten, case=CASE).intact  # internally consistent …
        hashes = {e["seq"]: e["hash"] for e in rewritten}
        problem = ledger.verify_checkpoints([checkpoint], hashes, case=CASE, public_keys=trusted)
        assert "rewritten" in problem.reason  # … but not what was signed

    def test_a_forged_checkpoint_or_an_untrusted_key_fails(self, key, trusted):
        chain = build_chain(PAYLOADS)
        hashes = {e["seq"]: e["hash"] for e in chain}
        forged = {**self.sign(key, chain, 3), "size": 4, "head": chain[3]["hash"]}
        assert "does not verify" in ledger.verify_checkpoints([forged], hashes, case=CASE, public_keys=trusted).reason
        stranger = self.sign(Ed25519PrivateKey.generate(), chain, 3)
        assert (
            "not a trusted key" in ledger.verify_checkpoints([stranger], hashes, case=CASE, public_keys=trusted).reason
        )

    def test_checkpoints_never_shrink(self, key, trusted):
        chain = build_chain(PAYLOADS)
        hashes = {e["seq"]: e["hash"] for e in chain}
        first = self.sign(key, chain, 4, signed_at="2024-02-01T00:00:00.000000Z")
        later = self.sign(key, chain, 2, signed_at="2024-02-02T00:00:00.000000Z")
        problem = ledger.verify_checkpoints([later, first], hashes, case=CASE, public_keys=trusted)
        assert "shrank" in problem.reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3:" + "ab" * 32, (3, "ab" * 32)),
        ("0:" + "0" * 64, (0, "0" * 64)),
        (" 12:" + "AB" * 32, (12, "ab" * 32)),
    ],
)
def test_parse_head(text, expected):
    assert ledger.parse_head(text) == expected


@pytest.mark.parametrize("text", ["", "3", "x:" + "ab" * 32, "3:abc", "-1:" + "ab" * 32])
def test_parse_head_refuses_malformed(text):
    with pytest.raises(ledger.LedgerFormatError):
        ledger.parse_head(text)


# --- verify_chain's short path (_plainly_intact) ---------------------------------------------------


def canonical_chain(payloads: list[dict]) -> list[dict]:
    """build_chain with each payload a CanonicalObject, as the database verifier builds entries."""
    chain = build_chain(payloads)
    for entry in chain:
        entry["payload"] = ledger.canonical_object(ledger.canonical_json(entry["payload"]).decode())
    return chain


class Text(str):
    pass


ODD_VALUES = [
    None, True, False, 0, 1, 2, -1, 2**53, 2**60, 1.0, "", "x", "\ud800", Text("x"), {}, [], ["x"],
    {"id": 3, "name": "ivan"}, {"type": "evidence_item", "id": 7, "label": "EX-0001"},
    "2024-01-02T05:40:00.000000Z", "2024-01-02 05:40:00", ledger.GENESIS_HASH, "A" * 64, "event.corrected",
    CASE, Text(CASE), ledger.canonical_object('{"a":1}'), ledger.canonical_object('{"a":"\u00e9"}'),
]  # fmt: skip
FIELD_PATHS = [(name,) for name in (*ledger.EVENT_FIELDS, "hash")] + [
    ("subject", "type"), ("subject", "id"), ("subject", "label"), ("actor", "id"), ("actor", "name"),
]  # fmt: skip


def rehash_from(chain: list[dict], index: int) -> None:
    """Recompute the hashes (and the links after the first) from `index` on, where the reference can."""
    for position in range(index, len(chain)):
        entry = chain[position]
        if position > index:
            entry["prev"] = chain[position - 1]["hash"]
        try:
            entry["hash"] = ledger.event_hash({name: entry[name] for name in ledger.EVENT_FIELDS})
        except (ledger.LedgerFormatError, KeyError, TypeError, AttributeError):
            return


@pytest.mark.parametrize("path", FIELD_PATHS, ids=".".join)
def test_the_short_path_gives_the_long_paths_verdict_and_words(path):
    """Whatever one member of an entry is changed to (a type that only looks right, a string
    subclass, a huge integer, a lone surrogate, another object), or if it is removed or a member
    added beside it, with or without the hashes recomputed after it, verify_chain reports exactly
    what it reports without the short path. Every combination, at the first, a middle, the
    corrected and the last entry."""
    from unittest import mock

    base = canonical_chain(PAYLOADS * 2)
    base[5] = {**base[5], "type": "event.corrected", "corrects": 2}
    rehash_from(base, 5)
    changes = [("set", value) for value in ODD_VALUES] + [("delete", None), ("extra", None)]
    checked = 0
    for index in (0, 3, 5, len(base) - 1):
        for (action, value), rehash in itertools.product(changes, (False, True)):
            chain = [dict(entry) for entry in base]
            target = chain[index]
            if len(path) == 2:
                inner = target[path[0]] = dict(target[path[0]])
                target = inner
            if action == "set":
                target[path[-1]] = value
            elif action == "delete":
                del target[path[-1]]
            else:
                target["extra"] = 1
            if rehash:
                rehash_from(chain, index)
            report = ledger.verify_chain(chain, case=CASE)
            with mock.patch.object(ledger, "_plainly_intact", return_value=False):
                assert ledger.verify_chain(chain, case=CASE) == report, (index, action, value, rehash)
            checked += 1
    assert checked == 4 * len(changes) * 2


def test_an_intact_canonical_chain_takes_the_short_path():
    """The database verifier's entries are checked the short way: the long checks are not reached."""
    from unittest import mock

    chain = canonical_chain(PAYLOADS)
    chain.append({**chain[-1], "seq": 5, "type": "event.corrected", "corrects": 2, "prev": chain[-1]["hash"]})
    rehash_from(chain, 4)
    with mock.patch.object(ledger, "_shape_problem", side_effect=AssertionError("the long path was taken")):
        report = ledger.verify_chain(chain, case=CASE)
    assert report.intact
    assert (report.size, report.head) == (5, chain[-1]["hash"])


# --- the database verifier's reading of a row's two times (evidence.custody._ledger_times) ------------

BOTH_UTC = ("+00", None)


@pytest.mark.parametrize(
    ("occurred", "recorded", "offsets", "expected"),
    [
        ("2024-01-02 05:40:00", "2024-01-03 09:15:33.481903", BOTH_UTC,
         ("2024-01-02T05:40:00.000000Z", "2024-01-03T09:15:33.481903Z")),
        ("2024-01-02 05:40:00.5+00", "2024-01-03 09:15:33+00", ("+00",),
         ("2024-01-02T05:40:00.500000Z", "2024-01-03T09:15:33.000000Z")),
        ("2024-01-02 05:40:00", "2024-01-03 09:15:33+00", ("+00",), None),  # naive where the zone is not UTC
        ("2024-01-02 05:40:00+03", "2024-01-03 09:15:33", BOTH_UTC, None),  # another offset
        ("2024-02-30 05:40:00", "2024-01-03 09:15:33", BOTH_UTC, None),  # no 30 February
        ("2024-01-02 05:40:00", "2024-01-03 09:15:60", BOTH_UTC, None),  # no second 60
        ("2024-01-02 05:40:00\n2024-01-02 05:40:00", "2024-01-03 09:15:33", BOTH_UTC, None),  # two in one
        ("2024-01-02 05:40:00", None, BOTH_UTC, None),
        ("2024-01-02T05:40:00", "2024-01-03 09:15:33", BOTH_UTC, None),  # a spelling Django does not write
        ("2024-01-02 05:40:00", "2024-01-03 09:15:33", (), None),  # USE_TZ off: no spelling is UTC
    ],
)  # fmt: skip
def test_a_rows_two_times_are_read_only_in_the_spellings_the_database_gives(occurred, recorded, offsets, expected):
    """Anything else (None) is read through Django's conversion by the long way."""
    from evidence.custody import _ledger_times

    assert _ledger_times(occurred, recorded, offsets) == expected
