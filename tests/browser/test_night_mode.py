"""Night mode (issue 17), in Debian's Chromium with the device's colour scheme emulated.

- A phone set to dark gets dark pages (Bootstrap's colour modes; Tend's own colours too), and axe finds
  no serious or critical problem, colour contrast included, on the main partner and therapist pages at
  375 px and 1280 px (the light pages: tests/browser/test_accessibility.py).
- The menu's switch (System / Light / Dark) works by keyboard alone, switches at once, tells the charts
  ("tend:themechange"), and is remembered on this device across pages and signing out and in.
- No flash: with a choice stored, the very first HTML already carries it (and a page without scripts is
  dark too); with none, theme.js follows the device before the first paint, and follows it when it changes.
- The top bar's targets (the "Tend" link, the menu button, the menu's links) stand at least 44 px tall.
"""

from collections.abc import Callable

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.theme import THEME_COOKIE
from intimacy.models import Exercise
from tests.browser.conftest import LAPTOP, PHONE, TIMEOUT_MS
from tests.browser.helpers import sign_in
from tests.browser.test_accessibility import check_pages
from tests.factories import PASSWORD, TOTP_SECRET, ReflectionFactory

pytestmark = pytest.mark.browser

# The page's own background (Tend's dark page is #161a19, rgb(22, 26, 25)); light is the cream #faf7f2.
BODY_BACKGROUND_JS = "getComputedStyle(document.body).backgroundColor"
DARK_PAGE, LIGHT_PAGE = "rgb(22, 26, 25)", "rgb(250, 247, 242)"
CHART_COLOUR_JS = "getComputedStyle(document.documentElement).getPropertyValue('--tend-chart-1').trim()"
# What charts.js listens for: record each one the page sends.
RECORD_THEME_EVENTS = (
    "window.themeEvents = []; document.addEventListener('tend:themechange', (e) => themeEvents.push(e.detail.theme))"
)


def stores(theme: str) -> Callable:
    """A predicate for `expect_response`: theme.js's request storing `theme` (its form, sent as multipart)."""
    url = reverse("theme_set")
    return lambda r: r.url.endswith(url) and f'name="theme"\r\n\r\n{theme}\r\n' in (r.request.post_data or "")


@pytest.fixture
def themed_page(browser, page_problems) -> Callable:
    """`themed_page(width, scheme, who=..., javascript=True)`: a fresh context whose device prefers `scheme`."""
    contexts = []

    def make(width: int, scheme: str, who: str = "someone", javascript: bool = True):
        context = browser.new_context(
            viewport={"width": width, "height": 900},
            locale="en-GB",
            color_scheme=scheme,
            java_script_enabled=javascript,
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page_problems.watch(page, who)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not page_problems.lines, "The browser reported problems:\n" + "\n".join(page_problems.lines)


def test_a_dark_phone_gets_dark_partner_pages_that_pass_axe(
    live_server, themed_page, couple, partner_a, partner_b, session
):
    couple.progress_page = True
    couple.save()
    theirs = ReflectionFactory(session=session, partner=partner_b, role="receiver")
    page = themed_page(PHONE, "dark", who="partner")
    sign_in(page, live_server.url, partner_b.email, PASSWORD)
    assert page.evaluate("document.documentElement.dataset.bsTheme") == "dark"
    assert page.evaluate(BODY_BACKGROUND_JS) == DARK_PAGE
    check_pages(
        page,
        live_server.url,
        [
            reverse("home"),
            reverse("session_log", args=[session.assignment_id]) + "?new=1",
            reverse("history"),
            reverse("progress"),
            reverse("reflection_edit", args=[theirs.pk]),
            reverse("safety"),
            reverse("my_data"),
            reverse("checkin"),
            reverse("reminder_settings"),
        ],
        phone_targets=True,
    )
    assert page.evaluate(BODY_BACKGROUND_JS) == DARK_PAGE


def test_a_dark_laptop_gets_dark_therapist_pages_that_pass_axe(
    live_server, themed_page, couple, therapist, session, partner_a, partner_b
):
    ReflectionFactory(session=session, partner=partner_b, role="receiver")
    page = themed_page(LAPTOP, "dark", who="therapist")
    sign_in(page, live_server.url, therapist.email, PASSWORD, TOTP_SECRET)
    pk = couple.pk
    check_pages(
        page,
        live_server.url,
        [
            reverse("home"),
            reverse("couple_detail", args=[pk]),
            reverse("appointment", args=[pk]),
            reverse("couple_summary", args=[pk]),
            reverse("assignment_create", args=[pk]),
            reverse("exercise_list"),
            reverse("exercise_detail", args=[Exercise.objects.back_rub().pk]),
            reverse("couple_add"),
        ],
    )
    assert page.evaluate(BODY_BACKGROUND_JS) != LIGHT_PAGE


def test_the_switch_works_by_keyboard_and_is_remembered(live_server, themed_page, partner_a):
    page = themed_page(PHONE, "light", who="partner")
    sign_in(page, live_server.url, partner_a.email, PASSWORD)
    assert page.evaluate(BODY_BACKGROUND_JS) == LIGHT_PAGE
    page.evaluate(RECORD_THEME_EVENTS)
    # Keyboard alone: past the skip link and "Tend" to the menu button, open it, on to the switch.
    menu_button = page.get_by_role("button", name="Menu")
    for _ in range(5):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('navbar-toggler')"):
            break
    expect(menu_button).to_be_focused()
    page.keyboard.press("Enter")
    expect(menu_button).to_have_attribute("aria-expanded", "true")  # tend.js's menu, not Bootstrap's script
    switch = page.get_by_label("Colours")
    expect(switch).to_be_visible()
    # "Save colours" is for pages without scripts; here the choice applies the moment it is made.
    expect(page.get_by_role("button", name="Save colours")).to_be_hidden()
    for _ in range(12):
        if page.evaluate("document.activeElement.id") == "theme-choice":
            break
        page.keyboard.press("Tab")
    expect(switch).to_be_focused()
    # Each press is a change, and each is stored in turn, the last one last.
    with page.expect_response(stores("dark")) as stored:
        page.keyboard.press("ArrowDown")  # System -> Light
        page.keyboard.press("ArrowDown")  # Light -> Dark
    assert stored.value.status == 204
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "dark")
    assert page.evaluate(BODY_BACKGROUND_JS) == DARK_PAGE
    assert page.evaluate("themeEvents") == ["dark"]  # charts.js redraws on this

    # Another page: its first HTML is dark already, though the device still prefers light.
    response = page.goto(live_server.url + reverse("history"))
    assert 'data-bs-theme="dark"' in response.text().split("<head>")[0]
    expect(page.get_by_label("Colours")).to_have_value("dark")

    # Signing out and in again on this phone keeps it: the choice belongs to the device.
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "dark")
    sign_in(page, live_server.url, partner_a.email, PASSWORD)
    assert page.evaluate(BODY_BACKGROUND_JS) == DARK_PAGE

    # Back to "System": the device's light again, and the cookie is gone.
    page.get_by_role("button", name="Menu").click()
    with page.expect_response(stores("system")):
        page.get_by_label("Colours").select_option("system")
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "light")
    assert THEME_COOKIE not in {c["name"] for c in page.context.cookies()}


def test_system_follows_the_device_and_tells_the_charts(live_server, themed_page, partner_a):
    page = themed_page(PHONE, "dark", who="partner")
    sign_in(page, live_server.url, partner_a.email, PASSWORD)
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "dark")
    # The charts' colours (contract with charts.js: custom properties on <html>) have their dark values.
    assert page.evaluate(CHART_COLOUR_JS) == "#56b4e9"
    page.evaluate(RECORD_THEME_EVENTS)
    page.emulate_media(color_scheme="light")
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "light")
    assert page.evaluate(BODY_BACKGROUND_JS) == LIGHT_PAGE
    assert page.evaluate("themeEvents") == ["light"]


def test_a_stored_choice_needs_no_script_and_the_form_works_without_one(live_server, themed_page, partner_a):
    # Without a script a phone shows its menu open (the menu button needs one).
    page = themed_page(PHONE, "light", who="partner", javascript=False)
    sign_in(page, live_server.url, partner_a.email, PASSWORD)
    page.get_by_label("Colours").select_option("dark")
    page.get_by_role("button", name="Save colours").click()
    expect(page).to_have_url(live_server.url + reverse("home"))
    assert page.evaluate(BODY_BACKGROUND_JS) == DARK_PAGE
    response = page.goto(live_server.url + reverse("history"))
    assert 'data-bs-theme="dark"' in response.text().split("<head>")[0]
    assert page.evaluate(BODY_BACKGROUND_JS) == DARK_PAGE


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_top_bar_targets_are_44px_on_a_phone(live_server, themed_page, partner_a, scheme):
    page = themed_page(PHONE, scheme, who="partner")
    sign_in(page, live_server.url, partner_a.email, PASSWORD)
    heights = {"Tend": page.locator(".navbar-brand").bounding_box()["height"]}
    heights["Menu"] = page.get_by_role("button", name="Menu").bounding_box()["height"]
    page.get_by_role("button", name="Menu").click()
    expect(page.locator("#nav")).to_be_visible()
    page.wait_for_timeout(400)  # Bootstrap's collapse animation
    for item in page.locator("#nav a, #nav button:visible, #nav select").all():
        heights[item.inner_text().strip() or item.get_attribute("name")] = item.bounding_box()["height"]
    small = {name: h for name, h in heights.items() if h < 44}
    assert not small, f"top-bar targets under 44 px: {small}"


def test_a_dark_screen_prints_light(live_server, themed_page, couple, therapist):
    page = themed_page(LAPTOP, "dark", who="therapist")
    sign_in(page, live_server.url, therapist.email, PASSWORD, TOTP_SECRET)
    page.goto(live_server.url + reverse("couple_summary", args=[couple.pk]))
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "dark")
    # Print media without the beforeprint event (as a PDF renderer would): the CSS alone turns it light.
    page.emulate_media(media="print")
    colours = page.evaluate(
        "[getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body).color,"
        " getComputedStyle(document.querySelector('main')).color]"
    )
    assert colours == ["rgb(255, 255, 255)", "rgb(33, 37, 41)", "rgb(33, 37, 41)"]
