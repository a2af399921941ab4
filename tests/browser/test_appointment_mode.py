"""Issue 13, the couple-facing screen in a real browser: the therapist is warned before opening the
appointment view over an unseen safety message, opens it with the couple, leaves one reflection out
with one click, and "Back to therapist view" asks for the password before the dashboard appears."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from intimacy import services
from intimacy.models import Reflection
from tests.browser.conftest import LAPTOP
from tests.browser.helpers import confirm_password, sign_in
from tests.factories import PASSWORD, TOTP_SECRET, ReflectionFactory, SessionFactory

pytestmark = pytest.mark.browser


def test_warned_then_curated_then_the_password_to_leave(
    live_server, new_page, couple, therapist, partner_a, partner_b, assignment
):
    s = SessionFactory(
        assignment=assignment, date=couple.today(), giver=partner_a, receiver=partner_b, logged_by=partner_a
    )
    ReflectionFactory(session=s, partner=partner_a, role=Reflection.Role.GIVER, notes="ALEX-SHARED-WORDS")
    ReflectionFactory(session=s, partner=partner_b, role=Reflection.Role.RECEIVER, notes="SAM-SHARED-WORDS")
    services.safety_message_send(partner=partner_b, feeling="pressured", message="SAFETY-LINE-WORDS")
    base = live_server.url
    dr = new_page(LAPTOP, who="therapist")
    sign_in(dr, base, therapist.email, PASSWORD, TOTP_SECRET)
    detail = f"{base}{reverse('couple_detail', args=[couple.pk])}"
    dr.goto(detail)
    dr.get_by_role("link", name="Appointment view").click()

    # 1. The warning: "Review alone first" is the primary action; nothing of the couple is on it.
    expect(dr.get_by_role("heading", name="Before you open the appointment view")).to_be_visible()
    expect(dr.get_by_role("link", name="Review alone first")).to_have_class(re.compile("btn-primary"))
    assert "SAFETY-LINE-WORDS" not in dr.content()
    dr.get_by_role("button", name="Open with the couple").click()

    # 2. The view, without the leftover "Successfully signed in" message.
    expect(dr.locator("body")).to_have_class("appointment")
    expect(dr.get_by_text("SAM-SHARED-WORDS")).to_be_visible()
    expect(dr.locator(".messages")).to_have_count(0)
    assert "Successfully signed in" not in dr.content()

    # 3. Sam's reflection left out with one click: its words are gone from the page's HTML.
    sam_card = dr.locator(".session-pair > div").filter(has_text="SAM-SHARED-WORDS")
    sam_card.get_by_role("button", name="Leave this reflection out").click()
    expect(dr.get_by_text("1 item left out for today.")).to_be_visible()
    expect(dr.get_by_text("ALEX-SHARED-WORDS")).to_be_visible()
    assert "SAM-SHARED-WORDS" not in dr.content()

    # 4. "Back to therapist view" asks for the password; the dashboard only after it.
    dr.get_by_role("link", name="Back to therapist view").click()
    expect(dr.get_by_text("To leave the appointment view, first confirm it's you.")).to_be_visible()
    assert "SAFETY-LINE-WORDS" not in dr.content()
    # Typed into the address bar instead: asked all the same.
    dr.goto(detail)
    expect(dr).to_have_url(re.compile(re.escape(f"{base}/accounts/reauthenticate/")))
    confirm_password(dr, base, PASSWORD)
    expect(dr).to_have_url(re.compile(re.escape(detail)))
    # The therapist's own page again: the private message is there, folded until opened.
    dr.get_by_text("Private messages: 1 new — show").click()
    expect(dr.get_by_text("SAFETY-LINE-WORDS")).to_be_visible()
