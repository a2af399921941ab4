"""Issue 16's charts in a real browser, at 375, 768 and 1280 px, on the therapist's dashboard of a couple
with many markers close together (notes and paused sessions in the same and neighbouring weeks, two
program step changes this week): the markers are numbered pins above the plot that never overlap and
stay inside their canvas, the legend beneath the charts lists each marker once, the connection chart's
role buttons switch its lines by keyboard, and every y axis reaches above its highest value.

The pins' boxes are read from each canvas's data-pins attribute (CSS pixels, written by
static/tend/charts.js as it draws them). No frozen time in a browser test: dates are relative to today.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from intimacy import services as intimacy_services
from intimacy.models import Exercise, ReadinessAnswer, Reflection
from intimacy.weeks import week_start
from tests.browser.conftest import LAPTOP, PHONE
from tests.browser.helpers import sign_in, wait_until
from tests.factories import PASSWORD, TOTP_SECRET, AssignmentFactory, ReflectionFactory, SessionFactory

pytestmark = pytest.mark.browser

TABLET = 768
NOTES = ("CHART-NOTE-one", "CHART-NOTE-two", "CHART-NOTE-three", "CHART-NOTE-four")

PINS_JS = """() => [...document.querySelectorAll("canvas[id^='chart-']")].map((canvas) => ({
  id: canvas.id,
  width: canvas.clientWidth,
  height: canvas.clientHeight,
  pins: canvas.dataset.pins ? JSON.parse(canvas.dataset.pins) : null,
}))"""

# Per chart: its y axis's top, and its highest value (bars: the tallest stack; lines: the highest point).
AXES_JS = """() => [...document.querySelectorAll("canvas[id^='chart-']")].map((canvas) => {
  const chart = Chart.getChart(canvas);
  const sets = chart.data.datasets;
  const values = (set) => set.data.filter((v) => v !== null);
  const bars = sets.filter((set) => set.type !== "line" && chart.config.type === "bar");
  const stack = (i) => bars.reduce((sum, set) => sum + (set.data[i] || 0), 0);
  const stacks = bars.length ? chart.data.labels.map((_, i) => stack(i)) : [];
  const lines = sets.filter((set) => !bars.includes(set)).flatMap(values);
  return {id: canvas.id, type: chart.config.type, max: chart.scales.y.max, highest: Math.max(...stacks, ...lines)};
})"""

CONNECTION_JS = """() => Chart.getChart(document.getElementById("chart-connection")).data.datasets
  .map((set) => [set.label, set.data])"""


def set_up_crowded_weeks(couple, therapist, partner_a, partner_b):
    """Twelve weeks of sessions, both partners giving and receiving (so connection has roles to switch):

    - three weeks ago: four sessions (the tallest stack), one paused; two notes;
    - two weeks ago: one session, paused; one note;
    - six weeks ago: one session, paused; one note;
    - this week: a program started and moved on to its second step (two step changes).
    """
    today = couple.today()
    assignment = AssignmentFactory(couple=couple, starts_on=today - timedelta(days=80))

    def session(day, giver, receiver, paused=False, connection=6):
        s = SessionFactory(assignment=assignment, date=day, giver=giver, receiver=receiver, logged_by=giver)
        ReflectionFactory(session=s, partner=giver, role=Reflection.Role.GIVER, connection=connection, paused=paused)
        ReflectionFactory(
            session=s, partner=receiver, role=Reflection.Role.RECEIVER, connection=10 - connection // 2, paused=paused
        )

    three, two, six = (week_start(today) - timedelta(weeks=n) for n in (3, 2, 6))
    for weeks_ago in range(1, 11):
        if weeks_ago not in (2, 3, 6):
            session(week_start(today) - timedelta(weeks=weeks_ago) + timedelta(days=1), partner_a, partner_b)
    for day in range(4):
        giver, receiver = (partner_a, partner_b) if day % 2 else (partner_b, partner_a)
        session(three + timedelta(days=day), giver, receiver, paused=day == 0, connection=4 + day)
    session(two + timedelta(days=2), partner_a, partner_b, paused=True, connection=8)
    session(six + timedelta(days=3), partner_b, partner_a, paused=True, connection=3)
    for day, text in zip((three + timedelta(days=1), three + timedelta(days=5), two, six), NOTES, strict=True):
        intimacy_services.note_add(couple=couple, author=therapist, day=day, text=text)

    program = intimacy_services.program_create(owner=therapist, title="Hands first")
    for exercise in (Exercise.objects.back_rub(), Exercise.objects.get(builtin_key="hand-massage")):
        intimacy_services.program_stage_add(program=program, exercise=exercise, target_per_week=2, suggested_minutes=10)
    first = intimacy_services.program_assign(couple=couple, program=program).steps.get()
    for partner in (partner_a, partner_b):
        intimacy_services.readiness_answer(step=first, partner=partner, answer=ReadinessAnswer.Answer.READY)
    intimacy_services.program_stage_approve(step=first, by=therapist)


def overlap(a: dict, b: dict) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


def assert_pins_apart_and_inside(page, width: int, count: int, min_charts: int) -> None:
    charts = page.evaluate(PINS_JS)
    assert len(charts) >= min_charts, charts
    for chart in charts:
        pins = chart["pins"]
        assert pins, f"{chart['id']} at {width} px drew no pins"
        # Every marker is on exactly one pin of each chart: 1, 2, … count, in order.
        assert [n for pin in pins for n in pin["numbers"]] == list(range(1, count + 1)), (width, chart)
        for i, pin in enumerate(pins):
            assert 0 <= pin["left"] < pin["right"] <= chart["width"], (width, chart["id"], pin)
            assert 0 <= pin["top"] < pin["bottom"] <= chart["height"], (width, chart["id"], pin)
            for other in pins[i + 1 :]:
                assert not overlap(pin, other), f"{chart['id']} at {width} px: {pin} overlaps {other}"


def test_pins_legend_axes_and_role_buttons(live_server, new_page, couple, therapist, partner_a, partner_b):
    base = live_server.url
    set_up_crowded_weeks(couple, therapist, partner_a, partner_b)
    page = new_page(LAPTOP, who="therapist")
    sign_in(page, base, therapist.email, PASSWORD, TOTP_SECRET)
    # Every chart is on the trends tab; the overview shows the key ones (issue 16), with the same pins.
    url = base + reverse("couple_trends", args=[couple.pk])
    overview = base + reverse("couple_detail", args=[couple.pk])

    page.goto(url)
    markers = page.evaluate("JSON.parse(document.getElementById('chart-data').textContent).markers")
    # Six weeks ago: a paused session and a note; three weeks ago: a paused session and two notes; two
    # weeks ago: a paused session (dated by its week's Monday, so first) and a note on that Monday; this
    # week: two step changes. Nine in all.
    assert [m["kind"] for m in markers] == [
        "paused",
        "note",
        "paused",
        "note",
        "note",
        "paused",
        "note",
        "step",
        "step",
    ]
    count = len(markers)

    # The legend: one line per marker, numbered as the pins are, with its kind in words and its words.
    legend = page.locator("#chart-markers li")
    expect(legend).to_have_count(count)
    expect(page.locator("#chart-markers .marker-pin")).to_have_text([str(n) for n in range(1, count + 1)])
    for text in NOTES:
        expect(page.locator("#chart-markers").get_by_text(text)).to_have_count(1)
    expect(legend.filter(has_text="Program step")).to_have_count(2)
    expect(legend.filter(has_text="Paused")).to_have_count(3)

    for width in (PHONE, TABLET, LAPTOP):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(overview)
        wait_until(page, "[...document.querySelectorAll(\"canvas[id^='chart-']\")].every((c) => c.dataset.pins)")
        assert_pins_apart_and_inside(page, width, count, min_charts=2)
        expect(page.locator("#chart-markers li")).to_have_count(count)
        page.goto(url)
        wait_until(page, "[...document.querySelectorAll(\"canvas[id^='chart-']\")].every((c) => c.dataset.pins)")
        assert_pins_apart_and_inside(page, width, count, min_charts=6)
        for axis in page.evaluate(AXES_JS):
            if axis["type"] == "bar":  # bars never touch the top: a whole step of headroom
                assert axis["max"] > axis["highest"], (width, axis)
            else:  # a rating's scale ends at its top, 10
                assert axis["max"] >= axis["highest"], (width, axis)

    # Connection: one line per partner; the role buttons switch them, by keyboard.
    page.set_viewport_size({"width": LAPTOP, "height": 900})
    page.goto(url)
    chart = next(
        c
        for c in page.evaluate("JSON.parse(document.getElementById('chart-data').textContent).charts")
        if c["id"] == "connection"
    )
    views = {v["key"]: [[s["label"], s["values"]] for s in v["series"]] for v in chart["views"]}
    assert list(views) == ["all", "giver", "receiver"]
    assert [label for label, _values in views["all"]] == ["Alex", "Sam"]
    assert page.evaluate(CONNECTION_JS) == views["all"]
    group = page.get_by_role("group", name="Connection: which role to draw")
    all_roles = group.get_by_role("button", name="All roles")
    expect(all_roles).to_have_attribute("aria-pressed", "true")
    all_roles.focus()
    page.keyboard.press("Tab")
    giver = group.get_by_role("button", name="As giver")
    expect(giver).to_be_focused()
    page.keyboard.press("Enter")
    expect(giver).to_have_attribute("aria-pressed", "true")
    expect(all_roles).to_have_attribute("aria-pressed", "false")
    assert page.evaluate(CONNECTION_JS) == views["giver"]
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    expect(group.get_by_role("button", name="As receiver")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate(CONNECTION_JS) == views["receiver"]
    # The numbers table keeps every number, whichever lines are drawn: each partner overall and per role.
    numbers = page.locator("details.chart-numbers").filter(has_text="Numbers for “Connection”")
    numbers.locator("summary").click()
    columns = ["Alex, all roles", "Sam, all roles", "Alex, giving", "Alex, receiving", "Sam, giving", "Sam, receiving"]
    expect(numbers.get_by_role("columnheader")).to_have_text(["Week of", *columns])

    # A theme change draws every chart again, pins and all, with no error.
    page.evaluate("document.dispatchEvent(new Event('tend:themechange'))")
    assert_pins_apart_and_inside(page, LAPTOP, count, min_charts=6)
