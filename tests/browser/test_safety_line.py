"""The safety line on a shared phone (issue 13): what the browser keeps in its history — each
page's address and title — never names it, before or after sending."""

import pytest
from playwright.sync_api import expect

from intimacy.models import SafetyMessage
from tests.browser.conftest import PHONE
from tests.browser.helpers import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

WORDS = "I felt pressured last night"
# What would tell someone else holding the phone that the safety line was used.
GIVEAWAYS = ("tell", "therapist", "safety", "sent", "private", "pressure", "unsafe")


def test_the_safety_line_leaves_no_trace_in_the_history(live_server, new_page, partner_a):
    base = live_server.url
    alex = new_page(PHONE, who="Alex")
    sign_in(alex, base, partner_a.email, PASSWORD)
    # The footer's link is on every page; the menu may be folded on a phone.
    alex.get_by_role("link", name="Felt pressured or unsafe? Tell your therapist privately").click()
    expect(alex.get_by_role("heading", name="Tell my therapist privately")).to_be_visible()
    assert alex.title() == "Tend"
    visited = [(alex.url, alex.title())]

    alex.get_by_label("I felt pressured").check()
    alex.get_by_label("Anything you want your therapist to know (optional)").fill(WORDS)
    alex.get_by_role("button", name="Send to my therapist only").click()
    expect(alex.get_by_text("Thank you. It is sent.")).to_be_visible()
    visited.append((alex.url, alex.title()))

    assert visited[-1][0] == f"{base}/"  # the partner's home, where anyone might land
    for url, title in visited:
        for word in GIVEAWAYS:
            assert word not in url.lower(), url
            assert word not in title.lower(), title
    assert WORDS not in alex.content()
    assert SafetyMessage.objects.get(partner=partner_a).message == WORDS
