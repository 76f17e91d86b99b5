"""API responses are never kept by a browser or a proxy: they hold evidence and who looked at it."""

from __future__ import annotations

from django.utils.cache import patch_cache_control

API_PREFIX = "/api/"  # the API, its schema and Swagger UI / Redoc


class NoStoreMiddleware:
    """`Cache-Control: private, no-store` on every response under /api/, errors and files included.

    A middleware rather than a view mixin, so that no route is left out: DRF's views, the API's 404
    view, the schema views, and downloads (which set the same header themselves).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(API_PREFIX):
            patch_cache_control(response, private=True, no_store=True)
        return response
