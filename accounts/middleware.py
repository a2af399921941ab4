"""Session rules that hold however busy a signed-in browser is: a second factor for therapists and
staff before any client data, idle sign-out, and an absolute limit on everyone's session."""

import time
from collections.abc import Callable

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.signals import password_changed, password_reset
from allauth.core import context as allauth_context
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_added, authenticator_removed, authenticator_reset
from allauth.mfa.utils import is_mfa_enabled
from allauth.usersessions.adapter import get_adapter as get_usersessions_adapter
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from accounts import push, services, staying
from accounts.redaction import redact

SIGNED_IN_AT = "tend_signed_in_at"
LAST_SEEN = "tend_last_seen"
MFA_OK = "tend_mfa_ok"
# Set when this middleware sends a therapist or staff member to set up their first factor: only that
# setup, straight after signing in, is spared the password again (accounts/adapter.py).
FIRST_FACTOR_FORCED = "tend_first_factor_forced"
# Activity is written to the session at most this often, so browsing does not write on every request.
LAST_SEEN_EVERY = 60
# Reachable without a second factor: signing in or out, setting the factor up, and nothing clinical.
MFA_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/healthz", "/invite/", "/favicon.ico")


def needs_second_factor(user) -> bool:
    """Therapists and staff hold clinical data for a whole caseload: they must use a second factor."""
    return user.is_staff or user.is_therapist


@receiver(user_logged_in)
def _start_session(sender, request, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    now = int(time.time())
    request.session[SIGNED_IN_AT] = request.session[LAST_SEEN] = now
    # allauth logs someone in only after their second factor, if they have one: record it once here
    # rather than look it up on every request.
    request.session[MFA_OK] = needs_second_factor(user) and is_mfa_enabled(user)
    request.session.pop(FIRST_FACTOR_FORCED, None)
    staying.note_sign_in(request, user)


def end_other_sessions(request: HttpRequest | None, user) -> None:
    """Sign the person out everywhere but here: their other browsers were signed in under the old
    way in, and a factor or password changed by whoever holds one of them must not leave the
    others open (a removed factor would still count there). The session that made the change stays."""
    current = request.session.session_key if request is not None and hasattr(request, "session") else None
    others = UserSession.objects.filter(user_id=user.pk).exclude(session_key=current)
    get_usersessions_adapter().end_sessions(list(others))


@receiver(user_logged_out)
def _forget_this_browsers_notifications(sender, request, user, **kwargs) -> None:
    """Signing out (the menu, the safety page's "Sign out now", an ended session's own sign-out) stops
    this browser's push notifications. Sent before the session is flushed, so its subscription is known."""
    session = getattr(request, "session", None)
    if user is not None and session is not None and (pk := session.get(push.SESSION_KEY)) is not None:
        services.push_subscription_signed_out(user=user, pk=pk)


@receiver(authenticator_added)
def _second_factor_added(sender, request, user, **kwargs) -> None:
    end_other_sessions(request, user)
    if request is not None and needs_second_factor(user):
        request.session[MFA_OK] = is_mfa_enabled(user)


@receiver(authenticator_removed)
def _second_factor_removed(sender, request, user, **kwargs) -> None:
    end_other_sessions(request, user)
    if request is not None and needs_second_factor(user):
        request.session[MFA_OK] = is_mfa_enabled(user)
    if request is not None and not is_mfa_enabled(user, [Authenticator.Type.WEBAUTHN]):
        # "Stay signed in on this phone" rested on a passkey; with none left, the usual limits again.
        staying.stay_end(request)


# What the owner is told when someone else (staff in the admin, an operator) removes a factor; their
# own removals are told by allauth's flows (ACCOUNT_EMAIL_NOTIFICATIONS).
REMOVED_BY_SOMEONE_ELSE = {
    Authenticator.Type.TOTP: "mfa/email/totp_deactivated",
    Authenticator.Type.WEBAUTHN: "mfa/email/webauthn_removed",
}


@receiver(post_delete, sender=Authenticator)
def _second_factor_deleted(sender, instance: Authenticator, **kwargs) -> None:
    # However a factor goes (allauth's own pages, staff in allauth's admin, which sends no
    # `authenticator_removed`, or a shell), every session of its owner that counted it ends; only the
    # owner's own session that removed it stays (allauth's request context says whose request this is).
    request = allauth_context.request
    own = request is not None and getattr(request, "user", None) is not None and request.user.pk == instance.user_id
    end_other_sessions(request if own else None, instance.user)
    template = REMOVED_BY_SOMEONE_ELSE.get(instance.type)
    if not own and request is not None and template:
        # The adapter keeps the request it was made in: made here, it still has it after the commit.
        adapter, user = get_account_adapter(request), instance.user
        transaction.on_commit(lambda: adapter.send_notification_mail(template, user))


@receiver(authenticator_reset)
def _recovery_codes_renewed(sender, request, user, **kwargs) -> None:
    end_other_sessions(request, user)


@receiver(password_changed)
@receiver(password_reset)
def _password_changed(sender, request, user, **kwargs) -> None:
    # Django already refuses the other sessions on their next request (the password is in the
    # session's hash); ending them here also takes them off the person's list of sessions at once.
    end_other_sessions(request, user)


LINK_PAGE_REFERRER_POLICY = "strict-origin"


class SecretLinkReferrerMiddleware:
    """A page reached through a link with a secret in its path (an invitation, a password reset, an
    email confirmation, "turn these emails off") sends no path in its Referer: its own /static/
    requests and any link followed from it would otherwise carry the token into a proxy's access log.

    "strict-origin", not "no-referrer": under no-referrer a browser sends `Origin: null` with the
    page's own form (the invitation's password form), and Django's CSRF check refuses it. With
    strict-origin the Referer is the bare origin ("https://tend.example.org/"), Origin stays, and
    nothing is sent from https to http. Placed after SecurityMiddleware, whose same-origin default
    fills only an absent header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if redact(request.path) != request.path:
            response.headers["Referrer-Policy"] = LINK_PAGE_REFERRER_POLICY
        return response


class SessionRulesMiddleware:
    """Idle and absolute sign-out, then the second-factor requirement.

    - Therapists and staff: signed out after TEND_IDLE_SECONDS_THERAPIST without a request, and
      TEND_SESSION_ABSOLUTE_SECONDS after signing in however active (the appointment view's
      keep-alive included). Partners: after TEND_IDLE_SECONDS_PARTNER without a request, and
      TEND_SESSION_ABSOLUTE_SECONDS_PARTNER after signing in; a partner's session that stays signed in
      on its phone (accounts/staying.py), after TEND_IDLE_SECONDS_STAY and TEND_SESSION_ABSOLUTE_SECONDS_STAY.
    - Therapists and staff without a second factor are sent to set one up before any other page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if self._expired(request, user):
                logout(request)
                messages.info(request, _("You were signed out to keep things private. Please sign in again."))
            elif (
                needs_second_factor(user)
                and not request.session.get(MFA_OK)
                and not request.path.startswith(MFA_EXEMPT_PREFIXES)
            ):
                if is_mfa_enabled(user):
                    request.session[MFA_OK] = True
                else:
                    messages.info(
                        request, _("Before you see client data, protect your account with an authenticator app.")
                    )
                    request.session[FIRST_FACTOR_FORCED] = True
                    return redirect("mfa_activate_totp")
            elif offer := staying.offer_redirect(request):
                return offer
        return self.get_response(request)

    @staticmethod
    def _expired(request: HttpRequest, user) -> bool:
        now = int(time.time())
        session = request.session
        signed_in_at, last_seen = session.get(SIGNED_IN_AT), session.get(LAST_SEEN)
        if signed_in_at is None or last_seen is None:
            # A session from before these rules existed: start counting now.
            session[SIGNED_IN_AT] = signed_in_at or now
            session[LAST_SEEN] = now
            return False
        if needs_second_factor(user):
            idle_limit, absolute_limit = settings.TEND_IDLE_SECONDS_THERAPIST, settings.TEND_SESSION_ABSOLUTE_SECONDS
        elif stay := staying.limits(request):
            # A partner's "Stay signed in on this phone" (accounts/staying.py).
            idle_limit, absolute_limit = stay
        else:
            idle_limit, absolute_limit = (
                settings.TEND_IDLE_SECONDS_PARTNER,
                settings.TEND_SESSION_ABSOLUTE_SECONDS_PARTNER,
            )
        if now - signed_in_at > absolute_limit or now - last_seen > idle_limit:
            return True
        if now - last_seen >= LAST_SEEN_EVERY:
            session[LAST_SEEN] = now
        return False
