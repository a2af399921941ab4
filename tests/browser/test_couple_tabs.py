"""Issue 16's couple page in a real browser: a first screen that says how the couple are doing and what
needs the therapist, a default view at most three screens tall, no sideways scrolling on a phone, and
the other parts one click away as tabs a keyboard reaches and follows, keeping the period.

The demo practice (`seed_demo`: Alex & Sam's eight weeks, their check-ins, notes and an alert) with a
year of earlier homework added, and three more open alerts, so the page is as full as a real one."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import Page, expect

from accounts.models import Couple
from intimacy.models import Alert, Assignment
from intimacy.weeks import week_start
from tests.browser.conftest import LAPTOP, PHONE
from tests.browser.helpers import sign_in
from tests.factories import TOTP_SECRET, AssignmentFactory, weekly_checkins, weeks_of_homework

pytestmark = pytest.mark.browser

TABLET = 768
SCREEN = 800  # the first screen: 1280 × 800
MOST = 3 * SCREEN  # the whole default view: at most three screens
DEMO_PASSWORD = "tend-demo-2026"  # intimacy/management/commands/seed_demo.py
TABS = ["Overview", "Trends and check-ins", "Reflections", "Notes", "Partners and exercises"]
TAB_URLS = ["couple_detail", "couple_trends", "couple_reflections", "couple_notes", "couple_exercises"]

# Where an element's top edge is on the page, and how tall the page is.
TOP_JS = "(selector) => document.querySelector(selector).getBoundingClientRect().top + window.scrollY"
HEIGHT_JS = "document.documentElement.scrollHeight"
SIDEWAYS_JS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def demo_year(db):
    """The demo couple Alex & Sam, with a year of an earlier exercise before the demo's eight weeks."""
    call_command("seed_demo", force=True, stdout=io.StringIO())
    couple = Couple.objects.get(label="Alex & Sam")
    alex, sam = couple.partners.order_by("slot")
    demo_start = week_start(couple.today()) - timedelta(weeks=8)
    earlier = AssignmentFactory(
        couple=couple,
        starts_on=demo_start - timedelta(weeks=44),
        ends_on=demo_start - timedelta(days=1),
        status=Assignment.Status.ENDED,
    )
    # Two sessions a week for 43 weeks, the newest in the week before the demo's (Tuesday and Friday).
    last_week = demo_start - timedelta(weeks=1)
    weeks_of_homework(
        earlier, alex, sam, 43, latest_week=(last_week + timedelta(days=1), last_week + timedelta(days=4))
    )
    weekly_checkins([alex, sam], last_week, 43)
    this_week = week_start(couple.today())
    for kind, partner in ((Alert.Kind.LOW_SAFE, sam), (Alert.Kind.PAUSED, alex), (Alert.Kind.NO_SESSION, None)):
        Alert.objects.get_or_create(couple=couple, kind=kind, partner=partner, week=this_week)
    return couple


def therapist_page(live_server, new_page) -> Page:
    page = new_page(LAPTOP, who="therapist")
    page.set_viewport_size({"width": LAPTOP, "height": SCREEN})
    sign_in(page, live_server.url, "therapist@example.com", DEMO_PASSWORD, TOTP_SECRET)
    return page


def top(page: Page, selector: str) -> float:
    return page.evaluate(TOP_JS, selector)


def settle(page: Page) -> None:
    """Wait for the key charts to be drawn (Chart.js sizes the canvases as the layout settles)."""
    if page.locator("canvas[id^='chart-']").count():
        page.wait_for_function("[...document.querySelectorAll('canvas')].every((c) => Chart.getChart(c))")


def assert_no_sideways_scroll(page: Page, width: int) -> None:
    """Chart.js resizes its canvases a moment after the window: give it that moment, then judge. Polled
    from Python: wait_for_function's polling evaluates a string, which the page's CSP (no unsafe-eval)
    refuses once the first check is false."""
    for _attempt in range(100):  # up to 10 s on a loaded machine
        if page.evaluate("document.documentElement.scrollWidth") <= width:
            return
        page.wait_for_timeout(100)
    pytest.fail(f"{page.url} scrolls sideways at {width} px ({page.evaluate(SIDEWAYS_JS)} px too wide)")


def test_the_first_screen_and_the_whole_view(live_server, new_page, demo_year):
    page = therapist_page(live_server, new_page)
    overview = live_server.url + reverse("couple_detail", args=[demo_year.pk])
    for query in ("", "?weeks=52", "?weeks=104"):
        page.set_viewport_size({"width": LAPTOP, "height": SCREEN})
        page.goto(overview + query)
        settle(page)
        # At 1280 × 800: the actions, the open alerts, the glance and the key charts' titles, unscrolled.
        expect(page.get_by_role("link", name="Appointment view")).to_be_in_viewport()
        expect(page.locator(".couple-actions").get_by_role("button", name="Pause")).to_be_in_viewport()
        rows = page.locator("#attention .alert-row")
        expect(rows).to_have_count(Alert.objects.filter(couple=demo_year, acknowledged_at=None).count())
        for row in rows.all():
            expect(row).to_be_in_viewport()
        expect(page.locator("#glance .glance")).to_be_in_viewport()
        for title in page.locator(".chart-grid-key .chart-card h3").all():
            assert title.bounding_box()["y"] + title.bounding_box()["height"] <= SCREEN, title.text_content()
        assert page.locator(".chart-grid-key canvas").count() == 3  # sessions, connection, check-ins
        height = page.evaluate(HEIGHT_JS)
        assert height <= MOST, f"{overview}{query} is {height} px tall at {LAPTOP} px"
        # Narrower: the same order (alerts, glance, charts), and never sideways.
        for width in (TABLET, PHONE):
            page.set_viewport_size({"width": width, "height": SCREEN})
            settle(page)
            assert_no_sideways_scroll(page, width)
            expect(page.locator("#attention h2")).to_be_in_viewport()
            assert top(page, "#attention") < top(page, "#glance") < top(page, ".chart-grid-key")


@pytest.mark.parametrize("width", [PHONE, TABLET])
def test_no_tab_scrolls_sideways(live_server, new_page, demo_year, width):
    page = therapist_page(live_server, new_page)
    page.set_viewport_size({"width": width, "height": SCREEN})
    for name in TAB_URLS:
        page.goto(live_server.url + reverse(name, args=[demo_year.pk]) + "?weeks=52")
        settle(page)
        assert_no_sideways_scroll(page, width)


def tab_to(page: Page, name: str) -> None:
    """Press Tab until the tab link `name` has the focus (as a keyboard user would)."""
    for _ in range(80):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.closest('.couple-tabs') && document.activeElement.textContent")
        if focused and focused.strip().startswith(name):
            return
    pytest.fail(f"Tab never reached the tab {name!r} on {page.url}")


def test_the_tabs_by_keyboard_keep_the_period(live_server, new_page, demo_year):
    page = therapist_page(live_server, new_page)
    page.goto(live_server.url + reverse("couple_detail", args=[demo_year.pk]) + "?weeks=52")
    tabs = page.get_by_role("navigation", name="The couple's pages")
    links = tabs.get_by_role("link")
    expect(links).to_have_count(len(TABS))
    for link, label in zip(links.all(), TABS, strict=True):
        expect(link).to_contain_text(label)
    for label, name in zip(TABS[1:] + TABS[:1], TAB_URLS[1:] + TAB_URLS[:1], strict=True):
        tab_to(page, label)
        page.keyboard.press("Enter")
        expect(page).to_have_url(live_server.url + reverse(name, args=[demo_year.pk]) + "?weeks=52")
        current = tabs.locator("[aria-current=page]")
        expect(current).to_have_count(1)
        expect(current).to_contain_text(label)
        settle(page)
    # The period picker on a tab keeps to that tab.
    page.goto(live_server.url + reverse("couple_trends", args=[demo_year.pk]) + "?weeks=52")
    page.get_by_role("group", name="Period").get_by_role("link", name="12 weeks").click()
    expect(page).to_have_url(live_server.url + reverse("couple_trends", args=[demo_year.pk]) + "?weeks=12#trends")
