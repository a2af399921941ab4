"""Error reports never carry what a person typed: a 500 during a reflection POST, read as the admins get it."""

import secrets
import sys

import pytest
from django.core.signals import got_request_exception
from django.test import Client, override_settings
from django.urls import reverse
from django.views.debug import ExceptionReporter, get_exception_reporter_class

from intimacy import services
from intimacy.reporting import TendExceptionReporterFilter

pytestmark = pytest.mark.django_db

NOTES = "my-private-words-about-last-night-k7q"
NEXT = "slower-please-next-time-z3x"
REASON = "it-hurt-my-shoulder-w9m"
HIDDEN = TendExceptionReporterFilter.cleansed_substitute


def reflection_post():
    return {
        "connection": "6",
        "comfort": "7",
        "safe": "7",
        "paused": "on",
        "pause_reason": REASON,
        "next_time": NEXT,
        "notes": NOTES,
        "visibility": "shared",
        "confirm_share": "on",  # shared after a pause: asked once more (issue 13)
    }


@pytest.fixture
def post_failing_reflection(monkeypatch, session, partner_b):
    """partner_b posts a reflection and the service fails; returns the response and the reports made.

    A function to call inside the test, so that the test's settings (DEBUG, ADMINS) are in force.
    """

    def boom(*, session, partner, answers):
        # `answers` holds every typed word: a report that shows this frame's variables would leak them.
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "reflection_add", boom)

    def post():
        reports = []

        def capture(sender, request, **kwargs):
            reports.append(ExceptionReporter(request, *sys.exc_info()).get_traceback_html())

        got_request_exception.connect(capture)
        client = Client(raise_request_exception=False)
        client.force_login(partner_b.user)
        try:
            response = client.post(reverse("reflection_add", args=[session.pk]), reflection_post())
        finally:
            got_request_exception.disconnect(capture)
        return response, reports

    return post


def assert_nothing_typed(text: str) -> None:
    for typed in (NOTES, NEXT, REASON):
        assert typed not in text


@override_settings(ADMINS=[("Ops", "ops@example.org")], DEBUG=False)
def test_admin_error_email_names_the_fields_but_hides_what_was_typed(post_failing_reflection, mailoutbox):
    response, _ = post_failing_reflection()
    assert response.status_code == 500
    assert_nothing_typed(response.content.decode())
    (email,) = [m for m in mailoutbox if m.to == ["ops@example.org"]]
    assert "RuntimeError" in email.body and "the database went away" in email.body
    assert_nothing_typed(email.subject + email.body)
    # The names stay, to tell which form it was; every value is hidden, ratings and choices too.
    for name in ("notes", "next_time", "pause_reason", "connection", "visibility"):
        assert f"{name} = '{HIDDEN}'" in email.body


@override_settings(DEBUG=False)
def test_html_report_hides_post_values_and_traceback_variables(post_failing_reflection):
    _, (html,) = post_failing_reflection()
    assert "RuntimeError" in html
    assert_nothing_typed(html)
    assert HIDDEN in html


@override_settings(DEBUG=True)
def test_debug_page_hides_them_too(post_failing_reflection):
    response, _ = post_failing_reflection()
    html = response.content.decode()
    assert response.status_code == 500 and "RuntimeError" in html  # Django's technical 500 page
    assert_nothing_typed(html)


def test_get_parameters_stay_readable(rf):
    # Query strings carry only periods, pages and filters: useful in a report, and nothing typed.
    request = rf.get("/couples/1/?weeks=12&page=2")
    try:
        raise RuntimeError("x")
    except RuntimeError:
        text = ExceptionReporter(request, *sys.exc_info()).get_traceback_text()
    assert "weeks = '12'" in text and "page = '2'" in text


# Secret link tokens --------------------------------------------------------------------------------

# Made at run time: a report shows the source lines around each frame, and a literal there would be found.
INVITE_TOKEN = "cx1abc-" + secrets.token_hex(16)
OFF_TOKEN = "7:1uAbCd:" + secrets.token_urlsafe(24)


@pytest.fixture
def failing_invite_link(monkeypatch):
    """A GET of an invitation link whose page fails, arriving from a "turn emails off" page (the
    Referer): returns the response and the HTML report made."""

    def boom(uidb64, token):
        raise RuntimeError(f"cannot read the invitation /invite/{uidb64}/{token}/")

    monkeypatch.setattr("accounts.views._partner_from_link", boom)

    def get():
        reports = []

        def capture(sender, request, **kwargs):
            # The reporter Django itself uses for the debug page and the admin email.
            reporter = get_exception_reporter_class(request)(request, *sys.exc_info())
            reports.append(reporter.get_traceback_html())

        got_request_exception.connect(capture)
        try:
            response = Client(raise_request_exception=False).get(
                f"/invite/Mw/{INVITE_TOKEN}/?from=email",
                HTTP_REFERER=f"https://tend.example.org/reminders/off/{OFF_TOKEN}/",
            )
        finally:
            got_request_exception.disconnect(capture)
        return response, reports

    return get


def assert_no_token(text: str) -> None:
    for token in (INVITE_TOKEN.split("-")[1], OFF_TOKEN.split(":")[2]):
        assert token not in text


@override_settings(ADMINS=[("Ops", "ops@example.org")], DEBUG=False)
def test_error_email_from_a_secret_link_carries_no_token(failing_invite_link, mailoutbox):
    response, _ = failing_invite_link()
    assert response.status_code == 500
    (email,) = [m for m in mailoutbox if m.to == ["ops@example.org"]]
    # Still enough to debug with: which kind of link, which request, what failed.
    assert "/invite/Mw/[redacted]/" in email.subject and "/invite/Mw/[redacted]/" in email.body
    assert "/reminders/off/[redacted]/" in email.body and "RuntimeError" in email.body
    assert_no_token(email.subject + email.body + "".join(str(a[0]) for a in email.alternatives))


@override_settings(DEBUG=False)
def test_html_report_from_a_secret_link_carries_no_token(failing_invite_link):
    _, (html,) = failing_invite_link()
    assert "/invite/Mw/[redacted]/" in html and "cannot read the invitation" in html
    assert_no_token(html)


@override_settings(DEBUG=True)
def test_debug_page_from_a_secret_link_carries_no_token(failing_invite_link):
    response, _ = failing_invite_link()
    assert response.status_code == 500
    assert_no_token(response.content.decode())


def test_cookie_values_are_hidden_from_reports(rf):
    # Django hides the session cookie itself; the messages cookie holds sentences about people
    # ("A new invitation was emailed to Robin"), and no other cookie's value helps debugging either.
    session_key, message = secrets.token_hex(16), "emailed-to-" + secrets.token_hex(8)
    request = rf.get("/", HTTP_COOKIE=f"sessionid={session_key}; messages={message}")
    try:
        raise RuntimeError("x")
    except RuntimeError:
        html = get_exception_reporter_class(request)(request, *sys.exc_info()).get_traceback_html()
    assert "sessionid" in html
    assert session_key not in html and message not in html
