"""Issue 4's acceptance in a real browser: the therapist's dashboard and the appointment view draw their
charts without a console error, and a "My therapist only" reflection, which Sam writes through the real
reflection form, shows in the therapist's view and nowhere in the appointment view's HTML; nor do the
therapist's notes or alerts. Both pages fit a 768 px screen without sideways scrolling.

The sessions and the other reflections are set up in the database, dated relative to the couple's today.
No console error, CSP violation or failed request: `new_page` fails the test at teardown on any."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from intimacy import services as intimacy_services
from intimacy.alerts import alert_sentence
from intimacy.models import Alert, Reflection
from intimacy.weeks import week_start
from tests.browser.conftest import LAPTOP
from tests.browser.helpers import confirm_password, rate, sign_in, wait_until
from tests.factories import PASSWORD, TOTP_SECRET, AssignmentFactory, ReflectionFactory, SessionFactory

pytestmark = pytest.mark.browser

TABLET = 768
WEEKS = 4
# Every chart the period's data allows, in the order the trends tab shows them.
CHART_IDS = ["sessions", "reciprocity", "connection", "comfort", "relief", "gap", "completion"]
# The overview's key charts for a back rub without check-ins (issue 16, dashboard.py KEY_CHARTS).
KEY_CHART_IDS = ["sessions", "connection", "comfort"]

MARKER = "ONLY-FOR-THERAPIST-7f3a"
NOTE = "NOTE-FOR-ME-holiday 5c2e"
# Days before today of the six sessions; Alex gives in the first, then they take turns.
DAYS_AGO = (1, 3, 6, 9, 13, 17)

# Draws nothing itself: says, per chart id, whether Chart.js has a chart on that canvas, the canvas's
# size, and how many of its pixels are painted (so "drawn" means ink on the canvas, not just an object).
CHARTS_DRAWN_JS = """(ids) => Object.fromEntries(ids.map((id) => {
  const canvas = document.getElementById("chart-" + id);
  if (!canvas) return [id, "no canvas"];
  const chart = Chart.getChart(canvas);
  if (!chart) return [id, "no Chart.js chart"];
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i]) painted++;
  return [id, {width: canvas.width, height: canvas.height, painted: painted, datasets: chart.data.datasets.length}];
}))"""


def set_up_homework(couple, partner_a, partner_b):
    """Six sessions over the last three weeks, each with both partners' shared reflections, except the
    latest: Alex gave and reflected, and Sam's reflection is left for Sam to write in the browser."""
    today = couple.today()
    assignment = AssignmentFactory(couple=couple, starts_on=today - timedelta(days=35))
    sessions = []
    for i, days in enumerate(DAYS_AGO):
        giver, receiver = (partner_a, partner_b) if i % 2 == 0 else (partner_b, partner_a)
        session = SessionFactory(
            assignment=assignment, date=today - timedelta(days=days), giver=giver, receiver=receiver, logged_by=giver
        )
        ReflectionFactory(
            session=session, partner=giver, role=Reflection.Role.GIVER, connection=6 + i % 3, comfort=8, presence=7
        )
        if i:
            ReflectionFactory(
                session=session,
                partner=receiver,
                role=Reflection.Role.RECEIVER,
                connection=7 + i % 2,
                comfort=7,
                tension_before=6,
                tension_after=2 + i % 2,
            )
        sessions.append(session)
    # An alert for the therapist's eye only (alerts hold no words of the couple, just this sentence).
    alert = Alert.objects.create(
        couple=couple, kind=Alert.Kind.PAUSED, partner=partner_a, week=week_start(today - timedelta(days=3))
    )
    return sessions, alert


def sam_writes_for_the_therapist_only(page: Page, base: str, session, partner_b) -> None:
    sign_in(page, base, partner_b.email, PASSWORD)
    page.goto(base + reverse("reflection_add", args=[session.pk]))
    expect(page.get_by_role("heading", name="Add your reflection")).to_be_visible()
    expect(page.get_by_text("Alex gave, you received")).to_be_visible()
    rate(page, "How connected did you feel?", 9)
    rate(page, "How comfortable did you feel?", 9)
    rate(page, "How safe did you feel?", 9)
    rate(page, "Tension before", 7)
    rate(page, "Tension after", 1)
    page.get_by_label("Anything else").fill(MARKER)
    page.get_by_label("My therapist only").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Thank you. Your reflection is saved.")).to_be_visible()


def assert_charts_drawn(page: Page, chart_ids=CHART_IDS) -> None:
    canvases = page.locator("canvas[id^='chart-']")
    expect(canvases).to_have_count(len(chart_ids))
    assert [c.get_attribute("id") for c in canvases.all()] == [f"chart-{i}" for i in chart_ids]
    for chart_id in chart_ids:
        expect(page.locator(f"#chart-{chart_id}")).to_be_visible()
    drawn = page.evaluate(CHARTS_DRAWN_JS, chart_ids)
    for chart_id, state in drawn.items():
        assert isinstance(state, dict), f"chart {chart_id!r} on {page.url}: {state}"
        assert state["width"] > 0 and state["height"] > 0, f"chart {chart_id!r} has no size: {state}"
        assert state["datasets"] > 0, f"chart {chart_id!r} has no data: {state}"
        assert state["painted"] > 0, f"chart {chart_id!r} left its canvas blank: {state}"


def assert_no_sideways_scroll(page: Page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.reload()
    expect(page.locator("canvas[id^='chart-']").first).to_be_visible()
    try:  # Chart.js resizes its canvases as the layout settles; give it a moment, then report the culprits.
        wait_until(page, "(width) => document.documentElement.scrollWidth <= width", width, seconds=5)
    except AssertionError:
        wide = page.evaluate(
            """(width) => [...document.querySelectorAll("body *")]
                .filter((e) => e.getBoundingClientRect().right > width)
                .slice(0, 8).map((e) => e.tagName + "#" + e.id + "." + e.className + " right="
                + Math.round(e.getBoundingClientRect().right))""",
            width,
        )
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        pytest.fail(f"{page.url} scrolls sideways at {width} px (scrollWidth {scroll_width}): {wide}")


def test_dashboard_and_appointment_view(live_server, new_page, screenshot, couple, therapist, partner_a, partner_b):
    base = live_server.url
    sessions, alert = set_up_homework(couple, partner_a, partner_b)
    today = couple.today()
    this_week = week_start(today)
    this_week_label = f"{this_week.day} {this_week:%b}"
    this_week_sessions = sum(1 for s in sessions if week_start(s.date) == this_week)

    # 1. Sam adds their reflection on the latest session, for the therapist only, through the form.
    sam = new_page(LAPTOP, who="Sam")
    sam_writes_for_the_therapist_only(sam, base, sessions[0], partner_b)
    mine = Reflection.objects.get(session=sessions[0], partner=partner_b)
    assert (mine.visibility, mine.notes) == (Reflection.Visibility.THERAPIST, MARKER)

    # 2. The therapist opens the dashboard for the last four weeks on a laptop.
    dr = new_page(LAPTOP, who="therapist")
    sign_in(dr, base, therapist.email, PASSWORD, TOTP_SECRET)
    dashboard_url = f"{base}{reverse('couple_detail', args=[couple.pk])}?weeks={WEEKS}"
    dr.goto(dashboard_url)
    expect(dr.get_by_role("heading", name="Alex & Sam")).to_be_visible()
    # Issue 16: the overview draws the key charts; every chart is on the trends tab.
    assert_charts_drawn(dr, KEY_CHART_IDS)

    attention = dr.locator("#attention")
    expect(attention.get_by_role("heading", name="Needs attention")).to_be_visible()
    expect(attention).to_contain_text(alert_sentence(alert))

    glance = dr.locator(".glance .card")
    expect(glance.filter(has_text="with both reflections")).to_contain_text(f"{len(sessions)} of {len(sessions)}")

    # Sam's words for the therapist only are in the timeline, marked as such (the reflections tab).
    tabs = dr.get_by_role("navigation", name="The couple's pages")
    tabs.get_by_role("link", name="Reflections").click()
    expect(dr).to_have_url(f"{base}{reverse('couple_reflections', args=[couple.pk])}?weeks={WEEKS}")
    timeline = dr.locator("#timeline")
    expect(timeline.get_by_text(MARKER)).to_be_visible()
    sams_card = timeline.locator(".card").filter(has_text=MARKER)
    expect(sams_card).to_contain_text("For you only, not the partner")

    # The numbers beneath the sessions chart: this week's sessions against a target of two.
    tabs.get_by_role("link", name="Trends and check-ins").click()
    assert_charts_drawn(dr)
    numbers = dr.locator("details.chart-numbers").filter(has_text="Numbers for “Sessions against the target”")
    table = numbers.get_by_role("table")
    expect(table).to_be_hidden()
    numbers.locator("summary").click()
    expect(table).to_be_visible()
    expect(table.get_by_role("row")).to_have_count(1 + WEEKS)
    row = table.get_by_role("row").filter(has=dr.get_by_role("rowheader", name=this_week_label, exact=True))
    expect(row.get_by_role("cell")).to_have_text([str(this_week_sessions), "2"])

    # A note through the notes form: it is listed under "Your notes" and marks the charts.
    tabs.get_by_role("link", name="Notes").click()
    notes = dr.locator("#notes")
    expect(notes.get_by_label("Date")).to_have_value(today.isoformat())
    notes.get_by_label("Note", exact=True).fill(NOTE)
    notes.get_by_role("button", name="Add note").click()
    expect(dr.get_by_text("Note added.")).to_be_visible()
    expect(dr.locator("#notes").get_by_text(NOTE)).to_be_visible()
    # The redirect keeps the period; back on the overview, the note is a chart marker.
    expect(dr).to_have_url(f"{base}{reverse('couple_notes', args=[couple.pk])}?weeks={WEEKS}#notes")
    tabs.get_by_role("link", name="Overview").click()
    expect(dr).to_have_url(dashboard_url)
    assert_charts_drawn(dr, KEY_CHART_IDS)
    # The pin's number is in the charts' data, its words on the legend's line of that number.
    markers = dr.evaluate("JSON.parse(document.getElementById('chart-data').textContent).markers")
    note = next(m for m in markers if m["kind"] == "note")
    expect(dr.locator(f'.chart-marker[data-number="{note["number"]}"]')).to_contain_text(f"Your note: {NOTE}")
    screenshot(dr, "therapist-dashboard")

    # 3. The appointment view, through its link, so the period comes along.
    dr.get_by_role("link", name="Appointment view").click()
    expect(dr).to_have_url(f"{base}{reverse('appointment', args=[couple.pk])}?weeks={WEEKS}")
    expect(dr.locator("body")).to_have_class("appointment")
    expect(dr.get_by_role("heading", name="Alex & Sam: your homework together")).to_be_visible()
    assert_charts_drawn(dr)
    # Built from shared reflections only: Sam's "therapist only" one doesn't count as written here.
    glance = dr.locator(".glance .card")
    expect(glance.filter(has_text="with both of you sharing")).to_contain_text(
        f"{len(sessions) - 1} of {len(sessions)}"
    )
    html = dr.content()
    for words in (MARKER, NOTE, "Needs attention", alert_sentence(alert), "For you only", "Your notes"):
        assert words not in html, f"{words!r} is in the appointment view's HTML"
    screenshot(dr, "appointment-view")

    # 4. Neither page scrolls sideways on a 768 px screen.
    assert_no_sideways_scroll(dr, TABLET)
    assert_charts_drawn(dr)
    dr.get_by_role("link", name="Back to therapist view").click()
    # Issue 13: leaving the couple's screen asks for the therapist's password first.
    confirm_password(dr, base, PASSWORD)
    expect(dr).to_have_url(dashboard_url)
    expect(dr.get_by_role("heading", name="Needs attention")).to_be_visible()
    assert_no_sideways_scroll(dr, TABLET)
    assert_charts_drawn(dr, KEY_CHART_IDS)


SAFETY_WORDS = "SAFETY-WORDS-pressured-4d2e"


def test_dashboard_hides_private_messages_and_seen_alerts_until_opened(
    live_server, new_page, couple, therapist, partner_a, partner_b
):
    """Issue 13: the dashboard can be opened with the couple in the room. A safety message (new or seen)
    and alerts already seen show one neutral line each; their words appear only after a click."""

    intimacy_services.safety_message_send(partner=partner_a, feeling="pressured", message=SAFETY_WORDS)
    Alert.objects.create(
        couple=couple,
        kind=Alert.Kind.PAUSED,
        partner=partner_b,
        week=week_start(couple.today() - timedelta(days=14)),
        acknowledged_at=timezone.now() - timedelta(days=13),
        acknowledgement="ACK-NOTE-3e9f",
    )
    dr = new_page(LAPTOP, who="therapist")
    sign_in(dr, live_server.url, therapist.email, PASSWORD, TOTP_SECRET)
    dr.goto(live_server.url + reverse("couple_detail", args=[couple.pk]))
    expect(dr.get_by_text(SAFETY_WORDS)).not_to_be_visible()
    expect(dr.get_by_text("ACK-NOTE-3e9f", exact=False)).not_to_be_visible()
    dr.get_by_text("Private messages: 1 new — show").click()
    expect(dr.get_by_text(SAFETY_WORDS)).to_be_visible()
    dr.get_by_text("Seen: 1 alert — show").click()
    expect(dr.get_by_text("ACK-NOTE-3e9f", exact=False)).to_be_visible()


def test_an_alert_leads_to_its_session_a_note_and_a_pause(
    live_server, new_page, couple, therapist, partner_a, partner_b
):
    """Issue 14: from "Needs attention", a session 20 weeks back (outside the page's usual 12 weeks) is one
    click away, "Write a note" puts the cursor in the note form, and "Pause the exercise" pauses it."""
    base = live_server.url
    today = couple.today()
    assignment = AssignmentFactory(couple=couple, starts_on=today - timedelta(weeks=30))
    old = SessionFactory(
        assignment=assignment,
        date=today - timedelta(weeks=20),
        giver=partner_a,
        receiver=partner_b,
        logged_by=partner_a,
    )
    ReflectionFactory(session=old, partner=partner_b, role=Reflection.Role.RECEIVER, comfort=2)
    Alert.objects.create(
        couple=couple,
        kind=Alert.Kind.LOW_COMFORT,
        partner=partner_b,
        week=week_start(old.date),
        session=old,
        assignment=assignment,
    )
    dr = new_page(LAPTOP, who="therapist")
    sign_in(dr, base, therapist.email, PASSWORD, TOTP_SECRET)
    page_url = f"{base}{reverse('couple_detail', args=[couple.pk])}"
    dr.goto(page_url)
    attention = dr.locator("#attention")
    expect(dr.locator(f"#session-{old.pk}")).to_have_count(0)

    # Issue 16: the session is on the reflections tab, the note form on the notes tab.
    attention.get_by_role("link", name="Open the session").click()
    reflections = f"{base}{reverse('couple_reflections', args=[couple.pk])}"
    expect(dr).to_have_url(f"{reflections}?session={old.pk}#session-{old.pk}")
    expect(dr.locator(f"#session-{old.pk}")).to_be_in_viewport()

    dr.go_back()
    dr.locator("#attention").get_by_role("link", name="Write a note").click()
    expect(dr.locator("#notes").get_by_label("Note", exact=True)).to_be_focused()

    dr.go_back()
    dr.locator("#attention").get_by_role("button", name="Pause the exercise").click()
    expect(dr.get_by_text("paused.", exact=False).first).to_be_visible()
    expect(dr).to_have_url(page_url)
    expect(dr.locator("#attention").get_by_role("button", name="Pause the exercise")).to_have_count(0)
    expect(dr.locator(".couple-actions").get_by_role("button", name="Resume")).to_be_visible()
    assignment.refresh_from_db()
    assert assignment.status == "paused"
