from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import LogoutView
from django.urls import include, path, reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from config.two_factor import AttestAdminSite, TwoFactorAdminSite
from config.views import api_login, healthz

admin.site.site_header = admin.site.site_title = _("Attest")
admin.site.index_title = _("Cases and evidence")
# There is no public site: "/" and the admin's "View site" lead to the admin home (they were 404s).
admin.site.site_url = reverse_lazy("admin:index")

# With 2FA the admin asks for a TOTP code at sign-in (a wrong one is access-logged); only verified staff get in.
admin.site.__class__ = TwoFactorAdminSite if settings.ATTEST_REQUIRE_2FA else AttestAdminSite

api_auth_urls = [
    path("login/", api_login, name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index"), name="home"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its script as a file, so Swagger UI works under the Content-Security-Policy.
    path("api/schema/swagger-ui/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/schema/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    # The browsable API signs in through the admin's login, which asks for a TOTP code when required.
    path("api-auth/", include((api_auth_urls, "rest_framework"))),
    # The language switcher posts to set_language here; the choice is kept in the language cookie.
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", healthz, name="healthz"),
]

# Under /api/ these answer in the API's JSON error format; elsewhere with Django's pages.
handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
