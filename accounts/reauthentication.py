"""Asking for the password (or an authenticator code) again before a couple's record leaves Tend or
is deleted: allauth's re-authentication, as its own pages use it for a second factor.

One difference from allauth's `reauthentication_required`: nothing is replayed. allauth keeps an
interrupted POST in the session and runs it when the password form is sent, so a download would
arrive as the answer to the password form, and a deletion would happen on a page about something
else. Here the request that was interrupted is dropped, and the person comes back to the page where
they chose the action, to choose it again (allauth keeps, and replays, only requests stopped by its
own ReauthenticationRequired, which these views never raise). A GET never acts, and nothing they
typed is kept anywhere.
"""

from allauth.account.internal.flows import reauthentication
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy

# Shown on the password page. A download is chosen again afterwards (see the module's docstring);
# the deletion page comes back by itself.
DOWNLOAD_WHY = gettext_lazy("To download a couple's record, first confirm it's you. Then choose the download again.")
DELETE_WHY = gettext_lazy("To delete a couple, first confirm it's you.")
LEAVE_APPOINTMENT_WHY = gettext_lazy("To leave the appointment view, first confirm it's you.")
# allauth's "no app": every re-authentication check applies (its adapter answers True for it).
ANY_APP = ""


def reauthenticate_first(request: HttpRequest, *, back: str, why: str) -> HttpResponse | None:
    """None when the signed-in person confirmed who they are within ACCOUNT_REAUTHENTICATION_TIMEOUT.

    Otherwise a redirect to allauth's confirmation (the password, or a code from the authenticator
    app), which then brings them to `back`: a local page (GET) where they choose the action again.
    `why` is shown there. A recent sign-in is not a confirmation, as for allauth's own pages.
    Call it after the access gate, so an outsider still gets the gate's 404 and learns nothing.
    """
    if not reauthentication.is_reauthentication_required(request, app=ANY_APP):
        return None
    return reauthenticate(request, back=back, why=why)


def reauthenticate(request: HttpRequest, *, back: str, why: str) -> HttpResponse:
    """A redirect to allauth's confirmation, which then brings the person to `back` (a local GET),
    however recently they confirmed: for a rule that wants a confirmation made after some moment."""
    messages.info(request, why)
    # allauth's page offers the other ways it has (a code from the app) and hands `back` along.
    return HttpResponseRedirect(f"{reverse('account_reauthenticate')}?{urlencode({REDIRECT_FIELD_NAME: back})}")
