"""Where a therapist's urgent emails go (issue 13): their sign-in address, or another address once
confirmed through a signed link sent to it; never nowhere while they have an active couple."""

import re

import pytest
import time_machine
from django.urls import reverse

from accounts import services
from accounts.tokens import alert_address_token
from tests.accounts.test_emails import assert_no_clinical_content

pytestmark = pytest.mark.django_db

URL = reverse("alert_settings")


def test_the_page_offers_the_sign_in_address_or_another_and_no_off(client, therapist, couple):
    client.force_login(therapist)
    page = client.get(URL).content.decode()
    assert therapist.email in page
    assert 'value="signin"' in page and 'value="other"' in page
    assert "Turn off" not in page and 'value="off"' not in page


def test_another_address_is_used_only_once_confirmed(client, therapist, couple, mailoutbox):
    client.force_login(therapist)
    response = client.post(URL, {"where": "other", "address": "on-call@example.org"})
    assert response.status_code == 302
    therapist.refresh_from_db()
    assert therapist.alert_address == therapist.email  # not yet
    (message,) = mailoutbox
    assert message.to == ["on-call@example.org"]
    assert therapist.email not in message.body and couple.label not in message.body
    assert_no_clinical_content(mailoutbox)
    link = re.search(r"http://[^/]+(/settings/alerts/confirm/\S+/)", message.body).group(1)
    client.logout()  # the link works from the other mailbox, with no sign-in
    assert "on-call@example.org" in client.get(link).content.decode()
    therapist.refresh_from_db()
    assert therapist.alert_email == ""  # a GET (a mail scanner) confirms nothing
    assert client.post(link).status_code == 200
    therapist.refresh_from_db()
    assert therapist.alert_address == "on-call@example.org"


def test_back_to_the_sign_in_address(client, therapist, couple):
    services.alert_address_confirm(user=therapist, address="on-call@example.org")
    client.force_login(therapist)
    assert client.post(URL, {"where": "signin"}).status_code == 302
    therapist.refresh_from_db()
    assert therapist.alert_address == therapist.email


def test_another_address_must_be_given(client, therapist, couple, mailoutbox):
    client.force_login(therapist)
    response = client.post(URL, {"where": "other", "address": ""})
    assert response.status_code == 400 and "Please give the address." in response.content.decode()
    assert mailoutbox == []


def test_a_confirmation_link_expires_and_cannot_be_forged(client, therapist):
    with time_machine.travel("2026-11-23 12:00:00+00:00", tick=False):
        token = alert_address_token(therapist, "on-call@example.org")
    with time_machine.travel("2026-11-27 12:00:00+00:00", tick=False):  # four days later
        assert client.post(reverse("alert_address_confirm", args=[token])).status_code == 400
    forged = alert_address_token(therapist, "x@example.org")[:-3] + "abc"
    assert client.post(reverse("alert_address_confirm", args=[forged])).status_code == 400
    therapist.refresh_from_db()
    assert therapist.alert_email == ""


def test_partners_and_anonymous_cannot_reach_the_page(client, partner_a):
    assert client.get(URL).status_code == 302
    client.force_login(partner_a.user)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"where": "signin"}).status_code == 403


def test_the_turn_off_service_keeps_urgent_emails_on_while_a_couple_is_active(therapist, couple):
    assert services.reminders_turn_off(user=therapist) is False
    therapist.refresh_from_db()
    assert therapist.alert_emails
