import time

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.conf import settings
from django.utils.translation import gettext as _

from accounts.models import Partner, User


class TendAccountAdapter(DefaultAccountAdapter):
    """Public sign-up creates therapists only; partners join through their therapist's invite."""

    def is_open_for_signup(self, request) -> bool:
        return settings.TEND_OPEN_SIGNUP

    def save_user(self, request, user, form, commit=True):
        user.role = User.Role.THERAPIST
        return super().save_user(request, user, form, commit=commit)

    def validate_unique_email(self, email: str) -> str:
        # An address invited as a partner belongs to that partner: a sign-up with it would
        # otherwise block their invitation for good. Only sign-up (and adding an address) asks this;
        # `clean_email` would also refuse partners the password-reset form.
        email = super().validate_unique_email(email)
        if Partner.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("This address can't be used to sign up. If you were invited, use your link."))
        return email

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        # A therapist sent to set up their second factor has just signed in: asking for the password
        # again at once would only teach them to type it twice. Later changes still ask.
        if app == "allauth.mfa" and self._signed_in_moments_ago():
            return False
        return super().is_reauthentication_required(app=app, **kwargs)

    def _signed_in_moments_ago(self) -> bool:
        request = self.request
        records = request.session.get("account_authentication_methods", []) if request is not None else []
        return bool(records) and time.time() - records[-1].get("at", 0) < account_settings.REAUTHENTICATION_TIMEOUT
