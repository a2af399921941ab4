"""Appointment mode: while the couple look at the appointment view on the therapist's screen, every
other therapist page asks for the therapist's password (or a code from their authenticator) first.

The mark lives in the server-side session, so it holds however the page is left: the "Back to
therapist view" link, a URL typed into the address bar, the browser's Back button or a bookmark.
Only a re-authentication made after the view opened counts (a confirmation from before, still
within allauth's five minutes, does not), and it ends appointment mode. Signing out ends it too:
the session goes with it.
"""

import time

from allauth.account.internal.flows.login import get_authentication_records
from django.http import HttpRequest

from accounts.models import Couple

SESSION_KEY = "tend_appointment_mode"


def enter(request: HttpRequest, couple: Couple) -> None:
    """Mark the session as showing `couple`'s appointment view (kept as it is if it already does)."""
    if current_couple_id(request) != couple.pk:
        request.session[SESSION_KEY] = {"couple": couple.pk, "since": time.time()}


def current_couple_id(request: HttpRequest) -> int | None:
    """The couple whose appointment view this session is showing, or None outside appointment mode."""
    mark = request.session.get(SESSION_KEY)
    return mark.get("couple") if isinstance(mark, dict) else None


def confirmed_since_entering(request: HttpRequest) -> bool:
    """Whether the therapist re-authenticated (password, authenticator code or passkey) after the
    appointment view opened: allauth records each confirmation in the session with its time."""
    mark = request.session.get(SESSION_KEY) or {}
    since = mark.get("since", float("inf"))
    records = get_authentication_records(request, request.user)
    return any(r.get("reauthenticated") and r.get("at", 0) > since for r in records)


def leave(request: HttpRequest) -> None:
    """End appointment mode."""
    request.session.pop(SESSION_KEY, None)
