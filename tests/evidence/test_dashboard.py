"""The admin index shows the user's cases: counts, activity, photos in the pipeline, integrity, dossiers."""

import pytest
from django.urls import reverse

from evidence import services
from evidence.choices import PhotoStatus
from evidence.models import Export, Photo
from tests.factories import EvidenceItemFactory, IncidentFactory, PhotoFactory

pytestmark = pytest.mark.django_db


def test_the_index_lists_my_cases_with_their_state(client, team, eager_tasks, django_capture_on_commit_callbacks):
    IncidentFactory(case=team.case)
    item = EvidenceItemFactory(case=team.case)
    PhotoFactory(item=item, processed=False)  # queued for a worker that has not run it
    with django_capture_on_commit_callbacks(execute=True):
        services.request_export(actor=team.vera, case=team.case)
    from evidence.tasks import verify_case

    verify_case(team.case.pk)
    client.force_login(team.vera)
    page = client.get(reverse("admin:index")).content.decode()
    dashboard = page[page.index('id="attest-dashboard"') :]
    assert team.case.reference in dashboard
    assert team.other_case.reference not in dashboard  # charlie's case
    assert "intact" in dashboard
    assert Photo.objects.filter(status=PhotoStatus.PENDING).count() == 1
    assert reverse("export-download", args=[Export.objects.get().pk]) in dashboard
    assert reverse("admin:evidence_evidenceitem_changelist") + f"?case={team.case.pk}" in dashboard
    incidents = client.get(reverse("admin:cases_incident_changelist"), {"case": team.case.pk})
    assert incidents.status_code == 200
