"""Words kept across a sign-out (accounts/drafts.py; issue 12, item 12): a form that arrives after its
writer was signed out is kept server-side, a short while, for that same person alone, and comes back
in the same form once they sign in again."""

import re
import uuid

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse

from accounts.drafts import OWNER_FIELD, owner_token
from intimacy.models import Session
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = reverse("account_login")
START = "2026-11-25 09:00:00+00:00"
WORDS = "His hands were warm and slow; I felt looked after"


@pytest.fixture
def log_url(assignment):
    return reverse("session_log", args=[assignment.pk]) + "?new=1"


def owner_field_on(html: str) -> str:
    match = re.search(rf'name="{OWNER_FIELD}" value="([^"]+)"', html)
    assert match, "the form carries no note of whom it was shown to"
    return match.group(1)


def a_back_rub(owner: str, **extra) -> dict:
    return {
        "idempotency_key": str(uuid.uuid4()),
        "date": "2026-11-25",
        "minutes": "20",
        "role": "receiver",
        "connection": "8",
        "comfort": "9",
        "safe": "9",
        "tension_before": "7",
        "notes": WORDS,
        "visibility": "therapist",
        OWNER_FIELD: owner,
        **extra,
    }


def sign_in(client: Client, email: str, next_url: str):
    return client.post(LOGIN, {"login": email, "password": PASSWORD, "next": next_url})


@override_settings(TEND_IDLE_SECONDS_PARTNER=3600)
def test_idle_sign_out_during_a_post_keeps_the_words_for_the_same_person(client, partner_a, log_url):
    # A shorter idle limit than the session's own lifetime, as for therapists: the session is still
    # there, and SessionRulesMiddleware signs out before the view runs.
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client, partner_a.email, "/")
        owner = owner_field_on(client.get(log_url).content.decode())
        clock.shift(2 * 3600)  # the phone sat on the form past the idle limit
        response = client.post(log_url, a_back_rub(owner), follow=True)
        html = response.content.decode()
        assert response.redirect_chain[-1][0].startswith(LOGIN)
        assert "You were signed out to keep things private." in html
        assert "We kept what you wrote. Sign in again and it will be back in the form." in html
        assert WORDS not in html  # the sign-in page shows nothing of them
        assert Session.objects.count() == 0

        assert sign_in(client, partner_a.email, log_url)["Location"] == log_url
        html = client.get(log_url).content.decode()
        assert "We kept what you wrote. Please check it and press Save." in html
        assert WORDS in html
        assert 'value="receiver" checked' in html and 'value="7" checked' in html
        assert 'value="therapist"' in html and re.search(r'value="therapist"[^>]*checked', html)
        # Handed back once: opening the form again starts afresh.
        assert WORDS not in client.get(log_url).content.decode()


def test_a_session_that_lapsed_meanwhile_keeps_them_too(client, partner_a, log_url):
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client, partner_a.email, "/")
        owner = owner_field_on(client.get(log_url).content.decode())
        clock.shift(25 * 3600)  # past the 24 idle hours the session itself is gone: an anonymous post
        response = client.post(log_url, a_back_rub(owner), follow=True)
        assert "We kept what you wrote. Sign in again and it will be back in the form." in response.content.decode()
        sign_in(client, partner_a.email, log_url)
        assert WORDS in client.get(log_url).content.decode()


def test_someone_else_signing_in_on_that_phone_never_sees_them(client, partner_a, partner_b, log_url):
    client.force_login(partner_a.user)
    owner = owner_field_on(client.get(log_url).content.decode())
    client.logout()  # signed out in another tab (or "sign out everywhere")
    client.post(log_url, a_back_rub(owner))
    sign_in(client, partner_b.email, log_url)
    assert WORDS not in client.get(log_url).content.decode()
    client.logout()
    sign_in(client, partner_a.email, log_url)
    assert WORDS in client.get(log_url).content.decode()


@pytest.mark.parametrize(
    "owner",
    ["", "7", "not-a-signed-value", owner_token(type("Someone", (), {"pk": 7})()) + "x"],
    ids=["missing", "unsigned", "garbage", "tampered"],
)
def test_without_a_valid_note_of_whom_the_form_was_for_nothing_is_kept(client, partner_a, log_url, owner):
    client.post(log_url, a_back_rub(owner))
    sign_in(client, partner_a.email, log_url)
    assert WORDS not in client.get(log_url).content.decode()


def test_words_cannot_be_planted_for_another_person(client, partner_a, partner_b, log_url):
    # Sam's own note names Sam: sent anonymously, it keeps words for Sam alone, never for Alex.
    client.post(log_url, a_back_rub(owner_token(partner_b.user)))
    sign_in(client, partner_a.email, log_url)
    assert WORDS not in client.get(log_url).content.decode()


def test_kept_for_an_hour(client, partner_a, log_url):
    with time_machine.travel(START, tick=False) as clock:
        client.post(log_url, a_back_rub(owner_token(partner_a.user)))
        clock.shift(61 * 60)
        sign_in(client, partner_a.email, log_url)
        assert WORDS not in client.get(log_url).content.decode()


def test_only_the_forms_own_fields_are_kept(client, partner_a, log_url):
    path = log_url.split("?")[0]
    client.post(log_url, a_back_rub(owner_token(partner_a.user), password="hunter2-not-kept", extra="no"))
    kept = cache.get(f"tend-draft:{partner_a.user.pk}:{path}")
    assert kept["notes"] == [WORDS]
    assert not {"password", "extra", OWNER_FIELD, "csrfmiddlewaretoken"} & set(kept)


def test_a_form_that_keeps_no_drafts_keeps_nothing(client, partner_a):
    path = reverse("checkin")
    client.post(path, {"happiness": "3", OWNER_FIELD: owner_token(partner_a.user)})
    assert cache.get(f"tend-draft:{partner_a.user.pk}:{path}") is None
