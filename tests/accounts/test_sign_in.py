"""Sign-in and sessions: a second factor for therapists and staff, throttling, idle and absolute sign-out,
sign out everywhere, the admin behind the same door, and the password rules."""

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
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
        assert client.get(reverse("home"))["Location"] == reverse("mfa_activate_totp")
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
        # Offered behind the password: a partner is never made to set one up (see TestReauthentication).
        assert asks_to_confirm(client.get(reverse("mfa_activate_totp")))
        confirm_password(client)
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


# Re-authentication and other sessions (issue 12, items 4 and 5) ----------------------------------------

REAUTHENTICATE = reverse("account_reauthenticate")


def asks_to_confirm(response) -> bool:
    """The answer is allauth's "Confirm it's you" page (password, or a code from the authenticator app)."""
    return response.status_code == 302 and response["Location"].startswith(REAUTHENTICATE)


def signed_in_with_code(client: Client, user) -> Client:
    """Password, then the authenticator's code of the current 30-second step: how a therapist signs in."""
    assert sign_in(client, user.email)["Location"] == reverse("mfa_authenticate")
    assert client.post(reverse("mfa_authenticate"), {"code": totp_code()}).status_code == 302
    return client


def confirm_password(client: Client) -> None:
    assert client.post(REAUTHENTICATE, {"password": PASSWORD}).status_code == 302


@pytest.fixture
def clock():
    # A still clock keeps a computed code in its 30-second step (see TestSecondFactor); tests move it on.
    with time_machine.travel("2026-11-25 09:00:05+00:00", tick=False) as traveller:
        yield traveller


def totp_of(user):
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP)


def recovery_codes_of(user):
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES)


class TestReauthentication:
    """A minute after signing in is not a confirmation: changing how someone signs in asks again."""

    def test_removing_the_second_factor_a_minute_after_signing_in_asks_for_the_password(self, client, therapist, clock):
        signed_in_with_code(client, therapist)
        clock.shift(60)
        assert asks_to_confirm(client.get(reverse("mfa_deactivate_totp")))
        assert asks_to_confirm(client.post(reverse("mfa_deactivate_totp")))
        assert totp_of(therapist).exists()

    def test_recovery_codes_new_or_old_ask_too(self, client, therapist, clock):
        from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

        codes = RecoveryCodes.activate(therapist).instance
        clock.shift(24 * 3600)  # made yesterday
        signed_in_with_code(client, therapist)
        clock.shift(60)
        assert asks_to_confirm(client.get(reverse("mfa_generate_recovery_codes")))
        assert asks_to_confirm(client.post(reverse("mfa_generate_recovery_codes")))
        assert list(recovery_codes_of(therapist).values_list("pk", "data")) == [(codes.pk, codes.data)]
        assert asks_to_confirm(client.get(reverse("mfa_view_recovery_codes")))
        assert asks_to_confirm(client.get(reverse("mfa_download_recovery_codes")))

    def test_after_the_password_again_the_factor_can_be_removed(self, client, therapist, clock):
        signed_in_with_code(client, therapist)
        clock.shift(60)
        response = client.get(reverse("mfa_deactivate_totp"))
        assert response["Location"] == f"{REAUTHENTICATE}?next={reverse('mfa_deactivate_totp').replace('/', '%2F')}"
        assert client.post(REAUTHENTICATE, {"password": "not-the-password-1"}).status_code == 200
        assert client.post(REAUTHENTICATE, {"password": PASSWORD}).status_code == 302
        assert client.post(reverse("mfa_deactivate_totp")).status_code == 302
        assert not totp_of(therapist).exists()

    def test_or_with_a_code_from_the_authenticator_app(self, client, therapist, clock):
        signed_in_with_code(client, therapist)
        clock.shift(30)  # the sign-in's code is spent: the next step's
        assert client.post(reverse("mfa_reauthenticate"), {"code": totp_code()}).status_code == 302
        assert client.post(reverse("mfa_generate_recovery_codes")).status_code == 302
        assert recovery_codes_of(therapist).exists()

    def test_a_confirmation_lasts_five_minutes(self, client, therapist, clock):
        signed_in_with_code(client, therapist)
        confirm_password(client)
        clock.shift(5 * 60 + 1)
        assert asks_to_confirm(client.post(reverse("mfa_deactivate_totp")))
        assert totp_of(therapist).exists()

    def test_the_first_factor_straight_after_the_first_sign_in_asks_nothing_more(self, client, clock):
        newcomer = UserFactory(second_factor=False)
        sign_in(client, newcomer.email)
        # Signing in lands on home, which sends them to the setup.
        assert client.get(reverse("home"))["Location"] == reverse("mfa_activate_totp")
        secret = client.get(reverse("mfa_activate_totp")).context["form"].secret
        response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
        assert response["Location"] == reverse("mfa_view_recovery_codes")
        # The codes that setup made, to write down or download at once.
        assert client.get(reverse("mfa_view_recovery_codes")).status_code == 200
        assert client.get(reverse("mfa_download_recovery_codes")).status_code == 200
        # Changing it afterwards is like any other change.
        clock.shift(30)
        assert asks_to_confirm(client.get(reverse("mfa_deactivate_totp")))
        assert asks_to_confirm(client.post(reverse("mfa_generate_recovery_codes")))

    def test_a_partner_signed_in_moments_ago_is_asked_for_the_password_to_add_one(self, client, partner_a):
        # A borrowed or stolen session must not add a factor that would lock the partner out.
        sign_in(client, partner_a.user.email)
        assert asks_to_confirm(client.get(reverse("mfa_activate_totp")))
        assert asks_to_confirm(client.post(reverse("mfa_activate_totp"), {"code": totp_code()}))
        assert not Authenticator.objects.filter(user=partner_a.user).exists()

    def test_a_therapist_who_was_not_sent_to_set_one_up_is_asked_too(self, client, clock):
        # Only the setup Tend itself forced is spared: the page opened on its own asks as usual.
        newcomer = UserFactory(second_factor=False)
        sign_in(client, newcomer.email)
        assert asks_to_confirm(client.get(reverse("mfa_activate_totp")))

    def test_adding_and_removing_a_factor_tells_the_owner_by_email(
        self, client, partner_a, clock, mailoutbox, django_capture_on_commit_callbacks
    ):
        sign_in(client, partner_a.user.email)
        confirm_password(client)
        secret = client.get(reverse("mfa_activate_totp")).context["form"].secret
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)}).status_code == 302
        added = mailoutbox[-1]
        assert added.to == [partner_a.user.email]
        assert "reset your password" in added.body and "tell your therapist" in added.body
        clock.shift(30)
        confirm_password(client)
        assert client.post(reverse("mfa_deactivate_totp")).status_code == 302
        removed = mailoutbox[-1]
        assert removed is not added and removed.to == [partner_a.user.email]
        assert "reset your password" in removed.body
        # Nothing clinical: no exercise, no couple, no therapist named.
        for mail in (added, removed):
            for word in ("back rub", partner_a.couple.label, partner_a.couple.therapist.email):
                assert word not in mail.body and word not in mail.subject

    def test_setting_one_up_long_after_signing_in_asks_for_the_password(self, client, partner_a, clock):
        sign_in(client, partner_a.user.email)
        clock.shift(5 * 60 + 1)
        assert asks_to_confirm(client.get(reverse("mfa_activate_totp")))

    def test_changing_the_password_asks_for_the_current_one(self, client, partner_a):
        sign_in(client, partner_a.user.email)
        new = "paper-lantern-river-58"
        response = client.post(reverse("account_change_password"), {"password1": new, "password2": new})
        assert response.status_code == 200 and "oldpassword" in response.context["form"].errors
        partner_a.user.refresh_from_db()
        assert partner_a.user.check_password(PASSWORD)

    def test_adding_or_removing_an_email_address_would_ask_too(self, rf, partner_a):
        # Tend has no page for it (a partner's address changes through their therapist, see
        # accounts/urls.py); should allauth's ever come back, its re-authentication is on.
        from allauth.account.adapter import get_adapter
        from allauth.core.context import request_context

        request = rf.get("/")
        request.user = partner_a.user
        with request_context(request):
            assert get_adapter().is_reauthentication_required(app="allauth.account") is True


@pytest.fixture
def two_devices():
    return Client(), Client()


class TestOtherSessionsEnd:
    """Changing how someone signs in signs out their other sessions; the one that made the change stays."""

    def test_removing_the_second_factor(self, two_devices, therapist, clock, django_capture_on_commit_callbacks):
        phone, laptop = two_devices
        signed_in_with_code(phone, therapist)
        clock.shift(30)
        signed_in_with_code(laptop, therapist)
        confirm_password(laptop)
        with django_capture_on_commit_callbacks(execute=True):
            assert laptop.post(reverse("mfa_deactivate_totp")).status_code == 302
        response = phone.get(reverse("home"))
        assert response.status_code == 302 and response["Location"].startswith(LOGIN)
        # Still signed in here, and sent to set up a factor again before any client data.
        assert laptop.get(reverse("home"))["Location"] == reverse("mfa_activate_totp")

    def test_new_recovery_codes(self, two_devices, therapist, clock, django_capture_on_commit_callbacks):
        phone, laptop = two_devices
        signed_in_with_code(phone, therapist)
        clock.shift(30)
        signed_in_with_code(laptop, therapist)
        confirm_password(laptop)
        with django_capture_on_commit_callbacks(execute=True):
            assert laptop.post(reverse("mfa_generate_recovery_codes")).status_code == 302
        assert phone.get(reverse("home"))["Location"].startswith(LOGIN)
        assert laptop.get(reverse("home")).status_code == 200

    def test_adding_a_second_factor(self, two_devices, partner_a, clock, django_capture_on_commit_callbacks):
        phone, laptop = two_devices
        for device in two_devices:
            sign_in(device, partner_a.user.email)
        confirm_password(laptop)
        secret = laptop.get(reverse("mfa_activate_totp")).context["form"].secret
        with django_capture_on_commit_callbacks(execute=True):
            assert laptop.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)}).status_code == 302
        assert phone.get(reverse("home"))["Location"].startswith(LOGIN)
        assert laptop.get(reverse("home")).status_code == 200

    def test_changing_the_password(self, two_devices, partner_a):
        phone, laptop = two_devices
        for device in two_devices:
            sign_in(device, partner_a.user.email)
        new = "paper-lantern-river-58"
        response = laptop.post(
            reverse("account_change_password"), {"oldpassword": PASSWORD, "password1": new, "password2": new}
        )
        assert response.status_code == 302
        assert phone.get(reverse("home"))["Location"].startswith(LOGIN)
        assert laptop.get(reverse("home")).status_code == 200
        # Gone from the list of signed-in sessions at once, not only refused on its next request.
        assert UserSession.objects.filter(user=partner_a.user).count() == 1

    def test_a_password_reset_signs_out_everywhere(self, client, two_devices, partner_a, mailoutbox):
        for device in two_devices:
            sign_in(device, partner_a.user.email)
        client.post(reverse("account_reset_password"), {"email": partner_a.user.email})
        link = next(word for word in mailoutbox[-1].body.split() if "/password/reset/key/" in word)
        form = client.get(link, follow=True)
        new = "paper-lantern-river-58"
        assert client.post(form.redirect_chain[-1][0], {"password1": new, "password2": new}).status_code == 302
        for device in two_devices:
            assert device.get(reverse("home"))["Location"].startswith(LOGIN)
        assert not UserSession.objects.filter(user=partner_a.user).exists()


class TestStaffRemovingAFactor:
    """Staff deleting a therapist's authenticator in the Django admin (allauth's own admin, which sends
    no `authenticator_removed`) signs the therapist out everywhere and tells them by email."""

    def test_the_admin_delete_view(
        self, client, therapist, staff, clock, mailoutbox, django_capture_on_commit_callbacks
    ):
        laptop = signed_in_with_code(Client(), therapist)
        assert laptop.get(reverse("home")).status_code == 200
        client.force_login(staff)
        totp = totp_of(therapist).get()
        url = reverse("admin:mfa_authenticator_delete", args=[totp.pk])
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(url, {"post": "yes"}).status_code == 302
        assert not totp_of(therapist).exists()
        # The therapist's session no longer counts the removed factor: it is gone.
        assert laptop.get(reverse("home"))["Location"].startswith(LOGIN)
        assert not UserSession.objects.filter(user=therapist).exists()
        # The staff member's own session stays.
        assert client.get(reverse("admin:index")).status_code == 200
        assert [m.to for m in mailoutbox] == [[therapist.email]]
        assert "reset your password" in mailoutbox[0].body

    def test_the_admin_delete_action(self, client, therapist, staff, clock):
        laptop = signed_in_with_code(Client(), therapist)
        client.force_login(staff)
        pks = list(Authenticator.objects.filter(user=therapist).values_list("pk", flat=True))
        data = {"action": "delete_selected", "_selected_action": pks, "post": "yes"}
        assert client.post(reverse("admin:mfa_authenticator_changelist"), data).status_code == 302
        assert not Authenticator.objects.filter(user=therapist).exists()
        assert laptop.get(reverse("home"))["Location"].startswith(LOGIN)
