from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.health import run_checks


@never_cache
@require_GET
def healthz(request):
    """200 when the database, the broker and media storage all work, else 503 naming what failed."""
    report = run_checks()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


def api_login(request):
    """The browsable API's "Log in" link: the admin's sign-in (with its TOTP step), then back to the API page."""
    target = request.GET.get(REDIRECT_FIELD_NAME, "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/api/v1/"
    return HttpResponseRedirect(f"{reverse('admin:login')}?{urlencode({REDIRECT_FIELD_NAME: target})}")
