"""The case overview: a case's read-only landing page in the admin (issue 17, section 2)."""

from __future__ import annotations

import html
import json
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from cases.models import AccessLog
from evidence.admin.overview import coordinate_text
from evidence.choices import PhotoStatus
from evidence.models import Export, Photo
from tests.factories import EvidenceItemFactory, IncidentFactory, MarkingFactory, PhotoFactory

pytestmark = pytest.mark.django_db


def overview_url(case) -> str:
    return reverse("admin:cases_case_overview", args=[case.pk])


def processed(photo, **fields) -> Photo:
    """A photo as the pipeline leaves it (the tests do not run the pipeline)."""
    Photo.objects.filter(pk=photo.pk).update(status=PhotoStatus.DONE, **fields)
    photo.refresh_from_db()
    return photo


def fill(case, count: int) -> None:
    """`count` incidents and exhibits (each with its custody event), one photo with a position, one marking."""
    for number in range(count):
        incident = IncidentFactory(case=case, place_name=f"Place {number:03d}", killed=number)
        EvidenceItemFactory(case=case, incident=incident, recovery_latitude="50.45", recovery_longitude="30.5236")
    item = case.items.order_by("exhibit_number").first()
    processed(PhotoFactory(item=item), gps_latitude=Decimal("49.9935"), gps_longitude=Decimal("36.2304"))
    MarkingFactory(item=item)


def test_the_overview_shows_header_statistics_exhibits_incidents_and_dossiers(client, team):
    fill(team.case, 3)
    client.force_login(team.alice)
    response = client.get(overview_url(team.case))
    assert response.status_code == 200
    page = response.content.decode()
    assert team.case.get_status_display() in page
    assert "alice (" in page  # the team, with roles
    assert "vera (" in page
    assert "not checked yet" in page  # the last integrity verdict
    assert 'class="attest-stats"' in page  # the statistics, as on the form
    item = team.case.items.order_by("exhibit_number").first()
    photo = item.photos.get()
    assert reverse("photo-thumbnail", args=[photo.pk]) in page  # the grid's thumbnail
    assert "1 photo · 1 marking" in page
    for incident in team.case.incidents.all():
        assert reverse("admin:cases_incident_change", args=[incident.pk]) in page
    assert 'name="incident_set-0-kind"' not in page  # no editable inline rows
    assert reverse("admin:cases_case_change", args=[team.case.pk]) in page  # the Edit action
    assert reverse("admin:cases_case_dossier", args=[team.case.pk]) in page
    assert team.other_case.reference not in page


def test_investigators_and_leads_check_integrity_from_the_overview(client, team):
    fill(team.case, 1)
    client.force_login(team.bob)  # an analyst: no link
    assert "Check integrity now" not in client.get(overview_url(team.case)).content.decode()
    client.force_login(team.ivan)
    page = client.get(overview_url(team.case)).content.decode()
    link = html.unescape(re.search(r'class="button attest-check-link" href="([^"]+)"', page).group(1))
    confirmation = client.get(link)
    assert confirmation.status_code == 200
    response = client.post(link, {"next": confirmation.context["next"]}, follow=True)
    assert response.redirect_chain[-1][0] == overview_url(team.case)  # back on the overview
    assert "intact" in response.content.decode().split("last integrity check")[1]
    assert team.case.custody_events.filter(event_type="fixity.checked").count() == 1


def test_the_case_list_and_the_dashboard_open_the_overview(client, team):
    client.force_login(team.vera)
    page = client.get(reverse("admin:cases_case_changelist")).content.decode()
    assert f'href="{overview_url(team.case)}"' in page
    dashboard = client.get(reverse("admin:index")).content.decode()
    assert f'href="{overview_url(team.case)}"' in dashboard


def test_the_case_form_and_the_sanctions_report_link_back_to_the_overview(client, team):
    client.force_login(team.alice)
    page = client.get(reverse("admin:cases_case_change", args=[team.case.pk])).content.decode()
    assert f'href="{overview_url(team.case)}"' in page
    report = client.get(reverse("admin:evidence_sanctions_report", args=[team.case.pk])).content.decode()
    assert f'href="{overview_url(team.case)}"' in report


def test_a_viewer_sees_the_page_without_edit_controls_and_an_outsider_gets_404(client, team):
    fill(team.case, 1)
    client.force_login(team.vera)
    response = client.get(overview_url(team.case))
    assert response.status_code == 200
    assert reverse("admin:cases_case_change", args=[team.case.pk]) not in response.content.decode()
    assert AccessLog.objects.filter(user=team.vera, action="view", case_id=team.case.pk).exists()
    client.force_login(team.charlie)
    assert client.get(overview_url(team.case)).status_code == 404
    refused = AccessLog.objects.filter(user=team.charlie, action="denied").get()
    assert refused.case_id == team.case.pk


def test_incidents_sort_by_a_column(client, team):
    fill(team.case, 3)
    client.force_login(team.bob)
    table = 'class="attest-incidents"'
    ascending = client.get(overview_url(team.case), {"sort": "killed"}).content.decode().split(table)[1]
    descending = client.get(overview_url(team.case), {"sort": "-killed"}).content.decode().split(table)[1]
    assert ascending.index("Place 000") < ascending.index("Place 002")
    assert descending.index("Place 002") < descending.index("Place 000")
    assert 'aria-sort="ascending"' in ascending


def test_the_map_carries_incidents_recovery_places_and_photo_positions_with_their_precision(client, team):
    fill(team.case, 2)
    client.force_login(team.vera)
    page = client.get(overview_url(team.case)).content.decode()
    script = page.split('<script id="attest-map-data" type="application/json">')[1].split("</script>")[0]
    data = json.loads(script)  # as the map's script reads it
    kinds = sorted(feature["kind"] for feature in data["features"])
    assert kinds == ["incident", "incident", "photo", "recovery", "recovery"]
    photo = next(feature for feature in data["features"] if feature["kind"] == "photo")
    assert photo["url"] == reverse("admin:evidence_photo_change", args=[Photo.objects.get().pk])
    assert "49.9935, 36.2304 (±11 m)" in photo["detail"]
    assert data["borders"].endswith("evidence/map/countries-110m.geojson")
    assert data["outcomes"]["impact"] == "Impact"
    assert data["tiles"] == ""  # no base map unless ATTEST_MAP_TILE_URL is set
    assert data["colours"]["impact"] in page.split('class="attest-map-legend"')[1]  # colours named in the legend
    assert "Incident: Impact" in page
    assert "evidence/vendor/leaflet/leaflet.js" in page


def test_coordinates_are_shown_with_the_precision_they_were_given_with():
    assert coordinate_text(Decimal("50.450000"), Decimal("30.523600")) == "50.45, 30.5236 (±11 m)"
    assert coordinate_text(Decimal("50.000000"), Decimal("30.000000")) == "50, 30 (±111 km)"
    assert coordinate_text(Decimal("50.123456"), Decimal("30.1")) == "50.123456, 30.1 (±0.11 m)"


def test_the_timeline_filters_by_exhibit_and_event_type(client, team):
    fill(team.case, 2)
    first, second = team.case.items.order_by("exhibit_number")
    client.force_login(team.vera)
    everything = client.get(overview_url(team.case)).context["timeline"]["entries"]
    assert {entry["kind"] for entry in everything} >= {"Incident", "Item created", "Photo added", "Marking recorded"}
    by_exhibit = client.get(overview_url(team.case), {"exhibit": second.pk}).context["timeline"]["entries"]
    assert {entry["exhibit"] for entry in by_exhibit if entry["exhibit"]} == {second}
    assert len([entry for entry in by_exhibit if entry["kind"] == "Incident"]) == 1  # the exhibit's incident
    photos = client.get(overview_url(team.case), {"exhibit": first.pk, "event": "photo.added"})
    entries = photos.context["timeline"]["entries"]
    assert [(entry["kind"], entry["exhibit"], entry["who"]) for entry in entries] == [
        ("Photo added", first, team.alice.username)
    ]


def test_the_page_queries_do_not_grow_with_the_case(client, team):
    """The same number of queries for 5 and for 50 incidents, exhibits and custody events."""
    fill(team.case, 5)
    fill(team.other_case, 50)
    counts = []
    for case, user in ((team.case, team.alice), (team.other_case, team.charlie)):
        client.force_login(user)
        client.get(overview_url(case))  # warm the session and content-type caches
        with CaptureQueriesContext(connection) as queries:
            response = client.get(overview_url(case))
        assert response.status_code == 200
        counts.append(len(queries))
    assert team.other_case.incidents.count() == 50
    assert team.other_case.custody_events.count() > 50
    assert counts[0] == counts[1], counts


def test_a_dossier_is_requested_with_its_options_and_defaults_to_the_ui_language(client, team):
    client.force_login(team.vera)
    with translation.override("uk"):
        page = client.get(overview_url(team.case), HTTP_ACCEPT_LANGUAGE="uk")
    assert page.context["dossier_form"].initial["language"] == "uk"
    response = client.post(
        reverse("admin:cases_case_dossier", args=[team.case.pk]),
        {"language": "uk", "redact_names": "on"},
    )
    assert response.status_code == 302
    export = Export.objects.get()
    assert (export.language, export.include_photos, export.redact_names, export.kind) == ("uk", False, True, "dossier")
    assert export.requested_by == team.vera
    assert AccessLog.objects.filter(user=team.vera, action="export", object_id=str(export.pk)).exists()
    page = client.get(overview_url(team.case)).content.decode()
    assert f'data-poll-url="{reverse("export-detail", args=[export.pk])}"' in page  # pending: the script polls it
    script = page.split('<script id="attest-export-labels" type="application/json">')[1].split("</script>")[0]
    labels = json.loads(script)  # statuses and stages in the reader's language, for the progress script
    assert labels["status"]["pending"] == "Pending"
    assert labels["stages"]["cover"] == "cover"
    assert client.get(reverse("admin:cases_case_dossier", args=[team.case.pk])).status_code == 403  # POST only
    client.force_login(team.charlie)
    refused = client.post(reverse("admin:cases_case_dossier", args=[team.case.pk]), {"language": "en"})
    assert refused.status_code == 404
    assert Export.objects.count() == 1


IMAGE_SOURCES = """
import django, json
django.setup()
from django.conf import settings
print(json.dumps(settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"]))
"""


def test_a_tile_server_is_allowed_as_an_image_source_only_when_configured():
    from tests.test_settings import run_python

    plain = run_python(IMAGE_SOURCES, DEBUG="1")
    tiled = run_python(IMAGE_SOURCES, DEBUG="1", ATTEST_MAP_TILE_URL="https://{s}.tiles.example.org/{z}/{x}/{y}.png")
    assert json.loads(plain.stdout) == ["'self'", "data:", "blob:"], plain.stderr
    assert json.loads(tiled.stdout) == ["'self'", "data:", "blob:", "https://*.tiles.example.org"], tiled.stderr


def test_the_tile_url_reaches_the_map(client, team, settings):
    settings.ATTEST_MAP_TILE_URL = "https://tiles.example.org/{z}/{x}/{y}.png"
    fill(team.case, 1)
    client.force_login(team.vera)
    assert client.get(overview_url(team.case)).context["map_data"]["tiles"] == settings.ATTEST_MAP_TILE_URL


def test_a_failed_dossier_says_why_on_the_overview(client, team):
    from tests.factories import ExportFactory

    export = ExportFactory(case=team.case, actor=team.vera)
    Export.objects.filter(pk=export.pk).update(status="failed", error="The dossier could not be built: out of disk.")
    client.force_login(team.vera)
    page = client.get(overview_url(team.case)).content.decode()
    row = page.split('<tr class="attest-export"')[1].split("</tr>")[0]
    assert "The dossier could not be built: out of disk." in row
    assert "hidden" not in row.split("attest-export-error")[1].split(">")[0]


def test_the_timeline_shows_the_newest_events_and_links_to_the_whole_ledger(client, team):
    from evidence.selectors import CUSTODY_EVENTS_SHOWN

    fill(team.case, CUSTODY_EVENTS_SHOWN + 5)
    client.force_login(team.vera)
    response = client.get(overview_url(team.case), {"event": "item.created"})
    entries = response.context["timeline"]["entries"]
    assert len(entries) == CUSTODY_EVENTS_SHOWN
    ledger = response.context["timeline"]["ledger_url"]
    changelist = reverse("admin:evidence_custodyevent_changelist")
    assert ledger == f"{changelist}?case={team.case.pk}&event_type__exact=item.created"
    assert html.escape(ledger) in response.content.decode()
    listed = client.get(ledger)
    assert listed.status_code == 200
    assert listed.context["cl"].result_count == CUSTODY_EVENTS_SHOWN + 5
