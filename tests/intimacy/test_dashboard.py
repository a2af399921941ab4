"""The therapist's dashboard, the appointment view, print, export, notes, alerts and the progress page."""

import csv
import io
import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from intimacy import selectors
from intimacy import services as intimacy_services
from intimacy.alerts import alert_acknowledge
from intimacy.models import Alert, CoupleNote, Reflection, SafetyCheck
from tests.factories import AssignmentFactory, ReflectionFactory, SessionFactory, weekly_checkins, weeks_of_homework

NOW = "2026-11-25 12:00:00+00:00"


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def chart_data(response) -> dict:
    """The numbers a chart page is built from: its tables, its markers' legend and its script data."""
    return response.context["chart_data"]


def script_data(response) -> dict:
    """What the page's script (static/tend/charts.js) gets to draw from."""
    match = re.search(
        r'<script id="chart-data" type="application/json">(.*?)</script>', response.content.decode(), re.S
    )
    return json.loads(match.group(1))


@pytest.fixture
def private_matters(assignment, partner_a, partner_b, therapist):
    """A session with Sam's reflection for the therapist only and Alex's private journal, plus a note and
    an alert: none of these may reach the appointment view."""
    s = SessionFactory(
        assignment=assignment, date=date(2026, 11, 18), giver=partner_a, receiver=partner_b, logged_by=partner_a
    )
    ReflectionFactory(
        session=s,
        partner=partner_a,
        role="giver",
        connection=3,
        comfort=4,
        safe=5,
        notes="JUST-ME-WORDS",
        visibility=Reflection.Visibility.PRIVATE,
    )
    ReflectionFactory(
        session=s,
        partner=partner_b,
        role="receiver",
        connection=1,
        comfort=2,
        safe=0,
        notes="THERAPIST-ONLY-WORDS",
        visibility=Reflection.Visibility.THERAPIST,
    )
    shared = SessionFactory(
        assignment=assignment, date=date(2026, 11, 19), giver=partner_b, receiver=partner_a, logged_by=partner_b
    )
    ReflectionFactory(
        session=shared, partner=partner_b, role="giver", connection=9, comfort=9, safe=8, notes="SHARED-WORDS"
    )
    CoupleNote.objects.create(
        couple=assignment.couple, author=therapist, date=date(2026, 11, 17), text="NOTE-MARKER-TEXT"
    )
    Alert.objects.create(
        couple=assignment.couple, kind="low_safe", partner=partner_b, week=date(2026, 11, 16), urgent=True
    )
    return s


# Access: every URL, role and method is in tests/config/test_access_table.py; here, that a refused
# action on a note or an alert changed nothing.


def test_notes_and_alerts_are_404_to_everyone_but_their_therapist(
    client_for, private_matters, partner_b, other_therapist
):
    note, alert = CoupleNote.objects.get(), Alert.objects.get()
    for who in (partner_b, other_therapist):
        client = client_for(who)
        assert client.post(reverse("note_delete", args=[note.pk])).status_code == 404
        assert client.post(reverse("alert_acknowledge", args=[alert.pk])).status_code == 404
    assert CoupleNote.objects.exists()
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


# The dashboard --------------------------------------------------------------------------------------


def tab_html(client, name: str, couple_id: int, **query) -> str:
    response = client.get(reverse(name, args=[couple_id]), query)
    assert response.status_code == 200
    return response.content.decode()


def test_dashboard_shows_trends_alerts_notes_and_both_accounts(client_for, therapist, private_matters):
    """Issue 16: the overview holds the alerts, the glance and the key charts; the reflections, every
    chart and the notes are each on their own tab. A private journal's words are on none of them."""
    client, couple_id = client_for(therapist), private_matters.assignment.couple_id
    overview = tab_html(client, "couple_detail", couple_id)
    assert "Urgent" in overview and "Sam rated" in overview and "This period at a glance" in overview
    reflections = tab_html(client, "couple_reflections", couple_id)
    assert "THERAPIST-ONLY-WORDS" in reflections and "SHARED-WORDS" in reflections
    assert "NOTE-MARKER-TEXT" in tab_html(client, "couple_notes", couple_id)
    # A private journal's words never leave the partner, not even to the therapist.
    for name in ("couple_detail", "couple_trends", "couple_reflections", "couple_notes", "couple_exercises"):
        assert "JUST-ME-WORDS" not in tab_html(client, name, couple_id)
    response = client.get(reverse("couple_trends", args=[couple_id]))
    data = chart_data(response)
    ids = [c["id"] for c in data["charts"]]
    assert ids[:2] == ["sessions", "reciprocity"] and "connection" in ids
    assert (10, "note", "NOTE-MARKER-TEXT") in [(m["index"], m["kind"], m["label"]) for m in data["markers"]]
    connection = next(c for c in data["charts"] if c["id"] == "connection")
    # Week of 16 Nov is the 11th of 12: Alex gave at 3 (a private journal's ratings are the therapist's).
    alex_giving = next(s for s in connection["views"] if s["key"] == "giver")["series"][0]
    assert (alex_giving["label"], alex_giving["values"][10]) == ("Alex", 3)


def test_the_pages_script_gets_each_number_once(client_for, therapist, private_matters):
    """Issue 16: the page's script data holds what static/tend/charts.js draws and no more. The titles,
    the words, the table's rows and the markers' words are in the page already (each chart's numbers
    table, the legend beneath the charts), so they are not sent twice."""
    response = client_for(therapist).get(reverse("couple_trends", args=[private_matters.assignment.couple_id]))
    html = response.content.decode()
    data = script_data(response)
    sessions = next(c for c in data["charts"] if c["id"] == "sessions")
    assert set(sessions) == {"id", "type", "stacked", "min", "max", "step", "labels", "series"}
    connection = next(c for c in data["charts"] if c["id"] == "connection")
    assert set(connection) == {"id", "type", "min", "max", "step", "labels", "series", "views"}
    assert all(set(view) == {"key", "series"} for view in connection["views"])
    # The numbers drawn are the table's: Alex gave at 3 in the week of 16 Nov, the 11th of 12.
    alex_giving = next(v for v in connection["views"] if v["key"] == "giver")["series"][0]
    assert (alex_giving["label"], alex_giving["values"][10]) == ("Alex", 3)
    # The note's marker: its number and week in the data, its words in the legend only.
    assert (1, 10, "note") in [(m["number"], m["index"], m["kind"]) for m in data["markers"]]
    assert all(set(marker) == {"number", "index", "kind"} for marker in data["markers"])
    script = re.search(r'<script id="chart-data".*?</script>', html, re.S).group(0)
    assert "NOTE-MARKER-TEXT" not in script and "NOTE-MARKER-TEXT" in html
    assert "Sessions against the target" not in script and "Sessions against the target" in html


def test_the_programs_step_changes_mark_the_therapists_charts_only(
    client_for, therapist, couple, partner_a, partner_b, settings
):
    """Issue 15: a program's stage changes are dated markers of their own kind on the therapist's charts,
    explained once beneath them; the couple's own screens (the appointment view, their progress page)
    carry no marker at all, as for the therapist's notes."""
    from intimacy.models import Exercise, ReadinessAnswer

    program = intimacy_services.program_create(owner=therapist, title="Hands first")
    for exercise in (Exercise.objects.back_rub(), Exercise.objects.get(builtin_key="hand-massage")):
        intimacy_services.program_stage_add(program=program, exercise=exercise, target_per_week=2, suggested_minutes=10)
    # Started on Tuesday 10 Nov (the week of 9 Nov, the 10th of the default 12 weeks from 7 Sep: index 9);
    # both ready and approved today, Wednesday 25 Nov (the week of 23 Nov, the last: index 11).
    with time_machine.travel("2026-11-10 12:00:00+00:00", tick=False):
        first = intimacy_services.program_assign(couple=couple, program=program).steps.get()
    for partner in (partner_a, partner_b):
        intimacy_services.readiness_answer(step=first, partner=partner, answer=ReadinessAnswer.Answer.READY)
    second = intimacy_services.program_stage_approve(step=first, by=therapist)
    # And the therapist's own step back, the same day: a third step, back at the first stage.
    intimacy_services.program_stage_return(step=second, by=therapist)
    client = client_for(therapist)
    # The overview's key charts and the trends tab's charts carry the same markers; the numbered legend
    # beneath the charts (templates/includes/chart_markers.html) explains them.
    for name in ("couple_detail", "couple_trends"):
        response = client.get(reverse(name, args=[couple.pk]))
        steps = [m for m in chart_data(response)["markers"] if m["kind"] == "step"]
        assert [(m["index"], m["kind"], m["when"], m["label"]) for m in steps] == [
            (9, "step", "10 Nov", "Step 1: Give a back rub"),
            (11, "step", "25 Nov", "Step 2: Hand massage"),
            (11, "step", "25 Nov", "Back to step 1: Give a back rub"),
        ]
        assert "Program step" in response.content.decode()
    # Not on what the couple see together, nor on their own progress page.
    appointment = client.get(reverse("appointment", args=[couple.pk]), {"confirm": "1"})
    assert chart_data(appointment)["markers"] == []
    couple.progress_page = True
    couple.save()
    progress = client_for(partner_a).get(reverse("progress"))
    assert "Step 2" not in progress.content.decode()


def test_bad_period_gets_the_default_and_a_notice(client_for, therapist, couple, partner_a, partner_b):
    response = client_for(therapist).get(reverse("couple_detail", args=[couple.pk]), {"weeks": "9999"})
    assert response.status_code == 200
    assert "Choose 4, 12, 26, 52 or 104 weeks" in response.content.decode()
    assert response.context["period"].weeks == 12


def test_period_carries_to_the_appointment_view_and_export(client_for, therapist, couple, partner_a, partner_b):
    html = client_for(therapist).get(reverse("couple_detail", args=[couple.pk]), {"weeks": "26"}).content.decode()
    assert f'href="{reverse("appointment", args=[couple.pk])}?weeks=26"' in html
    assert f'href="{reverse("couple_export", args=[couple.pk])}?weeks=26"' in html


# Two sessions a week, Monday and Thursday, both reflected, back from the week of 23 Nov 2026.
# Alex gives on Mondays, to 23 Nov; Sam on Thursdays, to 19 Nov (26 Nov is after today, 25 Nov: no session is).
MONDAYS_AND_THURSDAYS = {"latest_week": (date(2026, 11, 23), date(2026, 11, 19)), "pressure": "right", "pace": "slow"}


# Issue 16: each of the couple's pages reads only what it shows. Every page: session, user, couple; the
# audit row recording this viewing (insert); the header's partners and assignments with this week's count
# (the overview and the trends tab take the partners from the trends' own read instead).
TRENDS_READS = (
    "trends: partners, assignments, sessions by week, reflections by week, notes in the period, program steps "
    "started in the period (issue 15: the charts' step markers), check-ins by week"
)
TAB_QUERIES = {
    # touch work (issue 13): the partners with their private checks and screenings and whether a hold is
    # open (is touch work open? one query since issue 16; the trends' and the header's partners too);
    # trends (6: the header's assignments are the trends' own read, every one of the couple's since issue
    # 16); the open alerts and the latest seen ones (one query since issue 16); safety messages; the
    # latest private checks; the separate screenings. The open hold and the partners' own pauses are
    # read only when there are some (none here).
    "couple_detail": 4 + 1 + 6 + 2 + 2,
    "couple_trends": 4 + 1 + 7 + 1,
    # the header's partners and assignments; timeline: count, page, reflections; perception gap: sessions,
    # reflections; sessions logged twice, offered to make one (issue 14)
    "couple_reflections": 4 + 2 + 3 + 2 + 1,
    # the header's partners and assignments; a note kept from before a sign-out (one row of tend_drafts by
    # key: accounts/drafts.py, added deliberately); the notes list
    "couple_notes": 4 + 2 + 1 + 1,
    # the header's assignments; the partners; the last reminder email sent to each partner; the couple's
    # program (issue 15: none here)
    "couple_exercises": 4 + 1 + 1 + 1 + 1,
}
# Before issue 16 the one page did all of it: 33 queries (the overview: 21 at the split, then 20, now 15).


@pytest.mark.parametrize("tab", list(TAB_QUERIES))
@pytest.mark.parametrize("weeks_of_data", [1, 104])
def test_dashboard_query_count_is_the_same_for_a_week_and_two_years(
    client_for, therapist, assignment, partner_a, partner_b, django_assert_num_queries, weeks_of_data, tab
):
    weeks_of_homework(
        assignment, partner_a, partner_b, weeks_of_data, **MONDAYS_AND_THURSDAYS, checkins_until=date(2026, 11, 23)
    )
    # Assignments with a named giver: the dashboard names them without a query each.
    for _ in range(3):
        AssignmentFactory(couple=assignment.couple, giver_plan="one", planned_giver=partner_a, status="ended")
    client = client_for(therapist)
    url = reverse(tab, args=[assignment.couple_id])
    with django_assert_num_queries(TAB_QUERIES[tab]):
        response = client.get(url, {"weeks": "104"})
    assert response.status_code == 200
    if tab in ("couple_detail", "couple_trends"):  # the check-ins' trend is a key chart when there are any
        assert "checkin" in [c["id"] for c in chart_data(response)["charts"]]
    with django_assert_num_queries(TAB_QUERIES[tab]):
        client.get(url, {"weeks": "4"})


@pytest.mark.parametrize("weeks_of_data", [1, 104])
def test_appointment_query_count_is_the_same_for_a_week_and_two_years(
    client_for, therapist, assignment, partner_a, partner_b, django_assert_num_queries, weeks_of_data
):
    weeks_of_homework(
        assignment, partner_a, partner_b, weeks_of_data, **MONDAYS_AND_THURSDAYS, checkins_until=date(2026, 11, 23)
    )
    client = client_for(therapist)
    # session, user, couple; urgent things unseen (count, for the warning first); the audit row recording
    # this viewing (insert); what is left out of today's appointment; the couple's partners, assignments and
    # their exercises (read once, for the trends and the timeline); trends: sessions by week, reflections by
    # week (revealed ones only, issue 14: subqueries, no more queries); timeline: the page with the period's
    # count (one query), its shared reflections (each marked revealed or waiting, in the same query); the
    # session saved with the appointment-mode mark (savepoint, update, release: the first opening only).
    # No check-in query: they are not the couple's to see together.
    with django_assert_num_queries(16):
        response = client.get(reverse("appointment", args=[assignment.couple_id]), {"weeks": "104"})
    assert response.status_code == 200


def test_appointment_view_shows_ten_sessions_a_page(client_for, therapist, assignment, partner_a, partner_b):
    # issue 16, "Fast": 10 sessions a page on the shared screen (each session is two reflection cards and
    # three "Leave … out" forms). Six weeks of Mondays and Thursdays up to today, 25 Nov 2026: six Mondays
    # (19 Oct to 23 Nov) and six Thursdays (15 Oct to 19 Nov), 12 sessions: 10 on page 1, 2 on page 2.
    weeks_of_homework(assignment, partner_a, partner_b, 6, **MONDAYS_AND_THURSDAYS)
    url = reverse("appointment", args=[assignment.couple_id])
    response = client_for(therapist).get(url, {"weeks": "12"})
    page = response.context["page"]
    assert len(page) == 10 and page.paginator.count == 12 and page.paginator.num_pages == 2


def test_two_year_view_is_monthly_and_light(client_for, therapist, assignment, partner_a, partner_b):
    # Alex gives on Mondays to 23 Nov, Sam on Thursdays to 19 Nov, for 104 weeks: from Monday 2 Dec and
    # Thursday 28 Nov 2024.
    weeks_of_homework(assignment, partner_a, partner_b, 104, **MONDAYS_AND_THURSDAYS)
    response = client_for(therapist).get(reverse("couple_detail", args=[assignment.couple_id]), {"weeks": "104"})
    sessions = next(c for c in chart_data(response)["charts"] if c["id"] == "sessions")
    # 104 weeks back from Wednesday 25 Nov 2026 is the week of Monday 2 Dec 2024; month by month, the period
    # starts on 1 Dec: Dec 2024 … Nov 2026 is 24 months.
    assert len(sessions["labels"]) == 24 and sessions["labels"][0] == "Dec 2024"
    # December 2024 holds the Mondays 2, 9, 16, 23, 30 and Thursdays 5, 12, 19, 26: 9. November 2026 the
    # Mondays 2, 9, 16, 23 and Thursdays 5, 12, 19: 7.
    assert (sessions["rows"][0][1], sessions["rows"][-1][1]) == (9, 7)
    assert "1 Dec 2024 to 25 Nov 2026, month by month." in response.content.decode()


def test_the_markers_legend_says_month_or_week_as_the_period_is_shown(client_for, therapist, assignment):
    intimacy_services.note_add(couple=assignment.couple, author=therapist, day=date(2026, 11, 11), text="Holiday")
    client, url = client_for(therapist), reverse("couple_detail", args=[assignment.couple_id])
    by_week, by_month = (client.get(url, {"weeks": weeks}).content.decode() for weeks in ("4", "104"))
    assert "marks a week" in by_week and "paused weeks solid" in by_week and "marks a month" not in by_week
    assert "marks a month" in by_month and "paused months solid" in by_month and "marks a week" not in by_month
    assert "Holiday" in by_week and "Holiday" in by_month  # the note's line in the legend, both times


# The appointment view -------------------------------------------------------------------------------


def test_appointment_view_holds_only_what_both_partners_shared(client_for, therapist, partner_a, private_matters):
    # The urgent alert asks for a confirmation first (issue 13); "Open with the couple" is `confirm=1`.
    url = reverse("appointment", args=[private_matters.assignment.couple_id])
    # Alex has not reflected on the session Sam gave (19 Nov): Sam's shared words, ratings and every
    # chart point wait for Alex's (the reveal rule, issue 14).
    client = client_for(therapist)
    html = client.get(url, {"confirm": "1"}).content.decode()
    # The line names no one as late: Alex may have written something private (issue 14's reveal rule).
    assert "Sam's reflection will show here within a week." in html and "SHARED-WORDS" not in html
    # Alex says they won't reflect on it: Sam's reflection is revealed, to the couple together too.
    shared = partner_a.couple.assignments.get().sessions.get(date=date(2026, 11, 19))
    intimacy_services.reflection_decline(session=shared, partner=partner_a)
    response = client.get(url, {"confirm": "1"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "SHARED-WORDS" in html and "will show here within a week" not in html
    for secret in ("THERAPIST-ONLY-WORDS", "JUST-ME-WORDS", "NOTE-MARKER-TEXT", "Sam rated", "Urgent", "alert"):
        assert secret not in html, secret
    data = chart_data(response)
    assert data["markers"] == []
    connection = next(c for c in data["charts"] if c["id"] == "connection")
    # Only Sam's shared giving (9) is charted; the unshared 3 and 1 are nowhere, not even averaged in.
    assert connection["columns"] == ["Sam, giving"]
    assert [(s["label"], s["values"][10]) for s in connection["series"]] == [("Sam", 9)]
    comfort = next(c for c in data["charts"] if c["id"] == "comfort")
    # Sam's shared comfort 9 and safe 8; nothing of the two reflections the partner may not see.
    assert [(s["label"], s["values"][10]) for s in comfort["series"]] == [("Sam, comfortable", 9), ("Sam, safe", 8)]
    # The therapist can go back in one click.
    assert f'href="{reverse("couple_detail", args=[private_matters.assignment.couple_id])}?weeks=12"' in html


def test_keepalive_counts_as_activity(client_for, therapist):
    client = client_for(therapist)
    assert client.post(reverse("keepalive")).status_code == 204
    assert client.get(reverse("keepalive")).status_code == 405


def test_keepalive_needs_sign_in(client):
    assert client.post(reverse("keepalive")).status_code == 302


# Print and export -----------------------------------------------------------------------------------


def test_summary_tables_every_week_with_notes_and_open_alerts(client_for, therapist, private_matters):
    response = client_for(therapist).get(reverse("couple_summary", args=[private_matters.assignment.couple_id]))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('<tr><th scope="row">') == 12  # 12 weeks, one row each
    assert "NOTE-MARKER-TEXT" in html and "Sam rated" in html
    assert "JUST-ME-WORDS" not in html


def test_csv_export_has_the_periods_sessions_and_ratings_only(client_for, therapist, private_matters, session):
    response = client_for(therapist, reauthenticated=True).get(
        reverse("couple_export", args=[session.assignment.couple_id]), {"weeks": "4"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    # The couple's id and the period in the file name, never the label (issue 16): four weeks back
    # from Wednesday 25 Nov start Monday 2 Nov.
    couple_id = session.assignment.couple_id
    name = f"tend-couple-{couple_id}-2026-11-02-to-2026-11-25.csv"
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [r["date"] for r in rows] == ["2026-11-18", "2026-11-19", "2026-11-20"]
    first = rows[0]
    assert (first["giver"], first["giver_connection"], first["giver_shared_with"]) == (
        "Alex",
        "3",
        "just me (numbers only)",
    )
    assert (first["receiver_connection"], first["receiver_shared_with"]) == ("1", "therapist only")
    # Comfort and safe each in their own column, for both roles.
    assert (first["giver_comfort"], first["giver_safe"], first["receiver_comfort"], first["receiver_safe"]) == (
        "4",
        "5",
        "2",
        "0",
    )
    assert rows[2]["receiver_connection"] == ""  # Sam hasn't reflected on the 20 Nov session
    for words in ("JUST-ME-WORDS", "THERAPIST-ONLY-WORDS", "SHARED-WORDS", "A-shared-words"):
        assert words not in body


def test_csv_cells_cannot_become_spreadsheet_formulas(client_for, therapist, session):
    session.giver.name = "=HYPERLINK(1)"
    session.giver.save()
    response = client_for(therapist, reauthenticated=True).get(
        reverse("couple_export", args=[session.assignment.couple_id])
    )
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0]["giver"] == "'=HYPERLINK(1)"


# The couple's tabs (issue 16) -----------------------------------------------------------------------

TABS = ["couple_detail", "couple_trends", "couple_reflections", "couple_notes", "couple_exercises"]


@pytest.mark.parametrize("tab", TABS)
def test_the_tabs_are_links_that_keep_the_period(client_for, therapist, couple, partner_a, partner_b, tab):
    """Each page names the couple, offers the actions and lists every tab as a real link carrying the
    period; the page shown is the one marked current."""
    html = tab_html(client_for(therapist), tab, couple.pk, weeks="26")
    nav = re.search(r'<nav aria-label="[^"]+" class="couple-tabs.*?</nav>', html, re.S).group(0)
    for name in TABS:
        assert f'href="{reverse(name, args=[couple.pk])}?weeks=26"' in nav
    assert nav.count('aria-current="page"') == 1
    assert re.search(rf'href="{reverse(tab, args=[couple.pk])}\?weeks=26" aria-current="page"', nav)
    assert f'href="{reverse("appointment", args=[couple.pk])}?weeks=26"' in html
    assert f'href="{reverse("assignment_create", args=[couple.pk])}"' in html
    assert f'href="{reverse("couple_notes", args=[couple.pk])}?weeks=26#id_text">Write a note</a>' in html


def test_the_header_pauses_and_resumes_the_exercise(client_for, therapist, assignment):
    client, couple_id = client_for(therapist), assignment.couple_id
    action = reverse("assignment_status", args=[assignment.pk])
    html = tab_html(client, "couple_detail", couple_id)
    form = _form_posting_to(html, action)
    assert 'name="status" value="paused"' in form and 'name="back" value="overview"' in form
    response = client.post(action, {"status": "paused", "back": "overview"})
    assert response["Location"] == reverse("couple_detail", args=[couple_id])
    form = _form_posting_to(tab_html(client, "couple_detail", couple_id), action)
    assert 'name="status" value="active"' in form and "Resume" in form
    # From the exercises' list (no "back"), back to that exercise there; an unknown "back" is ignored.
    for back in ({}, {"back": "https://example.com/"}):
        response = client.post(action, {"status": "active", **back})
        assert response["Location"] == f"{reverse('couple_exercises', args=[couple_id])}#assignment-{assignment.pk}"


def test_an_older_session_link_on_the_overview_goes_to_the_reflections_tab(client_for, therapist, session):
    couple_id = session.assignment.couple_id
    response = client_for(therapist).get(reverse("couple_detail", args=[couple_id]), {"session": session.pk})
    assert response["Location"] == f"{reverse('couple_reflections', args=[couple_id])}?session={session.pk}"


def test_what_each_action_returns_to(client_for, therapist, couple, partner_a, partner_b, session):
    """After a POST, the tab that shows its result: the overview for alerts and holds, the exercises tab
    for the couple's settings, the reflections tab for sessions made one."""
    client = client_for(therapist)
    exercises = reverse("couple_exercises", args=[couple.pk])
    response = client.post(reverse("progress_page_switch", args=[couple.pk]), {"enabled": "1"})
    assert response["Location"] == f"{exercises}#details"
    response = client.post(reverse("couple_status", args=[couple.pk]), {"status": "paused"})
    assert response["Location"] == f"{exercises}#details"
    response = client.post(reverse("session_merge_by_therapist", args=[session.pk]), {"other": "x"})
    assert response["Location"] == f"{reverse('couple_reflections', args=[couple.pk])}#timeline"
    alert = _alert_on(session)
    response = client.post(reverse("alert_acknowledge", args=[alert.pk]), {"note": ""})
    assert response["Location"] == f"{reverse('couple_detail', args=[couple.pk])}#attention"


def test_the_overview_charts_what_matters_for_the_exercise(client_for, therapist, assignment, partner_a, partner_b):
    """Sessions against the target and connection always; the check-ins' trend when there are any in the
    period, else for touch work how comfortable and safe each felt (dashboard.py KEY_CHARTS). The trends
    tab has every chart."""
    client, couple_id = client_for(therapist), assignment.couple_id
    weeks_of_homework(assignment, partner_a, partner_b, 3, **MONDAYS_AND_THURSDAYS)
    ids = [c["id"] for c in chart_data(client.get(reverse("couple_detail", args=[couple_id])))["charts"]]
    assert ids == ["sessions", "connection", "comfort"]  # the back rub is touch work, and no check-in yet
    all_ids = [c["id"] for c in chart_data(client.get(reverse("couple_trends", args=[couple_id])))["charts"]]
    assert set(ids) < set(all_ids) and "reciprocity" in all_ids
    weekly_checkins([partner_a, partner_b], date(2026, 11, 23), 2)
    ids = [c["id"] for c in chart_data(client.get(reverse("couple_detail", args=[couple_id])))["charts"]]
    assert ids == ["sessions", "connection", "checkin"]


# Notes, alerts, progress page -----------------------------------------------------------------------


def test_add_and_remove_a_note(client_for, therapist, couple, partner_a, partner_b):
    client = client_for(therapist)
    response = client.post(
        reverse("note_add", args=[couple.pk]),
        {"date": "2026-11-20", "text": " Started weekly sessions ", "period": "from=2026-10-01&to=2026-11-20"},
    )
    # Back to the same period, on the notes tab.
    assert response["Location"] == f"{reverse('couple_notes', args=[couple.pk])}?from=2026-10-01&to=2026-11-20#notes"
    note = CoupleNote.objects.get()
    assert (note.date, note.text, note.author) == (date(2026, 11, 20), "Started weekly sessions", therapist)
    response = client.post(reverse("note_delete", args=[note.pk]))
    assert response["Location"] == f"{reverse('couple_notes', args=[couple.pk])}#notes"
    assert not CoupleNote.objects.exists()


def test_a_note_with_a_bad_period_returns_to_the_default(client_for, therapist, couple, partner_a, partner_b):
    response = client_for(therapist).post(
        reverse("note_add", args=[couple.pk]), {"date": "2026-11-20", "text": "x", "period": "weeks=<script>"}
    )
    assert response["Location"] == f"{reverse('couple_notes', args=[couple.pk])}?weeks=12#notes"


def test_a_bad_note_keeps_what_was_typed(client_for, therapist, couple, partner_a, partner_b):
    response = client_for(therapist).post(
        reverse("note_add", args=[couple.pk]), {"date": "soon", "text": "Holiday in Spain", "period": "weeks=26"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'value="Holiday in Spain"' in html and "Enter a valid date." in html
    # The notes tab again, served at the form's address: its tabs still lead to the couple's pages, at the
    # period the note was written in.
    assert response.context["tab"] == "couple_notes"
    assert f'href="{reverse("couple_trends", args=[couple.pk])}?weeks=26"' in html
    assert not CoupleNote.objects.exists()


def test_acknowledge_an_alert_keeps_it_in_the_history(client_for, therapist, private_matters):
    alert = Alert.objects.get()
    client = client_for(therapist)
    response = client.post(reverse("alert_acknowledge", args=[alert.pk]), {"note": "Talked it through"})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_by == therapist and alert.acknowledgement == "Talked it through"
    html = client.get(reverse("couple_detail", args=[alert.couple_id])).content.decode()
    assert "Seen: 1 alert — show" in html and "Talked it through" in html
    assert "Nothing needs attention right now." in html


def test_progress_page_is_off_until_the_therapist_turns_it_on(
    client_for, therapist, private_matters, partner_a, partner_b
):
    couple = private_matters.assignment.couple
    assert client_for(partner_b).get(reverse("progress")).status_code == 403
    client_for(therapist).post(reverse("progress_page_switch", args=[couple.pk]), {"enabled": "1"})
    couple.refresh_from_db()
    assert couple.progress_page
    response = client_for(partner_b).get(reverse("progress"))
    assert response.status_code == 200
    data = chart_data(response)
    assert [c["id"] for c in data["charts"]] == ["sessions", "connection"]
    connection = data["charts"][1]
    # Sam's own: receiving at 1 (their therapist-only reflection is still their own), giving at 9.
    # One line, theirs, over both roles ((9 + 1) / 2 = 5), and a view and a table column per role.
    assert {s["label"]: s["values"][10] for s in connection["series"]} == {"You": 5.0}
    assert {v["label"]: v["series"][0]["values"][10] for v in connection["views"]} == {
        "All roles": 5.0,
        "As giver": 9,
        "As receiver": 1,
    }
    assert connection["columns"] == ["All roles", "When giving", "When receiving"]
    # Alex's private journal ratings (3) are not Sam's to see, nor a target to fall short of.
    sessions = data["charts"][0]
    assert [s["label"] for s in sessions["series"]] == ["Give a back rub"]
    assert "JUST-ME-WORDS" not in response.content.decode()
    # The chart's words say the buckets it draws: weeks here (the default 12 weeks), months over two years.
    assert connection["about"].endswith("the mean of each week.")
    two_years = chart_data(client_for(partner_b).get(reverse("progress"), {"weeks": "104"}))["charts"][1]
    assert two_years["about"].endswith("the mean of each month.")


def test_progress_page_is_for_partners(client_for, therapist):
    assert client_for(therapist).get(reverse("progress")).status_code == 403


# The caseload ---------------------------------------------------------------------------------------


def _couple_with_last_session(therapist, label, last_session):
    from tests.factories import AssignmentFactory, CoupleFactory, PartnerFactory

    couple = CoupleFactory(therapist=therapist, label=label)
    a, b = PartnerFactory(couple=couple, slot=1), PartnerFactory(couple=couple, slot=2)
    assignment = AssignmentFactory(couple=couple)
    if last_session:
        SessionFactory(assignment=assignment, giver=a, receiver=b, logged_by=a, date=last_session)
    return couple, a


def test_caseload_puts_those_needing_attention_first(client_for, therapist):
    recent, _ = _couple_with_last_session(therapist, "Recent", date(2026, 11, 24))
    quiet, _ = _couple_with_last_session(therapist, "Quiet", date(2026, 11, 1))
    open_alert, _ = _couple_with_last_session(therapist, "Open alert", date(2026, 11, 24))
    urgent, partner = _couple_with_last_session(therapist, "Urgent", date(2026, 11, 24))
    Alert.objects.create(couple=open_alert, kind="awaiting", partner=None, week=date(2026, 11, 23))
    Alert.objects.create(couple=urgent, kind="low_safe", partner=partner, week=date(2026, 11, 23), urgent=True)
    # An acknowledged alert no longer counts.
    Alert.objects.create(
        couple=recent, kind="paused", partner=None, week=date(2026, 11, 16), acknowledged_at="2026-11-20T10:00:00Z"
    )
    response = client_for(therapist).get(reverse("home"))
    labels = [row.couple.label for row in response.context["rows"]]
    assert labels == ["Urgent", "Open alert", "Quiet", "Recent"]
    html = response.content.decode()
    # "Urgent" has one alert, and it is urgent: one phrase for it (issue 16), not "1 urgent" + "1 open alert".
    assert "1 urgent alert" in html and html.count("1 open alert") == 1


def test_caseload_says_open_and_urgent_alerts_in_one_phrase(client_for, therapist):
    couple, partner = _couple_with_last_session(therapist, "Mixed", date(2026, 11, 24))
    Alert.objects.create(couple=couple, kind="awaiting", partner=None, week=date(2026, 11, 23))
    Alert.objects.create(couple=couple, kind="low_safe", partner=partner, week=date(2026, 11, 23), urgent=True)
    html = client_for(therapist).get(reverse("home")).content.decode()
    # Two open alerts, one of them urgent.
    assert "2 alerts, 1 urgent" in html
    assert "1 open alert" not in html and "2 open alerts" not in html and "1 urgent alert" not in html


def test_caseload_this_week_above_the_target_reads_naturally(client_for, therapist, assignment, partner_a, partner_b):
    # Target 2 a week (factories); three sessions this week (Mon 23, Tue 24, Wed 25 Nov).
    for day in ("2026-11-23", "2026-11-24", "2026-11-25"):
        SessionFactory(assignment=assignment, giver=partner_a, receiver=partner_b, logged_by=partner_a, date=day)
    html = client_for(therapist).get(reverse("home")).content.decode()
    assert "3 (2 planned)" in html and "3 of 2" not in html


def test_caseload_eight_week_bar(client_for, therapist, assignment, partner_a, partner_b):
    # This week is Monday 23 Nov; eight weeks back starts Monday 5 Oct.
    for day in ("2026-10-05", "2026-10-11", "2026-10-12", "2026-11-24", "2026-10-04"):
        SessionFactory(assignment=assignment, giver=partner_a, receiver=partner_b, logged_by=partner_a, date=day)
    row = client_for(therapist).get(reverse("home")).context["rows"][0]
    assert [w.done for w in row.weeks] == [2, 1, 0, 0, 0, 0, 0, 1]  # 4 Oct is the week before
    assert row.weeks[0].monday == date(2026, 10, 5)
    assert "oldest first: 2, 1, 0, 0, 0, 0, 0, 1; target 2 a week." in row.weeks_text
    # Bars scale to the target of 2: a full bar is 28 px, one session is 14.
    assert [w.height for w in row.weeks[:3]] == [28, 14, 2]


def test_caseload_filters_by_status(client_for, therapist):
    paused, _ = _couple_with_last_session(therapist, "Resting", None)
    paused.status = "paused"
    paused.save()
    _couple_with_last_session(therapist, "Working", None)
    client = client_for(therapist)
    assert [r.couple.label for r in client.get(reverse("home")).context["rows"]] == ["Working"]
    assert [r.couple.label for r in client.get(reverse("home"), {"status": "paused"}).context["rows"]] == ["Resting"]
    assert len(client.get(reverse("home"), {"status": "all"}).context["rows"]) == 2
    assert [r.couple.label for r in client.get(reverse("home"), {"status": "nonsense"}).context["rows"]] == ["Working"]


def test_keepalive_never_outlasts_the_absolute_limit(client, therapist):
    from tests.factories import PASSWORD

    with time_machine.travel("2026-11-25 08:00:00+00:00", tick=False) as clock:
        assert client.login(email=therapist.email, password=PASSWORD)
        # The appointment view pings every few minutes; 20-minute steps stay inside the 30-minute idle limit.
        for minutes in range(20, 12 * 60, 20):
            clock.move_to(datetime(2026, 11, 25, 8, tzinfo=UTC) + timedelta(minutes=minutes))
            assert client.post(reverse("keepalive")).status_code == 204, minutes
        clock.move_to("2026-11-25 20:01:00+00:00")  # 12 h 1 min after signing in, 21 minutes after the last ping
        response = client.post(reverse("keepalive"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
        # Signed out for good, not just for this request.
        assert client.get(reverse("home")).status_code == 302


def test_caseload_target_counts_only_assignments_running_today(client_for, therapist, assignment, partner_a, partner_b):
    AssignmentFactory(couple=assignment.couple, starts_on=date(2026, 12, 7), target_per_week=3)
    AssignmentFactory(couple=assignment.couple, starts_on=date(2026, 1, 1), ends_on=date(2026, 11, 1))
    row = client_for(therapist).get(reverse("home")).context["rows"][0]
    assert row.target_this_week == 2


# Safe to open with the couple in the room (issue 13) -------------------------------------------------

SAFETY_WORDS = "SAFETY-WORDS-pressured-9b1c"


def _details_bodies(page: str) -> str:
    """Everything inside a closed <details> (after its <summary>): what a click must open first."""
    return "".join(re.findall(r"<details(?![^>]*\bopen\b)[^>]*>.*?</summary>(.*?)</details>", page, re.S))


def test_safety_message_text_never_shows_unless_opened_even_unseen(client, therapist, partner_a, couple):
    intimacy_services.safety_message_send(partner=partner_a, feeling="pressured", message=SAFETY_WORDS)
    client.force_login(therapist)
    page = client.get(reverse("couple_detail", args=[couple.pk])).content.decode()
    assert page.count(SAFETY_WORDS) == 1
    assert SAFETY_WORDS in _details_bodies(page)
    assert "Private messages: 1 new" in page


def test_a_seen_safety_message_and_seen_alerts_collapse_to_one_line(client, therapist, partner_a, couple):
    intimacy_services.safety_message_send(partner=partner_a, feeling="pressured", message=SAFETY_WORDS)
    alert_acknowledge(alert=Alert.objects.get(), by=therapist, note="spoke to Alex")
    Alert.objects.create(
        couple=couple, kind=Alert.Kind.PAUSED, partner=partner_a, week=date(2026, 1, 5), acknowledged_at=timezone.now()
    )
    client.force_login(therapist)
    page = client.get(reverse("couple_detail", args=[couple.pk])).content.decode()
    assert "Private messages: 1 seen" in page and "Seen: 2 alerts" in page
    hidden = _details_bodies(page)
    assert SAFETY_WORDS in hidden and "spoke to Alex" in hidden
    assert page.count(SAFETY_WORDS) == 1 and page.count("spoke to Alex") == 1


# Alerts that lead somewhere (issue 14) ----------------------------------------------------------------------


def _alert_on(session, kind=Alert.Kind.LOW_COMFORT, **extra):
    return Alert.objects.create(
        couple=session.assignment.couple,
        kind=kind,
        partner=session.receiver,
        week=session.date - timedelta(days=session.date.weekday()),
        session=session,
        assignment=session.assignment,
        **extra,
    )


def _form_posting_to(html: str, action: str) -> str:
    """The whole <form> element whose action is `action` (it must exist)."""
    match = re.search(rf'<form method="post" action="{re.escape(action)}">(.*?)</form>', html, re.S)
    assert match, f"no POST form to {action}"
    return match.group(1)


def test_an_alert_links_to_its_session_and_offers_pause_and_a_note(client_for, therapist, session):
    alert = _alert_on(session)
    client, couple_id = client_for(therapist), session.assignment.couple_id
    html = client.get(reverse("couple_detail", args=[couple_id])).content.decode()
    # Ids only in the link; the session's anchor is on the reflections tab it leads to.
    reflections = reverse("couple_reflections", args=[couple_id])
    assert f'href="{reflections}?session={session.pk}#session-{session.pk}">Open the session</a>' in html
    assert f'id="session-{session.pk}"' in client.get(reflections, {"session": session.pk}).content.decode()
    # Pausing is the existing status change: a POST with the CSRF token, from the alert itself, which
    # comes back to the overview.
    form = re.search(
        r'<form method="post" action="{}">((?:(?!</form>).)*Pause the exercise.*?)</form>'.format(
            re.escape(reverse("assignment_status", args=[alert.assignment_id]))
        ),
        html,
        re.S,
    ).group(1)
    assert 'name="csrfmiddlewaretoken"' in form and 'name="status" value="paused"' in form
    assert 'name="back" value="overview"' in form
    # "Write a note" focuses the notes tab's text field (a link to a field moves focus to it).
    notes = reverse("couple_notes", args=[couple_id])
    assert f'href="{notes}#id_text">Write a note</a>' in html
    assert 'id="id_text"' in client.get(notes).content.decode()


def test_the_pause_button_pauses_the_exercise(client_for, therapist, session):
    alert = _alert_on(session)
    response = client_for(therapist).post(
        reverse("assignment_status", args=[alert.assignment_id]), {"status": "paused", "back": "overview"}
    )
    assert response["Location"] == reverse("couple_detail", args=[alert.couple_id])
    alert.assignment.refresh_from_db()
    assert alert.assignment.status == "paused"
    html = client_for(therapist).get(reverse("couple_detail", args=[alert.couple_id])).content.decode()
    # Paused: nothing left to pause, so the alert no longer offers it.
    assert "Pause the exercise" not in html


def test_the_link_reaches_an_old_session_on_a_later_page(client_for, therapist, assignment, partner_a, partner_b):
    # 21 sessions on Tue 5 May 2026, 29 weeks back (outside the default 12 weeks): the one logged first
    # is the 21st newest, so on page 2 of 20 (21 // 20 + 1), in the period Mon 4 - Sun 10 May.
    first, *_ = [
        SessionFactory(
            assignment=assignment, date=date(2026, 5, 5), giver=partner_a, receiver=partner_b, logged_by=partner_a
        )
        for _ in range(21)
    ]
    _alert_on(first)
    page = reverse("couple_reflections", args=[assignment.couple_id])
    client = client_for(therapist)
    assert f'id="session-{first.pk}"' not in client.get(page).content.decode()
    response = client.get(page, {"session": first.pk})
    assert (response.context["period"].start, response.context["period"].end) == (date(2026, 5, 4), date(2026, 5, 10))
    assert response.context["page"].number == 2
    assert f'id="session-{first.pk}"' in response.content.decode()


def test_another_couples_session_id_shows_the_usual_page(client_for, therapist, other_therapist, couple, outsider):
    theirs = SessionFactory(
        assignment=AssignmentFactory(couple=outsider.couple),
        date=date(2026, 5, 5),
        giver=outsider,
        receiver=outsider.couple.partners.exclude(pk=outsider.pk).get(),
        logged_by=outsider,
    )
    for value in (theirs.pk, "x", "", "9" * 30, "\u00b2", "-3"):
        response = client_for(therapist).get(reverse("couple_reflections", args=[couple.pk]), {"session": value})
        assert response.status_code == 200 and response.context["period"].weeks == 12
        assert f'id="session-{theirs.pk}"' not in response.content.decode()


def test_an_idle_exercise_leads_to_the_exercise(client_for, therapist, assignment):
    Alert.objects.create(
        couple=assignment.couple, kind=Alert.Kind.NO_SESSION, week=date(2026, 11, 23), assignment=assignment
    )
    client = client_for(therapist)
    html = client.get(reverse("couple_detail", args=[assignment.couple_id])).content.decode()
    page = reverse("couple_exercises", args=[assignment.couple_id])
    assert f'href="{page}#assignment-{assignment.pk}">See the exercise</a>' in html
    html = client.get(page).content.decode()
    assert f'id="assignment-{assignment.pk}"' in html
    _form_posting_to(html, reverse("assignment_status", args=[assignment.pk]))


def test_a_seen_alert_stays_in_the_history_with_its_link(client_for, therapist, session):
    alert = _alert_on(session)
    alert_acknowledge(alert=alert, by=therapist, note="")
    html = client_for(therapist).get(reverse("couple_detail", args=[session.assignment.couple_id])).content.decode()
    assert "Seen: 1 alert — show" in html
    assert f'?session={session.pk}#session-{session.pk}">Open the session</a>' in html


def test_a_new_couple_is_not_told_nothing_needs_attention_while_touch_work_waits(
    client_for, therapist, couple, partner_a, partner_b
):
    """Neither partner has answered the private check: the overview's touch-work line says it waits, so the
    empty alert list must not also say "Nothing needs attention" (found on the walk-through, issue 16)."""
    for check in SafetyCheck.objects.filter(partner=partner_a):  # the factories' couples start cleared
        check.delete()
    html = client_for(therapist).get(reverse("couple_detail", args=[couple.pk])).content.decode()
    assert "Touch work: waiting for private checks or separate conversations." in html
    assert "Nothing needs attention right now." not in html
    assert "No open alerts." in html


def test_the_overviews_alerts_are_the_open_ones_and_the_latest_seen_in_their_orders(
    couple, partner_a, partner_b, therapist, django_assert_num_queries
):
    """Issue 16, "Fast": `selectors.alerts_in_view` reads both lists at once; each keeps its order and the
    seen ones their limit, as `open_alerts` and `acknowledged_alerts` give them."""
    seen_at = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

    def alert(kind, week, urgent=False, seen_days_later=None):
        at = None if seen_days_later is None else seen_at + timedelta(days=seen_days_later)
        return Alert.objects.create(
            couple=couple,
            kind=kind,
            partner=partner_a,
            week=week,
            urgent=urgent,
            acknowledged_at=at,
            acknowledged_by=therapist if at else None,
        )

    older = alert(Alert.Kind.LOW_COMFORT, date(2026, 11, 9))
    newer = alert(Alert.Kind.PAUSED, date(2026, 11, 16))
    urgent = alert(Alert.Kind.LOW_SAFE, date(2026, 11, 2), urgent=True)
    # Four seen, of four weeks of October, marked 0, 2, 1 and 3 days after 20 Nov.
    seen = [
        alert(Alert.Kind.PAUSED, date(2026, 10, 5) + timedelta(weeks=n), seen_days_later=d)
        for n, d in enumerate((0, 2, 1, 3))
    ]
    got = selectors.alerts_in_view(couple, seen_limit=3)
    # Open: urgent first, then the newest week first. Seen: the latest 3 marked, newest first (3, 2, 1 days on).
    assert got.open == [urgent, newer, older] == selectors.open_alerts(couple)
    assert got.seen == [seen[3], seen[1], seen[2]]
    # With the couple's partners at hand, each alert's partner is theirs, with no query more.
    with django_assert_num_queries(1):
        given = selectors.alerts_in_view(couple, seen_limit=3, partners=[partner_b, partner_a])
        assert {a.partner.name for a in given.open + given.seen} == {partner_a.name}
    assert (given.open, given.seen) == (got.open, got.seen)


# The overview's list of seen alerts as the template loop wrote it before issue 16 ("Fast") wrote it in
# Python (templatetags/alerts.py seen_alert_items): the page must stay the same to the byte.
SEEN_LOOP = (
    "{% load i18n alerts %}{% for alert in acknowledged_alerts %}\n"
    '        <li class="mb-1">{{ alert|alert_sentence }}{% alert_leads alert as leads %}{% if leads.href %} '
    '<a href="{{ leads.href }}">{{ leads.label }}</a>{% endif %} <span class="muted-note">· '
    '{% blocktranslate with week=alert.week|date:"j M Y" %}week of {{ week }}{% endblocktranslate %} · '
    '{% blocktranslate with seen=alert.acknowledged_at|date:"j M Y" %}seen {{ seen }}{% endblocktranslate %}'
    "{% if alert.acknowledgement %}: “{{ alert.acknowledgement }}”{% endif %}</span></li>\n"
    "      {% endfor %}"
)


def test_the_seen_alerts_read_as_the_template_loop_wrote_them(session, therapist, outsider):
    from django.template import engines
    from django.utils import translation

    couple = session.assignment.couple
    session.receiver.name = "Sam & <Jo>"
    session.receiver.save()
    # Seen late on 20 November in London, already the 21st in Auckland: the day is the current time zone's.
    late = datetime(2026, 11, 20, 22, 30, tzinfo=UTC)
    linked = _alert_on(session, acknowledged_at=late, acknowledgement='said "fine" <b>&</b>')
    plain = Alert.objects.create(
        couple=couple, kind=Alert.Kind.NO_SESSION, week=date(2026, 11, 9), acknowledged_at=late - timedelta(days=3)
    )
    theirs = Alert.objects.create(
        couple=outsider.couple,
        kind=Alert.Kind.CONNECTION_DOWN,
        partner=outsider,
        week=date(2026, 11, 2),
        acknowledged_at=late,
    )
    alerts = [linked, plain, theirs]
    old = engines["django"].from_string(SEEN_LOOP)
    new = engines["django"].from_string("{% load alerts %}{% seen_alert_items acknowledged_alerts %}")
    for zone in ("Europe/London", "Pacific/Auckland"):
        with translation.override("en"), timezone.override(zone):
            html = new.render({"acknowledged_alerts": alerts})
            assert html == old.render({"acknowledged_alerts": alerts})
            day = "20 Nov 2026" if zone == "Europe/London" else "21 Nov 2026"
            assert f"seen {day}: “said &quot;fine&quot; &lt;b&gt;&amp;&lt;/b&gt;”</span></li>" in html
    assert "Sam &amp; &lt;Jo&gt;" in html
    assert f'?session={session.pk}#session-{session.pk}">Open the session</a>' in html
    # Each alert's link is to its own couple's pages, though the list reverses each page once.
    assert reverse("couple_trends", args=[outsider.couple_id]) in html


# The charts' markers legend as the template loop wrote it before issue 16 ("Fast") wrote it in Python
# (templatetags/chart_tables.py chart_marker_items).
MARKER_LOOP = (
    "{% load i18n %}{% for m in markers %}"
    '<li class="chart-marker" data-number="{{ m.number }}"><span class="marker-pin marker-{{ m.kind }}">'
    '{{ m.number }}</span> <span><span class="chart-marker-when">{{ m.when }}</span> · '
    '<strong class="chart-marker-kind">'
    '{% if m.kind == "paused" %}{% translate "Paused" %}{% elif m.kind == "note" %}{% translate "Your note" %}'
    '{% else %}{% translate "Program step" %}{% endif %}</strong>: {{ m.label }}</span></li>\n    {% endfor %}'
)


def test_the_markers_legend_reads_as_the_template_loop_wrote_it():
    from django.template import engines
    from django.utils import translation

    markers = [
        {"number": 1, "kind": "paused", "when": "Week of 2 Nov", "label": "2 sessions paused or stopped early"},
        {"number": 2, "kind": "note", "when": "4 Nov", "label": 'Talked about "pace" <b>& pressure</b>'},
        {"number": 1234, "kind": "step", "when": "Dec 2026", "label": "Step 2: Hand massage"},
        # The same words again (each distinct text is escaped once and used for both).
        {"number": 1235, "kind": "paused", "when": "Week of 2 Nov", "label": "2 sessions paused or stopped early"},
    ]
    old = engines["django"].from_string(MARKER_LOOP)
    new = engines["django"].from_string("{% load chart_tables %}{% chart_marker_items markers %}")
    for language in ("en", "de"):
        with translation.override(language):
            assert new.render({"markers": markers}) == old.render({"markers": markers})
            assert new.render({"markers": []}) == old.render({"markers": []}) == ""
    with translation.override("en"):
        html = new.render({"markers": markers})
    assert html.count('<span class="chart-marker-when">Week of 2 Nov</span>') == 2
    assert "Talked about &quot;pace&quot; &lt;b&gt;&amp; pressure&lt;/b&gt;" in html
    assert '<strong class="chart-marker-kind">Program step</strong>: Step 2: Hand massage' in html


# includes/chart.html as a template before issue 16 ("Fast") wrote it in Python (chart_tables.chart_figure).
CHART_TEMPLATE = "\n".join(
    [
        "{% load i18n chart_tables %}",
        '<figure class="card card-body chart-card mb-0" aria-labelledby="chart-{{ chart.id }}-title">',
        '  <h3 class="h6 mb-1" id="chart-{{ chart.id }}-title">{{ chart.title }}</h3>',
        '  <p class="small muted-note mb-2">{{ chart.about }}</p>',
        '  {% if chart.views %}<div class="btn-group btn-group-sm chart-views mb-2" role="group" data-chart="{{ chart.id }}" aria-label="{% blocktranslate with title=chart.title %}{{ title }}: which role to draw{% endblocktranslate %}" hidden>{% for view in chart.views %}<button type="button" class="btn btn-outline-secondary" data-view="{{ view.key }}" aria-pressed="{% if forloop.first %}true{% else %}false{% endif %}">{{ view.label }}</button>{% endfor %}</div>{% endif %}',  # noqa: E501
        '  <div class="chart-box"><canvas id="chart-{{ chart.id }}" role="img" aria-label="{% blocktranslate with title=chart.title %}{{ title }}. The numbers are in the table below the chart.{% endblocktranslate %}"></canvas></div>',  # noqa: E501
        '  <details class="chart-numbers mt-2"{% if open_tables %} open{% endif %}>',
        "    <summary>{% blocktranslate with title=chart.title %}Numbers for “{{ title }}”{% endblocktranslate %}</summary>",  # noqa: E501
        '    <div class="table-responsive" tabindex="0" role="region" aria-label="{% blocktranslate with title=chart.title %}Numbers for {{ title }}{% endblocktranslate %}">',  # noqa: E501
        '    <table class="table table-sm mb-0">',
        '      <caption class="visually-hidden">{% if period.monthly %}{% blocktranslate with title=chart.title %}{{ title }}, by month{% endblocktranslate %}{% else %}{% blocktranslate with title=chart.title %}{{ title }}, by week starting{% endblocktranslate %}{% endif %}</caption>',  # noqa: E501
        '      <thead><tr><th scope="col">{% if period.monthly %}{% translate "Month" %}{% else %}{% translate "Week of" %}{% endif %}</th>{% for column in chart.columns %}<th scope="col">{{ column }}</th>{% endfor %}</tr></thead>',  # noqa: E501
        "      <tbody>{% chart_table_rows chart %}</tbody>",
        "    </table>",
        "    </div>",
        "  </details>",
        "</figure>",
        "",
    ]
)


@pytest.mark.parametrize("monthly", [False, True])
@pytest.mark.parametrize("open_tables", [False, True])
# German writes 6,5 and groups thousands with "." (Django's formats): the table reads the language's
# number formats once, as `{{ v }}` did for every number.
@pytest.mark.parametrize("language", ["en", "de"])
def test_a_chart_reads_as_its_template_wrote_it(monthly, open_tables, language, settings):
    from types import SimpleNamespace

    from django.template import engines
    from django.utils import translation

    views = [{"key": "all", "label": "All roles"}, {"key": "giver", "label": "As <giver>"}]
    charts = [
        {
            "id": "connection",
            "title": 'Connection & "closeness"',
            "about": "Mean connection, 0 to 10 <per week>.",
            "views": views,
            "columns": ["Alex & Sam", "Sam"],
            "rows": [
                ["Dec 2024", 6.5, None],
                ["Jan 2025", 7, 3],
                ["Feb 2025", 1234.5, -2],
                ["Mar 2025", 0.00001, -0.5],
                ["Apr 2025", 0.0, 999.9],
            ],
        },
        {"id": "sessions", "title": "Sessions", "about": "Per week.", "columns": ["Done"], "rows": []},
    ]
    old = engines["django"].from_string(CHART_TEMPLATE)
    new = engines["django"].get_template("includes/chart.html")
    period = SimpleNamespace(monthly=monthly)
    settings.USE_THOUSAND_SEPARATOR = True
    with translation.override(language):
        for chart in charts:
            context = {"chart": chart, "period": period, "open_tables": open_tables}
            html = new.render(context)
            assert html == old.render(context)
            if chart["rows"]:
                # Worked by hand: each language's decimal mark and thousands' grouping.
                want = {"en": ("6.5", "1,234.5"), "de": ("6,5", "1.234,5")}[language]
                assert f"<td>{want[0]}</td><td>–</td>" in html and f"<td>{want[1]}</td><td>-2</td>" in html
            assert (" open>" in html) == open_tables
            assert ("by month" in html) == monthly
    assert 'data-view="giver" aria-pressed="false">As &lt;giver&gt;</button>' not in html  # the last chart: no views
    assert old.render({"chart": charts[0], "period": period}).count("aria-pressed") == 2


# The overview's open alerts as the template loop wrote them before issue 16 ("Fast") wrote them in Python
# (templatetags/alerts.py open_alert_items).
OPEN_LOOP = "\n".join(
    [
        "{% load i18n alerts %}" + "  {% for alert in open_alerts %}",
        '    <li class="alert-row{% if alert.urgent %} alert-urgent{% endif %}">',
        '      <p class="mb-0 alert-text">{% if alert.urgent %}<span class="badge text-bg-danger me-1">{% translate "Urgent" %}</span>{% endif %}{{ alert|alert_sentence }}',  # noqa: E501
        '        <span class="muted-note small">· {% blocktranslate with week=alert.week|date:"j M" %}week of {{ week }}{% endblocktranslate %}</span></p>',  # noqa: E501
        "      {% alert_leads alert as leads %}",
        '      <div class="d-flex flex-wrap gap-1 align-items-start alert-leads">',
        '        {% if leads.href %}<a class="btn btn-outline-primary btn-sm" href="{{ leads.href }}">{{ leads.label }}</a>{% endif %}',  # noqa: E501
        '        {% if leads.pause %}<form method="post" action="{% url \'assignment_status\' leads.pause.pk %}">{% csrf_token %}<input type="hidden" name="status" value="{{ AssignmentStatus.PAUSED }}"><input type="hidden" name="back" value="overview"><button class="btn btn-outline-secondary btn-sm" type="submit">{% translate "Pause the exercise" %}</button></form>{% endif %}',  # noqa: E501
        '        {% if leads.note %}<a class="btn btn-outline-secondary btn-sm" href="{{ leads.note }}">{% translate "Write a note" %}</a>{% endif %}',  # noqa: E501
        '        <details class="ack">',
        '          <summary class="btn btn-outline-secondary btn-sm">{% translate "Mark as seen" %}</summary>',
        '          <form method="post" action="{% url \'alert_acknowledge\' alert.pk %}" class="mt-2">{% csrf_token %}',
        '            <label class="form-label small" for="ack-{{ alert.pk }}">{{ acknowledge_form.note.label }}</label>',  # noqa: E501
        '            <input class="form-control mb-1" type="text" id="ack-{{ alert.pk }}" name="note" maxlength="300" aria-describedby="ack-help-{{ alert.pk }}">',  # noqa: E501
        '            <p class="form-text mt-0" id="ack-help-{{ alert.pk }}">{{ acknowledge_form.note.help_text }}</p>',
        '            <button class="btn btn-primary btn-sm" type="submit">{% translate "Save" %}</button>',
        "          </form>",
        "        </details>",
        "      </div>",
        "    </li>",
        "  {% endfor %}",
    ]
)


def test_the_open_alerts_read_as_the_template_loop_wrote_them(rf, session, therapist, partner_a):
    from django.template import engines
    from django.template.context_processors import csrf

    from intimacy.forms import AcknowledgeForm

    couple = session.assignment.couple
    partner_a.name = "Alex & <Al>"
    partner_a.save()
    # Urgent, about a session, on an active exercise it may pause, with a note to write; about the exercise
    # (no session), not urgent, likewise; about the trends (a link and a note only).
    low_safe = _alert_on(session, kind=Alert.Kind.LOW_SAFE, urgent=True)
    no_session = Alert.objects.create(
        couple=couple, kind=Alert.Kind.NO_SESSION, week=date(2026, 11, 9), assignment=session.assignment
    )
    down = Alert.objects.create(
        couple=couple, kind=Alert.Kind.CONNECTION_DOWN, partner=partner_a, week=date(2026, 11, 2)
    )
    request = rf.get("/")
    request.user = therapist
    context = {
        "open_alerts": [low_safe, no_session, down],
        "acknowledge_form": AcknowledgeForm(),
        "AssignmentStatus": session.assignment.Status,
    }

    def render(source: str) -> str:
        template = engines["django"].from_string(source)
        html = template.render({**context, **csrf(request)}, request)
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", html)

    html = render("{% load alerts %}  {% open_alert_items open_alerts %}")
    assert html == render(OPEN_LOOP)
    # Each alert's "Mark as seen"; "Pause the exercise" for the two about the active exercise (not the trends').
    assert html.count("CSRF") == 5 and html.count("Pause the exercise") == 2
    assert reverse("assignment_status", args=[session.assignment_id]) in html
    assert "Alex &amp; &lt;Al&gt;" in html and 'class="alert-row alert-urgent"' in html
    assert f'for="ack-{down.pk}"' in html
