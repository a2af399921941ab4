import time

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings

from accounts import selectors
from accounts.models import User

ALREADY_EXISTS = "account/email/account_already_exists"
# allauth's emails to an address that has no account: on sign-up ("it already exists") and on a
# password reset ("there is no account, sign up here").
INVITATION_INSTEAD = {ALREADY_EXISTS, "account/email/unknown_account"}


class TendAccountAdapter(DefaultAccountAdapter):
    """Public sign-up creates therapists only; partners join through their therapist's invite."""

    def is_open_for_signup(self, request) -> bool:
        return settings.TEND_OPEN_SIGNUP

    def save_user(self, request, user, form, commit=True):
        user.role = User.Role.THERAPIST
        return super().save_user(request, user, form, commit=commit)

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        # Sign-up and password reset answer every address alike (ACCOUNT_PREVENT_ENUMERATION) and tell
        # the address's owner by email what happened. An address with an invitation waiting and no
        # account yet is a client's: allauth's own emails would send them to sign up as a therapist,
        # so they are told to use their invitation instead (the sign-up form treats it as taken).
        if template_prefix in INVITATION_INSTEAD and selectors.invited_without_account(email):
            context = {**context, "signup": template_prefix == ALREADY_EXISTS}
            template_prefix = "accounts/email/invitation_waiting"
        super().send_mail(template_prefix, email, context)

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
