"""Evidence items and the custody ledger against the database: rights, events, append-only, tampering."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.http import Http404
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidence import custody, services
from evidence.choices import EventType, ItemStatus
from evidence.lib import ledger
from evidence.models import Checkpoint, CustodyEvent, EvidenceIsPermanent, EvidenceItem
from tests.factories import EvidenceItemFactory

WHEN = datetime(2024, 1, 2, 9, 30, tzinfo=UTC)


@contextmanager
def as_database_attacker():
    """Someone with database access and no key: on PostgreSQL they first switch the trigger off."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Deferred foreign-key checks of rows inserted by the test must fire before the ALTER.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE evidence_custodyevent DISABLE TRIGGER USER")
            cursor.execute("ALTER TABLE evidence_checkpoint DISABLE TRIGGER USER")
        yield cursor
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE evidence_custodyevent ENABLE TRIGGER USER")
            cursor.execute("ALTER TABLE evidence_checkpoint ENABLE TRIGGER USER")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def events(case):
    return list(CustodyEvent.objects.filter(case=case).order_by("sequence"))


class TestItems:
    def test_exhibit_numbers_run_in_sequence_per_case(self, team):
        first = EvidenceItemFactory(case=team.case, actor=team.ivan)
        second = EvidenceItemFactory(case=team.case, actor=team.ivan)
        elsewhere = EvidenceItemFactory(case=team.other_case)
        assert (first.exhibit_number, second.exhibit_number) == ("EX-0001", "EX-0002")
        assert elsewhere.exhibit_number == "EX-0001"

    @pytest.mark.parametrize(("persona", "allowed"), [("vera", False), ("bob", False), ("ivan", True)])
    def test_recording_evidence_needs_the_investigator_role(self, team, persona, allowed):
        actor = getattr(team, persona)
        if allowed:
            assert services.create_item(actor=actor, case=team.case, kind="physical_debris", title="Nozzle")
        else:
            with pytest.raises(PermissionDenied):
                services.create_item(actor=actor, case=team.case, kind="physical_debris", title="Nozzle")
            assert not EvidenceItem.objects.exists()
            assert not CustodyEvent.objects.exists()

    def test_an_outsider_gets_not_found(self, team):
        with pytest.raises(Http404):
            services.create_item(actor=team.charlie, case=team.case, kind="sample", title="Soil")

    def test_creation_writes_the_full_state_to_the_ledger(self, team):
        item = EvidenceItemFactory(case=team.case, actor=team.ivan, recovery_latitude="49.993500")
        [event] = events(team.case)
        assert (event.sequence, event.event_type, event.subject_label) == (
            1,
            EventType.ITEM_CREATED,
            "EX-0001",
        )
        assert event.prev_hash == ledger.GENESIS_HASH
        assert event.actor == team.ivan
        state = event.payload_data["item"]
        assert state["title"] == item.title
        assert state["recovery_latitude"] == "49.993500"
        assert state["exhibit_number"] == "EX-0001"
        assert state["case_id"] == team.case.pk

    def test_an_update_appends_the_new_state_and_what_changed(self, team):
        item = EvidenceItemFactory(case=team.case, actor=team.ivan)
        services.update_item(actor=team.ivan, item=item, condition="Scorched", reason="re-examined")
        event = events(team.case)[-1]
        assert event.event_type == EventType.ITEM_UPDATED
        assert event.sequence == 2
        assert event.payload_data["changed"] == ["condition"]
        assert event.payload_data["item"]["condition"] == "Scorched"
        assert event.prev_hash == events(team.case)[0].hash

    def test_an_update_without_change_appends_nothing(self, team):
        item = EvidenceItemFactory(case=team.case, actor=team.ivan)
        services.update_item(actor=team.ivan, item=item, title=item.title)
        assert len(events(team.case)) == 1

    def test_custody_fields_change_only_by_transfer(self, team):
        item = EvidenceItemFactory(case=team.case, actor=team.ivan)
        with pytest.raises(ValidationError) as error:
            services.update_item(actor=team.ivan, item=item, custodian="Someone")
        assert "custodian" in error.value.message_dict

    def test_a_transfer_records_from_to_and_seal(self, team):
        item = EvidenceItemFactory(case=team.case, actor=team.ivan, custodian="Kharkiv police")
        services.transfer_custody(
            actor=team.ivan,
            item=item,
            to_custodian="Kyiv forensic laboratory",
            occurred_at=WHEN,
            place="Kharkiv",
            purpose="metallurgical examination",
            seal_intact=True,
            status=ItemStatus.IN_LABORATORY,
        )
        item.refresh_from_db()
        assert (item.custodian, item.status) == ("Kyiv forensic laboratory", ItemStatus.IN_LABORATORY)
        event = events(team.case)[-1]
        assert event.event_type == EventType.CUSTODY_TRANSFER
        assert event.occurred_at == WHEN
        assert event.payload_data["transfer"] == {
            "from": "Kharkiv police",
            "to": "Kyiv forensic laboratory",
            "place": "Kharkiv",
            "purpose": "metallurgical examination",
            "seal_intact": True,
            "notes": "",
        }

    def test_a_component_taken_from_debris_and_no_cycles(self, team):
        debris = EvidenceItemFactory(case=team.case, actor=team.ivan)
        part = EvidenceItemFactory(case=team.case, actor=team.ivan, kind="component", parent=debris)
        assert part.parent == debris
        with pytest.raises(ValidationError):
            services.update_item(actor=team.ivan, item=debris, parent=part)
        foreign = EvidenceItemFactory(case=team.other_case)
        with pytest.raises(ValidationError):
            services.create_item(actor=team.ivan, case=team.case, kind="component", title="x", parent=foreign)

    def test_a_correction_names_the_event_it_corrects(self, team):
        item = EvidenceItemFactory(case=team.case, actor=team.ivan)
        transfer = services.transfer_custody(actor=team.ivan, item=item, to_custodian="Lab", occurred_at=WHEN)
        fix = services.correct_event(
            actor=team.ivan,
            event=transfer,
            reason="wrong hour typed",
            correction={"occurred_at": datetime(2024, 1, 2, 10, 30, tzinfo=UTC)},
        )
        assert fix.corrects == transfer
        assert fix.event_type == EventType.CORRECTION
        assert fix.payload_data["correction"] == {"occurred_at": "2024-01-02T10:30:00.000000Z"}
        assert custody.verify_case(team.case).intact

    def test_items_are_never_deleted(self, team):
        item = EvidenceItemFactory(case=team.case, actor=team.ivan)
        with pytest.raises(EvidenceIsPermanent):
            item.delete()
        with pytest.raises(EvidenceIsPermanent):
            EvidenceItem.objects.all().delete()


class TestAppendOnly:
    def test_the_model_refuses_update_and_delete(self, team):
        EvidenceItemFactory(case=team.case, actor=team.ivan)
        event = CustodyEvent.objects.get()
        event.payload = "{}"
        with pytest.raises(EvidenceIsPermanent):
            event.save()
        with pytest.raises(EvidenceIsPermanent):
            event.delete()
        with pytest.raises(EvidenceIsPermanent):
            CustodyEvent.objects.update(payload="{}")
        with pytest.raises(EvidenceIsPermanent):
            CustodyEvent.objects.all().delete()

    @pytest.mark.postgres
    @pytest.mark.parametrize(
        "sql",
        ["UPDATE evidence_custodyevent SET payload = '{}'", "DELETE FROM evidence_custodyevent"],
    )
    def test_postgresql_itself_refuses_update_and_delete(self, team, sql):
        EvidenceItemFactory(case=team.case, actor=team.ivan)
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as c,
        ):
            c.execute(sql)
        assert CustodyEvent.objects.count() == 1

    @pytest.mark.django_db(transaction=True)
    def test_append_outside_a_transaction_is_refused(self, team):
        with pytest.raises(RuntimeError, match="inside the transaction"):
            custody.append_event(
                case=team.case,
                event_type=EventType.EXAMINATION,
                subject_type="case",
                subject_id=team.case.pk,
                subject_label=team.case.reference,
                actor=None,
                payload={},
            )


class TestAppendAfter:
    """append_event(after=...) for a second event of the same transaction: no second read of the head."""

    @staticmethod
    def append(team, *, after=None, case=None):
        return custody.append_event(
            case=case or team.case,
            event_type=EventType.EXAMINATION,
            subject_type="case",
            subject_id=team.case.pk,
            subject_label=team.case.reference,
            actor=None,
            payload={"n": 1},
            after=after,
        )

    def test_the_second_event_links_to_the_first_as_a_read_of_the_head_would(self, team):
        EvidenceItemFactory(case=team.case, actor=team.ivan)
        with transaction.atomic():
            first = self.append(team)
            second = self.append(team, after=first)
        assert (second.sequence, second.prev_hash) == (first.sequence + 1, first.hash)
        assert custody.verify_case(team.case, files=False).intact

    def test_an_event_that_is_not_the_head_fails_and_leaves_the_ledger_as_it_was(self, team):
        with transaction.atomic():
            first = self.append(team)
            self.append(team, after=first)
        count = CustodyEvent.objects.filter(case=team.case).count()
        with pytest.raises(IntegrityError), transaction.atomic():
            self.append(team, after=first)  # its successor exists: the same sequence again
        assert CustodyEvent.objects.filter(case=team.case).count() == count
        assert custody.verify_case(team.case, files=False).intact

    def test_an_event_of_another_case_is_refused(self, team):
        with transaction.atomic():
            other = self.append(team, case=team.other_case)
            with pytest.raises(ValueError, match="same case"):
                self.append(team, after=other)


@pytest.fixture
def ledger_of_five(team):
    """A case whose ledger has five events and a signed checkpoint at its head."""
    item = EvidenceItemFactory(case=team.case, actor=team.ivan)
    services.transfer_custody(actor=team.ivan, item=item, to_custodian="Lab", occurred_at=WHEN)
    services.record_examination(actor=team.ivan, item=item, occurred_at=WHEN, examiner="Dr K.", findings="ok")
    services.update_item(actor=team.ivan, item=item, condition="Cut open")
    EvidenceItemFactory(case=team.case, actor=team.ivan)
    checkpoint = custody.sign_checkpoint(case=team.case, reason="test")
    assert checkpoint.size == 5
    return team.case


def verify(case, *args) -> tuple[int, str]:
    from io import StringIO

    out = StringIO()
    try:
        call_command("verify_custody", case.reference, *args, stdout=out, stderr=StringIO())
    except SystemExit as exit_:
        return exit_.code, out.getvalue()
    return 0, out.getvalue()


class TestTamperMatrix:
    """Each way of tampering is caught by verify_custody, which names the event at fault."""

    def test_an_untouched_ledger_is_intact(self, ledger_of_five):
        code, out = verify(ledger_of_five)
        assert code == 0
        assert "intact (5 events" in out
        assert "1 checkpoints" in out

    def test_it_prints_the_full_head_and_the_heads_it_was_checked_against(self, ledger_of_five):
        from evidence import custody

        size, head = custody.head(ledger_of_five)
        code, out = verify(ledger_of_five, "--head", f"{size}:{head}")
        assert code == 0
        assert f"head {head}, " in out
        assert out.rstrip().endswith(f"checked against head {size}:{head})")

    def test_payload_edited(self, ledger_of_five):
        with as_database_attacker() as cursor:
            cursor.execute(
                "UPDATE evidence_custodyevent SET payload = REPLACE(payload, 'Cut open', 'Intact') WHERE sequence = 4"
            )
        code, out = verify(ledger_of_five)
        assert code == 1
        assert "event 4: its content does not match its hash" in out

    def test_hash_edited(self, ledger_of_five):
        with as_database_attacker() as cursor:
            cursor.execute("UPDATE evidence_custodyevent SET hash = %s WHERE sequence = 3", ["f" * 64])
        code, out = verify(ledger_of_five)
        assert code == 1
        assert "event 3: its content does not match its hash" in out

    def test_middle_event_deleted(self, ledger_of_five):
        with as_database_attacker() as cursor:
            cursor.execute("DELETE FROM evidence_custodyevent WHERE sequence = 2")
        code, out = verify(ledger_of_five)
        assert code == 1
        assert "event 3: sequence number 3 where 2 was expected" in out

    def test_last_events_deleted_with_a_checkpoint_held(self, ledger_of_five):
        with as_database_attacker() as cursor:
            cursor.execute("DELETE FROM evidence_custodyevent WHERE sequence >= 4")
        code, out = verify(ledger_of_five)
        assert code == 1
        assert "has 3 events but a head of size 5 was published" in out

    def test_last_events_and_checkpoints_deleted_but_a_published_head_held(self, ledger_of_five):
        published = f"5:{custody.head(ledger_of_five)[1]}"
        with as_database_attacker() as cursor:
            cursor.execute("DELETE FROM evidence_custodyevent WHERE sequence >= 4")
            cursor.execute("DELETE FROM evidence_checkpoint")
        assert verify(ledger_of_five)[0] == 0  # without anything held, a clean truncation looks intact …
        code, out = verify(ledger_of_five, "--head", published)
        assert code == 1
        assert "published head 5" in out

    def test_events_reordered(self, ledger_of_five):
        with as_database_attacker() as cursor:
            cursor.execute("UPDATE evidence_custodyevent SET sequence = 100 WHERE sequence = 2")
            cursor.execute("UPDATE evidence_custodyevent SET sequence = 2 WHERE sequence = 3")
            cursor.execute("UPDATE evidence_custodyevent SET sequence = 3 WHERE sequence = 100")
        code, out = verify(ledger_of_five)
        assert code == 1
        assert "event 2: its link to the previous event is broken" in out

    def test_forged_event_inserted(self, ledger_of_five):
        second = CustodyEvent.objects.get(case=ledger_of_five, sequence=2)
        record = second.record(ledger_of_five.reference, None)
        record["payload"] = {"transfer": {"to": "An unknown courier"}}
        with as_database_attacker() as cursor:
            cursor.execute("UPDATE evidence_custodyevent SET sequence = sequence + 10 WHERE sequence >= 2")
            cursor.execute("UPDATE evidence_custodyevent SET sequence = sequence - 9 WHERE sequence >= 12")
            cursor.execute(
                "INSERT INTO evidence_custodyevent (case_id, sequence, event_type, subject_type, subject_id,"
                " subject_label, actor_id, actor_name, occurred_at, recorded_at, corrects_id, payload,"
                " prev_hash, hash) SELECT case_id, 2, event_type, subject_type, subject_id, subject_label,"
                " actor_id, actor_name, occurred_at, recorded_at, NULL, %s, prev_hash, %s"
                " FROM evidence_custodyevent WHERE id = %s",
                [ledger.canonical_json(record["payload"]).decode(), ledger.event_hash(record), second.pk],
            )
        code, out = verify(ledger_of_five)
        assert code == 1
        assert "event 3: its link to the previous event is broken" in out

    def test_whole_chain_recomputed_without_the_key(self, ledger_of_five):
        prev = ledger.GENESIS_HASH
        with as_database_attacker() as cursor:
            for event in events(ledger_of_five):
                record = event.record(ledger_of_five.reference, None)
                if event.sequence == 2:
                    record["payload"]["transfer"]["to"] = "An unknown courier"
                record["prev"] = prev
                prev = ledger.event_hash(record)
                cursor.execute(
                    "UPDATE evidence_custodyevent SET payload = %s, prev_hash = %s, hash = %s WHERE id = %s",
                    [ledger.canonical_json(record["payload"]).decode(), record["prev"], prev, event.pk],
                )
        code, out = verify(ledger_of_five)
        assert code == 1
        assert "checkpoint of size 5" in out
        assert "rewritten" in out

    def test_a_forged_checkpoint_does_not_verify(self, ledger_of_five):
        with as_database_attacker() as cursor:
            cursor.execute("UPDATE evidence_checkpoint SET head_hash = %s", ["a" * 64])
        code, out = verify(ledger_of_five)
        assert code == 1
        assert "signature does not verify" in out

    def test_an_unknown_case_or_bad_head_is_one_clear_error(self, ledger_of_five):
        from django.core.management.base import CommandError

        with pytest.raises(CommandError, match="no such case: PGO-1999-0001"):
            call_command("verify_custody", "PGO-1999-0001")
        with pytest.raises(CommandError, match="--head"):
            call_command("verify_custody", ledger_of_five.reference, "--head", "5:zz")


COLUMNS = ("sequence", "event_type", "subject_type", "subject_id", "subject_label", "actor_name", "payload")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_single_byte_changed_in_a_ledger_row_is_detected(ledger_of_five, data):
    event = data.draw(st.sampled_from(events(ledger_of_five)), label="event")
    column = data.draw(st.sampled_from([*COLUMNS, "occurred_at", "recorded_at", "prev_hash", "hash"]))
    original = getattr(event, column)
    text = (ledger.format_timestamp(original) if isinstance(original, datetime) else str(original)).encode()
    position = data.draw(st.integers(0, len(text) - 1), label="byte")
    value = data.draw(st.integers(32, 126).filter(lambda b: b != text[position]), label="value")
    changed = bytearray(text)
    changed[position] = value
    try:
        new_text = changed.decode()
    except UnicodeDecodeError:
        return  # not storable in a text column at all
    with transaction.atomic():
        sid = transaction.savepoint()
        try:
            with as_database_attacker() as cursor:
                if isinstance(original, datetime):
                    try:
                        new_value = datetime.strptime(new_text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
                    except ValueError:
                        return  # not a time the column can hold
                    if new_value == original:
                        return  # another spelling of the same instant: nothing changed in the row
                elif isinstance(original, int):
                    if not new_text.isdigit() or int(new_text) == original:
                        return
                    new_value = int(new_text)
                else:
                    new_value = new_text
                try:
                    with transaction.atomic():
                        cursor.execute(
                            f"UPDATE evidence_custodyevent SET {column} = %s WHERE id = %s",  # noqa: S608
                            [new_value, event.pk],
                        )
                except IntegrityError:
                    return  # e.g. a duplicate sequence number: the database itself refused it
            assert not custody.verify_case(ledger_of_five, files=False).intact, (column, new_text)
        finally:
            transaction.savepoint_rollback(sid)


def test_verification_report_is_json_ready(ledger_of_five):
    report = custody.verify_case(ledger_of_five)
    assert json.loads(json.dumps(report.as_dict()))["intact"] is True
    assert Checkpoint.objects.filter(case=ledger_of_five).count() == 1


@pytest.mark.django_db
def test_a_fixity_check_on_request_is_for_investigators_and_leads(team, monkeypatch):
    EvidenceItemFactory(case=team.case, actor=team.ivan)
    read_files = []
    real_verify = custody.verify_case
    monkeypatch.setattr(custody, "verify_case", lambda case, **kw: read_files.append(case) or real_verify(case, **kw))
    for member in (team.vera, team.bob):
        with pytest.raises(PermissionDenied):
            services.check_fixity(actor=member, case=team.case)
    with pytest.raises(Http404):
        services.check_fixity(actor=team.charlie, case=team.case)
    assert read_files == []  # refused before a single file is re-hashed
    for member in (team.ivan, team.alice):
        assert services.check_fixity(actor=member, case=team.case).intact
    actors = CustodyEvent.objects.filter(event_type=EventType.FIXITY_CHECK).values_list("actor_name", flat=True)
    assert list(actors) == ["ivan", "alice"]
