"""`load_demo` builds the two demo cases through the services, once, and refuses without DEBUG."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from cases.choices import Role
from cases.models import Case, CaseMembership, Entity, Incident
from cases.stats import case_statistics
from evidence import custody, selectors
from evidence.choices import EventType, PhotoStatus
from evidence.demo import build, data
from evidence.models import (
    Attribution,
    Checkpoint,
    Component,
    CustodyEvent,
    DateCodeReading,
    EvidenceItem,
    Manufacturer,
    Marking,
    Photo,
    Source,
    StoredFile,
    TraceRequest,
    TraceResponse,
)

pytestmark = pytest.mark.django_db

FIVE_OBLASTS = {"Kyiv", "Kharkiv", "Poltava", "Donetsk", "Kirovohrad"}
COUNTED = (Case, CaseMembership, Incident, EvidenceItem, Photo, StoredFile, Marking, Source, Attribution,
           CustodyEvent, Checkpoint, Component, DateCodeReading, TraceRequest, TraceResponse, Entity,
           get_user_model())  # fmt: skip


@pytest.fixture
def load_demo(eager_tasks, django_capture_on_commit_callbacks, settings):
    """Run the command as make run does: DEBUG on (pytest-django turns it off for tests), tasks in-process on commit."""
    settings.DEBUG = True

    def run() -> str:
        out = io.StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("load_demo", stdout=out)
        return out.getvalue()

    return run


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


def test_the_invented_details_agree_with_the_reported_facts():
    data.check()  # raises on any disagreement: totals, dates, regions, ranges


def test_load_demo_builds_both_cases_through_the_services_and_only_once(load_demo, api):
    output = load_demo()

    case = Case.objects.get(reference="PGO-2024-0101")
    stats = case_statistics(case)
    assert 45 <= stats["launches"] <= 55
    assert 0.4 <= stats["failed_in_flight_share"] <= 0.6
    assert (stats["killed"], stats["wounded"]) == (24, 115)
    assert stats["launches_identified_by_debris"] == 21
    assert set(stats["by_region"]) >= FIVE_OBLASTS
    prosecutor = get_user_model().objects.get(username="prosecutor")
    assert api(prosecutor).get(f"/api/v1/cases/{case.pk}/stats/").json() == stats

    incidents = list(case.incidents.all())
    debris_regions = {i.region.removesuffix(" City") for i in incidents if "debris" in i.identification_basis}
    assert debris_regions == FIVE_OBLASTS
    assert {i.launch_site.split(",")[0] for i in incidents} == {"Belgorod Oblast", "Voronezh Oblast", "Kursk Oblast"}
    for incident in incidents:
        assert Decimal("50") <= incident.launch_latitude <= Decimal("52")
        assert Decimal("35") <= incident.launch_longitude <= Decimal("40")
        assert incident.weapon_system.name == "Hwasong-11"
        if incident.country == "Ukraine":
            assert Decimal("44.3") <= incident.latitude <= Decimal("52.4")
            assert Decimal("22.1") <= incident.longitude <= Decimal("40.3")
    dates = sorted(incident.occurred_at.astimezone(data.KYIV).date().isoformat() for incident in incidents)
    assert (dates[0], dates[-1]) == ("2023-12-30", "2024-02-27")

    hangul = Marking.objects.get(item__case=case, transcription="주체112")
    [reading] = selectors.date_readings(hangul)
    assert (reading.start.year, reading.precision) == (2023, "year")
    assert hangul.verified_by_id not in (None, hangul.transcribed_by_id)  # four eyes
    assert hangul.region is not None
    assert hangul.photo.item_id == hangul.item_id
    [week] = selectors.date_readings(Marking.objects.get(item__case=case, transcription="2312"))
    assert (week.start.isoformat(), week.precision) == ("2023-03-20", "week")
    assert Marking.objects.filter(item__case=case, transcription=data.CONNECTOR_TYPE).exists()
    component = hangul.item
    assert (component.kind, component.parent.kind, component.country_of_origin) == (
        "component",
        "physical_debris",
        "DPRK",
    )

    photos = list(Photo.objects.all())
    assert 10 <= len(photos) <= 16
    for photo in photos:
        assert photo.status == PhotoStatus.DONE, photo.error
        assert photo.gps_latitude is not None
        assert photo.gps_longitude is not None
        assert (photo.camera_make, photo.captured_at_source) == ("Attest demo camera", "exif")
        assert 1600 <= max(photo.width, photo.height) <= 2400
    assert {6, 3} <= {photo.orientation for photo in photos}

    assert selectors.attributions_of(case, viewer=prosecutor).contradicted
    assert Source.objects.filter(case=case, kind="un_report", reliability__in="AB").exists()
    types = set(CustodyEvent.objects.filter(case=case).values_list("event_type", flat=True))
    assert {EventType.CUSTODY_TRANSFER, EventType.EXAMINATION, EventType.PHOTO_PROCESSED} <= types
    assert {EventType.MARKING_VERIFIED, EventType.ATTRIBUTION_ADDED} <= types
    # Every event has an actor but those of the photo pipeline and of the deadline sweep (mark_overdue).
    without_actor = CustodyEvent.objects.filter(actor__isnull=True).exclude(event_type=EventType.PHOTO_PROCESSED)
    [sweep] = without_actor
    assert (sweep.event_type, sweep.payload_data["reason"]) == (EventType.TRACE_UPDATED, "no answer by the deadline")
    components_and_trace_requests(case, prosecutor)

    second = Case.objects.get(reference="PGO-2024-0102")
    assert {"shipment", "other"} <= set(second.incidents.values_list("kind", flat=True))
    [rocket] = selectors.date_readings(Marking.objects.get(item__case=second, transcription="주체111.3"))
    assert (rocket.start.isoformat(), rocket.precision) == ("2022-03-01", "month")
    for each in (case, second):
        report = custody.verify_case(each)
        assert report.intact, report.problems
        assert report.checkpoints == 1
        roles = dict(CaseMembership.objects.filter(case=each).values_list("user__username", "role"))
        assert roles == {"prosecutor": Role.LEAD, "investigator": Role.INVESTIGATOR, "analyst": Role.ANALYST,
                         "viewer": Role.VIEWER}  # fmt: skip
    for user in data.USERS:
        assert f"Demo login: {user.username} / {data.PASSWORD} / {user.role}" in output
        assert get_user_model().objects.get(username=user.username).is_staff

    out = io.StringIO()
    call_command("verify_custody", stdout=out)  # exits non-zero (an exception here) unless every ledger is intact
    assert "PGO-2024-0101" in out.getvalue()

    before = counts()
    again = load_demo()
    assert counts() == before
    assert "PGO-2024-0101 exists already" in again
    assert "PGO-2024-0102 exists already" in again
    assert f"Demo login: prosecutor / {data.PASSWORD} / lead" in again


def components_and_trace_requests(case, prosecutor):
    """The main case's component table, its verified date codes, and its two trace requests."""
    components = list(Component.objects.filter(item__case=case).select_related("item", "manufacturer"))
    assert 10 <= len(components) <= 16
    assert {"guidance", "power", "servo", "processing", "connector"} <= {c.function for c in components}
    board = {c.designator: c for c in components if c.item.title.startswith("Guidance-section circuit board")}
    assert set(board) == {f"U{n}" for n in range(2, 10)}
    for component in components:
        markings = list(component.markings.all())
        assert markings, component  # every part carries the markings read off it
        assert all(marking.item_id == component.item_id for marking in markings)
        assert all(marking.region is not None for marking in markings)  # on its photo
        if component.manufacturer:
            assert "[demo]" in component.manufacturer.name
            assert "[demo]" in component.manufacturer.legal_name or not component.manufacturer.legal_name
            assert component.manufacturer.country
    assert not Marking.objects.filter(item__case=case, component__isnull=True).exists()

    readings = DateCodeReading.objects.filter(component__item__case=case)
    counted = list(readings.counted())
    assert len(counted) >= 10
    assert readings.count() > len(counted)  # one waits for its second reader: carried, not counted
    assert all(reading.verified_by_id not in (None, reading.recorded_by_id) for reading in counted)  # four eyes
    [juche] = readings.filter(raw_code="주체112")
    assert (juche.rule, juche.earliest.isoformat(), juche.latest.isoformat()) == ("JUCHE/1", "2023-01-01", "2023-12-31")
    [ambiguous] = readings.filter(raw_code="2312")
    assert {window["rule"] for window in ambiguous.windows} == {"YYWW", "YYMM"}
    assert ambiguous.earliest.isoformat() == "2023-03-20"  # the earliest window bounds, whichever is right
    assert readings.filter(rule="YYWW/1").count() >= 8
    newest = max(reading.earliest for reading in counted)
    assert newest.isoformat() == "2023-10-02"  # U2's 2340: the missile was assembled on or after that day
    assert newest < dt.date(2024, 1, 2)  # before the strike on Kharkiv
    inference = selectors.assembly_inference(case)
    assert inference.not_before == newest
    assert inference.readings_counted == len(counted)

    requests = {r.status: r for r in TraceRequest.objects.filter(case=case)}
    assert set(requests) == {"answered", "no_answer"}
    answered, overdue = requests["answered"], requests["no_answer"]
    for request in (answered, overdue):
        assert request.letter_id is not None
        assert request.due_on == request.sent_on + dt.timedelta(days=28)
    assert overdue.due_on < dt.date.today()
    assert overdue.overdue_since is not None
    [response] = TraceResponse.objects.filter(request=answered)
    distributor = response.names_distributor
    assert distributor is not None
    assert "[demo]" in distributor.name
    assert isinstance(response.screening, list)  # screened against the sanctions lists
    assert response.file_id is not None
    assert {c.distributor_id for c in answered.components.all()} == {distributor.pk}
    restricted = Manufacturer.objects.filter(may_be_named=False)
    assert [m.name for m in restricted] == [answered.manufacturer.name]
    types = set(CustodyEvent.objects.filter(case=case).values_list("event_type", flat=True))
    assert {"component.recorded", "reading.recorded", "reading.verified", "trace.letter", "trace.answered"} <= types


def test_an_interrupted_build_leaves_no_half_built_case_and_the_next_run_builds_it(load_demo, monkeypatch):
    def fails_at_the_end(users, folder):
        build.build_shipment_case(users, folder)
        raise RuntimeError("interrupted")

    monkeypatch.setattr(build, "CASES", ((data.SHIPMENT_CASE, fails_at_the_end),))
    with pytest.raises(RuntimeError, match="interrupted"):
        load_demo()
    assert not Case.objects.filter(reference="PGO-2024-0102").exists()
    assert not CustodyEvent.objects.exists()
    assert not Photo.objects.exists()

    monkeypatch.setattr(build, "CASES", ((data.SHIPMENT_CASE, build.build_shipment_case),))
    output = load_demo()
    assert "PGO-2024-0102 built" in output
    case = Case.objects.get(reference="PGO-2024-0102")
    assert Photo.objects.get(item__case=case).status == PhotoStatus.DONE
    assert custody.verify_case(case).intact  # the original stored by the failed run is the same bytes


def test_sanctioned_entities_imported_later_are_linked_on_the_next_run(load_demo, monkeypatch):
    monkeypatch.setattr(build, "CASES", ((data.SHIPMENT_CASE, build.build_shipment_case),))
    load_demo()
    case = Case.objects.get(reference="PGO-2024-0102")
    assert not case.entities.exists()
    komid = Entity.objects.create(
        kind="organisation", name="KOREA MINING DEVELOPMENT TRADING CORPORATION", list_name="OFAC SDN", list_id="9345"
    )
    assert "linked sanctioned entities" in load_demo()
    assert list(case.entities.all()) == [komid]


def test_load_demo_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("load_demo", stdout=io.StringIO())
    assert not get_user_model().objects.filter(username="prosecutor").exists()
    assert not Case.objects.exists()
