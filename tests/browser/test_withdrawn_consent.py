"""After withdrawing consent (issue 13), a partner on a phone still reaches the exits — the private line,
their data, making their words more private, consent again — and nothing else."""

import re

import pytest
from playwright.sync_api import expect

from intimacy.models import Alert, Reflection
from tests.browser.conftest import PHONE
from tests.browser.helpers import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_after_withdrawing_the_exits_stay_open_and_nothing_else(live_server, new_page, partner_a, session):
    base = live_server.url
    alex = new_page(PHONE, who="Alex")
    sign_in(alex, base, partner_a.email, PASSWORD)
    alex.goto(f"{base}/my-data/")
    alex.get_by_role("link", name="Withdraw my consent").click()
    alex.get_by_label("I want to withdraw my consent.").check()
    alex.get_by_role("button", name="Withdraw and sign out").click()
    alert = Alert.objects.get(kind=Alert.Kind.CONSENT_WITHDRAWN)
    assert alert.urgent and alert.partner == partner_a

    # Signing in again lands on the four ways out, not on the consent page.
    sign_in(alex, base, partner_a.email, PASSWORD)
    expect(alex.get_by_text("You have withdrawn your consent")).to_be_visible()
    for way_out in ("Tell my therapist privately", "Download my data", "Give my consent again"):
        expect(alex.get_by_role("link", name=way_out)).to_be_visible()

    # Making the words more private: one tap on the reflection listed there.
    alex.get_by_role("button", name="Just me").click()
    expect(alex.get_by_text(re.compile("Now readable by: just me"))).to_be_visible()
    alex.wait_for_load_state()
    assert Reflection.objects.get(partner=partner_a).visibility == Reflection.Visibility.PRIVATE

    # The private line and the data download answer; logging and history lead to the consent page.
    alex.get_by_role("link", name="Tell my therapist privately").click()
    expect(alex.get_by_role("heading", name="Tell my therapist privately")).to_be_visible()
    # Each page finishes loading before the next address is typed, or the browser cuts its icon off.
    alex.wait_for_load_state()
    alex.goto(f"{base}/my-data/")
    expect(alex).to_have_url(f"{base}/my-data/")
    for closed in ("/log/", "/history/", "/checkin/"):
        alex.wait_for_load_state()
        alex.goto(f"{base}{closed}")
        expect(alex).to_have_url(f"{base}/welcome/")

    # Consent again: the ordinary home is back.
    alex.get_by_label("I have read this and I agree to use Tend on these terms.").check()
    alex.get_by_role("button", name="Continue").click()
    expect(alex).to_have_url(f"{base}/")
    expect(alex.get_by_text("You have withdrawn your consent")).to_have_count(0)
