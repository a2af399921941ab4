import time
from datetime import UTC, datetime

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core import context as allauth_context
from allauth.mfa.models import Authenticator
from django.conf import settings

from accounts import selectors
from accounts.middleware import FIRST_FACTOR_FORCED, needs_second_factor
from accounts.models import User

ALREADY_EXISTS = "account/email/account_already_exists"
# allauth's emails to an address that has no account: on sign-up ("it already exists") and on a
# password reset ("there is no account, sign up here").
INVITATION_INSTEAD = {ALREADY_EXISTS, "account/email/unknown_account"}

# allauth's pages of a first setup: the authenticator app or a passkey, then the recovery codes it made.
FIRST_FACTOR_VIEWS = {
    "mfa_activate_totp",
    "mfa_add_webauthn",
    "mfa_view_recovery_codes",
    "mfa_download_recovery_codes",
}


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
        if allauth_context.request is None and self.request is not None:
            # allauth sends its notifications from on_commit callbacks, which may run once the
            # request's context has closed (a test's captured callbacks, a view's own atomic block).
            with allauth_context.request_context(self.request):
                return super().send_mail(template_prefix, email, context)
        super().send_mail(template_prefix, email, context)

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        # A therapist made to set up their second factor has only just typed their password: asking
        # for it again at once would only teach them to type it twice. Spared are the first factor's
        # setup moments after signing in, when Tend itself sent them there (a therapist or staff
        # member without one), and the recovery codes that setup made, nothing else. A partner is
        # always asked: a borrowed or stolen session could otherwise add a factor and lock them out. A
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
        if not (needs_second_factor(request.user) and request.session.get(FIRST_FACTOR_FORCED)):
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
