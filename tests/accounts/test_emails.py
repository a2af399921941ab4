"""Every email Tend can send, read as it leaves: no couple label, no exercise, no other person's name,
no reflection text or rating. Emails say that something is waiting, never what."""

import re
from datetime import date, time
from pathlib import Path

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Couple, Partner
from accounts.services import reminders_set
from intimacy.models import Alert, Reflection
from intimacy.reminders import reminders_run
from tests.factories import AssignmentFactory, CoupleFactory, ReflectionFactory

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parent.parent.parent
WORDS = "b-wrote-this-privately-m4p"
NEXT = "b-next-time-wish-r8t"
NEW_LABEL = "Isolde & Tristram"


@pytest.fixture
def record(session, partner_b):
    """The cast's couple with a back rub, partner_a's shared reflection and partner_b's private one."""
    ReflectionFactory(
        session=session,
        partner=partner_b,
        role=Reflection.Role.RECEIVER,
        visibility=Reflection.Visibility.PRIVATE,
        notes=WORDS,
        next_time=NEXT,
        connection=3,
        comfort=3,
    )
    return session


def forbidden_for(recipient: str) -> list[str]:
    """What an email to `recipient` must not contain: every couple's clinical record, and every name but
    the recipient's own."""
    patterns = [r"back\s*rub", "give a back", re.escape(WORDS), re.escape(NEXT), "A-shared-words"]
    patterns += [r"\d+\s*/\s*10", r"\bconnection\b", r"\bcomfort", r"\breflect", r"\bsession\b", "exercise"]
    for couple in Couple.objects.all():
        patterns += [re.escape(couple.label), re.escape(couple.label.replace("&", "&amp;"))]
    for partner in Partner.objects.all():
        if partner.email != recipient:
            patterns.append(rf"\b{re.escape(partner.name)}\b")
    return patterns


def assert_no_clinical_content(messages) -> None:
    assert messages, "no email was sent"
    for message in messages:
        (recipient,) = message.to
        texts = [message.subject, message.body] + [content for content, _ in getattr(message, "alternatives", [])]
        for text in texts:
            for pattern in forbidden_for(recipient):
                assert not re.search(pattern, text, re.IGNORECASE), (pattern, recipient, text)


def test_invitations_from_add_couple_and_resend(client_for, therapist, record, mailoutbox):
    client = client_for(therapist)
    data = {
        "label": NEW_LABEL,
        "time_zone": "Europe/London",
        "partner1_name": "Isolde",
        "partner1_email": "isolde@example.org",
        "partner2_name": "Tristram",
        "partner2_email": "tristram@example.org",
    }
    assert client.post(reverse("couple_add"), data).status_code == 302
    new = Couple.objects.get(label=NEW_LABEL)
    # Before the re-send, the new couple has homework too: it must not reach the email either.
    AssignmentFactory(couple=new)
    tristram = new.partners.get(name="Tristram")
    assert client.post(reverse("invite_resend", args=[new.pk, tristram.pk])).status_code == 302

    assert sorted(m.to[0] for m in mailoutbox) == ["isolde@example.org"] + ["tristram@example.org"] * 2
    assert all("/invite/" in m.body for m in mailoutbox)
    assert_no_clinical_content(mailoutbox)


def test_password_reset_for_a_partner(client, partner_a, record, mailoutbox):
    client.post(reverse("account_reset_password"), {"email": partner_a.email})
    (message,) = mailoutbox
    assert message.to == [partner_a.email] and "/accounts/password/reset/key/" in message.body
    assert_no_clinical_content(mailoutbox)


def test_password_reset_for_a_therapist_and_for_an_unknown_address(client, therapist, record, mailoutbox):
    client.post(reverse("account_reset_password"), {"email": therapist.email})
    client.post(reverse("account_reset_password"), {"email": "nobody@example.org"})
    assert sorted(m.to[0] for m in mailoutbox) == ["nobody@example.org", therapist.email]
    assert_no_clinical_content(mailoutbox)


def test_email_verification_on_therapist_sign_up(client, therapist, record, mailoutbox, settings):
    settings.TEND_OPEN_SIGNUP = True  # closed unless a practice opens it
    password = "quiet-evening-lantern-7"
    client.post(reverse("account_signup"), {"email": "new@example.org", "password1": password, "password2": password})
    # Signing up with a taken address tells its owner, by email (the page does not say it is taken).
    client.post(reverse("account_signup"), {"email": therapist.email, "password1": password, "password2": password})
    assert sorted(m.to[0] for m in mailoutbox) == ["new@example.org", therapist.email]
    assert "/accounts/confirm-email/" in next(m.body for m in mailoutbox if m.to == ["new@example.org"])
    assert_no_clinical_content(mailoutbox)


def test_sign_up_and_password_reset_for_an_invited_address(client, therapist, record, settings, mailoutbox):
    """An address with an invitation waiting is told to use it (TendAccountAdapter.send_mail)."""
    settings.TEND_OPEN_SIGNUP = True
    invited = CoupleFactory(therapist=therapist, label=NEW_LABEL)
    Partner.objects.create(couple=invited, slot=1, name="Robin", email="robin@example.org")
    password = "quiet-evening-lantern-7"
    client.post(reverse("account_signup"), {"email": "robin@example.org", "password1": password, "password2": password})
    client.post(reverse("account_reset_password"), {"email": "robin@example.org"})
    assert [m.to for m in mailoutbox] == [["robin@example.org"]] * 2
    assert all("invitation" in m.body for m in mailoutbox)
    assert_no_clinical_content(mailoutbox)


def test_reminders_and_the_therapists_urgent_alert_email(therapist, partner_a, partner_b, record, mailoutbox):
    """Every kind of reminder (send_reminders), and the therapist's email for an urgent alert."""
    for partner in (partner_a, partner_b):
        reminders_set(partner=partner, on=True, weekdays=list(range(7)), at=time(19, 0))
    # Thursday 26 November 2026, 19:00 in London: the planned day and the midweek nudge for both (one
    # email each), and an urgent alert for the therapist.
    with time_machine.travel("2026-11-26 19:00:00+00:00", tick=False):
        Alert.objects.create(
            couple=record.assignment.couple,
            kind=Alert.Kind.LOW_SAFE,
            partner=partner_b,
            week=date(2026, 11, 23),
            urgent=True,
        )
        reminders_run()
    # Sunday: the weekly check-in.
    with time_machine.travel("2026-11-29 19:00:00+00:00", tick=False):
        reminders_run()
    assert sorted(m.to[0] for m in mailoutbox) == sorted([partner_a.email, partner_b.email] * 2 + [therapist.email])
    partners = [m for m in mailoutbox if m.to != [therapist.email]]
    assert all("/reminders/off/" in m.body and m.extra_headers["List-Unsubscribe"] for m in partners)
    # The urgent email cannot be switched off by one click (issue 13).
    (urgent,) = [m for m in mailoutbox if m.to == [therapist.email]]
    assert "/reminders/off/" not in urgent.body and "List-Unsubscribe" not in urgent.extra_headers
    assert_no_clinical_content(mailoutbox)


# Where Tend sends email itself (the adapter words allauth's emails to an invited address); allauth's
# own emails (reset, verification, "already exists", "unknown account") are read above. A new sender
# must get a test above and an entry here.
KNOWN_SENDERS = {"accounts/adapter.py", "accounts/services.py", "intimacy/reminders.py"}
SENDING = re.compile(r"\b(send_mail|send_mass_mail|mail_admins|mail_managers|EmailMessage|EmailMultiAlternatives)\b")


def test_every_place_that_sends_email_is_read_by_a_test_above():
    senders = set()
    for package in ("accounts", "intimacy"):
        for path in (BASE_DIR / package).rglob("*.py"):
            if "migrations" not in path.parts and SENDING.search(path.read_text()):
                senders.add(str(path.relative_to(BASE_DIR)))
    assert senders == KNOWN_SENDERS
