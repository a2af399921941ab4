"""Nobody learns who is a client (issue 12, items 1 and 2).

Public pages (sign-up, password reset) answer every address the same way, and "Add couple" tells a
therapist nothing about addresses outside their own caseload: what differs goes by email, to the
address's owner only."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.factories import CoupleFactory, PartnerFactory

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "quiet-evening-lantern-7"
UNKNOWN = "nobody-yet@example.org"
INVITE_LINK = re.compile(r"https?://[^/\s]+/invite/\S+/")


@pytest.fixture
def pending_elsewhere(other_therapist):
    """Another therapist's client who has been invited and has not joined: no account, only an invitation."""
    return PartnerFactory(
        couple=CoupleFactory(therapist=other_therapist, label="Robin & Jo"),
        slot=1,
        name="Robin",
        email="robin@example.org",
        user=None,
        accepted_at=None,
    )


def _same_page(response, email: str) -> tuple[int, str, str]:
    """What a visitor sees after a POST: the status, where it sends them, and the page it ends on, with
    the address they typed themselves taken out (the page may repeat it back)."""
    location = response.get("Location", "")
    page = Client().get(location).content.decode() if location else response.content.decode()
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)
    return response.status_code, location, page.replace(email, "ADDRESS")


def _emails_to(email: str) -> list:
    return [m for m in mail.outbox if m.to == [email]]


class TestSignUp:
    @pytest.fixture(autouse=True)
    def _open(self, settings):
        settings.TEND_OPEN_SIGNUP = True

    def _sign_up(self, email: str):
        data = {"email": email, "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD}
        return Client().post(reverse("account_signup"), data)

    def test_every_address_gets_the_same_answer(self, therapist, partner_a, pending_elsewhere):
        unknown = _same_page(self._sign_up(UNKNOWN), UNKNOWN)
        assert unknown[0] == 302  # to "check your email"
        for email in (pending_elsewhere.email, partner_a.email, therapist.email):
            assert _same_page(self._sign_up(email), email) == unknown, email

    def test_an_invited_address_gets_no_account_and_its_owner_an_email_about_the_invitation(self, pending_elsewhere):
        self._sign_up("Robin@Example.org")
        assert not User.objects.filter(email__iexact="robin@example.org").exists()
        (message,) = _emails_to("robin@example.org")
        assert "invitation" in message.body and "/accounts/signup/" not in message.body
        assert "/invite/" not in message.body  # it tells them where to look; it is no new link
        # The invitation itself still works afterwards.
        pending_elsewhere.refresh_from_db()
        assert pending_elsewhere.user is None and pending_elsewhere.invite_nonce


class TestPasswordReset:
    def _reset(self, email: str):
        return Client().post(reverse("account_reset_password"), {"email": email})

    def test_every_address_gets_the_same_answer(self, therapist, partner_a, pending_elsewhere):
        unknown = _same_page(self._reset(UNKNOWN), UNKNOWN)
        for email in (pending_elsewhere.email, partner_a.email, therapist.email):
            assert _same_page(self._reset(email), email) == unknown, email

    def test_an_invited_address_is_pointed_to_its_invitation_not_to_sign_up(self, pending_elsewhere):
        self._reset(pending_elsewhere.email)
        (message,) = _emails_to(pending_elsewhere.email)
        assert "invitation" in message.body
        assert "/accounts/signup/" not in message.body and "/invite/" not in message.body


def test_the_email_address_page_is_one_fixed_sentence_for_everyone(client, therapist, partner_a):
    """Changing an address is not offered (a partner's address is their identity in the couple): nothing to
    probe with. allauth's own add/change forms are not reachable."""
    for user in (therapist, partner_a.user):
        client.force_login(user)
        assert client.post(reverse("account_email"), {"action_add": "", "email": UNKNOWN}).status_code == 405
