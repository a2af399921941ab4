import time
from datetime import UTC, datetime

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.mfa.models import Authenticator
from django import forms
from django.conf import settings
from django.utils.translation import gettext as _

from accounts.models import Partner, User

# allauth's pages of a first setup: the authenticator app, then the recovery codes it made.
FIRST_FACTOR_VIEWS = {"mfa_activate_totp", "mfa_view_recovery_codes", "mfa_download_recovery_codes"}


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
        # A therapist made to set up their second factor has only just typed their password: asking
        # for it again at once would only teach them to type it twice. Spared are the first factor's
        # setup moments after signing in and the recovery codes that setup made, nothing else: a
        # recent sign-in is not a confirmation (allauth counts only a re-authentication), so
        # removing or changing a factor, new or older recovery codes, and Tend's own exports and
        # deletion ask again (accounts/reauthentication.py).
        if app == "allauth.mfa" and self._setting_up_first_factor():
            return False
        return super().is_reauthentication_required(app=app, **kwargs)

    def _setting_up_first_factor(self) -> bool:
        request = self.request
        match = getattr(request, "resolver_match", None)
        if match is None or match.url_name not in FIRST_FACTOR_VIEWS:
            return False
        signed_in_at = self._signed_in_moments_ago()
        if signed_in_at is None:
            return False
        # None of the person's factors is older than this sign-in: there were none (the first setup),
        # or the app and its recovery codes were made moments ago, by that setup.
        return not Authenticator.objects.filter(user_id=request.user.pk, created_at__lt=signed_in_at).exists()

    def _signed_in_moments_ago(self) -> datetime | None:
        """When this session last proved who it is (signing in, or confirming since), if within the
        re-authentication timeout."""
        request = self.request
        records = get_authentication_records(request, request.user) if request is not None else []
        if not records or time.time() - records[-1].get("at", 0) >= account_settings.REAUTHENTICATION_TIMEOUT:
            return None
        return datetime.fromtimestamp(records[-1]["at"], tz=UTC)
