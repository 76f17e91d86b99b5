from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.health import run_checks


@never_cache
@require_GET
def healthz(request):
    """200 when the database, the broker and media storage all work, else 503 naming what failed."""
    report = run_checks()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)
