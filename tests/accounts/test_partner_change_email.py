"""A therapist corrects the address (and first name) of a partner who has not joined yet.

A mistyped address sends the only invitation link to a stranger, who could join the couple. The
therapist changes the address on the couple's page: every earlier link dies, the invitation goes to
the new address, and the rules of "Add couple" hold (nothing learnt about addresses outside the
therapist's own couples). Re-sending's rate limit covers it, so it cannot flood addresses."""

import re

import pytest
from auditlog.models import LogEntry
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts import services
from accounts.models import Couple, Partner
from tests.factories import CoupleFactory, PartnerFactory, UserFactory

pytestmark = pytest.mark.django_db
SITE = "http://testserver/"
GOOD_PASSWORD = "quiet-evening-lantern-7"


@pytest.fixture
def robin(client, therapist) -> Partner:
    """Robin's address was mistyped on "Add couple" ("robn@…"); the invitation went there."""
    client.force_login(therapist)
    data = {
        "label": "Robin & Kim",
        "time_zone": "Europe/Berlin",
        "partner1_name": "Robni",
        "partner1_email": "robn@example.org",
        "partner2_name": "Kim",
        "partner2_email": "kim@example.org",
    }
    assert client.post(reverse("couple_add"), data).status_code == 302
    return Partner.objects.get(email="robn@example.org")


def link_to(address: str) -> str:
    message = [m for m in mail.outbox if m.to == [address]][-1]
    return re.search(r"https?://[^/\s]+(/invite/\S+/)", message.body).group(1)


def change(client, partner: Partner, **data):
    return client.post(reverse("partner_change_email", args=[partner.couple_id, partner.pk]), data)


class TestTheTherapistCorrectsATypo:
    def test_the_old_link_dies_and_the_new_address_gets_the_invitation(self, client, therapist, robin):
        old_link = link_to("robn@example.org")
        response = change(client, robin, name="Robin", email=" Robin@Example.org ")
        assert response.status_code == 302
        assert response["Location"] == reverse("couple_exercises", args=[robin.couple_id]) + "#details"
        robin.refresh_from_db()
        assert (robin.email, robin.name) == ("robin@example.org", "Robin")
        assert mail.outbox[-1].to == ["robin@example.org"] and "Robin" in mail.outbox[-1].body
        page = client.get(response["Location"]).content.decode()
        assert "robin@example.org" in page and "robn@example.org" not in page
        assert "/invite/" not in page
        client.logout()
        dead = client.get(old_link)
        assert dead.status_code == 400 and "This link no longer works" in dead.content.decode()
        new_link = link_to("robin@example.org")
        assert client.get(new_link).status_code == 200
        assert client.post(new_link, {"password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD}).status_code == 302
        robin.refresh_from_db()
        assert robin.user.email == "robin@example.org"

    def test_the_new_invitation_starts_unopened(self, client, therapist, robin):
        client.logout()
        client.get(link_to("robn@example.org"))  # the stranger opened it
        client.force_login(therapist)
        robin.refresh_from_db()
        assert robin.invite_opened_at is not None
        nonce = robin.invite_nonce
        change(client, robin, name="Robni", email="robin@example.org")
        robin.refresh_from_db()
        assert robin.invite_opened_at is None and robin.invited_at is not None
        assert robin.invite_nonce != nonce

    def test_the_first_name_alone_can_be_kept(self, robin):
        services.partner_change_email(partner=robin, email="robin@example.org", site_url=SITE)
        robin.refresh_from_db()
        assert (robin.email, robin.name) == ("robin@example.org", "Robni")

    def test_the_audit_trail_records_neither_address(self, client, robin):
        change(client, robin, name="Robin", email="robin@example.org")
        entries = LogEntry.objects.filter(content_type__model="partner", object_pk=str(robin.pk))
        recorded = " ".join(f"{e.changes} {e.object_repr} {e.additional_data}" for e in entries)
        assert entries.exists()
        assert "robin@" not in recorded and "robn@" not in recorded and "Robni" not in recorded

    def test_a_failed_email_keeps_the_change_and_says_send_again(self, client, robin, monkeypatch):
        def broken_mail(*args, **kwargs):
            raise OSError("SMTP down")

        monkeypatch.setattr("accounts.services.send_mail", broken_mail)
        response = change(client, robin, name="Robin", email="robin@example.org")
        page = client.get(response["Location"]).content.decode()
        assert "could not be sent just now" in page and "Invitation not sent yet" in page
        robin.refresh_from_db()
        assert robin.email == "robin@example.org" and robin.invited_at is None


class TestWhatIsRefused:
    def test_a_joined_partner_is_refused(self, client, therapist, partner_a):
        client.force_login(therapist)
        response = change(client, partner_a, name="Alex", email="alex2@example.org")
        assert response.status_code == 302
        partner_a.refresh_from_db()
        assert partner_a.email == "alex@example.org" and mail.outbox == []
        assert "their sign-in" in client.get(response["Location"]).content.decode()
        with pytest.raises(ValidationError, match="their sign-in"):
            services.partner_change_email(partner=partner_a, email="alex2@example.org", site_url=SITE)

    def test_the_joined_partner_has_no_form(self, client, therapist, partner_a, partner_b):
        client.force_login(therapist)
        page = client.get(reverse("couple_exercises", args=[partner_a.couple_id])).content.decode()
        assert "Change address" not in page

    def test_the_pending_partner_has_the_form(self, client, robin):
        page = client.get(reverse("couple_exercises", args=[robin.couple_id])).content.decode()
        assert page.count("Change address") == 2
        assert reverse("partner_change_email", args=[robin.couple_id, robin.pk]) in page

    @pytest.mark.parametrize(
        "email, says",
        [
            ("therapist@example.org", "This is your own address."),
            ("KIM@example.org", "Each partner needs their own email address."),
            ("alex@example.org", "This is already the address of a partner in your couple “Alex &amp; Sam”."),
            ("robn@example.org", "This is already their address."),
            ("not-an-address", "Enter a valid email address."),
        ],
    )
    def test_the_caseload_rule_of_add_couple(self, client, robin, partner_a, email, says):
        response = change(client, robin, name="Robni", email=email)
        assert response.status_code == 400
        page = response.content.decode()
        assert says in page
        assert f'value="{email}"' in page  # what was typed stays
        robin.refresh_from_db()
        assert robin.email == "robn@example.org"
        assert [m.to for m in mail.outbox] == [["robn@example.org"], ["kim@example.org"]]

    def test_an_address_elsewhere_in_tend_is_accepted_without_telling(self, client, robin, outsider):
        # Casey is another therapist's client: this therapist learns nothing, and Casey's own
        # address (which has an account) is told by email, as "Add couple" does.
        response = change(client, robin, name="Robin", email="casey@example.org")
        assert response.status_code == 302
        page = client.get(response["Location"]).content.decode()
        assert "A new invitation was emailed to Robin" in page
        assert mail.outbox[-1].to == ["casey@example.org"] and "/invite/" not in mail.outbox[-1].body

    def test_a_new_first_name_with_the_same_address_sends_again(self, client, robin):
        assert change(client, robin, name="Robin", email="robn@example.org").status_code == 302
        robin.refresh_from_db()
        assert robin.name == "Robin" and mail.outbox[-1].to == ["robn@example.org"]


def test_a_link_checked_before_the_change_cannot_be_accepted_after_it(robin):
    """The invitee's POST checks the link, then the therapist's change lands, then the account is
    made: it must not be made on the new address for whoever held the old link."""
    stale = Partner.objects.get(pk=robin.pk)  # what the old link was checked against
    services.partner_change_email(partner=robin, email="robin@example.org", site_url=SITE)
    with pytest.raises(ValidationError):
        services.invite_accept(partner=stale, password=GOOD_PASSWORD)
    robin.refresh_from_db()
    assert robin.user is None


class TestRateLimit:
    """The same limit as "Send a new invitation", per partner: Tend cannot be used to flood addresses."""

    def test_changes_and_resends_share_three_an_hour(self, client, robin):
        client.post(reverse("invite_resend", args=[robin.couple_id, robin.pk]))
        change(client, robin, name="Robni", email="one@example.org")
        change(client, robin, name="Robni", email="two@example.org")
        sent = len(mail.outbox)
        response = change(client, robin, name="Robni", email="three@example.org")
        assert response.status_code == 302
        assert "Please wait an hour" in client.get(response["Location"]).content.decode()
        assert len(mail.outbox) == sent
        robin.refresh_from_db()
        assert robin.email == "two@example.org"

    def test_a_refused_address_uses_up_nothing(self, client, robin):
        for _ in range(3):
            assert change(client, robin, name="Robni", email="kim@example.org").status_code == 400
        assert change(client, robin, name="Robni", email="robin@example.org").status_code == 302
        assert mail.outbox[-1].to == ["robin@example.org"]


class TestAccess:
    def test_partners_get_403_and_outsiders_404(self, client, robin, partner_a, outsider, other_therapist):
        url = reverse("partner_change_email", args=[robin.couple_id, robin.pk])
        data = {"name": "Robin", "email": "mine@example.org"}
        kim = Partner.objects.get(email="kim@example.org")
        kim.user = UserFactory(email="kim@example.org", role="partner")
        kim.save()
        client.force_login(kim.user)
        assert client.post(url, data).status_code == 403
        for stranger in (outsider.user, other_therapist):
            client.force_login(stranger)
            assert client.post(url, data).status_code == 404
        robin.refresh_from_db()
        assert robin.email == "robn@example.org"

    def test_a_partner_of_another_couple_through_this_couples_url_is_404(self, client, therapist, robin):
        mine = CoupleFactory(therapist=therapist, label="Jo & Lu")
        jo = PartnerFactory(couple=mine, slot=1, name="Jo", email="jo@example.org", user=None, accepted_at=None)
        client.force_login(therapist)
        url = reverse("partner_change_email", args=[robin.couple_id, jo.pk])
        assert client.post(url, {"name": "Jo", "email": "jo2@example.org"}).status_code == 404
        assert Couple.objects.count() == 2

    def test_get_is_405(self, client, robin):
        assert client.get(reverse("partner_change_email", args=[robin.couple_id, robin.pk])).status_code == 405
