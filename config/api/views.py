from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from core.api.exceptions import error_body


@csrf_exempt
def not_found(request, *args, **kwargs):
    return JsonResponse(error_body("not_found", f"No API endpoint at {request.path}."), status=404)
