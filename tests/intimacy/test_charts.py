"""The charts' data (intimacy/trends/charts.py, issue 16): the y axis leaves headroom with whole ticks,
connection draws one line per partner with a view per role, and the markers are numbered in date order
for the pins and the legend beneath the charts.

Expected values are worked out by hand from the sessions each test writes down.
"""

from datetime import date

import pytest
import time_machine

from intimacy import services, trends
from intimacy.trends import Scope, period_from
from intimacy.trends.charts import MAX_BAR_STEPS, MAX_RELIEF_STEPS, nice_axis
from tests.factories import ReflectionFactory, SessionFactory

TODAY = date(2026, 11, 25)  # a Wednesday; 4 weeks: 2, 9, 16 and 23 Nov (index 0 to 3)
LONG_NOTE = "A long note " + "x" * 100


@pytest.mark.parametrize(
    ("highest", "steps", "expected"),
    [
        (0, MAX_BAR_STEPS, (1, 1)),  # nothing done: 0 to 1, not a flat line at the top
        (3, MAX_BAR_STEPS, (1, 4)),  # 4 is the first whole number above 3
        (5, MAX_BAR_STEPS, (1, 6)),  # six steps of 1: still allowed
        (6, MAX_BAR_STEPS, (2, 8)),  # 7 would be seven steps of 1: steps of 2, and 8 is the first above 6
        (12, MAX_BAR_STEPS, (5, 15)),  # 13 in 1s and 14 in 2s are too many steps; 15 in 5s is three
        (9, MAX_RELIEF_STEPS, (5, 10)),  # relief of 9: −10, −5, 0, 5, 10
        (4, MAX_RELIEF_STEPS, (2, 6)),  # 5 would be five steps of 1: −6 … 6 in 2s
        (2.5, MAX_RELIEF_STEPS, (1, 3)),
    ],
)
def test_nice_axis_is_whole_and_above_the_highest(highest, steps, expected):
    assert nice_axis(highest, steps) == expected


@pytest.fixture
def busy_weeks(therapist, couple, assignment, partner_a, partner_b):
    """Alex (A) and Sam (B), 2 a week, with notes and pauses in the same and neighbouring weeks.

    Week of 2 Nov:  S1 Tue 3 Nov A gave: A giver 6; B receiver 8, tension 7→3 (relief 4).
                    S2 Wed 4 Nov A gave: A giver 4.
                    S3 Thu 5 Nov B gave: B giver 4; A receiver 9, paused.
                    Notes on 3 Nov ("Riley raised money") and 4 Nov (LONG_NOTE).
    Week of 9 Nov:  S4 Tue 10 Nov B gave: B giver 7, paused. Note on 11 Nov ("Discuss pausing safely").
    """
    a, b = partner_a, partner_b

    def session(day, giver, receiver):
        return SessionFactory(assignment=assignment, date=day, giver=giver, receiver=receiver, logged_by=giver)

    s1 = session(date(2026, 11, 3), a, b)
    ReflectionFactory(session=s1, partner=a, role="giver", connection=6)
    ReflectionFactory(session=s1, partner=b, role="receiver", connection=8, tension_before=7, tension_after=3)
    s2 = session(date(2026, 11, 4), a, b)
    ReflectionFactory(session=s2, partner=a, role="giver", connection=4)
    s3 = session(date(2026, 11, 5), b, a)
    ReflectionFactory(session=s3, partner=b, role="giver", connection=4)
    ReflectionFactory(session=s3, partner=a, role="receiver", connection=9, paused=True)
    s4 = session(date(2026, 11, 10), b, a)
    ReflectionFactory(session=s4, partner=b, role="giver", connection=7, paused=True)
    with time_machine.travel("2026-11-25 12:00:00+00:00", tick=False):
        services.note_add(couple=couple, author=therapist, day=date(2026, 11, 11), text="Discuss pausing safely")
        services.note_add(couple=couple, author=therapist, day=date(2026, 11, 4), text=LONG_NOTE)
        services.note_add(couple=couple, author=therapist, day=date(2026, 11, 3), text="Riley raised money")
    return a, b


def _charts(couple, scope=Scope.THERAPIST, **kwargs):
    data = trends.couple_trends(couple, period_from({"weeks": "4"}, TODAY), scope, **kwargs)
    return data, {c["id"]: c for c in trends.couple_charts(data)}


def test_bars_leave_a_step_of_headroom_with_whole_ticks(couple, busy_weeks):
    _data, charts = _charts(couple)
    # Week of 2 Nov: three sessions against a target of 2, the highest stack; the first whole step above is 4.
    assert [charts["sessions"][k] for k in ("min", "max", "step")] == [0, 4, 1]
    # Alex gave 2 and Sam 1 that week: a stack of 3 again.
    assert [charts["reciprocity"][k] for k in ("min", "max", "step")] == [0, 4, 1]
    # Ratings keep their scale in whole steps; relief is symmetric about zero: Sam's 7 − 3 = 4 is the
    # largest, and five steps of 1 is one too many a side, so −6 … 6 in 2s (never 10, 6, 2, −2).
    assert [charts["connection"][k] for k in ("min", "max", "step")] == [0, 10, 1]  # the 0–10 scale
    assert [charts["relief"][k] for k in ("min", "max", "step")] == [-6, 6, 2]
    assert [charts["completion"][k] for k in ("min", "max", "step")] == [0, 100, 25]


def test_connection_is_one_line_per_partner_with_a_view_per_role(couple, busy_weeks):
    _data, charts = _charts(couple)
    connection = charts["connection"]
    # Week of 2 Nov: Alex 6 and 4 giving, 9 receiving: (6 + 4 + 9) / 3 = 6.33 → 6.3; Sam 8 receiving and
    # 4 giving: 6.0. Week of 9 Nov: Sam 7 giving; Alex nothing.
    assert [(s["label"], s["values"]) for s in connection["series"]] == [
        ("Alex", [6.3, None, None, None]),
        ("Sam", [6.0, 7.0, None, None]),
    ]
    views = {v["key"]: (v["label"], [(s["label"], s["values"][:2]) for s in v["series"]]) for v in connection["views"]}
    assert views == {
        "all": ("All roles", [("Alex", [6.3, None]), ("Sam", [6.0, 7.0])]),
        "giver": ("As giver", [("Alex", [5.0, None]), ("Sam", [4.0, 7.0])]),  # Alex: (6 + 4) / 2
        "receiver": ("As receiver", [("Alex", [9.0, None]), ("Sam", [8.0, None])]),
    }
    # The table keeps every number: each partner over all roles, then each partner in each role.
    assert connection["columns"] == [
        "Alex, all roles",
        "Sam, all roles",
        "Alex, giving",
        "Alex, receiving",
        "Sam, giving",
        "Sam, receiving",
    ]
    assert connection["rows"][:2] == [
        ["2 Nov", 6.3, 6.0, 5.0, 9.0, 4.0, 8.0],
        ["9 Nov", None, 7.0, None, None, 7.0, None],
    ]


def test_connection_with_one_role_needs_no_toggle(couple, assignment, partner_a, partner_b):
    s = SessionFactory(
        assignment=assignment, date=date(2026, 11, 3), giver=partner_a, receiver=partner_b, logged_by=partner_a
    )
    ReflectionFactory(session=s, partner=partner_a, role="giver", connection=6)
    _data, charts = _charts(couple)
    connection = charts["connection"]
    assert connection["views"] == []
    assert connection["columns"] == ["Alex, giving"]
    assert connection["rows"][0] == ["2 Nov", 6.0]


def test_a_partners_own_page_draws_only_their_own_line(couple, busy_weeks):
    _a, b = busy_weeks
    _data, charts = _charts(couple, Scope.OWN, viewer_partner=b)
    connection = charts["connection"]
    # Sam's own: 8 receiving and 4 giving in the week of 2 Nov (6.0), 7 giving the week after. Alex's
    # ratings are nowhere in Sam's chart, not in a view, not in the table.
    assert [(s["label"], s["values"][:2]) for s in connection["series"]] == [("You", [6.0, 7.0])]
    assert [v["key"] for v in connection["views"]] == ["all", "giver", "receiver"]
    assert connection["columns"] == ["All roles", "When giving", "When receiving"]
    assert connection["rows"][:2] == [["2 Nov", 6.0, 4.0, 8.0], ["9 Nov", 7.0, 7.0, None]]


def test_markers_are_numbered_in_date_order(couple, busy_weeks):
    data, _charts_ = _charts(couple)
    # Week of 2 Nov (index 0): its paused session (dated by the week's Monday), then the notes of 3 and
    # 4 Nov; the week of 9 Nov (index 1): its paused session, then the note of 11 Nov.
    assert trends.markers(data) == [
        {
            "number": 1,
            "index": 0,
            "kind": "paused",
            "date": "2026-11-02",
            "when": "Week of 2 Nov",
            "label": "1 session paused or stopped early",
            "count": 1,
        },
        {
            "number": 2,
            "index": 0,
            "kind": "note",
            "date": "2026-11-03",
            "when": "3 Nov",
            "label": "Riley raised money",
            "count": 1,
        },
        # 80 characters at most: 79 of the note and an ellipsis.
        {
            "number": 3,
            "index": 0,
            "kind": "note",
            "date": "2026-11-04",
            "when": "4 Nov",
            "label": LONG_NOTE[:79] + "…",
            "count": 1,
        },
        {
            "number": 4,
            "index": 1,
            "kind": "paused",
            "date": "2026-11-09",
            "when": "Week of 9 Nov",
            "label": "1 session paused or stopped early",
            "count": 1,
        },
        {
            "number": 5,
            "index": 1,
            "kind": "note",
            "date": "2026-11-11",
            "when": "11 Nov",
            "label": "Discuss pausing safely",
            "count": 1,
        },
    ]


def test_no_markers_on_what_the_couple_see(couple, busy_weeks):
    _a, b = busy_weeks
    shared, _ = _charts(couple, Scope.SHARED)
    own, _ = _charts(couple, Scope.OWN, viewer_partner=b)
    assert trends.markers(shared) == [] and trends.markers(own) == []


def test_only_the_charts_asked_for_are_built_and_they_are_the_same(couple, busy_weeks):
    # issue 16, "Fast": the overview builds only the charts it may show. busy_weeks has ratings, relief,
    # both reflections and no check-in, so the full set (worked out by hand) is every chart but "checkin".
    data, every = _charts(couple)
    assert list(every) == ["sessions", "reciprocity", "connection", "comfort", "relief", "gap", "completion"]
    some = trends.couple_charts(data, only=frozenset({"connection", "sessions", "checkin"}))
    assert [c["id"] for c in some] == ["sessions", "connection"]  # in the pages' order; no check-in to draw
    assert some == [every["sessions"], every["connection"]]
