"""The admin's two-factor sign-in: django-otp's, with every code it refuses written to the access log."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite

from evidence.audit import record
from evidence.choices import AccessAction


class AuditedOTPAuthenticationForm(OTPAdminAuthenticationForm):
    def clean_otp(self, user):
        try:
            super().clean_otp(user)
        except ValidationError:
            # Only once the password was right: a wrong code then means someone may hold the password.
            if user is not None and self.cleaned_data.get("otp_token"):
                record(self.request, AccessAction.TOTP_FAILED, user=user)
            raise


class TwoFactorAdminSite(OTPAdminSite):
    login_form = AuditedOTPAuthenticationForm
