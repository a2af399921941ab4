"""Two ratings, not one (issue 13), as a partner meets them on a phone: "How comfortable did you
feel?" and "How safe did you feel?" are two questions, both on a 375 px screen, both answered and kept
apart; only the low "safe" answer reaches the therapist as urgent."""

import pytest
from playwright.sync_api import expect

from intimacy.models import Alert, Reflection
from tests.browser.conftest import PHONE
from tests.browser.helpers import rate, sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_a_partner_on_a_phone_answers_comfortable_and_safe_apart(live_server, new_page, session, partner_b):
    sam = new_page(PHONE, who="Sam")
    sign_in(sam, live_server.url, partner_b.email, PASSWORD)
    sam.get_by_role("link", name="Add your reflection").first.click()

    comfortable = sam.get_by_role("group", name="How comfortable did you feel?")
    safe = sam.get_by_role("group", name="How safe did you feel?")
    expect(comfortable).to_be_visible()
    expect(safe).to_be_visible()
    # The old joint question is gone, and the two fit the phone without scrolling sideways.
    expect(sam.get_by_text("How comfortable and safe did you feel?")).to_have_count(0)
    for group in (comfortable, safe):
        box = group.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE
    assert sam.evaluate("document.documentElement.scrollWidth") <= PHONE

    rate(sam, "How connected did you feel?", 6)
    rate(sam, "How comfortable did you feel?", 8)
    rate(sam, "How safe did you feel?", 2)
    sam.get_by_label("My therapist only").check()
    sam.get_by_role("button", name="Save").click()
    expect(sam).to_have_url(live_server.url + "/")

    mine = Reflection.objects.get(session=session, partner=partner_b)
    assert (mine.comfort, mine.safe) == (8, 2)
    expect(sam.get_by_text("You: connection 6/10, comfort 8/10, safe 2/10").first).to_be_visible()
    # Feeling unsafe, not uncomfortable, is what the therapist is told about at once.
    assert list(Alert.objects.values_list("kind", "partner", "urgent")) == [(Alert.Kind.LOW_SAFE, partner_b.pk, True)]
