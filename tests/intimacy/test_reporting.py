"""Error reports never carry what a person typed: a 500 during a reflection POST, read as the admins get it."""

import sys

import pytest
from django.core.signals import got_request_exception
from django.test import Client, override_settings
from django.urls import reverse
from django.views.debug import ExceptionReporter

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
        "paused": "on",
        "pause_reason": REASON,
        "next_time": NEXT,
        "notes": NOTES,
        "visibility": "shared",
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
