"""Answers revealed after both (issue 14), as the giver meets it on a phone: Sam received and wrote her
side first, shared; Alex sees only that she has, writes his own, and then reads what she would like
from him: the pressure, the pace and her words for next time."""

import pytest
from playwright.sync_api import expect

from intimacy import services
from intimacy.forms import ReflectionForm
from intimacy.models import Reflection
from tests.browser.conftest import PHONE
from tests.browser.helpers import rate, sign_in
from tests.factories import PASSWORD, SessionFactory

pytestmark = pytest.mark.browser

NEXT_TIME = "Slower on the shoulders, please"


@pytest.fixture
def sams_side(assignment, partner_a, partner_b):
    """A back rub Alex gave and Sam logged, with her shared reflection: too firm, too fast."""
    session = SessionFactory(assignment=assignment, giver=partner_a, receiver=partner_b, logged_by=partner_b)
    form = ReflectionForm(
        {
            "connection": "7",
            "comfort": "8",
            "safe": "9",
            "pressure": Reflection.Pressure.TOO_FIRM,
            "pace": Reflection.Pace.TOO_FAST,
            "next_time": NEXT_TIME,
            "visibility": Reflection.Visibility.SHARED,
        }
    )
    assert form.is_valid(), form.errors
    services.reflection_add(session=session, partner=partner_b, answers=form.answers())
    return session


def test_the_giver_writes_his_side_then_reads_what_the_receiver_would_like(live_server, new_page, sams_side, partner_a):
    alex = new_page(PHONE, who="Alex")
    sign_in(alex, live_server.url, partner_a.email, PASSWORD)
    # Before his own: that Sam has written her side, and nothing of it.
    expect(
        alex.get_by_text("Sam has written their side. You'll see it once you've written yours, or within a week.")
    ).to_be_visible()
    for words in (NEXT_TIME, "Too firm", "Too fast", "Sam: connection"):
        expect(alex.get_by_text(words)).to_have_count(0)

    alex.get_by_role("link", name="Add your reflection").first.click()
    rate(alex, "How connected did you feel?", 8)
    rate(alex, "How comfortable did you feel?", 9)
    rate(alex, "How safe did you feel?", 9)
    alex.get_by_label("My partner and my therapist").check()
    alex.get_by_role("button", name="Save").click()
    expect(alex).to_have_url(live_server.url + "/")

    # After both: what the receiver shared is for the giver.
    card = alex.locator(".their-side").first
    expect(card).to_contain_text("Sam: connection 7/10")
    expect(card).to_contain_text("pressure: Too firm")
    expect(card).to_contain_text("pace: Too fast")
    expect(card).to_contain_text(f"What Sam would like next time: “{NEXT_TIME}”")
    expect(alex.get_by_text("Sam has written their side.")).to_have_count(0)
    assert alex.evaluate("document.documentElement.scrollWidth") <= PHONE


def test_not_reflecting_takes_two_taps(live_server, new_page, sams_side, partner_a):
    """One mis-tap under "Add your reflection" must not reveal Sam's side: the first tap only asks."""
    alex = new_page(PHONE, who="Alex")
    sign_in(alex, live_server.url, partner_a.email, PASSWORD)
    alex.get_by_text("I won't reflect on this one").first.click()
    skip = alex.get_by_role("button", name="Skip this one").first
    expect(skip).to_be_visible()
    assert not sams_side.declines.exists()
    expect(alex.get_by_text(NEXT_TIME)).to_have_count(0)
    skip.click()
    expect(alex.get_by_text("Done. You can still add your reflection later")).to_be_visible()
    assert sams_side.declines.filter(partner=partner_a).count() == 1
    expect(alex.locator(".their-side").first).to_contain_text(NEXT_TIME)
