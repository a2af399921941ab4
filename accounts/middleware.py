"""Session limits that hold however busy a signed-in browser is."""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

SIGNED_IN_AT = "tend_signed_in_at"


@receiver(user_logged_in)
def _remember_sign_in(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT] = int(time.time())


def _limited(user) -> bool:
    """Therapists and staff hold clinical data for a whole caseload: their sessions end at a fixed age."""
    return user.is_staff or user.is_therapist


class AbsoluteSessionLimitMiddleware:
    """Signs a therapist or staff member out TEND_SESSION_ABSOLUTE_SECONDS after they signed in.

    Activity never extends this, not even the appointment view's keep-alive: a laptop left open in a
    consulting room is signed out by the end of the day. The next request then meets the sign-in page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and _limited(user):
            signed_in_at = request.session.get(SIGNED_IN_AT)
            now = int(time.time())
            if signed_in_at is None:
                # A session from before this limit existed: start counting now.
                request.session[SIGNED_IN_AT] = now
            elif now - signed_in_at > settings.TEND_SESSION_ABSOLUTE_SECONDS:
                logout(request)
        return self.get_response(request)
