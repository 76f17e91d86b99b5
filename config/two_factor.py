"""The admin site: Django's, with a type-ahead that survives NUL, and with 2FA django-otp's sign-in, every
code it refuses written to the access log."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite

from cases.audit import case_named_by_path, record
from cases.choices import AccessAction


class AuditedOTPAuthenticationForm(OTPAdminAuthenticationForm):
    def clean_otp(self, user):
        try:
            super().clean_otp(user)
        except ValidationError:
            # Only once the password was right: a wrong code then means someone may hold the password.
            if user is not None and self.cleaned_data.get("otp_token"):
                # On the log of the user's case the sign-in was to open, if its `next` names one; the
                # leads of all the user's cases see it either way (AccessLog.objects.readable_by).
                page = self.request.POST.get("next") or self.request.GET.get("next") or ""
                case = case_named_by_path(page, member=user)
                record(self.request, AccessAction.TOTP_FAILED, user=user, case=case)
            raise


class AttestAdminSite(admin.AdminSite):
    def autocomplete_view(self, request):
        # PostgreSQL refuses NUL in text, even in a LIKE pattern: the type-ahead was a 500 for it.
        term = request.GET.get("term", "")
        if "\x00" in term:
            request.GET = request.GET.copy()
            request.GET["term"] = term.replace("\x00", "")
        return super().autocomplete_view(request)


class TwoFactorAdminSite(OTPAdminSite, AttestAdminSite):
    login_form = AuditedOTPAuthenticationForm
