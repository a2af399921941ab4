""" "Stay signed in on this phone" (issue 17): after signing in with a passkey on a device, a partner is
offered a longer session there.

- Offered once per device: a partner's first passkey sign-in on a browser that has not answered yet
  (the OFFERED_COOKIE, which says only "asked here", nothing about who). SessionRulesMiddleware sends
  them to the offer before the page they were going to, and on to it afterwards.
- Chosen, the session ends after settings.TEND_IDLE_SECONDS_STAY without a request (instead of the
  partners' 24 hours) and settings.TEND_SESSION_ABSOLUTE_SECONDS_STAY after signing in however used
  (instead of 30 days); its cookie outlives closing the browser. Signing out, "Sign out everywhere",
  "Sign out now" on the private-line page, a password change elsewhere, and removing the last passkey
  end it as they end any session (the flag lives in the session itself).
- Never for therapists or staff: their limits stay (accounts/middleware.py).
"""

from allauth.mfa.webauthn.internal.flows import did_use_passwordless_login
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

# In the session: this session is one that stays signed in on its device.
STAY = "tend_stay_signed_in"
# In the session: signed in with a passkey on a device not asked yet; the next page shows the offer.
OFFER_PENDING = "tend_stay_offer_pending"
# On the device: the offer was answered here (either way), so it is not made again.
OFFERED_COOKIE = "tend_stay_asked"
OFFERED_COOKIE_SECONDS = 365 * 24 * 60 * 60
# The offer interrupts only an ordinary page: not a form being sent, not allauth's own pages (a passkey
# being added, recovery codes being shown), not the private line (its message, its safety questions, its
# quick exit): a partner who signed in to tell their therapist something goes straight there.
NOT_INTERRUPTED = (
    "/accounts/",
    "/static/",
    "/healthz",
    "/invite/",
    "/note/",
    "/questions/",
    "/sign-out-now/",
    "/keepalive/",
)


def may_stay(request: HttpRequest, user=None) -> bool:
    """A partner signed in with a passkey on this device (allauth's record of how this session signed
    in), whose session does not stay yet."""
    user = user or request.user
    return (
        user.is_authenticated
        and user.is_partner
        and not user.is_staff
        and not request.session.get(STAY)
        and did_use_passwordless_login(request, user)
    )


def note_sign_in(request: HttpRequest, user) -> None:
    """At sign-in: a partner's passkey sign-in on a device not asked yet gets the offer next."""
    request.session.pop(STAY, None)
    if may_stay(request, user) and OFFERED_COOKIE not in request.COOKIES:
        request.session[OFFER_PENDING] = True


def offer_redirect(request: HttpRequest) -> HttpResponse | None:
    """The offer, once, in place of the first ordinary page after a passkey sign-in."""
    if not request.session.get(OFFER_PENDING) or request.method != "GET":
        return None
    if request.path.startswith(NOT_INTERRUPTED) or request.path == reverse("stay_signed_in"):
        return None
    del request.session[OFFER_PENDING]
    return redirect(f"{reverse('stay_signed_in')}?{urlencode({'next': request.get_full_path()})}")


def stay_start(request: HttpRequest) -> None:
    """This session stays signed in on its device, within the longer limits."""
    request.session[STAY] = True
    request.session.pop(OFFER_PENDING, None)
    # Relative to each save of the session (every request that records activity): the cookie and the
    # server's copy last the idle limit; the middleware enforces the absolute one.
    request.session.set_expiry(settings.TEND_IDLE_SECONDS_STAY)


def stay_end(request: HttpRequest) -> None:
    """This session goes back to the partners' usual limits (its passkey is gone)."""
    if request.session.pop(STAY, None):
        request.session.set_expiry(None)


def limits(request: HttpRequest) -> tuple[int, int] | None:
    """(idle, absolute) seconds for a session that stays signed in, else None."""
    if request.session.get(STAY):
        return settings.TEND_IDLE_SECONDS_STAY, settings.TEND_SESSION_ABSOLUTE_SECONDS_STAY
    return None


def remember_answer(response: HttpResponse) -> None:
    """The device has answered the offer: not asked again here."""
    response.set_cookie(
        OFFERED_COOKIE,
        "1",
        max_age=OFFERED_COOKIE_SECONDS,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def safe_next(request: HttpRequest, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(value, {request.get_host()}, request.is_secure()):
        return value
    return reverse("home")
