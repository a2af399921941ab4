"""`Cache-Control: no-store` on every response to a signed-in person: no copy of a clinical page stays in
a browser's or a proxy's cache."""

import pytest
import time_machine
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel("2026-11-25 12:00:00+00:00", tick=False):
        yield


def test_clinical_pages_are_not_stored(client_for, therapist, partner_a, session):
    couple_pk = session.assignment.couple_id
    pages = [
        (partner_a, reverse("home")),
        (partner_a, reverse("history")),
        (partner_a, reverse("reflection_edit", args=[session.reflections.get().pk])),
        (therapist, reverse("home")),
        (therapist, reverse("couple_detail", args=[couple_pk])),
        (therapist, reverse("couple_summary", args=[couple_pk])),
        (therapist, reverse("couple_export", args=[couple_pk])),
        # Last: once open, any other therapist page asks for the password first (issue 13).
        (therapist, reverse("appointment", args=[couple_pk])),
    ]
    for who, url in pages:
        response = client_for(who, reauthenticated=who == therapist).get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == "no-store", url


def test_redirects_and_error_pages_for_the_signed_in_are_not_stored_either(client_for, partner_a, session):
    client = client_for(partner_a)
    assert client.get(reverse("log_start"))["Cache-Control"] == "no-store"  # a redirect to the form
    forbidden = client.get(reverse("couple_detail", args=[session.assignment.couple_id]))
    assert forbidden.status_code == 403 and forbidden["Cache-Control"] == "no-store"


def test_a_views_own_cache_control_is_kept(client_for, partner_a, client):
    # /healthz says never_cache itself; signed in or not, it answers the same.
    anonymous = client.get(reverse("healthz"))["Cache-Control"]
    assert "no-store" in anonymous
    assert client_for(partner_a).get(reverse("healthz"))["Cache-Control"] == anonymous


def test_signed_out_pages_and_static_files_keep_their_caching(client, client_for, partner_a):
    to_sign_in = client.get(reverse("history"))
    assert to_sign_in.status_code == 302 and "Cache-Control" not in to_sign_in.headers
    static = client_for(partner_a).get("/static/tend/tend.css")
    assert static.status_code == 200
    assert "no-store" not in static.get("Cache-Control", "")
