"""Sign-in and sessions: a second factor for therapists and staff, throttling, idle and absolute sign-out,
sign out everywhere, the admin behind the same door, and the password rules."""

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, TOTP_SECRET, UserFactory, totp_code

LOGIN = reverse("account_login")
START = "2026-11-25 09:00:00+00:00"


def sign_in(client: Client, email: str, password: str = PASSWORD):
    return client.post(LOGIN, {"login": email, "password": password})


class TestSecondFactor:
    @pytest.fixture(autouse=True)
    def _still_clock(self):
        # A code is valid for one 30-second step: a test that computes one and then posts it could
        # cross into the next step on a slow machine. A frozen clock keeps both in the same step.
        with time_machine.travel("2026-11-25 09:00:05+00:00", tick=False):
            yield

    def test_a_therapist_signs_in_with_password_then_code(self, client, therapist, couple):
        response = sign_in(client, therapist.email)
        assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")
        # Half-way through, nobody is signed in yet.
        assert client.get(reverse("couple_detail", args=[couple.pk])).status_code == 302
        response = client.post(reverse("mfa_authenticate"), {"code": totp_code()})
        assert response.status_code == 302
        assert client.get(reverse("couple_detail", args=[couple.pk])).status_code == 200

    def test_a_wrong_code_does_not_sign_in(self, client, therapist):
        sign_in(client, therapist.email)
        response = client.post(reverse("mfa_authenticate"), {"code": "000000" if totp_code() != "000000" else "111111"})
        assert response.status_code == 200
        assert client.get(reverse("home")).status_code == 302

    def test_a_code_works_once(self, therapist):
        code = totp_code()
        first, second = Client(), Client()
        sign_in(first, therapist.email)
        assert first.post(reverse("mfa_authenticate"), {"code": code}).status_code == 302
        sign_in(second, therapist.email)
        assert second.post(reverse("mfa_authenticate"), {"code": code}).status_code == 200
        assert second.get(reverse("home")).status_code == 302

    def test_a_therapist_without_one_must_set_it_up_before_any_client_data(self, client, couple):
        newcomer = UserFactory(second_factor=False)
        couple.therapist = newcomer
        couple.save()
        assert sign_in(client, newcomer.email).status_code == 302
        for url in (reverse("home"), reverse("couple_detail", args=[couple.pk]), reverse("exercise_list")):
            response = client.get(url)
            assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp"), url
        # Setting it up, changing the password and signing out stay open.
        assert client.get(reverse("mfa_activate_totp")).status_code == 200
        assert client.get(reverse("account_change_password")).status_code == 200

    def test_setting_it_up_opens_the_caseload(self, client):
        newcomer = UserFactory(second_factor=False)
        sign_in(client, newcomer.email)
        page = client.get(reverse("mfa_activate_totp"))
        secret = page.context["form"].secret
        response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
        assert response.status_code == 302
        assert Authenticator.objects.filter(user=newcomer, type="totp").exists()
        assert client.get(reverse("home")).status_code == 200

    def test_staff_need_it_for_the_admin_too(self, client):
        admin = UserFactory(is_staff=True, is_superuser=True, second_factor=False)
        client.force_login(admin)
        response = client.get(reverse("admin:index"))
        assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp")

    def test_the_admin_signs_in_through_tends_sign_in(self, client):
        response = client.get(reverse("admin:login"))
        assert response.status_code == 302 and response["Location"].startswith(LOGIN)

    def test_partners_are_offered_it_not_made_to(self, client, partner_a):
        sign_in(client, partner_a.user.email)
        assert client.get(reverse("home")).status_code == 200
        assert client.get(reverse("mfa_activate_totp")).status_code == 200

    def test_the_demo_secret_is_the_documented_one(self, therapist):
        from allauth.mfa.totp.internal.auth import TOTP

        authenticator = Authenticator.objects.get(user=therapist, type="totp")
        assert TOTP(authenticator).validate_code(totp_code(TOTP_SECRET))


class TestThrottling:
    def test_after_five_failures_even_the_right_password_waits(self, client, partner_a):
        email = partner_a.user.email
        for _ in range(5):
            assert sign_in(client, email, "wrong-password-123").status_code == 200
        response = sign_in(client, email)
        assert response.status_code == 200  # stays on the form: not signed in
        assert "Too many failed login attempts" in response.content.decode()
        assert client.get(reverse("home")).status_code == 302

    def test_another_account_is_not_locked_by_them(self, client, partner_a, partner_b):
        for _ in range(5):
            sign_in(client, partner_a.user.email, "wrong-password-123")
        assert sign_in(client, partner_b.user.email).status_code == 302


class TestSignOut:
    def test_therapists_are_signed_out_after_30_idle_minutes(self, client, therapist):
        with time_machine.travel(START, tick=False) as clock:
            client.force_login(therapist)
            clock.shift(29 * 60)
            assert client.get(reverse("home")).status_code == 200
            clock.shift(31 * 60)
            response = client.get(reverse("home"))
            assert response.status_code == 302 and response["Location"].startswith(LOGIN)

    def test_partners_after_24_idle_hours(self, client, partner_a):
        with time_machine.travel(START, tick=False) as clock:
            client.force_login(partner_a.user)
            clock.shift(23 * 3600)
            assert client.get(reverse("home")).status_code == 200
            clock.shift(23 * 3600)
            assert client.get(reverse("home")).status_code == 200  # each visit counts as activity
            clock.shift(24 * 3600 + 60)
            assert client.get(reverse("home")).status_code == 302

    def test_therapists_after_12_hours_however_active(self, client, therapist):
        with time_machine.travel(START, tick=False) as clock:
            client.force_login(therapist)
            for _ in range(24):  # a request every 29 minutes (11 h 36 min in all): never idle
                clock.shift(29 * 60)
                assert client.get(reverse("home")).status_code == 200
            clock.shift(24 * 60)  # exactly 12 hours since signing in: still within the limit
            assert client.get(reverse("home")).status_code == 200
            clock.shift(60)
            response = client.get(reverse("home"))
            assert response.status_code == 302 and response["Location"].startswith(LOGIN)

    def test_partners_after_30_days_however_active(self, client, partner_a):
        # NIST SP 800-63B asks a password-only session to sign in again at least every 30 days.
        with time_machine.travel(START, tick=False) as clock:
            client.force_login(partner_a.user)
            for _ in range(31):  # a visit every 23 hours (713 hours in all): never idle
                clock.shift(23 * 3600)
                assert client.get(reverse("home")).status_code == 200
            clock.shift(7 * 3600 - 60)  # 30 days less a minute since signing in
            assert client.get(reverse("home")).status_code == 200
            clock.shift(2 * 60)
            response = client.get(reverse("home"))
            assert response.status_code == 302 and response["Location"].startswith(LOGIN)
            # Signing in again starts a new 30 days.
            client.force_login(partner_a.user)
            assert client.get(reverse("home")).status_code == 200

    def test_sign_out_everywhere(self, partner_a):
        phone, laptop = Client(), Client()
        for c in (phone, laptop):
            assert sign_in(c, partner_a.user.email).status_code == 302
        assert laptop.get(reverse("usersessions_list")).status_code == 200
        laptop.post(reverse("usersessions_list"))
        assert phone.get(reverse("home")).status_code == 302
        assert laptop.get(reverse("home")).status_code == 200


def test_passwords_need_twelve_characters_and_not_a_common_one():
    for weak in ("short-pw-1", "password1234"):
        try:
            validate_password(weak)
        except ValidationError:
            continue
        raise AssertionError(f"{weak!r} was accepted")
    validate_password("paper-lantern-river-58")
