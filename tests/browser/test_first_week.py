"""A first week that teaches (issue 17), at 375 px as a partner meets it: the exercise's "How to do it"
open above "Log …" until their first session and folded below it afterwards; the "How Tend works"
card dismissed with the keyboard and gone after a reload; "Your data" as a readable page that prints
without sideways scrolling; Tend's icon at /favicon.ico; and the appointment view free of axe's
heading-order and region findings."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.conftest import LAPTOP, PHONE
from tests.browser.helpers import sign_in
from tests.factories import PASSWORD, TOTP_SECRET, ReflectionFactory, SessionFactory

pytestmark = pytest.mark.browser


def tab_to(page, locator, presses: int = 80) -> None:
    for _ in range(presses):
        if locator.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"could not reach {locator} with Tab")


def no_sideways_scroll(page, width: int) -> None:
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= width, f"scrolls sideways: {wide} px"


def test_guidance_is_open_above_log_until_the_first_session(live_server, new_page, assignment, partner_a, partner_b):
    page = new_page(PHONE, who="partner")
    sign_in(page, live_server.url, partner_a.email, PASSWORD)
    how_to = page.locator("details.how-to")
    log = page.locator(f'a[href="{reverse("session_log", args=[assignment.pk])}"]')
    expect(how_to).to_have_attribute("open", "")
    expect(how_to.locator(".guidance")).to_be_visible()
    assert how_to.bounding_box()["y"] < log.bounding_box()["y"]
    no_sideways_scroll(page, PHONE)
    # Their first back rub, logged (by Sam, as the data behind it: the browser is for what Alex does).
    SessionFactory(assignment=assignment, giver=partner_b, receiver=partner_a, logged_by=partner_b)
    page.reload()
    expect(how_to).not_to_have_attribute("open", "")
    expect(how_to.locator(".guidance")).to_be_hidden()
    assert how_to.bounding_box()["y"] > log.bounding_box()["y"]


def test_how_tend_works_is_dismissed_by_keyboard_and_stays_gone(live_server, new_page, assignment, partner_a):
    page = new_page(PHONE, who="partner")
    sign_in(page, live_server.url, partner_a.email, PASSWORD)
    card = page.get_by_role("region", name="How Tend works")
    expect(card).to_be_visible()
    hide = card.get_by_role("button", name="Got it, hide this")
    tab_to(page, hide)
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    expect(page.get_by_role("heading", name="How Tend works")).to_have_count(0)
    page.reload()
    expect(page.get_by_role("heading", name="How Tend works")).to_have_count(0)
    partner_a.refresh_from_db()
    assert partner_a.intro_dismissed_at is not None


def test_the_readable_data_page_renders_and_prints_on_a_phone(live_server, new_page, session, partner_a, partner_b):
    ReflectionFactory(session=session, partner=partner_b, role="receiver", notes="x" * 300)
    page = new_page(PHONE, who="partner")
    sign_in(page, live_server.url, partner_b.email, PASSWORD)
    page.goto(live_server.url + reverse("my_data"))
    page.get_by_role("link", name="Read it as a page (to print)").click()
    expect(page.get_by_role("heading", name="Sessions and reflections")).to_be_visible()
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    no_sideways_scroll(page, PHONE)
    violations = Axe().run(page).response["violations"]
    assert [v["id"] for v in violations if v["impact"] in ("serious", "critical")] == []
    page.emulate_media(media="print")
    no_sideways_scroll(page, PHONE)
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    assert page.pdf(format="A4")[:4] == b"%PDF"


def test_favicon_is_no_404(live_server, new_page):
    page = new_page(PHONE)
    response = page.goto(live_server.url + "/favicon.ico")
    assert response.status == 200 and response.headers["content-type"] == "image/png"
    # new_page fails the test on any 4xx the browser met on the way (conftest's PageProblems).


def test_appointment_view_has_no_heading_order_or_region_findings(
    live_server, new_page, couple, therapist, session, partner_a, partner_b
):
    ReflectionFactory(session=session, partner=partner_b, role="receiver")
    page = new_page(LAPTOP, who="therapist")
    sign_in(page, live_server.url, therapist.email, PASSWORD, TOTP_SECRET)
    for width in (PHONE, LAPTOP):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(live_server.url + reverse("appointment", args=[couple.pk]))
        page.wait_for_load_state("networkidle")
        findings = [
            f"{v['id']} @ {width}px: {[n['target'] for n in v['nodes'][:3]]}"
            for v in Axe().run(page).response["violations"]
            if v["id"] in ("heading-order", "region", "landmark-one-main", "page-has-heading-one")
        ]
        assert findings == []
