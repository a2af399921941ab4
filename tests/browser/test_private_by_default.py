"""Private by default (issue 13), as a partner does it on a phone: nobody is preselected to read what
they write, sharing after a pause is asked about once more, and a card makes it "Just me" in one tap."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from intimacy.models import Reflection
from tests.browser.conftest import PHONE
from tests.browser.helpers import choose, choose_readers, rate, sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

WORDS = "I needed a pause halfway, my back was sore"


def test_a_partner_chooses_is_asked_once_more_and_makes_it_just_me_in_one_tap(
    live_server, new_page, assignment, partner_a
):
    base = live_server.url
    alex = new_page(PHONE, who="Alex")
    sign_in(alex, base, partner_a.email, PASSWORD)
    alex.get_by_role("link", name="Log a back rub").click()
    readers = alex.get_by_role("group", name="Who may read what I wrote?")
    expect(readers.locator("input[type=radio]")).to_have_count(3)
    for option in ("My partner and my therapist", "My therapist only", "Just me"):
        expect(readers.get_by_label(option, exact=True)).not_to_be_checked()

    choose(alex, "This time", "I gave")
    rate(alex, "How connected did you feel?", 6)
    rate(alex, "How comfortable did you feel?", 7)
    rate(alex, "How safe did you feel?", 7)
    alex.get_by_label("We paused or stopped early").check()
    alex.get_by_label("Anything else").fill(WORDS)
    # Saving without a choice keeps everything and asks, calmly, for one.
    alex.get_by_role("button", name="Save").click()
    expect(alex.get_by_text("Please choose who may read what you wrote.")).to_be_visible()
    expect(alex.get_by_label("Anything else")).to_have_value(WORDS)
    assert not Reflection.objects.exists()

    choose_readers(alex, "My partner and my therapist")
    alex.get_by_role("button", name="Save").click()
    # Asked once more, in plain words, with the other options right there; nothing is saved yet.
    expect(alex.get_by_role("heading", name="Before it is shared")).to_be_visible()
    expect(alex.get_by_text("Do you still want Sam to read what you wrote?")).to_be_visible()
    expect(readers.get_by_label("Just me", exact=True)).to_be_visible()
    expect(alex.get_by_label("We paused or stopped early")).to_be_checked()
    expect(alex.get_by_label("Anything else")).to_have_value(WORDS)
    assert not Reflection.objects.exists()
    alex.get_by_label("Yes, share it with my partner").check()
    alex.get_by_role("button", name="Save with this choice").click()
    expect(alex.get_by_text("Thank you. Your session is saved.")).to_be_visible()
    assert Reflection.objects.get().visibility == Reflection.Visibility.SHARED

    # On the card at home: one tap, and the words are Alex's alone.
    card = alex.locator(".card").filter(has_text=WORDS)
    expect(card.get_by_text("Who can read your words: My partner and my therapist")).to_be_visible()
    card.get_by_role("button", name="Just me").click()
    expect(alex.get_by_text("Now readable by: just me. Your partner may already have read it.")).to_be_visible()
    assert alex.url.rstrip("/") == base
    expect(card.get_by_text("Who can read your words: Just me")).to_be_visible()
    expect(card.get_by_role("button", name="Just me")).to_have_count(0)
    assert Reflection.objects.get().visibility == Reflection.Visibility.PRIVATE

    # The next form offers Alex's last choice.
    alex.goto(base + reverse("session_log", args=[assignment.pk]) + "?new=1")
    expect(readers.get_by_label("Just me", exact=True)).to_be_checked()
