"""Response headers that depend on who is asking, and the appointment view's lock."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from accounts.reauthentication import LEAVE_APPOINTMENT_WHY, reauthenticate
from intimacy import appointment_mode


class NoStoreForSignedInMiddleware:
    """`Cache-Control: no-store` on every response to a signed-in person, unless the view set its own.

    Anything a signed-in page shows may be clinical (a reflection, a rating, a couple's label), so no
    browser or proxy keeps a copy: on a shared family computer, Back after signing out shows nothing.
    One rule for every page, so a new view is covered without remembering a decorator. Static files
    never reach this (whitenoise answers them earlier in MIDDLEWARE), and pages for the signed-out
    (sign-in, /healthz) keep their usual caching. `no-store` alone is enough: every browser and proxy
    in use reads Cache-Control, so HTTP/1.0's `Pragma: no-cache` would add nothing.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.has_header("Cache-Control"):
            # Asked first: a page that set its own (the 503 page, made when the database is out of
            # reach) must not send this middleware to the database for the user.
            return response
        # `user` is missing when a middleware above answered before authentication ran.
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response["Cache-Control"] = "no-store"
        return response


# What the couple's screen may reach without the therapist's password: the appointment view itself
# (its period and pages), its keep-alive and curation, and the ways to confirm who they are or to leave.
APPOINTMENT_MODE_ALLOWED = frozenset(
    {
        "appointment",
        "keepalive",
        "appointment_leave_out_session",
        "appointment_leave_out_reflection",
        "appointment_put_back",
        "account_reauthenticate",
        "mfa_reauthenticate",
        # The therapist's passkey (issue 17): their device and its fingerprint or PIN, not the couple's.
        "mfa_reauthenticate_webauthn",
        "account_logout",
        "quick_sign_out",
        "healthz",
        "favicon",
    }
)


class AppointmentModeMiddleware:
    """While the appointment view is open (intimacy/appointment_mode.py), any other page first asks for
    the therapist's password or second factor; confirming ends appointment mode and goes on to the page.

    A middleware rather than a decorator, so a page added later is covered without remembering one.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        couple_id = appointment_mode.current_couple_id(request)
        if couple_id is None or self._allowed(request, couple_id):
            return None
        if appointment_mode.confirmed_since_entering(request):
            appointment_mode.leave(request)
            return None
        # A POST is not replayed (accounts/reauthentication.py): after confirming, the person lands on
        # the appointment view's page of origin and chooses again; a GET goes on to where it was going.
        back = request.get_full_path() if request.method == "GET" else reverse("appointment", args=[couple_id])
        return reauthenticate(request, back=back, why=LEAVE_APPOINTMENT_WHY)

    @staticmethod
    def _allowed(request: HttpRequest, couple_id: int) -> bool:
        match = request.resolver_match
        if match is None or match.url_name not in APPOINTMENT_MODE_ALLOWED:
            return False
        # Another couple's appointment view is another couple's words: the password first.
        return match.url_name != "appointment" or match.kwargs.get("pk") == couple_id
