""" "Stay signed in on this phone" (issue 17): offered to a partner after a passkey sign-in on a device
that has not answered yet; chosen, the session ends after 30 unused days and 90 days after signing in
(instead of 24 hours and 30 days), and signing out, "Sign out everywhere", the private line's "Sign out
now" and removing the last passkey still end it. A passkey sign-in also satisfies a therapist's
second-factor rule. The passkey ceremony itself is the browser's (tests/browser/test_passkeys.py);
here the server's check of the passkey's signature is stood in for, the rest is Tend's real code."""

from unittest import mock

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.webauthn import forms as webauthn_forms
from django.test import Client
from django.urls import reverse

from accounts import staying
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("account_login")
STAY = reverse("stay_signed_in")
START = "2026-11-25 09:00:00+00:00"
DAY = 24 * 3600


def passkey_sign_in(client: Client, user):
    """Sign in as allauth does for "Sign in with a passkey", with the signature check stood in for."""
    key = Authenticator.objects.filter(user=user, type=Authenticator.Type.WEBAUTHN).first()
    if key is None:
        key = Authenticator.objects.create(user=user, type=Authenticator.Type.WEBAUTHN, data={"name": "Phone"})
    with mock.patch.multiple(
        webauthn_forms.auth,
        parse_authentication_response=lambda credential: None,
        extract_user_from_response=lambda credential: user,
        complete_authentication=lambda u, credential: key,
    ):
        response = client.post(reverse("mfa_login_webauthn"), {"credential": '{"id": "phone"}'})
    assert response.status_code == 302 and not response["Location"].startswith(LOGIN), response["Location"]
    return response


def stay(client: Client, user) -> None:
    passkey_sign_in(client, user)
    response = client.post(STAY, {"choice": "stay", "next": "/"})
    assert response.status_code == 302 and client.session.get(staying.STAY)


def signed_out(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(LOGIN)


class TestTheOffer:
    def test_after_a_passkey_sign_in_the_first_page_is_the_offer_then_that_page(self, client, partner_a):
        passkey_sign_in(client, partner_a.user)
        response = client.get(reverse("history"))
        assert response.status_code == 302 and response["Location"] == f"{STAY}?next=%2Fhistory%2F"
        page = client.get(response["Location"])
        assert page.status_code == 200
        assert b"Stay signed in on this phone?" in page.content
        response = client.post(STAY, {"choice": "stay", "next": reverse("history")})
        assert response["Location"] == reverse("history")
        # Made once: the next page is the page.
        assert client.get(reverse("home")).status_code == 200

    @pytest.mark.parametrize("private", ["safety", "safety_check"])
    def test_the_private_line_is_never_behind_the_offer(self, client, partner_a, private):
        # A partner who signs in to tell their therapist something privately goes straight there; the
        # offer waits for the next ordinary page.
        passkey_sign_in(client, partner_a.user)
        response = client.get(reverse(private))
        assert not (response.status_code == 302 and response["Location"].startswith(STAY))
        assert client.get(reverse("history"))["Location"].startswith(STAY)

    def test_choosing_it_makes_a_lasting_session_for_30_days_and_marks_the_device(self, client, partner_a):
        passkey_sign_in(client, partner_a.user)
        client.post(STAY, {"choice": "stay", "next": "/"})
        assert client.session.get(staying.STAY) is True
        assert client.session.get_expiry_age() == 30 * DAY
        assert not client.session.get_expire_at_browser_close()
        assert client.cookies[staying.OFFERED_COOKIE].value == "1"
        assert client.cookies[staying.OFFERED_COOKIE]["httponly"]

    def test_not_now_keeps_the_usual_limits_and_is_not_asked_again_on_this_device(self, client, partner_a):
        passkey_sign_in(client, partner_a.user)
        client.post(STAY, {"choice": "not_now", "next": "/"})
        assert not client.session.get(staying.STAY)
        client.post(reverse("account_logout"))
        passkey_sign_in(client, partner_a.user)
        assert client.get(reverse("home")).status_code == 200

    def test_a_password_sign_in_is_not_offered_and_cannot_choose(self, client, partner_a):
        assert client.post(LOGIN, {"login": partner_a.user.email, "password": PASSWORD}).status_code == 302
        assert client.get(reverse("home")).status_code == 200
        assert client.get(STAY)["Location"] == "/"
        client.post(STAY, {"choice": "stay"})
        assert not client.session.get(staying.STAY)
        assert staying.OFFERED_COOKIE not in client.cookies

    def test_it_goes_on_only_to_a_page_of_tend(self, client, partner_a):
        passkey_sign_in(client, partner_a.user)
        assert client.post(STAY, {"choice": "stay", "next": "https://elsewhere.example/"})["Location"] == "/"

    def test_therapists_are_not_offered_and_a_passkey_is_their_second_factor(self, client, therapist, couple):
        passkey_sign_in(client, therapist)
        # No code asked, no detour to set one up: the couple's page at once.
        assert client.get(reverse("couple_detail", args=[couple.pk])).status_code == 200
        assert client.get(STAY).status_code == 403
        assert not client.session.get(staying.OFFER_PENDING)

    def test_a_therapist_without_a_factor_may_add_a_passkey_instead_right_after_signing_in(self, client):
        newcomer = UserFactory(email="new@example.org", second_factor=False)
        client.post(LOGIN, {"login": newcomer.email, "password": PASSWORD})
        assert client.get(reverse("home"))["Location"] == reverse("mfa_activate_totp")
        # Not asked for the password again moments after typing it (accounts/adapter.py).
        assert client.get(reverse("mfa_add_webauthn")).status_code == 200


class TestTheLimits:
    def test_a_session_that_stays_ends_after_30_unused_days(self, client, partner_a):
        with time_machine.travel(START, tick=False) as clock:
            stay(client, partner_a.user)
            clock.shift(29 * DAY)  # 29 days unused: still signed in (the usual limit is 24 hours)
            assert client.get(reverse("home")).status_code == 200
            clock.shift(30 * DAY + 60)  # 30 days and a minute unused
            assert signed_out(client.get(reverse("home")))

    def test_and_90_days_after_signing_in_however_used(self, client, partner_a):
        with time_machine.travel(START, tick=False) as clock:
            stay(client, partner_a.user)
            for _ in range(4):  # a visit every 22 days: 88 days in all, never idle
                clock.shift(22 * DAY)
                assert client.get(reverse("home")).status_code == 200
            clock.shift(2 * DAY - 60)  # 90 days less a minute since signing in
            assert client.get(reverse("home")).status_code == 200
            clock.shift(2 * 60)
            assert signed_out(client.get(reverse("home")))

    def test_not_staying_a_passkey_session_keeps_the_24_hours(self, client, partner_a):
        with time_machine.travel(START, tick=False) as clock:
            passkey_sign_in(client, partner_a.user)
            client.post(STAY, {"choice": "not_now", "next": "/"})
            clock.shift(DAY + 60)
            assert signed_out(client.get(reverse("home")))

    def test_sign_out_everywhere_ends_it(self, partner_a):
        phone, laptop = Client(), Client()
        stay(phone, partner_a.user)
        passkey_sign_in(laptop, partner_a.user)
        laptop.post(reverse("usersessions_list"))
        assert signed_out(phone.get(reverse("home")))

    def test_a_new_password_set_elsewhere_ends_it(self, partner_a):
        phone = Client()
        stay(phone, partner_a.user)
        partner_a.user.set_password("another-long-pass-2027!")
        partner_a.user.save()
        assert signed_out(phone.get(reverse("home")))

    def test_the_private_lines_sign_out_now_ends_it_at_once(self, client, partner_a):
        stay(client, partner_a.user)
        client.post(reverse("quick_sign_out"))
        assert signed_out(client.get(reverse("home")))

    def test_signing_out_ends_it(self, client, partner_a):
        stay(client, partner_a.user)
        client.post(reverse("account_logout"))
        assert signed_out(client.get(reverse("home")))

    def test_removing_the_last_passkey_brings_back_the_usual_limits(self, client, partner_a):
        stay(client, partner_a.user)
        client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
        key = Authenticator.objects.get(user=partner_a.user, type=Authenticator.Type.WEBAUTHN)
        client.post(reverse("mfa_remove_webauthn", args=[key.pk]))
        assert not Authenticator.objects.filter(pk=key.pk).exists()
        assert not client.session.get(staying.STAY)
        assert client.session.get_expiry_age() == 24 * 3600
