"""Error pages: the API's JSON error format under /api/, Django's HTML pages everywhere else.

Django answers with these when a view raises or nothing matches the path (handler400, 403, 404,
500 in config/urls.py): a request body over DATA_UPLOAD_MAX_MEMORY_SIZE read outside DRF, an
unmatched path, an uncaught exception. The 500 tells nothing of the failure; Django logs it.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpResponseForbidden, HttpResponseNotFound, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults

from core.api.exceptions import error_body

API_PREFIX = "/api/"


def is_api(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


def bad_request(request, exception, template_name=defaults.ERROR_400_TEMPLATE_NAME):
    if is_api(request):
        return JsonResponse(error_body("bad_request", _("The request could not be understood.")), status=400)
    return defaults.bad_request(request, exception, template_name)


def _in_the_admins_look(request, template_name: str) -> str:
    """The page in the admin's frame (header, language switch, navigation for the signed-in user)."""
    context = admin.site.each_context(request) if hasattr(request, "user") else {}  # no user: before middleware
    return loader.render_to_string(template_name, context, request=request)


def permission_denied(request, exception, template_name=defaults.ERROR_403_TEMPLATE_NAME):
    if is_api(request):
        body = error_body("permission_denied", _("You do not have permission to perform this action."))
        return JsonResponse(body, status=403)
    if template_name != defaults.ERROR_403_TEMPLATE_NAME:  # a view chose its own page (CSRF, say)
        return defaults.permission_denied(request, exception, template_name)
    return HttpResponseForbidden(_in_the_admins_look(request, template_name))


def page_not_found(request, exception, template_name=defaults.ERROR_404_TEMPLATE_NAME):
    if is_api(request):
        return JsonResponse(error_body("not_found", _("Not found.")), status=404)
    if template_name != defaults.ERROR_404_TEMPLATE_NAME:
        return defaults.page_not_found(request, exception, template_name)
    return HttpResponseNotFound(_in_the_admins_look(request, template_name))


def server_error(request, template_name=defaults.ERROR_500_TEMPLATE_NAME):
    if is_api(request):
        message = _("The server could not answer this request. The failure is logged; try again later.")
        return JsonResponse(error_body("server_error", message), status=500)
    return defaults.server_error(request, template_name)
