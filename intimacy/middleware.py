"""Response headers that depend on who is asking."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


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
