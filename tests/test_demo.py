"""`load_demo` builds the two demo cases through the services, once, and refuses without DEBUG."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from cases.choices import Role
from cases.models import Case, CaseMembership, Entity, Incident
from cases.stats import case_statistics
from evidence import custody, services
from evidence.choices import EventType, PhotoStatus
from evidence.demo import build, data
from evidence.models import Attribution, Checkpoint, CustodyEvent, EvidenceItem, Marking, Photo, Source, StoredFile

pytestmark = pytest.mark.django_db

FIVE_OBLASTS = {"Kyiv", "Kharkiv", "Poltava", "Donetsk", "Kirovohrad"}
COUNTED = (Case, CaseMembership, Incident, EvidenceItem, Photo, StoredFile, Marking, Source, Attribution,
           CustodyEvent, Checkpoint, get_user_model())  # fmt: skip


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
    [reading] = services.date_readings(hangul)
    assert (reading.start.year, reading.precision) == (2023, "year")
    assert hangul.verified_by_id not in (None, hangul.transcribed_by_id)  # four eyes
    assert hangul.region is not None
    assert hangul.photo.item_id == hangul.item_id
    [week] = services.date_readings(Marking.objects.get(item__case=case, transcription="2312"))
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

    assert services.attributions_of(case, viewer=prosecutor).contradicted
    assert Source.objects.filter(case=case, kind="un_report", reliability__in="AB").exists()
    types = set(CustodyEvent.objects.filter(case=case).values_list("event_type", flat=True))
    assert {EventType.CUSTODY_TRANSFER, EventType.EXAMINATION, EventType.PHOTO_PROCESSED} <= types
    assert {EventType.MARKING_VERIFIED, EventType.ATTRIBUTION_ADDED} <= types
    assert CustodyEvent.objects.filter(actor__isnull=False).exclude(event_type=EventType.PHOTO_PROCESSED).count() == (
        CustodyEvent.objects.exclude(event_type=EventType.PHOTO_PROCESSED).count()
    )

    second = Case.objects.get(reference="PGO-2024-0102")
    assert {"shipment", "other"} <= set(second.incidents.values_list("kind", flat=True))
    [rocket] = services.date_readings(Marking.objects.get(item__case=second, transcription="주체111.3"))
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

    before = counts()
    again = load_demo()
    assert counts() == before
    assert "PGO-2024-0101 exists already" in again
    assert "PGO-2024-0102 exists already" in again
    assert f"Demo login: prosecutor / {data.PASSWORD} / lead" in again


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
