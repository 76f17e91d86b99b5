"""The /api/v1/ router: each app's api/urls.py contributes its own routes."""

from django.urls import re_path
from rest_framework.routers import DefaultRouter

from cases.api.urls import router as cases_router
from config.api.views import not_found
from evidence.api.urls import router as evidence_router

router = DefaultRouter()
for app_router in (cases_router, evidence_router):
    router.registry.extend(app_router.registry)

# Anything else under /api/v1/ answers in the API's error format rather than as an HTML page.
urlpatterns = [*router.urls, re_path(r"^[\s\S]*$", not_found)]
