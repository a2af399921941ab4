"""Words kept across a sign-out (accounts/drafts.py; issue 12, item 12): a form that arrives after its
writer was signed out is kept server-side, a short while, for that same person alone, and comes back
in the same form once they sign in again."""

import re
import uuid
from urllib.parse import quote

import pytest
import time_machine
from django.core.cache import caches
from django.db import connection
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


def test_a_session_that_lapsed_meanwhile_keeps_them_too(client, partner_a, log_url):
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client, partner_a.email, "/")
        owner = owner_field_on(client.get(log_url).content.decode())
        clock.shift(24 * 3600 + 60)  # past the 24 idle hours the session itself is gone: an anonymous post
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
    ["", "7", "not-a-signed-value", owner_token(type("Someone", (), {"pk": 7})(), "session_log") + "x"],
    ids=["missing", "unsigned", "garbage", "tampered"],
)
def test_without_a_valid_note_of_whom_the_form_was_for_nothing_is_kept(client, partner_a, log_url, owner):
    client.post(log_url, a_back_rub(owner))
    sign_in(client, partner_a.email, log_url)
    assert WORDS not in client.get(log_url).content.decode()


def test_words_cannot_be_planted_for_another_person(client, partner_a, partner_b, log_url):
    # Sam's own note names Sam: sent anonymously, it keeps words for Sam alone, never for Alex.
    client.post(log_url, a_back_rub(owner_token(partner_b.user, "session_log")))
    sign_in(client, partner_a.email, log_url)
    assert WORDS not in client.get(log_url).content.decode()


def test_kept_for_an_hour(client, partner_a, log_url):
    with time_machine.travel(START, tick=False) as clock:
        client.post(log_url, a_back_rub(owner_token(partner_a.user, "session_log")))
        clock.shift(61 * 60)
        sign_in(client, partner_a.email, log_url)
        assert WORDS not in client.get(log_url).content.decode()


def test_only_the_forms_own_fields_are_kept(client, partner_a, log_url):
    path = log_url.split("?")[0]
    client.post(
        log_url, a_back_rub(owner_token(partner_a.user, "session_log"), password="hunter2-not-kept", extra="no")
    )
    kept = caches["drafts"].get(f"tend-draft:{partner_a.user.pk}")
    assert kept["path"] == path and kept["fields"]["notes"] == [WORDS]
    assert not {"password", "extra", OWNER_FIELD, "csrfmiddlewaretoken"} & set(kept)


def test_a_form_that_keeps_no_drafts_keeps_nothing(client, partner_a):
    client.post(reverse("checkin"), {"happiness": "3", OWNER_FIELD: owner_token(partner_a.user, "checkin")})
    assert caches["drafts"].get(f"tend-draft:{partner_a.user.pk}") is None


# The store itself (issue 12 review, A and E) ----------------------------------------------------------


def token_from(client: Client, user, url: str) -> str:
    """The note a real page gives its form, read as the person it was shown to, who then signs out."""
    client.force_login(user)
    match = re.search(rf'name="{OWNER_FIELD}" value="([^"]+)"', client.get(url).content.decode())
    client.logout()
    return match.group(1) if match else ""


def kept_rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM tend_drafts")
        return cursor.fetchone()[0]


def test_a_flood_of_kept_forms_never_lifts_a_sign_in_lockout(client, partner_a, partner_b, session):
    # Anyone with an account could once send signed-out forms to /sessions/<n>/reflect/ for any n, each
    # kept as a row of the shared cache; past 300 rows Django culled it, allauth's lockouts first.
    note = token_from(client, partner_b.user, reverse("reflection_add", args=[session.pk]))
    attacker = Client()
    for _ in range(5):
        attacker.post(LOGIN, {"login": partner_a.email, "password": "wrong-password-123"})
    for n in range(session.pk + 1, session.pk + 351):
        client.post(reverse("reflection_add", args=[n]), {"notes": "x", OWNER_FIELD: note})
    response = sign_in(Client(), partner_a.email, "/")
    assert response.status_code == 200 and "Too many failed login attempts" in response.content.decode()
    assert kept_rows() == 1  # one person, one kept form


def test_a_newer_form_replaces_the_kept_one(client, partner_a, partner_b, session, assignment):
    other = Session.objects.create(
        assignment=assignment, date=session.date, minutes=5, giver=partner_a, receiver=partner_b, logged_by=partner_a
    )
    note = token_from(client, partner_b.user, reverse("reflection_add", args=[session.pk]))
    client.post(reverse("reflection_add", args=[session.pk]), {"notes": "first", OWNER_FIELD: note})
    client.post(reverse("reflection_add", args=[other.pk]), {"notes": "second", OWNER_FIELD: note})
    client.force_login(partner_b.user)
    assert "second" in client.get(reverse("reflection_add", args=[other.pk])).content.decode()
    assert kept_rows() == 1


def test_a_note_for_one_form_keeps_nothing_sent_to_another(client, partner_a, partner_b, session, log_url):
    note = token_from(client, partner_b.user, reverse("reflection_add", args=[session.pk]))
    client.post(log_url, a_back_rub(note))
    sign_in(client, partner_a.email, log_url)
    assert WORDS not in client.get(log_url).content.decode()
    assert kept_rows() == 0


def test_a_note_older_than_a_page_can_stay_open_keeps_nothing(client, partner_a, log_url):
    with time_machine.travel(START, tick=False) as clock:
        note = token_from(client, partner_a.user, log_url)
        clock.shift(26 * 3600)  # the longest idle limit (24 h) and the draft's hour, both past
        client.post(log_url, a_back_rub(note))
        sign_in(client, partner_a.email, log_url)
        assert WORDS not in client.get(log_url).content.decode()


def test_opening_the_form_keeps_them_until_it_is_saved(client, partner_a, log_url):
    note = token_from(client, partner_a.user, log_url)
    client.post(log_url, a_back_rub(note))
    client.force_login(partner_a.user)
    # A prefetch, a link scanner or a second look: each GET shows them again, none uses them up.
    assert WORDS in client.get(log_url).content.decode()
    assert WORDS in client.get(log_url).content.decode()
    assert client.post(log_url, a_back_rub(note))["Location"] == reverse("home")
    assert Session.objects.get().reflections.get().notes == WORDS
    assert WORDS not in client.get(log_url).content.decode()
    assert kept_rows() == 0


# The private line keeps nothing (issue 12 review, B) ---------------------------------------------------


def test_the_private_line_never_keeps_its_words(client, partner_a):
    url = reverse("safety")
    note = token_from(client, partner_a.user, url)
    response = client.post(url, {"message": WORDS, OWNER_FIELD: note}, follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0].startswith(LOGIN)
    assert "We kept what you wrote" not in html
    sign_in(client, partner_a.email, url)
    html = client.get(url).content.decode()
    assert WORDS not in html and "We kept what you wrote" not in html
    assert kept_rows() == 0


# Kept words go with their writer (issue 12 review, D) ---------------------------------------------------


def test_deleting_the_couple_deletes_what_was_kept_for_its_partners(client, partner_a, couple, log_url):
    from intimacy.services import couple_delete

    note = token_from(client, partner_a.user, log_url)
    client.post(log_url, a_back_rub(note))
    assert kept_rows() == 1
    couple.exported_at = couple.created_at
    couple.save(update_fields=["exported_at"])
    couple_delete(couple=couple, confirmation=couple.label)
    assert kept_rows() == 0


# Therapists' forms keep their words too (issue 12 review, C) --------------------------------------------

THERAPIST_WORDS = "Slow down; check in with Sam before the next stage"


def therapist_forms(therapist, couple) -> dict:
    from intimacy.services import exercise_create

    own = exercise_create(
        owner=therapist, title="Hands", summary="Warm hands", guidance="Go slowly", suggested_minutes=10
    )
    exercise = {"title": "Hands", "summary": "Warm hands", "guidance": THERAPIST_WORDS, "suggested_minutes": "10"}
    return {
        # name: (the page showing the form, where it posts, what is typed)
        "note_add": (
            reverse("couple_notes", args=[couple.pk]),
            reverse("note_add", args=[couple.pk]),
            {"date": "2026-11-20", "text": THERAPIST_WORDS},
        ),
        "exercise_create": (reverse("exercise_create"), reverse("exercise_create"), exercise),
        "exercise_edit": (reverse("exercise_edit", args=[own.pk]), reverse("exercise_edit", args=[own.pk]), exercise),
        "assignment_create": (
            reverse("assignment_create", args=[couple.pk]),
            reverse("assignment_create", args=[couple.pk]),
            {"note": THERAPIST_WORDS, "target_per_week": "2"},
        ),
    }


@pytest.mark.parametrize("name", ["note_add", "exercise_create", "exercise_edit", "assignment_create"])
def test_a_therapists_form_after_an_idle_sign_out_comes_back_on_its_page(client, therapist, couple, name):
    page, action, typed = therapist_forms(therapist, couple)[name]
    note = token_from(client, therapist, page)
    response = client.post(action, {**typed, OWNER_FIELD: note})
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next={quote(page)}"  # the page, not a URL that takes only POSTs
    client.force_login(therapist)
    html = client.get(page).content.decode()
    assert THERAPIST_WORDS in html and "We kept what you wrote. Please check it and press Save." in html
