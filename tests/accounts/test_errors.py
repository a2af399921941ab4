"""Tend's pages for a stale form and for a database out of reach (accounts/errors.py; issue 12, items
13 and 14): nothing saved, nothing half-written, and the words offered back to their writer alone."""

import re
import uuid

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse

from accounts.drafts import OWNER_FIELD
from intimacy.models import Reflection, Session
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = reverse("account_login")
WORDS = "His hands were warm and slow;\nI felt looked after"


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert match, f"no {name} on the page"
    return match.group(1)


def sign_in_through_the_form(client: Client, email: str) -> None:
    page = client.get(LOGIN).content.decode()
    response = client.post(
        LOGIN, {"login": email, "password": PASSWORD, "csrfmiddlewaretoken": hidden(page, "csrfmiddlewaretoken")}
    )
    assert response.status_code == 302


def a_back_rub(page: str, **extra) -> dict:
    """What the person types into the "Log a back rub" form shown as `page`, with its hidden fields."""
    return {
        "csrfmiddlewaretoken": hidden(page, "csrfmiddlewaretoken"),
        OWNER_FIELD: hidden(page, OWNER_FIELD),
        "idempotency_key": hidden(page, "idempotency_key"),
        "date": "2026-11-25",
        "minutes": "20",
        "role": "giver",
        "connection": "8",
        "comfort": "9",
        "safe": "9",
        "pressure": "right",
        "notes": WORDS,
        "visibility": "therapist",
        **extra,
    }


class TestStaleForm:
    """A form opened, then a sign-out and sign-in in another tab (which gives the browser a new CSRF
    token), then Save on the old form."""

    @pytest.fixture
    def browser(self):
        return Client(enforce_csrf_checks=True)

    @pytest.fixture
    def stale(self, browser, partner_a, assignment, tend_rows):
        sign_in_through_the_form(browser, partner_a.email)
        url = reverse("session_log", args=[assignment.pk]) + "?new=1"
        page = browser.get(url).content.decode()
        browser.post(reverse("account_logout"), {"csrfmiddlewaretoken": browser.cookies["csrftoken"].value})
        return browser, url, page

    def test_explains_saves_nothing_and_offers_the_words_back(self, stale, partner_a, tend_rows):
        browser, url, page = stale
        sign_in_through_the_form(browser, partner_a.email)
        before = tend_rows()
        response = browser.post(url, a_back_rub(page))
        html = response.content.decode()
        assert response.status_code == 403
        assert "This page was out of date" in html and "Nothing was saved." in html
        assert "CSRF verification failed" not in html
        assert tend_rows() == before  # the failure view performs nothing
        back = re.search(r'href="([^"]+)">Back to the form, with what you wrote', html).group(1)
        assert back.replace("&amp;", "&") == url
        form = browser.get(url).content.decode()
        assert "We kept what you wrote. Please check it and press Save." in form
        assert "His hands were warm and slow;\nI felt looked after" in form

    def test_someone_else_signed_in_meanwhile_is_not_offered_them(self, stale, partner_a, partner_b):
        browser, url, page = stale
        sign_in_through_the_form(browser, partner_b.email)  # Sam, on the same phone
        html = browser.post(url, a_back_rub(page)).content.decode()
        assert "This page was out of date" in html
        assert "Back to the form" not in html and "We kept" not in html and "warm and slow" not in html
        assert "warm and slow" not in browser.get(url).content.decode()
        # They were kept for Alex, whose words they are.
        browser.post(reverse("account_logout"), {"csrfmiddlewaretoken": browser.cookies["csrftoken"].value})
        sign_in_through_the_form(browser, partner_a.email)
        assert "warm and slow" in browser.get(url).content.decode()

    def test_a_stale_sign_in_form_gets_the_same_calm_page(self, browser):
        response = browser.post(LOGIN, {"login": "a@example.org", "password": "x", "csrfmiddlewaretoken": "stale"})
        assert response.status_code == 403 and "This page was out of date" in response.content.decode()


class TestDatabaseOutOfReach:
    @pytest.fixture
    def browser(self):
        # As in production: the error becomes a page instead of reaching the test.
        return Client(raise_request_exception=False)

    def test_a_post_gets_a_503_with_its_own_words_and_no_database(self, browser, partner_a, assignment):
        browser.force_login(partner_a.user)
        url = reverse("session_log", args=[assignment.pk]) + "?new=1"
        page = browser.get(url).content.decode()
        calls = []

        def database_down(execute, sql, params, many, context):
            calls.append(sql)
            raise OperationalError("could not connect to server: Connection refused")

        with connection.execute_wrapper(database_down):
            response = browser.post(url, a_back_rub(page, csrfmiddlewaretoken="unused"))
        html = response.content.decode()
        assert calls, "the database was never asked: the test would prove nothing"
        assert response.status_code == 503
        assert response["Cache-Control"] == "no-store"
        assert "nothing was saved" in html
        # Their words, and their answers in the form's own terms, ready to copy.
        assert "Anything else\nHis hands were warm and slow;\nI felt looked after" in html
        assert "The pressure was\nJust right" in html and "Who may read what I wrote?\nMy therapist only" in html
        assert "idempotency" not in html and OWNER_FIELD not in html

    def test_the_private_line_shows_the_words_just_typed_but_keeps_nothing(self, browser, partner_a):
        # Decided: the safety line never keeps its words (nothing sent there is shown again), but a
        # message that could not be sent is shown once, on a no-store page, to copy rather than lose.
        browser.force_login(partner_a.user)
        browser.get(reverse("safety"))

        def database_down(execute, sql, params, many, context):
            raise OperationalError("could not connect to server: Connection refused")

        with connection.execute_wrapper(database_down):
            response = browser.post(reverse("safety"), {"message": "Please call me, not at home"})
        assert response.status_code == 503 and response["Cache-Control"] == "no-store"
        assert "Please call me, not at home" in response.content.decode()

    def test_a_page_gets_a_503_too(self, browser, partner_a):
        browser.force_login(partner_a.user)

        def database_down(execute, sql, params, many, context):
            raise OperationalError("server closed the connection unexpectedly")

        with connection.execute_wrapper(database_down):
            response = browser.get(reverse("home"))
        assert response.status_code == 503
        assert "Please try again in a few minutes." in response.content.decode()

    def test_other_errors_keep_the_plain_500(self, browser, partner_a, monkeypatch):
        from intimacy import selectors

        def broken(*args, **kwargs):
            raise RuntimeError("a bug")

        monkeypatch.setattr(selectors, "partner_home", broken)
        browser.force_login(partner_a.user)
        response = browser.get(reverse("home"))
        assert response.status_code == 500 and "Something went wrong" in response.content.decode()

    def test_a_failure_half_way_through_leaves_nothing_half_written(self, browser, partner_a, assignment):
        # The session row is written, then the database fails on the reflection: the transaction
        # rolls back whole, so no session without its reflection is left behind.
        browser.force_login(partner_a.user)
        url = reverse("session_log", args=[assignment.pk]) + "?new=1"
        page = browser.get(url).content.decode()
        written = []

        def fails_on_the_reflection(execute, sql, params, many, context):
            if sql.startswith("INSERT"):
                written.append(sql.split()[2])
            if sql.startswith("INSERT") and Reflection._meta.db_table in sql:
                raise OperationalError("terminating connection due to administrator command")
            return execute(sql, params, many, context)

        with connection.execute_wrapper(fails_on_the_reflection):
            response = browser.post(url, a_back_rub(page, idempotency_key=str(uuid.uuid4())))
        assert response.status_code == 503
        assert any(Session._meta.db_table in table for table in written)  # it did get that far
        assert Session.objects.count() == 0 and Reflection.objects.count() == 0
