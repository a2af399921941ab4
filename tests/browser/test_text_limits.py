"""A partner who writes more than a reflection holds, in a real browser: nothing is cut off as they
paste or type, and on Save they get every word back with a calm message saying how much to shorten."""

import pytest
from playwright.sync_api import expect

from intimacy.models import Reflection
from tests.browser.conftest import PHONE
from tests.browser.helpers import rate, sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_a_reflection_over_the_limit_keeps_every_word(live_server, new_page, session, partner_b):
    base = live_server.url
    words = ("We laughed, then it got quiet and slow. " * 130).strip()  # 5,199 characters
    sam = new_page(PHONE, who="Sam")
    sign_in(sam, base, partner_b.email, PASSWORD)
    sam.get_by_role("link", name="Add your reflection").first.click()
    rate(sam, "How connected did you feel?", 6)
    rate(sam, "How comfortable did you feel?", 7)
    rate(sam, "How safe did you feel?", 7)
    expect(sam.get_by_text("Up to 5,000 characters.").first).to_be_visible()
    notes = sam.get_by_label("Anything else")
    notes.fill(words)
    assert len(notes.input_value()) == len(words)  # the browser kept it all
    sam.get_by_label("My therapist only").check()
    sam.get_by_role("button", name="Save").click()

    expect(sam.get_by_text("Please keep this to 5,000 characters; it has 5,199 now.")).to_be_visible()
    assert sam.get_by_label("Anything else").input_value() == words
    assert not Reflection.objects.filter(partner=partner_b).exists()

    # Shortened by the person, it saves.
    sam.get_by_label("Anything else").fill(words[:4_000])
    sam.get_by_role("button", name="Save").click()
    expect(sam.get_by_text("Please keep this to")).to_have_count(0)
    assert Reflection.objects.get(partner=partner_b).notes == words[:4_000].strip()
