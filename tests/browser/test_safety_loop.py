"""The safety loop in real browsers (issue 13): what each person sees after a safety signal.

The partner who did not raise it must learn nothing but the neutral pause: each of their pages is
read before and after, and the only change allowed is the pause taking the place of what logging
offered (the week's count, the log button, "Need a break?"). Time is never frozen here.
"""

import difflib

import pytest
from playwright.sync_api import Page, expect

from intimacy.models import Reflection, ScreeningRecord
from tests.browser.conftest import LAPTOP, PHONE
from tests.browser.helpers import choose, sign_in
from tests.factories import PASSWORD, TOTP_SECRET, AssignmentFactory, PartnerFactory, ReflectionFactory, SessionFactory

pytestmark = pytest.mark.browser

PAUSE = "Your therapist has paused this exercise for now."
THANKS = "Thank you. Your answers go to your therapist only."
# What an open exercise shows on a partner's home and a pause replaces (worked out from the
# factories: a target of 2 a week, about 15 minutes taking turns, nothing logged this week; issue 13's neutral pause).
OPEN_LINES = [
    "This week: 0 of 2",
    "About 15 minutes each time, taking turns to give. Any week is a fresh start.",
    "Log a back rub",
    "Need a break? (private)",
]
# The log page while paused: the same neutral words, never "no exercise set".
PAUSED_LOG_PAGE = ["Log a session", PAUSE, "Back home"]
QUESTIONS = (
    "Do you feel safe with your partner?",
    "Has your partner hurt, threatened or frightened you?",
    "Have you felt pressured into touch or sex?",
    "Do you feel free to say no to touch?",
)
CLEAN = ("Yes", "No", "No", "Yes")
WORRYING = ("Yes", "No", "Yes", "Yes")  # pressured into touch or sex


def main_lines(page: Page, url: str) -> list[str]:
    """The visible text of a page's main part, line by line."""
    page.goto(url)
    return [line.strip() for line in page.inner_text("main").splitlines() if line.strip()]


def changes(before: list[str], after: list[str]) -> tuple[list[str], list[str]]:
    """(lines gone, lines new) between two readings of a page."""
    diff = list(difflib.ndiff(before, after))
    return [d[2:] for d in diff if d.startswith("- ")], [d[2:] for d in diff if d.startswith("+ ")]


def assert_only_the_pause(before: list[str], after: list[str]) -> None:
    assert changes(before, after) == (OPEN_LINES, [PAUSE]), "\n".join(difflib.ndiff(before, after))


def answer_the_check(page: Page, base: str, answers: tuple[str, ...]) -> None:
    page.goto(f"{base}/")
    page.get_by_role("link", name="Answer privately (1 minute)").click()
    assert page.title() == "Tend"
    for question, answer in zip(QUESTIONS, answers, strict=True):
        choose(page, question, answer)
    page.get_by_role("button", name="Send to my therapist only").click()
    expect(page).to_have_url(f"{base}/")
    expect(page.get_by_text(THANKS)).to_be_visible()


def shared_session(assignment, giver, receiver):
    """A session `giver` logged, both partners' shared reflections on it: nothing awaits anyone."""
    s = SessionFactory(assignment=assignment, giver=giver, receiver=receiver, logged_by=giver)
    ReflectionFactory(session=s, partner=giver, role=Reflection.Role.GIVER, notes="Slow and warm")
    ReflectionFactory(session=s, partner=receiver, role=Reflection.Role.RECEIVER, notes="I felt looked after")
    return s


def test_a_safety_message_pauses_both_neutrally_and_the_therapist_reopens(
    live_server, new_page, therapist, couple, partner_a, partner_b
):
    base = live_server.url
    assignment = AssignmentFactory(couple=couple)
    shared_session(assignment, partner_a, partner_b)
    sam = new_page(PHONE, who="Sam")
    sign_in(sam, base, partner_b.email, PASSWORD)
    pages = {"home": f"{base}/", "history": f"{base}/history/"}
    before = {name: main_lines(sam, url) for name, url in pages.items()}
    sam.goto(f"{base}/log/")
    expect(sam.get_by_role("heading", name="Log a back rub")).to_be_visible()

    # Alex tells the therapist privately, on their own phone.
    alex = new_page(PHONE, who="Alex")
    sign_in(alex, base, partner_a.email, PASSWORD)
    alex_before = main_lines(alex, f"{base}/")
    alex.get_by_role("link", name="Felt pressured or unsafe? Tell your therapist privately").click()
    alex.get_by_label("I felt pressured").check()
    alex.get_by_label("Anything you want your therapist to know (optional)").fill("Sam pushes for more")
    alex.get_by_role("button", name="Send to my therapist only").click()
    expect(alex.get_by_text("Thank you. It is sent.")).to_be_visible()
    assert_only_the_pause(alex_before, main_lines(alex, f"{base}/"))

    # Sam's pages: the neutral pause, nothing else.
    assert_only_the_pause(before["home"], main_lines(sam, pages["home"]))
    assert main_lines(sam, pages["history"]) == before["history"]
    assert main_lines(sam, f"{base}/log/") == PAUSED_LOG_PAGE
    assert "Sam pushes for more" not in sam.content()

    # The therapist sees the hold and lifts it with a new separate conversation with each and a note.
    dr = new_page(LAPTOP, who="therapist")
    sign_in(dr, base, therapist.email, PASSWORD, TOTP_SECRET)
    dr.goto(f"{base}/couples/{couple.pk}/")
    hold = dr.locator("#hold")
    expect(hold).to_contain_text("On hold")
    hold.get_by_text("Lift the hold").first.click()
    for name, how in (("Alex", "In person"), ("Sam", "Video call")):
        hold.get_by_label(f"How you spoke with {name}").select_option(label=how)
    hold.get_by_label("Note").fill("Spoke with each alone; agreed a stop signal")
    hold.get_by_role("button", name="Lift the hold").click()
    expect(dr.get_by_text("The hold is lifted. Each partner answers the private check again first.")).to_be_visible()
    expect(dr.locator("#hold")).to_have_count(0)
    assert ScreeningRecord.objects.filter(couple=couple).count() == 4  # the factories' two, and two new

    # Both are asked the private check again; touch work reopens only after both answered.
    for phone in (alex, sam):
        phone.goto(f"{base}/")
        expect(phone.get_by_role("link", name="Answer privately (1 minute)")).to_be_visible()
        expect(phone.get_by_role("link", name="Log a back rub")).to_have_count(0)
    answer_the_check(alex, base, CLEAN)
    expect(alex.get_by_role("link", name="Log a back rub")).to_have_count(0)
    answer_the_check(sam, base, CLEAN)
    assert main_lines(sam, pages["home"]) == before["home"]
    assert main_lines(alex, f"{base}/") == alex_before


def test_a_worrying_private_check_tells_the_other_partner_nothing(live_server, new_page, therapist, couple):
    base = live_server.url
    alex = PartnerFactory(couple=couple, slot=1, name="Alex", email="alex@example.org", cleared=False)
    sam = PartnerFactory(couple=couple, slot=2, name="Sam", email="sam@example.org", cleared=False)
    for partner in (alex, sam):
        ScreeningRecord.objects.create(couple=couple, partner=partner, date=couple.today(), how="in_person")
    AssignmentFactory(couple=couple)

    sam_phone = new_page(PHONE, who="Sam")
    sign_in(sam_phone, base, sam.email, PASSWORD)
    answer_the_check(sam_phone, base, CLEAN)
    # Waiting for Alex's answers: Sam sees the neutral pause.
    sam_before = main_lines(sam_phone, f"{base}/")
    assert PAUSE in sam_before

    alex_phone = new_page(PHONE, who="Alex")
    sign_in(alex_phone, base, alex.email, PASSWORD)
    answer_the_check(alex_phone, base, WORRYING)  # the same thank-you as Sam's clean answers
    alex_home = main_lines(alex_phone, f"{base}/")
    assert PAUSE in alex_home and "Answer privately (1 minute)" not in alex_home
    assert "Log a back rub" not in alex_home

    assert main_lines(sam_phone, f"{base}/") == sam_before

    dr = new_page(LAPTOP, who="therapist")
    sign_in(dr, base, therapist.email, PASSWORD, TOTP_SECRET)
    dr.goto(f"{base}/couples/{couple.pk}/")
    expect(dr.locator("#hold")).to_contain_text("On hold")
    expect(dr.get_by_text("Alex gave a worrying answer in the private check before touch work.")).to_be_visible()
    dr.locator("#clearance > summary").click()
    clearance = dr.locator("#clearance")
    expect(clearance.get_by_text("Worrying answer")).to_have_count(1)
    expect(clearance).to_contain_text("pressured into touch or sex: Yes")


def test_pause_for_me_shows_the_other_partner_the_neutral_pause(live_server, new_page, couple, partner_a, partner_b):
    base = live_server.url
    AssignmentFactory(couple=couple)
    sam = new_page(PHONE, who="Sam")
    sign_in(sam, base, partner_b.email, PASSWORD)
    sam_before = main_lines(sam, f"{base}/")

    alex = new_page(PHONE, who="Alex")
    sign_in(alex, base, partner_a.email, PASSWORD)
    alex.get_by_text("Need a break? (private)").click()
    alex.get_by_role("button", name="Pause for me").click()
    expect(alex.get_by_text("Done. Nothing to log, and no reminders, until you are ready.")).to_be_visible()
    expect(alex.get_by_role("link", name="Log a back rub")).to_have_count(0)

    assert_only_the_pause(sam_before, main_lines(sam, f"{base}/"))
    assert main_lines(sam, f"{base}/log/") == PAUSED_LOG_PAGE

    alex.goto(f"{base}/")
    alex.get_by_role("button", name="I'm ready to start again").click()
    expect(alex.get_by_text("Welcome back.")).to_be_visible()
    expect(alex.get_by_role("link", name="Log a back rub")).to_be_visible()
    assert main_lines(sam, f"{base}/") == sam_before


def test_not_this_week_shows_the_other_partner_the_neutral_pause(live_server, new_page, couple, partner_a, partner_b):
    base = live_server.url
    AssignmentFactory(couple=couple)
    alex = new_page(PHONE, who="Alex")
    sign_in(alex, base, partner_a.email, PASSWORD)
    alex_before = main_lines(alex, f"{base}/")

    sam = new_page(PHONE, who="Sam")
    sign_in(sam, base, partner_b.email, PASSWORD)
    sam.get_by_text("Need a break? (private)").click()
    sam.get_by_role("button", name="Not this week").click()
    expect(sam.get_by_text("Done. Nothing to log, and no reminders, until you are ready.")).to_be_visible()

    assert_only_the_pause(alex_before, main_lines(alex, f"{base}/"))

    sam.get_by_role("button", name="I'm ready to start again").click()
    expect(sam.get_by_role("link", name="Log a back rub")).to_be_visible()
    assert main_lines(alex, f"{base}/") == alex_before


def test_this_didnt_happen(live_server, new_page, therapist, couple, partner_a, partner_b, session):
    base = live_server.url
    alex = new_page(PHONE, who="Alex")
    sign_in(alex, base, partner_a.email, PASSWORD)
    alex_pages = {"home": f"{base}/", "history": f"{base}/history/"}
    alex_before = {name: main_lines(alex, url) for name, url in alex_pages.items()}

    sam = new_page(PHONE, who="Sam")
    sign_in(sam, base, partner_b.email, PASSWORD)
    awaiting = sam.get_by_role("region", name="Waiting for your reflection")
    expect(awaiting).to_contain_text("logged by Alex")
    sam.goto(f"{base}/history/")
    sam.get_by_role("link", name="This didn't happen / I didn't agree").click()
    assert sam.title() == "Tend"
    sam.get_by_role("button", name="Tell my therapist only").click()
    expect(sam.get_by_text("Thank you. Your therapist will see this; your partner will not.")).to_be_visible()
    expect(sam.get_by_role("region", name="Waiting for your reflection")).to_have_count(0)

    # Alex: the neutral pause, and the session they logged still there as it was.
    assert_only_the_pause(alex_before["home"], main_lines(alex, alex_pages["home"]))
    assert main_lines(alex, alex_pages["history"]) == alex_before["history"]

    dr = new_page(LAPTOP, who="therapist")
    sign_in(dr, base, therapist.email, PASSWORD, TOTP_SECRET)
    dr.goto(f"{base}/couples/{couple.pk}/")
    alert = dr.locator(".alert-row", has_text="said a session logged by their partner did not happen")
    expect(alert).to_contain_text("Urgent")
    expect(alert).to_contain_text("Sam")
    expect(dr.locator("#hold")).to_contain_text("On hold")
