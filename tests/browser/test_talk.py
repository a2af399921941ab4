"""A talk exercise on two phones (issue 15): Sam listened and logs it, choosing "I listened" and answering
the listener's questions; Alex, who spoke, adds his reflection with the speaker's questions. Neither
page mentions giving or receiving, and once both have written, Alex reads what Sam shared."""

import pytest
from playwright.sync_api import expect

from intimacy.models import Exercise, Session
from tests.browser.conftest import PHONE
from tests.browser.helpers import choose, choose_readers, rate, sign_in
from tests.factories import PASSWORD, AssignmentFactory, ExerciseFactory

pytestmark = pytest.mark.browser

TITLE = "Stress-reducing talk"
SAMS_WORDS = "Glad I just listened this time"


@pytest.fixture
def talk(couple, partner_a, partner_b):
    exercise = ExerciseFactory(title=TITLE, shape=Exercise.Shape.TALK)
    return AssignmentFactory(couple=couple, exercise=exercise)


def test_a_listener_logs_a_talk_and_the_speaker_reflects(live_server, new_page, talk, partner_a, partner_b):
    base = live_server.url
    sam = new_page(PHONE, who="Sam")
    sign_in(sam, base, partner_b.email, PASSWORD)
    sam.get_by_role("link", name=f"Log: {TITLE}").click()
    expect(sam.get_by_text("I gave")).to_have_count(0)
    choose(sam, "This time", "I listened")
    # The listener's own questions appear with the role; the speaker's stay hidden.
    expect(sam.get_by_role("group", name="How well could you stay with it without defending yourself?")).to_be_visible()
    expect(sam.get_by_role("group", name="How heard did you feel?")).to_be_hidden()
    rate(sam, "How connected did you feel?", 7)
    rate(sam, "How comfortable did you feel?", 8)
    rate(sam, "How safe did you feel?", 9)
    rate(sam, "How well could you stay with it without defending yourself?", 6)
    choose_readers(sam, "My partner and my therapist")
    sam.get_by_label("Anything else").fill(SAMS_WORDS)
    sam.get_by_role("button", name="Save").click()
    expect(sam.get_by_text("Thank you. Your session is saved.")).to_be_visible()

    alex = new_page(PHONE, who="Alex")
    sign_in(alex, base, partner_a.email, PASSWORD)
    waiting = alex.get_by_role("region", name="Waiting for your reflection")
    expect(waiting).to_contain_text("you spoke")
    # Sam's side waits until Alex has written his own.
    expect(alex.get_by_text(SAMS_WORDS)).to_have_count(0)
    waiting.get_by_role("link", name="Add your reflection").click()
    expect(alex.get_by_text("you spoke, Sam listened")).to_be_visible()
    expect(alex.get_by_role("group", name="How did it feel to give?")).to_have_count(0)
    rate(alex, "How connected did you feel?", 8)
    rate(alex, "How comfortable did you feel?", 8)
    rate(alex, "How safe did you feel?", 9)
    rate(alex, "How heard did you feel?", 9)
    rate(alex, "How understood did you feel?", 8)
    choose_readers(alex, "My partner and my therapist")
    alex.get_by_role("button", name="Save").click()
    expect(alex).to_have_url(base + "/")

    session = Session.objects.get()
    assert sorted(session.reflections.values_list("partner__name", "role", "felt_heard", "stayed_open")) == [
        ("Alex", "speaker", 9, None),
        ("Sam", "listener", None, 6),
    ]
    expect(alex.locator(".their-side").first).to_contain_text(SAMS_WORDS)
    assert alex.evaluate("document.documentElement.scrollWidth") <= PHONE
