import re

import pytest
import time_machine
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.urls import reverse

from accounts import services
from accounts.models import Couple, Partner, User
from accounts.tokens import invite_token_generator

pytestmark = pytest.mark.django_db
SITE = "http://testserver/"
GOOD_PASSWORD = "quiet-evening-lantern-7"


def add_couple(client, therapist, **overrides):
    client.force_login(therapist)
    data = {
        "label": "Robin & Kim",
        "time_zone": "Europe/Berlin",
        "partner1_name": "Robin",
        "partner1_email": "robin@example.org",
        "partner2_name": "Kim",
        "partner2_email": "kim@example.org",
        **overrides,
    }
    return client.post(reverse("couple_add"), data)


def link_in(message) -> str:
    return re.search(r"https?://[^/\s]+(/invite/\S+/)", message.body).group(1)


class TestAddCouple:
    def test_creates_couple_partners_and_emails_each_an_invite(self, client, therapist):
        response = add_couple(client, therapist)
        couple = Couple.objects.get(label="Robin & Kim")
        assert response.status_code == 302
        assert response["Location"] == reverse("couple_exercises", args=[couple.pk]) + "#details"
        assert couple.therapist == therapist and couple.time_zone == "Europe/Berlin"
        assert sorted(mail.outbox[i].to[0] for i in range(2)) == ["kim@example.org", "robin@example.org"]
        # The emails name nobody else and nothing clinical: no label, no partner's name, no exercise.
        for message in mail.outbox:
            assert "Robin & Kim" not in message.body + message.subject
            assert "back rub" not in message.body.lower()
        # The links reach the partners by email only: the therapist never sees them.
        page = client.get(response["Location"]).content.decode()
        assert "/invite/" not in page
        assert page.count("Invitation sent") == 2

    def test_same_address_twice_is_refused_and_input_kept(self, client, therapist):
        response = add_couple(client, therapist, partner2_email="ROBIN@example.org")
        assert response.status_code == 200
        assert "Each partner signs in with their own email" in response.content.decode()
        assert 'value="Robin &amp; Kim"' in response.content.decode()
        assert not Couple.objects.exists() and not mail.outbox


class TestInviteLink:
    @pytest.fixture
    def invited(self, client, therapist):
        add_couple(client, therapist)
        client.logout()
        partner = Partner.objects.get(email="robin@example.org")
        return partner, link_in(next(m for m in mail.outbox if m.to == ["robin@example.org"]))

    def test_get_shows_the_form_and_signs_nobody_in(self, client, invited):
        partner, link = invited
        response = client.get(link)
        assert response.status_code == 200
        assert "_auth_user_id" not in client.session
        partner.refresh_from_db()
        assert partner.user is None

    def test_the_invitee_sees_who_invited_them_and_with_whom(self, client, invited):
        # So the person holding the link can tell the invitation is meant for them. The other partner
        # is named only on the pages (the link holder's, the partner's own), never in the email; the
        # therapist is named in the email too since issue 17 (an unsigned invitation reads like phishing).
        partner, link = invited
        page = client.get(link).content.decode()
        assert "Dr Lee" in page and "Kim" in page
        assert client.post(link, {"password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD}).status_code == 302
        consent = client.get(reverse("consent")).content.decode()
        assert "Dr Lee" in consent and "Kim" in consent
        invitation = next(m for m in mail.outbox if m.to == ["robin@example.org"])
        assert "Dr Lee, your therapist" in invitation.body and "Kim" not in invitation.body

    def test_post_creates_the_account_signs_in_and_asks_for_consent(self, client, invited):
        partner, link = invited
        response = client.post(link, {"password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD})
        assert response.status_code == 302 and response["Location"] == reverse("consent")
        partner.refresh_from_db()
        assert partner.user.role == User.Role.PARTNER and partner.user.check_password(GOOD_PASSWORD)
        # Single use: the same link now shows the "no longer works" page.
        client.logout()
        again = client.get(link)
        assert again.status_code == 400 and "This link no longer works" in again.content.decode()

    def test_weak_password_is_refused(self, client, invited):
        partner, link = invited
        response = client.post(link, {"password1": "password123", "password2": "password123"})
        assert response.status_code == 200
        partner.refresh_from_db()
        assert partner.user is None

    def test_expires_after_seven_days_whatever_password_reset_timeout_says(self, client, invited, settings):
        partner, link = invited
        settings.PASSWORD_RESET_TIMEOUT = 60  # an unrelated setting must not shorten invites
        token = link.rstrip("/").split("/")[-1]
        assert invite_token_generator.check_token(partner, token)
        with time_machine.travel("2099-01-01"):
            assert not invite_token_generator.check_token(partner, token)

    def test_resend_invalidates_the_earlier_link(self, client, therapist, invited):
        partner, old_link = invited
        client.force_login(therapist)
        client.post(reverse("invite_resend", args=[partner.couple_id, partner.pk]))
        client.logout()
        assert client.get(old_link).status_code == 400
        assert client.get(link_in(mail.outbox[-1])).status_code == 200

    def test_resend_after_acceptance_is_refused(self, client, therapist, partner_a):
        client.force_login(therapist)
        client.post(reverse("invite_resend", args=[partner_a.couple_id, partner_a.pk]))
        assert mail.outbox == []

    def test_a_password_reset_token_does_not_open_an_invite(self, client, invited):
        partner, link = invited
        uid = link.split("/")[2]
        user = User.objects.create_user(email="someone@example.org", password=GOOD_PASSWORD)
        assert client.get(f"/invite/{uid}/{default_token_generator.make_token(user)}/").status_code == 400


def test_invite_token_timeout_boundary(couple):
    partner = Partner.objects.create(couple=couple, slot=1, name="Robin", email="r@example.org", invite_nonce="x")
    with time_machine.travel("2026-11-01 09:00:00+00:00", tick=False):
        token = invite_token_generator.make_token(partner)
    with time_machine.travel("2026-11-08 09:00:00+00:00", tick=False):
        assert invite_token_generator.check_token(partner, token)
    with time_machine.travel("2026-11-08 09:00:01+00:00", tick=False):
        assert not invite_token_generator.check_token(partner, token)


def test_consent_is_recorded_with_the_current_version(client, partner_a, settings):
    partner_a.consent_version = ""
    partner_a.consent_accepted_at = None
    partner_a.save()
    client.force_login(partner_a.user)
    assert client.post(reverse("consent"), {}).status_code == 200  # unticked: asked again
    response = client.post(reverse("consent"), {"agree": "on"})
    assert response["Location"] == reverse("home")
    partner_a.refresh_from_db()
    assert partner_a.consent_version == settings.TEND_CONSENT_VERSION


def test_invite_send_email_has_no_clinical_content(partner_a):
    partner = Partner.objects.create(
        couple=partner_a.couple, slot=2, name="Sam", email="sam2@example.org", invite_nonce="x"
    )
    services.invite_send(partner=partner, site_url=SITE)
    (message,) = mail.outbox
    assert message.to == ["sam2@example.org"]
    assert partner_a.couple.label not in message.body
    assert "Alex" not in message.body


def broken_mail(*args, **kwargs):
    raise OSError("SMTP down")


class TestTheTherapistNeverHoldsTheLink:
    """Only the invitee can complete an invitation: the link reaches them by email, and nowhere else."""

    def test_a_failed_email_asks_to_send_again_later_and_shows_no_link(self, client, therapist, monkeypatch):
        monkeypatch.setattr("accounts.services.send_mail", broken_mail)
        response = add_couple(client, therapist)
        page = client.get(response["Location"]).content.decode()
        assert "could not be sent just now" in page and "/invite/" not in page
        # Nothing went out, so nothing is shown as sent: the button sends it.
        assert page.count("Invitation not sent yet") == 2 and "Send the invitation" in page
        assert not Partner.objects.filter(invited_at__isnull=False).exists()

    def test_a_resend_shows_no_link(self, client, therapist):
        add_couple(client, therapist)
        robin = Partner.objects.get(email="robin@example.org")
        response = client.post(reverse("invite_resend", args=[robin.couple_id, robin.pk]), follow=True)
        page = response.content.decode()
        assert "A new invitation was emailed to Robin" in page
        assert "/invite/" not in page and link_in(mail.outbox[-1]) not in page
        assert "/invite/" not in str(dict(client.session))

    def test_a_failed_resend_says_so(self, client, therapist, monkeypatch):
        add_couple(client, therapist)
        robin = Partner.objects.get(email="robin@example.org")
        monkeypatch.setattr("accounts.services.send_mail", broken_mail)
        response = client.post(reverse("invite_resend", args=[robin.couple_id, robin.pk]), follow=True)
        page = response.content.decode()
        assert "could not be sent just now" in page and "/invite/" not in page


class TestSentOpenedJoined:
    """The therapist sees, per partner, whether the invitation was sent, opened and accepted."""

    def status(self, client, therapist, couple_pk: int, name: str) -> str:
        client.force_login(therapist)
        page = client.get(reverse("couple_exercises", args=[couple_pk])).content.decode()
        card = page.split(f'<p class="fw-semibold mb-1">{name}</p>', 1)[1].split("</div></div>", 1)[0]
        return " ".join(re.sub(r"<[^>]+>", " ", card).split())

    def test_sent_then_opened_then_joined(self, client, therapist):
        with time_machine.travel("2026-11-25 09:00:00+00:00", tick=False) as clock:
            add_couple(client, therapist)
            robin = Partner.objects.get(email="robin@example.org")
            link = link_in(next(m for m in mail.outbox if m.to == ["robin@example.org"]))
            assert "Invitation sent 25 Nov 2026, 09:00 · not opened yet" in self.status(
                client, therapist, robin.couple_id, "Robin"
            )
            client.logout()
            clock.shift(3600)
            assert client.get(link).status_code == 200
            clock.shift(3600)
            client.get(link)  # the first opening is the one that counts
            robin.refresh_from_db()
            assert robin.invite_opened_at.isoformat() == "2026-11-25T10:00:00+00:00"
            assert "Invitation sent 25 Nov 2026, 09:00 · opened 25 Nov 2026, 10:00" in self.status(
                client, therapist, robin.couple_id, "Robin"
            )
            client.logout()
            client.post(link, {"password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD})
            assert "Joined 25 Nov 2026" in self.status(client, therapist, robin.couple_id, "Robin")

    def test_a_bad_link_or_someone_else_signed_in_records_no_opening(self, client, therapist, partner_a):
        add_couple(client, therapist)
        robin = Partner.objects.get(email="robin@example.org")
        link = link_in(next(m for m in mail.outbox if m.to == ["robin@example.org"]))
        client.logout()
        client.get(link[:-3] + "xx/")
        client.force_login(partner_a.user)
        assert client.get(link).status_code == 400
        robin.refresh_from_db()
        assert robin.invite_opened_at is None

    def test_a_new_invitation_starts_unopened(self, client, therapist):
        add_couple(client, therapist)
        robin = Partner.objects.get(email="robin@example.org")
        client.logout()
        client.get(link_in(next(m for m in mail.outbox if m.to == ["robin@example.org"])))
        client.force_login(therapist)
        client.post(reverse("invite_resend", args=[robin.couple_id, robin.pk]))
        robin.refresh_from_db()
        assert robin.invite_opened_at is None
        assert "not opened yet" in self.status(client, therapist, robin.couple_id, "Robin")


class TestResendIsRateLimited:
    """Re-sending is limited per partner, so Tend cannot be used to flood an address."""

    def test_three_an_hour_then_a_friendly_wait(self, client, therapist):
        with time_machine.travel("2026-11-25 09:00:00+00:00", tick=False) as clock:
            add_couple(client, therapist)
            robin = Partner.objects.get(email="robin@example.org")
            kim = Partner.objects.get(email="kim@example.org")
            url = reverse("invite_resend", args=[robin.couple_id, robin.pk])
            for _ in range(3):
                client.post(url)
            sent = len(mail.outbox)
            response = client.post(url, follow=True)
            assert len(mail.outbox) == sent
            assert "Please wait an hour before sending another" in response.content.decode()
            # Kim is another partner: not held back by Robin's limit.
            client.post(reverse("invite_resend", args=[kim.couple_id, kim.pk]))
            assert len(mail.outbox) == sent + 1
            clock.shift(3601)
            client.force_login(therapist)  # signed out meanwhile: 30 idle minutes
            client.post(url)
            assert len(mail.outbox) == sent + 2


class TestInviteLinksUseTheSiteAddress:
    """An invitation's link is built from TEND_SITE_URL, not from the Host header of the request that
    sent it: a forged or odd Host (any name in ALLOWED_HOSTS) cannot send a partner elsewhere."""

    def test_add_couple_and_resend(self, client, therapist, settings):
        settings.TEND_SITE_URL = "https://tend.example.org"
        settings.ALLOWED_HOSTS = ["tend.example.org", "other.example.net"]
        client.defaults["HTTP_HOST"] = "other.example.net"
        add_couple(client, therapist)
        assert all("https://tend.example.org/invite/" in message.body for message in mail.outbox)
        assert not any("other.example.net" in message.body for message in mail.outbox)
        partner = Partner.objects.get(email="robin@example.org")
        client.post(reverse("invite_resend", args=[partner.couple_id, partner.pk]))
        assert "https://tend.example.org/invite/" in mail.outbox[-1].body


class TestTheInvitationSaysWhoAndWhat:
    """Issue 17: an invitation that says only "You have been invited to Tend" reads like phishing. It
    names the therapist (their own display name), says in one line what Tend is, and its subject holds
    nothing clinical."""

    def _invite(self, partner_a, therapist_name: str):
        therapist = partner_a.couple.therapist
        therapist.name = therapist_name
        therapist.save(update_fields=["name"])
        partner = Partner.objects.create(
            couple=partner_a.couple, slot=2, name="Sam", email="sam2@example.org", invite_nonce="x"
        )
        services.invite_send(partner=partner, site_url=SITE)
        (message,) = mail.outbox
        return message

    def test_the_subject_and_body_name_the_therapist(self, partner_a):
        message = self._invite(partner_a, "Dana Rivera")
        assert message.subject == "Dana Rivera invited you to Tend"
        assert message.body.startswith("Hello Sam,")
        assert "Dana Rivera, your therapist, has invited you to Tend." in message.body
        # One line on what Tend is, the link, and what to do if it was not expected.
        assert "Tend is a private place to keep track of what your therapist suggests" in message.body
        assert "/invite/" in message.body
        assert "If you weren't expecting this email" in message.body

    @pytest.mark.parametrize("therapist_name", ["Dana Rivera", ""])
    def test_the_subject_holds_nothing_clinical(self, partner_a, therapist_name):
        # A subject shows on a locked phone's screen and in a shared inbox's list: "Your therapist …"
        # there tells anyone glancing that the reader is in therapy.
        subject = self._invite(partner_a, therapist_name).subject.lower()
        for word in ("sex", "touch", "therap", "couple", "back rub", "massage", "intima", "relationship"):
            assert word not in subject

    def test_a_name_with_a_line_break_still_sends(self, partner_a):
        # A name pasted from an email signature can hold a line break, which no mail header may: the
        # invitation must still go (not a 500 on "Add couple"), on one line.
        message = self._invite(partner_a, "Dana\r\nRivera")
        assert message.subject == "Dana Rivera invited you to Tend"

    def test_without_a_display_name_it_says_your_therapist(self, partner_a):
        message = self._invite(partner_a, "")
        assert message.subject == "You're invited to Tend"
        assert "Your therapist has invited you to Tend." in message.body
        assert partner_a.couple.therapist.email not in message.body


class TestDisplayName:
    """The name invitations carry is the therapist's own to set (User.name), in their settings."""

    def test_the_therapist_sets_it_and_invitations_carry_it(self, client, therapist):
        client.force_login(therapist)
        page = client.get(reverse("display_name")).content.decode()
        assert 'value="Dr Lee"' in page  # conftest's therapist
        response = client.post(reverse("display_name"), {"name": "  Dana Rivera  "})
        assert response.status_code == 302 and response["Location"] == reverse("display_name")
        therapist.refresh_from_db()
        assert therapist.name == "Dana Rivera"
        add_couple(client, therapist)
        assert {m.subject for m in mail.outbox} == {"Dana Rivera invited you to Tend"}

    def test_an_empty_name_is_refused(self, client, therapist):
        client.force_login(therapist)
        response = client.post(reverse("display_name"), {"name": "   "})
        assert response.status_code == 400
        therapist.refresh_from_db()
        assert therapist.name == "Dr Lee"

    def test_the_add_couple_page_says_whose_name_invitations_carry(self, client, therapist):
        client.force_login(therapist)
        page = client.get(reverse("couple_add")).content.decode()
        assert "Invitations come from <strong>Dr Lee</strong>" in page
        assert f'href="{reverse("display_name")}"' in page
        therapist.name = ""
        therapist.save(update_fields=["name"])
        page = client.get(reverse("couple_add")).content.decode()
        assert "Add your name" in page
