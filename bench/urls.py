"""The project's URLs plus the bare baseline view the API benchmark compares against."""

from collections import defaultdict

from django.http import HttpResponseBadRequest, JsonResponse
from django.urls import path

from cases.models import Incident
from config.urls import urlpatterns as project_urlpatterns

# The fields of cases.api.serializers.IncidentSerializer, read straight from the table.
INCIDENT_FIELDS = (
    "id", "case", "kind", "occurred_at", "occurred_precision", "place_name", "region", "country",
    "latitude", "longitude", "weapon_system", "launch_site", "launch_latitude", "launch_longitude",
    "outcome", "killed", "wounded", "damage", "identification_basis", "description",
    "created_at", "updated_at",
)  # fmt: skip
BARE_PATH = "bench/bare-incidents/"


def bare_incidents(request):
    """The baseline: the same page of the same incidents, with no auth, filters or serializer.

    Same filter and order as GET /api/v1/incidents/?case=<id> (the model's -occurred_at, -id),
    same fields, the entities of each incident by a second query as the API's prefetch does.
    """
    try:
        case_id = int(request.GET["case"])
        size = max(1, min(int(request.GET.get("page_size", "25")), 100))
    except (KeyError, ValueError):
        return HttpResponseBadRequest("case and page_size must be whole numbers")
    rows = list(
        Incident.objects.filter(case_id=case_id).order_by("-occurred_at", "-id").values(*INCIDENT_FIELDS)[:size]
    )
    entities = defaultdict(list)
    links = Incident.entities.through.objects.filter(incident_id__in=[row["id"] for row in rows])
    for incident_id, entity_id in links.values_list("incident_id", "entity_id"):
        entities[incident_id].append(entity_id)
    for row in rows:
        row["entities"] = entities[row["id"]]
    return JsonResponse({"results": rows})


urlpatterns = [path(BARE_PATH, bare_incidents, name="bench-bare-incidents"), *project_urlpatterns]
