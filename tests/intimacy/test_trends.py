"""The trends selectors: periods, week and month buckets, and what each scope may count.

Expected values are worked out by hand below, from the sessions each test writes down.
"""

from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone

from intimacy import services, trends
from intimacy.models import REVEAL_AFTER, Reflection
from intimacy.trends import Scope, period_from
from tests.factories import AssignmentFactory, ReflectionFactory, SessionFactory

TODAY = date(2026, 11, 25)  # a Wednesday; its ISO week starts Monday 23 Nov


class TestPeriod:
    def test_default_is_twelve_weeks_ending_today(self):
        period = period_from({}, TODAY)
        # 12 ISO weeks including this one: Monday 23 Nov minus 11 weeks is Monday 7 Sep.
        assert (period.start, period.end, period.weeks, period.notice) == (date(2026, 9, 7), TODAY, 12, "")
        assert period.query == "weeks=12"
        assert not period.monthly

    def test_weeks_choice(self):
        period = period_from({"weeks": "4"}, TODAY)
        assert (period.start, period.end) == (date(2026, 11, 2), TODAY)
        assert [b.label for b in period.buckets()] == ["2 Nov", "9 Nov", "16 Nov", "23 Nov"]

    def test_26_weeks_is_weekly_and_52_is_monthly(self):
        assert not period_from({"weeks": "26"}, TODAY).monthly
        year = period_from({"weeks": "52"}, TODAY)
        assert year.monthly
        # Monday 23 Nov 2026 minus 51 weeks is Monday 1 Dec 2025: Dec 2025 … Nov 2026, twelve months.
        assert year.start == date(2025, 12, 1)
        labels = [b.label for b in year.buckets()]
        assert labels[0] == "Dec 2025" and labels[-1] == "Nov 2026" and len(labels) == 12

    def test_a_period_shown_month_by_month_starts_on_its_first_months_first_day(self):
        wednesday = date(2026, 12, 2)  # its ISO week starts Monday 30 Nov
        # 104 weeks: Monday 30 Nov 2026 minus 103 weeks is Monday 9 Dec 2024; 52 weeks: minus 51 is Monday
        # 8 Dec 2025. Each starts on the 1st of that month, so December is a whole month, as every week of a
        # weekly period is a whole week.
        two_years, one_year = period_from({"weeks": "104"}, wednesday), period_from({"weeks": "52"}, wednesday)
        assert (two_years.start, two_years.end, two_years.weeks) == (date(2024, 12, 1), wednesday, 104)
        assert (one_year.start, one_year.end) == (date(2025, 12, 1), wednesday)
        assert [b.label for b in two_years.buckets()][:2] == ["Dec 2024", "Jan 2025"]
        assert len(two_years.buckets()) == 25 and two_years.query == "weeks=104"
        # A weekly period still starts on its first Monday: 30 Nov minus 25 weeks is 8 June 2026.
        assert period_from({"weeks": "26"}, wednesday).start == date(2026, 6, 8)
        # A custom period keeps the dates it was given, month by month or not.
        assert period_from({"from": "2025-03-12", "to": "2026-11-20"}, wednesday).start == date(2025, 3, 12)

    @pytest.mark.parametrize(
        "params",
        [
            {"weeks": "7"},
            {"weeks": "lots"},
            {"weeks": ""},
            {"from": "2026-13-01", "to": "2026-11-01"},
            {"from": "2026-11-10", "to": "2026-11-01"},
            {"from": "2026-11-10"},
            {"from": "1990-01-01", "to": "2026-11-01"},
            {"from": "2015-01-01", "to": "2015-02-01"},
            {"from": "2026-12-01", "to": "2026-12-31"},
            {"from": "9999-12-31", "to": "9999-12-31"},
            {"from": "0001-01-01", "to": "0001-01-08"},
            {"from": "2026-02-30", "to": "2026-03-01"},
        ],
    )
    def test_bad_values_get_the_default_and_a_notice(self, params):
        period = period_from(params, TODAY)
        assert (period.start, period.end, period.weeks) == (date(2026, 9, 7), TODAY, 12)
        assert period.notice

    def test_custom_dates(self):
        period = period_from({"from": "2026-11-04", "to": "2026-11-12"}, TODAY)
        assert (period.start, period.end, period.weeks, period.notice) == (
            date(2026, 11, 4),
            date(2026, 11, 12),
            None,
            "",
        )
        assert period.query == "from=2026-11-04&to=2026-11-12"
        # The first bucket is the ISO week holding the start date.
        assert [b.start for b in period.buckets()] == [date(2026, 11, 2), date(2026, 11, 9)]

    def test_custom_period_stops_at_today(self):
        period = period_from({"from": "2026-11-01", "to": "9999-12-31"}, TODAY)
        assert (period.start, period.end, period.notice) == (date(2026, 11, 1), TODAY, "")
        assert len(period.buckets()) == 5  # weeks of 26 Oct … 23 Nov

    def test_a_single_day(self):
        period = period_from({"from": "2026-02-28", "to": "2026-02-28"}, TODAY)
        assert [b.start for b in period.buckets()] == [date(2026, 2, 23)]

    def test_custom_period_over_26_weeks_is_monthly(self):
        # 1 May to 25 Nov touches 31 ISO weeks.
        assert period_from({"from": "2026-05-01", "to": "2026-11-25"}, TODAY).monthly
        # 1 Jun (a Monday) to 29 Nov (a Sunday) is exactly 26 weeks.
        assert not period_from({"from": "2026-06-01", "to": "2026-11-29"}, TODAY).monthly


@pytest.fixture
def month(assignment, partner_a, partner_b):
    """Alex (A) and Sam (B), assignment from 1 Jan 2026, 2 a week, take turns.

    S1 Tue 3 Nov:  A gave.   A: connection 6, comfort 7, safe 8, shared.
                             B: 8, comfort 5, safe 2, tension 7→3, therapist only.
    S2 Thu 5 Nov:  B gave.   B: connection 4, comfort 9, safe 6, shared.  A: no reflection.
    S3 Tue 10 Nov: A gave.   A: connection 9, comfort 3, safe 1, paused, just me.
                             B: 7, comfort 8, safe 7, tension 6→5, shared.
    S4 Tue 24 Nov: withdrawn by its logger, with a reflection: counted nowhere.
    S5 Fri 30 Oct: before the 4-week period.
    """
    a, b = partner_a, partner_b

    def session(day, giver, receiver, **kwargs):
        return SessionFactory(
            assignment=assignment, date=day, giver=giver, receiver=receiver, logged_by=giver, **kwargs
        )

    s1 = session(date(2026, 11, 3), a, b)
    ReflectionFactory(session=s1, partner=a, role="giver", connection=6, comfort=7, safe=8)
    ReflectionFactory(
        session=s1,
        partner=b,
        role="receiver",
        connection=8,
        comfort=5,
        safe=2,
        tension_before=7,
        tension_after=3,
        visibility=Reflection.Visibility.THERAPIST,
    )
    s2 = session(date(2026, 11, 5), b, a)
    ReflectionFactory(session=s2, partner=b, role="giver", connection=4, comfort=9, safe=6)
    s3 = session(date(2026, 11, 10), a, b)
    ReflectionFactory(
        session=s3,
        partner=a,
        role="giver",
        connection=9,
        comfort=3,
        safe=1,
        paused=True,
        visibility=Reflection.Visibility.PRIVATE,
    )
    ReflectionFactory(
        session=s3, partner=b, role="receiver", connection=7, comfort=8, safe=7, tension_before=6, tension_after=5
    )
    s4 = session(date(2026, 11, 24), a, b, withdrawn_at="2026-11-24T20:00:00Z")
    ReflectionFactory(session=s4, partner=b, role="receiver", connection=1, comfort=1, safe=0)
    s5 = session(date(2026, 10, 30), b, a)
    ReflectionFactory(session=s5, partner=b, role="giver", connection=2, comfort=2, safe=0)
    return a, b


@pytest.fixture
def a_week_later(month):
    """Past the reveal rule's wait (issue 14): every shared reflection of `month` is revealed to both."""
    with time_machine.travel(timezone.now() + REVEAL_AFTER + timedelta(minutes=1), tick=False):
        yield month


def _by_label(data):
    return {row.bucket.label: row for row in data.rows}


def test_therapist_scope_week_by_week(couple, month):
    a, b = month
    data = trends.couple_trends(couple, period_from({"weeks": "4"}, TODAY), Scope.THERAPIST)
    rows = _by_label(data)
    assert list(rows) == ["2 Nov", "9 Nov", "16 Nov", "23 Nov"]

    first = rows["2 Nov"]
    assert (first.sessions, first.target, first.both_reflected, first.completion) == (2, 2, 1, 50)
    assert first.gave == {a.pk: 1, b.pk: 1}
    assert first.connection == {(a.pk, "giver"): 6, (b.pk, "receiver"): 8, (b.pk, "giver"): 4}
    assert first.comfort == {a.pk: 7, b.pk: 7}  # Sam: (5 + 9) / 2
    assert first.safe == {a.pk: 8, b.pk: 4}  # Sam: (2 + 6) / 2, a question of its own
    assert first.relief == {b.pk: 4}  # 7 - 3
    assert (first.gap_giver, first.gap_receiver) == (6, 8)  # S1 only: both reflected
    assert first.paused == 0

    second = rows["9 Nov"]
    assert (second.sessions, second.both_reflected, second.completion, second.paused) == (1, 1, 100, 1)
    assert second.connection == {(a.pk, "giver"): 9, (b.pk, "receiver"): 7}
    assert second.comfort == {a.pk: 3, b.pk: 8}
    assert second.safe == {a.pk: 1, b.pk: 7}
    assert second.relief == {b.pk: 1}

    # No sessions: zero done against the whole target, nothing averaged. S4 was withdrawn.
    for label in ("16 Nov", "23 Nov"):
        assert (rows[label].sessions, rows[label].target, rows[label].completion) == (0, 2, None)
        assert rows[label].connection == {}

    assert (data.sessions, data.target, data.both_reflected, data.paused) == (3, 8, 2, 1)
    assert data.gave == {a.pk: 2, b.pk: 1}


def test_summary_pairs_always_read_first_partner_then_second(couple, month):
    """Every "x / y" in the printed summary is Alex / Sam (issue 16): connection is split into a
    giver and a receiver column rather than paired as giver / receiver; sessions show the target in
    brackets, not as another "/"."""
    data = trends.couple_trends(couple, period_from({"weeks": "4"}, TODAY), Scope.THERAPIST)
    first = trends.summary_rows(data)[0]
    # Week of 2 Nov (above): 2 sessions, target 2; as giver Alex 6, Sam 4; as receiver only Sam, 8.
    assert first["sessions"] == "2 (2)"
    assert first["connection_giver"] == "6.0 / 4.0"
    assert first["connection_receiver"] == "– / 8.0"


def test_comfort_and_safe_are_separate_lines_and_summary_columns(couple, month):
    """The chart that read "Comfort and safety" shows each partner's two answers apart (issue 13)."""
    data = trends.couple_trends(couple, period_from({"weeks": "4"}, TODAY), Scope.THERAPIST)
    (chart,) = [c for c in trends.couple_charts(data) if c["id"] == "comfort"]
    assert chart["title"] == "Comfortable and safe"
    assert [(s["label"], s["values"][:2]) for s in chart["series"]] == [
        ("Alex, comfortable", [7, 3]),
        ("Alex, safe", [8, 1]),
        ("Sam, comfortable", [7, 8]),
        ("Sam, safe", [4, 7]),
    ]
    first = trends.summary_rows(data)[0]
    assert (first["comfort"], first["safe"]) == ("7.0 / 7.0", "8.0 / 4.0")


def test_shared_scope_counts_only_what_the_partners_shared(couple, a_week_later):
    a, b = a_week_later
    rows = _by_label(trends.couple_trends(couple, period_from({"weeks": "4"}, TODAY), Scope.SHARED))
    first, second = rows["2 Nov"], rows["9 Nov"]
    # Sam's S1 reflection was for the therapist only: its 8, its comfort 5 and its relief are gone.
    assert first.connection == {(a.pk, "giver"): 6, (b.pk, "giver"): 4}
    assert first.comfort == {a.pk: 7, b.pk: 9}
    assert first.safe == {a.pk: 8, b.pk: 6}  # nor its safe 2
    assert first.relief == {}
    assert (first.both_reflected, first.gap_giver, first.gap_receiver) == (0, None, None)
    # Alex's S3 reflection is a private journal: its 9, comfort 3 and "paused" are gone.
    assert second.connection == {(b.pk, "receiver"): 7}
    assert second.comfort == {b.pk: 8}
    assert second.safe == {b.pk: 7}
    assert (second.paused, second.both_reflected) == (0, 0)
    # Sessions themselves are known to both partners and still count.
    assert (first.sessions, second.sessions) == (2, 1)


def test_own_scope_is_one_partners_reflections(couple, month):
    a, b = month
    rows = _by_label(trends.couple_trends(couple, period_from({"weeks": "4"}, TODAY), Scope.OWN, viewer_partner=b))
    assert rows["2 Nov"].connection == {(b.pk, "receiver"): 8, (b.pk, "giver"): 4}
    assert rows["9 Nov"].connection == {(b.pk, "receiver"): 7}


def test_months_and_their_targets(couple, month):
    a, b = month
    rows = _by_label(trends.couple_trends(couple, period_from({"weeks": "52"}, TODAY), Scope.THERAPIST))
    # November: S1, S2, S3. It is this month, so all 30 days count: 2 × 30 / 7 = 8.57, so 9.
    assert (rows["Nov 2026"].sessions, rows["Nov 2026"].target) == (3, 9)
    # October: S5 on the 30th. 2 × 31 / 7 = 8.86, so 9.
    assert (rows["Oct 2026"].sessions, rows["Oct 2026"].target) == (1, 9)
    assert rows["Oct 2026"].connection == {(b.pk, "giver"): 2}
    # December 2025 is before the assignment started on 1 Jan 2026.
    assert rows["Dec 2025"].target == 0


def test_two_years_first_month_is_whole_target_and_all(couple):
    AssignmentFactory(couple=couple, starts_on=date(2024, 6, 1), target_per_week=3)
    period = period_from({"weeks": "104"}, date(2026, 12, 2))
    first = trends.couple_trends(couple, period, Scope.THERAPIST).rows[0]
    # All 31 days of December 2024: 3 × 31 / 7 = 13.29, so 13. (From Monday 9 December, the period's first
    # week, it would be 23 days: 9.86, so 10.)
    assert (first.bucket.label, first.target) == ("Dec 2024", 13)


def test_custom_period_clips_to_its_dates(couple, month):
    a, b = month
    data = trends.couple_trends(couple, period_from({"from": "2026-11-04", "to": "2026-11-12"}, TODAY), Scope.THERAPIST)
    rows = _by_label(data)
    # S1 (3 Nov) is before the start: week of 2 Nov holds S2 alone.
    assert rows["2 Nov"].sessions == 1 and rows["2 Nov"].gave == {b.pk: 1}
    assert rows["9 Nov"].sessions == 1
    # Targets only for the period's days: 4–8 Nov is 5 days, 2 × 5 / 7 = 1.43 → 1;
    # 9–12 Nov is 4 days, 2 × 4 / 7 = 1.14 → 1.
    assert (rows["2 Nov"].target, rows["9 Nov"].target) == (1, 1)
    assert data.sessions == 2


def test_notes_mark_the_therapists_charts_only(couple, month, therapist):
    from intimacy.services import note_add

    note_add(couple=couple, author=therapist, day=date(2026, 11, 11), text="Holiday")
    note_add(couple=couple, author=therapist, day=date(2026, 8, 1), text="Long before")
    period = period_from({"weeks": "4"}, TODAY)
    mine = trends.couple_trends(couple, period, Scope.THERAPIST)
    assert [n.text for n in mine.notes] == ["Holiday"]
    # Index 1 is the week of 9 Nov: the paused session and the note both mark it.
    assert [(m["number"], m["index"], m["kind"], m["label"]) for m in trends.markers(mine)] == [
        (1, 1, "paused", "1 session paused or stopped early"),
        (2, 1, "note", "Holiday"),
    ]
    shared = trends.couple_trends(couple, period, Scope.SHARED)
    assert shared.notes == [] and trends.markers(shared) == []


def test_shared_scope_waits_for_the_other_partner_before_counting_a_reflection(couple, month):
    """The reveal rule (issue 14) in what the couple see together: written just now, no shared reflection
    of `month` is revealed yet. S1: Alex shared, Sam's is for the therapist only (no shared answer, no
    decline). S2: Sam shared, Alex wrote nothing. S3: Sam shared, Alex's is a private journal."""
    a, b = month
    rows = _by_label(trends.couple_trends(couple, period_from({"weeks": "4"}, TODAY), Scope.SHARED))
    first, second = rows["2 Nov"], rows["9 Nov"]
    for row in (first, second):
        assert (row.connection, row.comfort, row.safe, row.relief, row.paused) == ({}, {}, {}, {}, 0)
    assert (first.sessions, second.sessions) == (2, 1)  # sessions are known to both and still count
    # Alex says "I won't reflect on this one" for S2: Sam's S2 reflection (connection 4, comfort 9,
    # safe 6) now counts, and nothing else does.
    s2 = b.reflections.get(role="giver", session__date=date(2026, 11, 5)).session
    services.reflection_decline(session=s2, partner=a)
    rows = _by_label(trends.couple_trends(couple, period_from({"weeks": "4"}, TODAY), Scope.SHARED))
    assert rows["2 Nov"].connection == {(b.pk, "giver"): 4}
    assert (rows["2 Nov"].comfort, rows["2 Nov"].safe) == ({b.pk: 9}, {b.pk: 6})
    assert rows["9 Nov"].connection == {}


def test_charts_leave_out_what_has_no_data_and_table_every_number(couple, a_week_later):
    data = trends.couple_trends(couple, period_from({"weeks": "4"}, TODAY), Scope.SHARED)
    charts = {c["id"]: c for c in trends.couple_charts(data)}
    # Nobody shared a pair of reflections on one session, so there is no perception-gap chart.
    assert "gap" not in charts
    assert set(charts) == {"sessions", "reciprocity", "connection", "comfort", "relief", "completion"}
    # What the couple see together has no target column (issue 13): what they did, never a shortfall.
    assert charts["sessions"]["title"] == "Sessions together"
    assert charts["sessions"]["rows"] == [["2 Nov", 2], ["9 Nov", 1], ["16 Nov", 0], ["23 Nov", 0]]
    relief = charts["relief"]
    assert [s["label"] for s in relief["series"]] == ["Sam, receiving"]
    assert relief["rows"][1] == ["9 Nov", 1.0]


def test_a_couple_with_nothing_yet_gets_no_charts(couple, partner_a, partner_b):
    data = trends.couple_trends(couple, period_from({}, TODAY), Scope.THERAPIST)
    assert trends.couple_charts(data) == []
    assert data.sessions == 0


def test_a_session_both_partners_paused_is_one_paused_session(couple, assignment, partner_a, partner_b):
    s = SessionFactory(
        assignment=assignment, date=date(2026, 11, 24), giver=partner_a, receiver=partner_b, logged_by=partner_a
    )
    ReflectionFactory(session=s, partner=partner_a, role="giver", paused=True)
    ReflectionFactory(session=s, partner=partner_b, role="receiver", paused=True)
    data = trends.couple_trends(couple, period_from({"weeks": "4"}, TODAY), Scope.THERAPIST)
    assert data.paused == 1
    assert [(m["index"], m["kind"], m["label"]) for m in trends.markers(data)] == [
        (3, "paused", "1 session paused or stopped early")
    ]


def test_no_target_line_before_the_assignment_starts(couple, partner_a, partner_b):
    from tests.factories import AssignmentFactory

    AssignmentFactory(couple=couple, starts_on=date(2026, 11, 18), target_per_week=3)
    data = trends.couple_trends(couple, period_from({"weeks": "4"}, TODAY), Scope.THERAPIST)
    target = next(s for s in trends.couple_charts(data)[0]["series"] if s["label"] == "Target")
    # Weeks of 2 and 9 Nov are before the start. Wednesday 18 to Sunday 22 Nov is 5 days of the
    # week of 16 Nov: 3 × 5 / 7 = 2.14, so 2. This week asks for all 3, though it is only Wednesday.
    assert target["values"] == [None, None, 2, 3]


def test_a_disputed_session_stops_counting_for_the_therapist_and_the_disputer_only(
    client, therapist, couple, assignment, partner_a, partner_b
):
    from django.urls import reverse

    from intimacy import services

    kept, disputed = (
        SessionFactory(
            assignment=assignment, date=date(2026, 11, day), giver=partner_a, receiver=partner_b, logged_by=partner_a
        )
        for day in (23, 24)
    )
    ReflectionFactory(session=kept, partner=partner_a, role="giver", connection=8)
    ReflectionFactory(session=disputed, partner=partner_a, role="giver", connection=2)
    services.session_dispute(session=disputed, partner=partner_b)
    period = period_from({"weeks": "4"}, TODAY)
    mine = trends.couple_trends(couple, period, Scope.THERAPIST)
    week = _by_label(mine)["23 Nov"]
    # The therapist's trends hold only the session that happened: Alex's mean is 8, not (8 + 2) / 2.
    assert (mine.sessions, mine.gave, week.connection[(partner_a.pk, "giver")]) == (1, {partner_a.pk: 1}, 8.0)
    # Sam's own progress page no longer counts it ...
    assert trends.couple_trends(couple, period, Scope.OWN, viewer_partner=partner_b).sessions == 1
    # ... while Alex, who is told nothing, still sees the session they logged, alone and together.
    assert trends.couple_trends(couple, period, Scope.OWN, viewer_partner=partner_a).sessions == 2
    assert trends.couple_trends(couple, period, Scope.SHARED).sessions == 2
    # The therapist's timeline lists it, marked.
    client.force_login(therapist)
    page = client.get(reverse("couple_reflections", args=[couple.pk])).content.decode()
    assert page.count("Disputed by Sam: not in the trends") == 1


def test_a_paused_session_counts_together_only_once_revealed(couple, assignment, partner_a, partner_b):
    """The reveal rule (issue 14) reaches the shared scope's "paused" count too: Sam's shared "we paused"
    waits for Alex's reflection, his decline, or 7 days (one session, one reflection: 0, then 1)."""
    s = SessionFactory(
        assignment=assignment, date=date(2026, 11, 24), giver=partner_a, receiver=partner_b, logged_by=partner_b
    )
    ReflectionFactory(session=s, partner=partner_b, role="receiver", paused=True)
    period = period_from({"weeks": "4"}, TODAY)
    assert trends.couple_trends(couple, period, Scope.SHARED).paused == 0
    assert trends.couple_trends(couple, period, Scope.THERAPIST).paused == 1  # the therapist: at once
    with time_machine.travel(timezone.now() + REVEAL_AFTER + timedelta(minutes=1), tick=False):
        assert trends.couple_trends(couple, period, Scope.SHARED).paused == 1
    # Back to now: hidden again (the grouping is compiled once, intimacy/prepared.py; the moment is each call's).
    assert trends.couple_trends(couple, period, Scope.SHARED).paused == 0
    services.reflection_decline(session=s, partner=partner_a)
    assert trends.couple_trends(couple, period, Scope.SHARED).paused == 1


def test_the_therapists_trends_are_each_couples_own_one_after_the_other(
    couple, assignment, partner_a, partner_b, other_couple, outsider
):
    """Issue 16, "Fast": the therapist's grouped reads are built once per process and cloned for each
    couple and period; whatever was read before, each couple's trends count that couple's sessions only."""
    other_a, other_b = list(other_couple.partners.order_by("slot"))
    other_assignment = AssignmentFactory(couple=other_couple)
    # Alex and Sam: one session on Friday 20 Nov, both reflected (connection 7 and 5). Casey and Drew:
    # two, on Monday 16 and Friday 20 Nov, only Casey's reflections (connection 3).
    s = SessionFactory(assignment=assignment, giver=partner_a, receiver=partner_b, logged_by=partner_a)
    ReflectionFactory(session=s, partner=partner_a, role=Reflection.Role.GIVER, connection=7)
    ReflectionFactory(session=s, partner=partner_b, role=Reflection.Role.RECEIVER, connection=5)
    for day in (date(2026, 11, 16), date(2026, 11, 20)):
        o = SessionFactory(assignment=other_assignment, date=day, giver=other_a, receiver=other_b, logged_by=other_a)
        ReflectionFactory(session=o, partner=other_a, role=Reflection.Role.GIVER, connection=3)
    for weeks in ("4", "104", "4"):  # weekly, monthly, and weekly again after the monthly one
        period = period_from({"weeks": weeks}, TODAY)
        ours = trends.couple_trends(couple, period, Scope.THERAPIST)
        theirs = trends.couple_trends(other_couple, period, Scope.THERAPIST)
        assert (ours.sessions, ours.both_reflected, theirs.sessions, theirs.both_reflected) == (1, 1, 2, 0)
        [row] = [r for r in ours.rows if r.sessions]  # the week of 16 Nov, or November
        assert row.gap_giver == 7 and row.gap_receiver == 5
        assert row.connection == {(partner_a.pk, "giver"): 7, (partner_b.pk, "receiver"): 5}
        assert theirs.gave == {other_a.pk: 2}
        assert {k: v for r in theirs.rows for k, v in r.connection.items()} == {(other_a.pk, "giver"): 3}
        # What each couple see together (the appointment view), prepared too: Alex and Sam's two shared
        # reflections reveal each other; Casey's wait for Drew's (written just now, not 7 days ago).
        ours = trends.couple_trends(couple, period, Scope.SHARED)
        theirs = trends.couple_trends(other_couple, period, Scope.SHARED)
        assert (ours.sessions, theirs.sessions) == (1, 2)
        assert {k: v for r in ours.rows for k, v in r.connection.items()} == {
            (partner_a.pk, "giver"): 7,
            (partner_b.pk, "receiver"): 5,
        }
        assert {k: v for r in theirs.rows for k, v in r.connection.items()} == {}


def test_what_the_couple_see_together_reads_the_clock_each_time(couple, assignment, partner_a, partner_b):
    """Issue 16, "Fast": the shared scope's grouping of reflections is built once per process, and the
    reveal rule, which reads the clock, is added on every call. Sam's shared reflection (connection 6),
    with nothing from Alex: hidden now, counted once 7 days have passed, hidden again back now (a
    grouping that had kept its first clock would show it, or hide it, for good)."""
    s = SessionFactory(
        assignment=assignment, date=date(2026, 11, 24), giver=partner_a, receiver=partner_b, logged_by=partner_b
    )
    ReflectionFactory(session=s, partner=partner_b, role=Reflection.Role.RECEIVER, connection=6)
    period = period_from({"weeks": "4"}, TODAY)

    def connection() -> dict:
        return {k: v for r in trends.couple_trends(couple, period, Scope.SHARED).rows for k, v in r.connection.items()}

    assert connection() == {}
    with time_machine.travel(timezone.now() + REVEAL_AFTER + timedelta(minutes=1), tick=False):
        assert connection() == {(partner_b.pk, "receiver"): 6}
    assert connection() == {}
