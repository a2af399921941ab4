"""The "Needs attention" rules, worked out by hand around Wednesday 25 November 2026.

Calendar used throughout (the couple lives in Europe/London):
- today is Wed 25 Nov; its ISO week starts Mon 23 Nov, so alerts "for this week" carry 23 Nov;
- "the last 14 days" runs from Wed 11 Nov (14 days back, included) to today; Tue 10 Nov is 15 days back;
- the last 3 complete weeks are Mon 2 Nov - Sun 22 Nov, the 3 before them Mon 12 Oct - Sun 1 Nov;
- "the last 21 days" starts Wed 4 Nov, "the last 28 days" Wed 28 Oct.
"""

import io
import uuid
from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from intimacy import services
from intimacy.alerts import (
    ABOUT,
    SENTENCES,
    About,
    Action,
    alert_acknowledge,
    alert_sentence,
    alerts_raise,
    sessions_awaiting_reflection,
)
from intimacy.models import Alert, Assignment, ReflectionDecline, Session, SessionDispute
from tests.factories import AssignmentFactory, ReflectionFactory, SessionFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 25)
THIS_WEEK = date(2026, 11, 23)
NOW = "2026-11-25 12:00:00+00:00"

NO_SESSION = Alert.Kind.NO_SESSION
CONNECTION_DOWN = Alert.Kind.CONNECTION_DOWN
PAUSED = Alert.Kind.PAUSED
LOW_COMFORT = Alert.Kind.LOW_COMFORT
LOW_SAFE = Alert.Kind.LOW_SAFE
ONE_SIDED = Alert.Kind.ONE_SIDED
AWAITING = Alert.Kind.AWAITING
PERCEPTION_GAP = Alert.Kind.PERCEPTION_GAP
TENSION_WORSE = Alert.Kind.TENSION_WORSE


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def rub(assignment, day, giver, receiver, *, giver_says=None, receiver_says=None, missing=(), withdrawn=False):
    """A session with both partners' reflections (connection 7, comfort 8, safe 9 unless told otherwise).

    `missing` names the roles ("giver", "receiver") that have not reflected yet.
    """
    session = SessionFactory(
        assignment=assignment,
        date=day,
        giver=giver,
        receiver=receiver,
        logged_by=giver,
        withdrawn_at=timezone.now() if withdrawn else None,
    )
    for partner, role, says in ((giver, "giver", giver_says), (receiver, "receiver", receiver_says)):
        if role not in missing:
            ReflectionFactory(session=session, partner=partner, role=role, **(says or {}))
    return session


def stored(couple):
    """Every alert of the couple as (kind, partner, week, urgent), in a fixed order."""
    return [(a.kind, a.partner, a.week, a.urgent) for a in Alert.objects.filter(couple=couple).order_by("kind", "week")]


def summary(alerts, kind=None):
    """The alerts as (kind, partner, week, urgent), sorted; only those of `kind` if given (for worlds
    that also raise another rule on purpose, e.g. one partner giving every time)."""
    rows = ((a.kind, a.partner, a.week, a.urgent) for a in alerts if kind in (None, a.kind))
    return sorted(rows, key=lambda t: (t[0], t[2]))


# No session for 14 days -------------------------------------------------------------------------------


class TestNoSession:
    def test_last_session_15_days_ago_raises_for_the_couple(self, couple, assignment, partner_a, partner_b):
        rub(assignment, date(2026, 11, 10), partner_a, partner_b)
        new = alerts_raise(couple=couple)
        assert summary(new) == [(NO_SESSION, None, THIS_WEEK, False)]
        assert stored(couple) == [(NO_SESSION, None, THIS_WEEK, False)]

    def test_a_session_exactly_14_days_ago_still_counts(self, couple, assignment, partner_a, partner_b):
        rub(assignment, date(2026, 11, 11), partner_a, partner_b)
        assert alerts_raise(couple=couple) == []

    def test_an_assignment_needs_14_days_before_it_can_be_idle(self, couple, partner_a, partner_b):
        AssignmentFactory(couple=couple, starts_on=date(2026, 11, 12))  # 13 days ago
        assert alerts_raise(couple=couple) == []
        AssignmentFactory(couple=couple, starts_on=date(2026, 11, 11))  # 14 days ago
        assert stored(couple) == [] and summary(alerts_raise(couple=couple)) == [(NO_SESSION, None, THIS_WEEK, False)]

    @pytest.mark.parametrize(
        "change",
        [
            {"status": Assignment.Status.PAUSED},
            {"status": Assignment.Status.ENDED},
            {"ends_on": date(2026, 11, 24)},  # ended yesterday, status never changed
        ],
    )
    def test_only_running_assignments_count(self, couple, partner_a, partner_b, change):
        AssignmentFactory(couple=couple, **change)
        assert alerts_raise(couple=couple) == []

    def test_a_withdrawn_session_is_no_session(self, couple, assignment, partner_a, partner_b):
        rub(assignment, date(2026, 11, 20), partner_a, partner_b, withdrawn=True)
        assert summary(alerts_raise(couple=couple)) == [(NO_SESSION, None, THIS_WEEK, False)]

    def test_uses_the_passed_in_today(self, couple, assignment, partner_a, partner_b):
        rub(assignment, date(2026, 11, 20), partner_a, partner_b)
        # Sat 5 Dec: 15 days after the session; its week starts Mon 30 Nov.
        assert summary(alerts_raise(couple=couple, today=date(2026, 12, 5))) == [
            (NO_SESSION, None, date(2026, 11, 30), False)
        ]


# Connection down ------------------------------------------------------------------------------------------


def connection_as(assignment, sam, alex, role, before, last):
    """Sam's connection ratings in one role: `before` on days from Mon 12 Oct, `last` on days from
    Wed 11 Nov (Alex, in the other role, rates 7)."""
    for start, ratings in ((date(2026, 10, 12), before), (date(2026, 11, 11), last)):
        for i, rating in enumerate(ratings):
            says = {"connection": rating}
            if role == "giver":
                rub(assignment, start + timedelta(days=i), sam, alex, giver_says=says)
            else:
                rub(assignment, start + timedelta(days=i), alex, sam, receiver_says=says)


class TestConnectionDown:
    @pytest.mark.parametrize("role", ["giver", "receiver"])
    @pytest.mark.parametrize(
        ("before", "last", "raises"),
        [
            ([7, 7, 7], [5, 5, 5], True),  # 7 - 5 = 2.0
            # 11/3 - 5/3 = 2 exactly, though 3.666… - 1.666… in floating point is 1.999…
            ([4, 4, 3], [2, 2, 1], True),
            ([6, 6, 6], [4, 4, 4, 4, 4, 4, 4, 4, 4, 5], False),  # 6 - 41/10 = 1.9
            ([7, 7, 7], [6, 6, 6], False),
            # Fewer than 3 ratings on either side is not a trend, however steep (changed in issue 14).
            ([9, 9], [1, 1, 1], False),
            ([9, 9, 9], [1, 1], False),
        ],
    )
    def test_a_drop_of_2_points_over_3_ratings_each_side_raises(
        self, couple, assignment, partner_a, partner_b, role, before, last, raises
    ):
        connection_as(assignment, partner_b, partner_a, role, before, last)
        expected = [(CONNECTION_DOWN, partner_b, THIS_WEEK, False)] if raises else []
        # Sam always in one role: one-sided giving is raised too, and is not this test's business.
        assert summary(alerts_raise(couple=couple), CONNECTION_DOWN) == expected

    def test_giving_is_compared_with_giving_and_receiving_with_receiving(
        self, couple, assignment, partner_a, partner_b
    ):
        # Sam received at 8 before and gave at 5 lately: mixed, 8 - 5 = 3 would raise (it did before
        # issue 14); by role, neither side has ratings in both windows.
        connection_as(assignment, partner_b, partner_a, "receiver", [8, 8, 8], [])
        connection_as(assignment, partner_b, partner_a, "giver", [], [5, 5, 5])
        assert alerts_raise(couple=couple) == []
        # Now Sam's giving drops too (7, 7, 7 before against the 5, 5, 5): 2 points, one alert.
        for day in (19, 20, 21):
            rub(assignment, date(2026, 10, day), partner_b, partner_a, giver_says={"connection": 7})
        assert summary(alerts_raise(couple=couple)) == [(CONNECTION_DOWN, partner_b, THIS_WEEK, False)]

    def test_the_current_week_does_not_count(self, couple, assignment, partner_a, partner_b):
        connection_as(assignment, partner_b, partner_a, "giver", [7, 7, 7], [7, 7, 7])
        for day in (23, 24, 25):
            rub(assignment, date(2026, 11, day), partner_b, partner_a, giver_says={"connection": 0})
        assert summary(alerts_raise(couple=couple), CONNECTION_DOWN) == []

    def test_the_windows_are_six_complete_weeks(self, couple, assignment, partner_a, partner_b):
        # Sam gives throughout. Sun 11 Oct falls outside: counted, it would make the earlier mean
        # (0 + 6 + 6 + 9) / 4 = 5.25 and there would be no drop.
        ratings = {(10, 11): 0, (10, 12): 6, (10, 13): 6, (11, 1): 9, (11, 2): 4, (11, 3): 5, (11, 22): 6}
        for (month, day), rating in ratings.items():
            rub(assignment, date(2026, month, day), partner_b, partner_a, giver_says={"connection": rating})
        # Sun 1 Nov is the last day of the earlier window, Mon 2 Nov the first of the later one:
        # earlier (6 + 6 + 9) / 3 = 7, later (4 + 5 + 6) / 3 = 5, down 2. Were 1 Nov in the later
        # window, the earlier would hold 2 ratings only.
        assert summary(alerts_raise(couple=couple)) == [(CONNECTION_DOWN, partner_b, THIS_WEEK, False)]


# Paused or stopped ------------------------------------------------------------------------------------------


class TestPaused:
    def test_a_paused_session_raises_in_its_own_week(self, couple, assignment, partner_a, partner_b):
        rub(assignment, date(2026, 11, 17), partner_a, partner_b, receiver_says={"paused": True})
        assert summary(alerts_raise(couple=couple)) == [(PAUSED, partner_b, date(2026, 11, 16), False)]

    def test_14_days_back_counts_and_15_does_not(self, couple, assignment, partner_a, partner_b):
        rub(assignment, date(2026, 11, 10), partner_a, partner_b, receiver_says={"paused": True})  # Sam's
        rub(assignment, date(2026, 11, 11), partner_b, partner_a, receiver_says={"paused": True})  # Alex's
        assert summary(alerts_raise(couple=couple)) == [(PAUSED, partner_a, date(2026, 11, 9), False)]

    def test_two_pauses_in_one_week_are_one_alert(self, couple, assignment, partner_a, partner_b):
        rub(assignment, date(2026, 11, 23), partner_a, partner_b, receiver_says={"paused": True})
        rub(assignment, date(2026, 11, 24), partner_a, partner_b, receiver_says={"paused": True})
        assert stored(couple) == [] and summary(alerts_raise(couple=couple)) == [(PAUSED, partner_b, THIS_WEEK, False)]

    def test_both_partners_saying_we_paused_is_one_alert(self, couple, assignment, partner_a, partner_b):
        # One pause, two accounts of it: before issue 14, one alert per partner. Named after Alex, who
        # said it first (the giver's reflection is written first here), and linked to the session.
        paused = {"paused": True}
        session = rub(assignment, date(2026, 11, 24), partner_a, partner_b, giver_says=paused, receiver_says=paused)
        assert summary(alerts_raise(couple=couple)) == [(PAUSED, partner_a, THIS_WEEK, False)]
        assert Alert.objects.get().session == session

    def test_a_second_account_written_later_raises_nothing(self, couple, assignment, partner_a, partner_b):
        session = rub(
            assignment, date(2026, 11, 24), partner_a, partner_b, receiver_says={"paused": True}, missing=["giver"]
        )
        assert summary(alerts_raise(couple=couple)) == [(PAUSED, partner_b, THIS_WEEK, False)]
        ReflectionFactory(session=session, partner=partner_a, role="giver", paused=True)
        assert alerts_raise(couple=couple) == []

    def test_two_paused_sessions_told_by_each_partner_are_two_alerts(self, couple, assignment, partner_a, partner_b):
        rub(assignment, date(2026, 11, 23), partner_a, partner_b, receiver_says={"paused": True})
        rub(assignment, date(2026, 11, 24), partner_b, partner_a, receiver_says={"paused": True})
        assert summary(alerts_raise(couple=couple)) == [
            (PAUSED, partner_a, THIS_WEEK, False),
            (PAUSED, partner_b, THIS_WEEK, False),
        ]


# Low comfort: an ordinary alert since comfort and safe became two questions ---------------------------------


class TestLowComfort:
    def test_comfort_3_raises_an_ordinary_alert(self, couple, assignment, partner_a, partner_b):
        # Shy or awkward is worth a word in the next appointment, not an urgent email (safe stays 9).
        rub(assignment, date(2026, 11, 24), partner_a, partner_b, giver_says={"comfort": 3})
        assert summary(alerts_raise(couple=couple)) == [(LOW_COMFORT, partner_a, THIS_WEEK, False)]

    def test_comfort_4_does_not(self, couple, assignment, partner_a, partner_b):
        rub(assignment, date(2026, 11, 24), partner_a, partner_b, giver_says={"comfort": 4})
        assert alerts_raise(couple=couple) == []

    def test_15_days_back_is_not_recent(self, couple, assignment, partner_a, partner_b):
        rub(assignment, date(2026, 11, 10), partner_a, partner_b, receiver_says={"comfort": 0, "safe": 0})
        rub(assignment, date(2026, 11, 20), partner_a, partner_b)
        assert alerts_raise(couple=couple) == []

    def test_a_just_me_reflection_still_raises(self, couple, assignment, partner_a, partner_b):
        # The words of a "Just me" reflection are the partner's; its ratings are the therapist's.
        rub(assignment, date(2026, 11, 12), partner_a, partner_b, receiver_says={"comfort": 2, "visibility": "private"})
        assert summary(alerts_raise(couple=couple)) == [(LOW_COMFORT, partner_b, date(2026, 11, 9), False)]

    def test_a_withdrawn_session_is_ignored(self, couple, assignment, partner_a, partner_b):
        rub(
            assignment,
            date(2026, 11, 24),
            partner_a,
            partner_b,
            receiver_says={"comfort": 0, "safe": 0},
            withdrawn=True,
        )
        # The only session is withdrawn, so the assignment is idle as well.
        assert summary(alerts_raise(couple=couple)) == [(NO_SESSION, None, THIS_WEEK, False)]


# Low "safe": the urgent one ----------------------------------------------------------------------------------


class TestLowSafe:
    def test_safe_3_raises_an_urgent_alert(self, couple, assignment, partner_a, partner_b):
        # Comfortable enough (8) yet not safe: the safe rating alone decides.
        rub(assignment, date(2026, 11, 24), partner_a, partner_b, receiver_says={"safe": 3})
        assert summary(alerts_raise(couple=couple)) == [(LOW_SAFE, partner_b, THIS_WEEK, True)]

    def test_safe_4_does_not(self, couple, assignment, partner_a, partner_b):
        rub(assignment, date(2026, 11, 24), partner_a, partner_b, receiver_says={"safe": 4})
        assert alerts_raise(couple=couple) == []

    def test_both_low_raise_both_and_only_safe_is_urgent(self, couple, assignment, partner_a, partner_b):
        rub(assignment, date(2026, 11, 24), partner_a, partner_b, giver_says={"comfort": 1, "safe": 2, "paused": True})
        assert summary(alerts_raise(couple=couple)) == [
            (LOW_COMFORT, partner_a, THIS_WEEK, False),
            (LOW_SAFE, partner_a, THIS_WEEK, True),
            (PAUSED, partner_a, THIS_WEEK, False),
        ]

    def test_a_just_me_reflection_still_raises(self, couple, assignment, partner_a, partner_b):
        rub(assignment, date(2026, 11, 12), partner_a, partner_b, receiver_says={"safe": 0, "visibility": "private"})
        assert summary(alerts_raise(couple=couple)) == [(LOW_SAFE, partner_b, date(2026, 11, 9), True)]

    def test_15_days_back_is_not_recent(self, couple, assignment, partner_a, partner_b):
        rub(assignment, date(2026, 11, 10), partner_a, partner_b, receiver_says={"safe": 0})
        rub(assignment, date(2026, 11, 20), partner_a, partner_b)
        assert alerts_raise(couple=couple) == []


# One-sided giving -------------------------------------------------------------------------------------------


def turns(assignment, givers, a, b, first=date(2026, 11, 10), **kwargs):
    """One session a day from `first`, given by a or b as the string says ("abbb…"), oldest first."""
    for i, who in enumerate(givers):
        giver, receiver = (a, b) if who == "a" else (b, a)
        rub(assignment, first + timedelta(days=i), giver, receiver, **kwargs)


class TestOneSided:
    def test_7_of_the_last_8_raises_for_the_giver(self, couple, assignment, partner_a, partner_b):
        turns(assignment, "bbbabbbb", partner_a, partner_b)
        assert summary(alerts_raise(couple=couple)) == [(ONE_SIDED, partner_b, THIS_WEEK, False)]

    def test_6_of_8_is_75_percent_and_does_not(self, couple, assignment, partner_a, partner_b):
        turns(assignment, "bbabbabb", partner_a, partner_b)
        assert alerts_raise(couple=couple) == []

    def test_only_the_last_8_count(self, couple, assignment, partner_a, partner_b):
        # 10 of 12 overall (83 %), but 6 of the last 8.
        turns(assignment, "bbbb" + "bbabbabb", partner_a, partner_b, first=date(2026, 11, 6))
        assert alerts_raise(couple=couple) == []

    def test_needs_8_sessions(self, couple, assignment, partner_a, partner_b):
        turns(assignment, "bbbbbbb", partner_a, partner_b)
        assert alerts_raise(couple=couple) == []

    def test_only_under_take_turns(self, couple, partner_a, partner_b):
        either = AssignmentFactory(couple=couple, giver_plan=Assignment.GiverPlan.EITHER)
        turns(either, "bbbbbbbb", partner_a, partner_b)
        assert alerts_raise(couple=couple) == []

    def test_withdrawn_sessions_are_skipped(self, couple, assignment, partner_a, partner_b):
        turns(assignment, "bbbbbbba", partner_a, partner_b)
        # Counted, the withdrawn one would push b's share of the last 8 down to 6.
        rub(assignment, date(2026, 11, 24), partner_a, partner_b, withdrawn=True)
        assert summary(alerts_raise(couple=couple)) == [(ONE_SIDED, partner_b, THIS_WEEK, False)]


# Reflections awaiting -----------------------------------------------------------------------------------


class TestAwaiting:
    def test_3_sessions_of_the_last_21_days_without_the_partners_reflection_raise(
        self, couple, assignment, partner_a, partner_b
    ):
        # Wed 4 Nov is 21 days before Wed 25 Nov: the first day counted.
        rub(assignment, date(2026, 11, 4), partner_a, partner_b, missing=["receiver"])
        rub(assignment, date(2026, 11, 21), partner_b, partner_a, missing=["giver"])
        newest = rub(assignment, date(2026, 11, 20), partner_a, partner_b, missing=["receiver"])  # logged last
        rub(assignment, date(2026, 11, 22), partner_a, partner_b, missing=["giver"])  # Alex's, not Sam's
        assert summary(alerts_raise(couple=couple)) == [(AWAITING, partner_b, THIS_WEEK, False)]
        # It leads to the session logged last of those waiting.
        assert Alert.objects.get().session == newest

    def test_older_sessions_do_not_count(self, couple, assignment, partner_a, partner_b):
        # Tue 3 Nov is 22 days back; before issue 14 any old session counted.
        rub(assignment, date(2026, 11, 3), partner_a, partner_b, missing=["receiver"])
        rub(assignment, date(2026, 9, 1), partner_a, partner_b, missing=["receiver"])
        rub(assignment, date(2026, 11, 20), partner_a, partner_b, missing=["receiver"])
        rub(assignment, date(2026, 11, 21), partner_b, partner_a, missing=["giver"])
        assert alerts_raise(couple=couple) == []

    def test_a_session_the_partner_declined_to_reflect_on_is_not_waiting(
        self, couple, assignment, partner_a, partner_b
    ):
        # Three of Sam's sessions lack her reflection, but she said "I won't reflect on this one" on one:
        # two are waiting, one short of the three the rule needs.
        declined = rub(assignment, date(2026, 11, 19), partner_a, partner_b, missing=["receiver"])
        rub(assignment, date(2026, 11, 20), partner_a, partner_b, missing=["receiver"])
        rub(assignment, date(2026, 11, 21), partner_b, partner_a, missing=["giver"])
        ReflectionDecline.objects.create(session=declined, partner=partner_b)
        assert alerts_raise(couple=couple) == []

    def test_2_do_not(self, couple, assignment, partner_a, partner_b):
        rub(assignment, date(2026, 11, 20), partner_a, partner_b, missing=["receiver"])
        rub(assignment, date(2026, 11, 21), partner_b, partner_a, missing=["giver"])
        assert alerts_raise(couple=couple) == []

    def test_the_same_sessions_are_not_raised_again_next_week(self, couple, assignment, partner_a, partner_b):
        for day in (18, 19, 20):
            rub(assignment, date(2026, 11, day), partner_a, partner_b, missing=["receiver"])
        assert summary(alerts_raise(couple=couple)) == [(AWAITING, partner_b, THIS_WEEK, False)]
        # A week later the three still wait (and are within 21 days of Wed 2 Dec): nothing new.
        with time_machine.travel("2026-12-02 12:00:00+00:00", tick=False):
            assert alerts_raise(couple=couple) == []
            # A fourth waiting session, logged after that alert, raises it again in this week.
            fourth = rub(assignment, date(2026, 12, 1), partner_a, partner_b, missing=["receiver"])
            assert summary(alerts_raise(couple=couple)) == [(AWAITING, partner_b, date(2026, 11, 30), False)]
        assert Alert.objects.get(week=date(2026, 11, 30)).session == fourth

    def test_not_for_a_partner_who_has_not_joined_yet(self, couple, assignment, partner_a, partner_b):
        partner_b.accepted_at = None
        partner_b.save()
        for day in (18, 19, 20):
            rub(assignment, date(2026, 11, day), partner_a, partner_b, missing=["receiver"])
        assert alerts_raise(couple=couple) == []

    def test_withdrawn_sessions_do_not_count(self, couple, assignment, partner_a, partner_b):
        rub(assignment, date(2026, 11, 20), partner_a, partner_b, missing=["receiver"])
        rub(assignment, date(2026, 11, 21), partner_a, partner_b, missing=["receiver"])
        rub(assignment, date(2026, 11, 22), partner_a, partner_b, missing=["receiver"], withdrawn=True)
        assert alerts_raise(couple=couple) == []

    def test_the_waiting_helper(self, couple, assignment, partner_a, partner_b):
        waiting = rub(assignment, date(2026, 11, 20), partner_a, partner_b, missing=["receiver"])
        rub(assignment, date(2026, 11, 21), partner_a, partner_b)
        disputed = rub(assignment, date(2026, 11, 22), partner_a, partner_b, missing=["receiver"])
        SessionDispute.objects.create(session=disputed, partner=partner_b, couple=couple)
        sessions = Session.objects.filter(assignment=assignment)
        assert list(sessions_awaiting_reflection(sessions, partner_b)) == [waiting]
        assert list(sessions_awaiting_reflection(sessions, partner_a)) == []


# Perception gap ------------------------------------------------------------------------------------------

GIVER_WELL = {"connection": 8, "presence": 7, "giving_felt": 9}
TOO_FIRM = {"pressure": "firm"}


def gap_rub(assignment, day, giver, receiver, receiver_says, giver_says=GIVER_WELL, **kwargs):
    return rub(assignment, day, giver, receiver, giver_says=giver_says, receiver_says=receiver_says, **kwargs)


class TestPerceptionGap:
    def test_2_of_the_last_3_raise_for_the_receiver(self, couple, assignment, partner_a, partner_b):
        gap_rub(assignment, date(2026, 11, 18), partner_a, partner_b, TOO_FIRM)
        gap_rub(assignment, date(2026, 11, 20), partner_a, partner_b, {"pressure": "right"})
        latest = gap_rub(assignment, date(2026, 11, 22), partner_a, partner_b, {"pace": "fast"})
        assert summary(alerts_raise(couple=couple), PERCEPTION_GAP) == [
            (PERCEPTION_GAP, partner_b, date(2026, 11, 16), False)
        ]
        assert Alert.objects.get().session == latest

    def test_1_of_3_does_not(self, couple, assignment, partner_a, partner_b):
        gap_rub(assignment, date(2026, 11, 18), partner_a, partner_b, TOO_FIRM)
        gap_rub(assignment, date(2026, 11, 20), partner_a, partner_b, {"pace": "slow"})
        gap_rub(assignment, date(2026, 11, 22), partner_a, partner_b, {"pressure": "light"})
        assert summary(alerts_raise(couple=couple), PERCEPTION_GAP) == []

    def test_only_the_last_3_with_both_reflections_count(self, couple, assignment, partner_a, partner_b):
        gap_rub(assignment, date(2026, 11, 12), partner_a, partner_b, TOO_FIRM)
        gap_rub(assignment, date(2026, 11, 13), partner_a, partner_b, TOO_FIRM)
        for day in (18, 19, 20):
            gap_rub(assignment, date(2026, 11, day), partner_a, partner_b, {})
        # Newer, but without the giver's reflection: not among the 3.
        gap_rub(assignment, date(2026, 11, 23), partner_a, partner_b, TOO_FIRM, missing=["giver"])
        assert summary(alerts_raise(couple=couple), PERCEPTION_GAP) == []

    @pytest.mark.parametrize(
        ("before", "after", "gap"),
        [(5, 5, True), (5, 6, True), (5, 4, False)],  # relief 0 and -1 are none; 1 is some
    )
    def test_no_relief_counts(self, couple, assignment, partner_a, partner_b, before, after, gap):
        for day in (20, 22):
            gap_rub(
                assignment,
                date(2026, 11, day),
                partner_a,
                partner_b,
                {"tension_before": before, "tension_after": after},
            )
        expected = [(PERCEPTION_GAP, partner_b, date(2026, 11, 16), False)] if gap else []
        assert summary(alerts_raise(couple=couple), PERCEPTION_GAP) == expected

    @pytest.mark.parametrize(
        ("giver_says", "gap"),
        [
            ({"connection": 7}, True),  # presence and giving_felt unanswered: connection alone
            ({"connection": 6, "presence": 9, "giving_felt": 9}, False),
            ({"connection": 9, "presence": 6}, False),
            ({"connection": 9, "giving_felt": 6}, False),
        ],
    )
    def test_the_giver_rated_it_7_or_more(self, couple, assignment, partner_a, partner_b, giver_says, gap):
        for day in (20, 22):
            gap_rub(assignment, date(2026, 11, day), partner_a, partner_b, TOO_FIRM, giver_says=giver_says)
        expected = [(PERCEPTION_GAP, partner_b, date(2026, 11, 16), False)] if gap else []
        assert summary(alerts_raise(couple=couple), PERCEPTION_GAP) == expected

    def test_the_last_28_days_only(self, couple, assignment, partner_a, partner_b):
        # Tue 27 Oct is 29 days back, Wed 28 Oct 28 days (counted).
        gap_rub(assignment, date(2026, 10, 27), partner_a, partner_b, TOO_FIRM)
        gap_rub(assignment, date(2026, 11, 20), partner_a, partner_b, TOO_FIRM)
        assert summary(alerts_raise(couple=couple), PERCEPTION_GAP) == []
        gap_rub(assignment, date(2026, 10, 28), partner_a, partner_b, TOO_FIRM)
        assert summary(alerts_raise(couple=couple), PERCEPTION_GAP) == [
            (PERCEPTION_GAP, partner_b, date(2026, 11, 16), False)
        ]

    def test_the_same_sessions_are_one_alert_not_one_a_week(self, couple, assignment, partner_a, partner_b):
        for day in (20, 22):
            gap_rub(assignment, date(2026, 11, day), partner_a, partner_b, TOO_FIRM)
        assert len(alerts_raise(couple=couple)) == 1
        # Wed 2 Dec: both sessions are still within 28 days, and still the latest: nothing new.
        with time_machine.travel("2026-12-02 12:00:00+00:00", tick=False):
            assert summary(alerts_raise(couple=couple), PERCEPTION_GAP) == []
            # Another such session this week is new: raised in its week.
            gap_rub(assignment, date(2026, 12, 1), partner_a, partner_b, TOO_FIRM)
            assert summary(alerts_raise(couple=couple), PERCEPTION_GAP) == [
                (PERCEPTION_GAP, partner_b, date(2026, 11, 30), False)
            ]

    def test_each_receiver_on_their_own(self, couple, assignment, partner_a, partner_b):
        gap_rub(assignment, date(2026, 11, 20), partner_a, partner_b, TOO_FIRM)
        gap_rub(assignment, date(2026, 11, 22), partner_b, partner_a, TOO_FIRM)
        assert summary(alerts_raise(couple=couple), PERCEPTION_GAP) == []

    def test_a_just_me_reflection_counts(self, couple, assignment, partner_a, partner_b):
        private = {**TOO_FIRM, "visibility": "private"}
        for day in (20, 22):
            gap_rub(assignment, date(2026, 11, day), partner_a, partner_b, private)
        assert summary(alerts_raise(couple=couple), PERCEPTION_GAP) == [
            (PERCEPTION_GAP, partner_b, date(2026, 11, 16), False)
        ]


# Tension worse ------------------------------------------------------------------------------------------


def tension(assignment, day, giver, receiver, before, after):
    return rub(assignment, day, giver, receiver, receiver_says={"tension_before": before, "tension_after": after})


class TestTensionWorse:
    def test_twice_in_a_row_raises_in_the_latest_sessions_week(self, couple, assignment, partner_a, partner_b):
        tension(assignment, date(2026, 11, 13), partner_a, partner_b, 3, 4)
        latest = tension(assignment, date(2026, 11, 20), partner_a, partner_b, 3, 6)
        assert summary(alerts_raise(couple=couple), TENSION_WORSE) == [
            (TENSION_WORSE, partner_b, date(2026, 11, 16), False)
        ]
        alert = Alert.objects.get(kind=TENSION_WORSE)
        assert (alert.session, alert.assignment) == (latest, assignment)

    @pytest.mark.parametrize(("older", "newer"), [((3, 4), (4, 4)), ((4, 4), (3, 4)), ((5, 2), (3, 4))])
    def test_not_when_either_is_not_worse(self, couple, assignment, partner_a, partner_b, older, newer):
        tension(assignment, date(2026, 11, 13), partner_a, partner_b, *older)
        tension(assignment, date(2026, 11, 20), partner_a, partner_b, *newer)
        assert summary(alerts_raise(couple=couple), TENSION_WORSE) == []

    def test_only_the_last_two_that_answered_both(self, couple, assignment, partner_a, partner_b):
        tension(assignment, date(2026, 11, 12), partner_a, partner_b, 3, 4)
        tension(assignment, date(2026, 11, 13), partner_a, partner_b, 3, 4)
        rub(assignment, date(2026, 11, 18), partner_a, partner_b, receiver_says={"tension_before": 3})  # skipped
        tension(assignment, date(2026, 11, 20), partner_a, partner_b, 5, 2)
        assert summary(alerts_raise(couple=couple), TENSION_WORSE) == []

    def test_not_once_it_is_older_than_14_days(self, couple, assignment, partner_a, partner_b):
        tension(assignment, date(2026, 11, 3), partner_a, partner_b, 3, 4)
        tension(assignment, date(2026, 11, 10), partner_a, partner_b, 3, 4)  # 15 days back
        rub(assignment, date(2026, 11, 20), partner_a, partner_b)  # not idle
        assert summary(alerts_raise(couple=couple), TENSION_WORSE) == []

    def test_each_partner_as_receiver_on_their_own(self, couple, assignment, partner_a, partner_b):
        tension(assignment, date(2026, 11, 13), partner_a, partner_b, 3, 4)
        tension(assignment, date(2026, 11, 20), partner_b, partner_a, 3, 4)
        assert summary(alerts_raise(couple=couple), TENSION_WORSE) == []


# What each alert leads to ------------------------------------------------------------------------------------


class TestAbout:
    def test_every_kind_says_what_it_is_about(self):
        assert set(ABOUT) == set(Alert.Kind)
        assert {about for about, _ in ABOUT.values()} <= {
            About.SESSION,
            About.ASSIGNMENT,
            About.TRENDS,
            About.CHECKIN,
            About.NOTHING,
        }

    def test_the_checkin_kinds_lead_to_the_checkin_panel(self):
        for kind in (Alert.Kind.CHECKIN_DROP, Alert.Kind.CHECKIN_BELOW, Alert.Kind.CHECKIN_APART):
            assert ABOUT[kind] == (About.CHECKIN, (Action.NOTE,))

    def test_a_low_rating_leads_to_its_session_and_exercise(self, couple, assignment, partner_a, partner_b):
        session = rub(assignment, date(2026, 11, 24), partner_a, partner_b, giver_says={"comfort": 1})
        alerts_raise(couple=couple)
        alert = Alert.objects.get()
        assert (alert.session, alert.assignment) == (session, assignment)

    def test_an_idle_exercise_leads_to_the_exercise(self, couple, assignment, partner_a, partner_b):
        alerts_raise(couple=couple)
        alert = Alert.objects.get()
        assert (alert.kind, alert.session, alert.assignment) == (NO_SESSION, None, assignment)

    def test_a_disputed_session_leads_to_the_session(self, couple, session, partner_b):
        services.session_dispute(session=session, partner=partner_b)
        alert = Alert.objects.get(kind=Alert.Kind.DISPUTED)
        assert (alert.session, alert.assignment) == (session, session.assignment)

    def test_a_deleted_session_leaves_the_alert(self, couple, assignment, partner_a, partner_b):
        session = rub(assignment, date(2026, 11, 24), partner_a, partner_b, giver_says={"comfort": 1})
        alerts_raise(couple=couple)
        session.delete()
        assert Alert.objects.get(kind=LOW_COMFORT).session is None


# Raising once, acknowledging, who gets alerts ------------------------------------------------------------


class TestRaising:
    def test_raising_twice_stores_one_row(self, couple, assignment, partner_a, partner_b):
        rub(assignment, date(2026, 11, 24), partner_a, partner_b, giver_says={"comfort": 1})
        assert len(alerts_raise(couple=couple)) == 1
        assert alerts_raise(couple=couple) == []
        assert Alert.objects.count() == 1

    def test_several_rules_at_once(self, couple, assignment, partner_a, partner_b):
        rub(assignment, date(2026, 11, 9), partner_a, partner_b, giver_says={"comfort": 2}, missing=["receiver"])
        rub(assignment, date(2026, 11, 8), partner_a, partner_b, missing=["receiver"])
        rub(assignment, date(2026, 11, 7), partner_b, partner_a, receiver_says={"paused": True}, missing=["giver"])
        # Last session 16 days ago: idle; pause and low comfort are too old; Sam owes three reflections.
        assert summary(alerts_raise(couple=couple)) == [
            (AWAITING, partner_b, THIS_WEEK, False),
            (NO_SESSION, None, THIS_WEEK, False),
        ]

    def test_an_acknowledged_alert_stays_and_is_not_raised_again_that_week(
        self, couple, therapist, assignment, partner_a, partner_b
    ):
        alerts_raise(couple=couple)
        alert = Alert.objects.get()
        alert_acknowledge(alert=alert, by=therapist, note="Called them.")
        assert alerts_raise(couple=couple) == []
        with time_machine.travel("2026-12-02 12:00:00+00:00", tick=False):
            assert summary(alerts_raise(couple=couple)) == [(NO_SESSION, None, date(2026, 11, 30), False)]
        assert stored(couple) == [(NO_SESSION, None, THIS_WEEK, False), (NO_SESSION, None, date(2026, 11, 30), False)]
        alert.refresh_from_db()
        assert alert.acknowledgement == "Called them." and alert.acknowledged_by == therapist

    @pytest.mark.parametrize("status", ["paused", "closed"])
    def test_paused_and_closed_couples_get_none(self, couple, assignment, partner_a, partner_b, status):
        rub(assignment, date(2026, 11, 10), partner_a, partner_b, giver_says={"comfort": 0})
        couple.status = status
        couple.save()
        assert alerts_raise(couple=couple) == []
        assert not Alert.objects.exists()

    def test_another_couples_sessions_do_not_count(self, couple, assignment, partner_a, partner_b, outsider):
        theirs = AssignmentFactory(couple=outsider.couple)
        drew = outsider.couple.partners.exclude(pk=outsider.pk).get()
        rub(assignment, date(2026, 11, 24), partner_a, partner_b)
        rub(theirs, date(2026, 11, 24), outsider, drew, giver_says={"comfort": 0, "safe": 0}, missing=["receiver"])
        assert alerts_raise(couple=couple) == []

    def test_sentences_name_the_partner(self, couple, assignment, partner_a, partner_b):
        rub(assignment, date(2026, 11, 24), partner_a, partner_b, receiver_says={"comfort": 3, "safe": 3})
        alerts_raise(couple=couple)
        AssignmentFactory(couple=couple, giver_plan=Assignment.GiverPlan.EITHER)  # idle since 1 January
        alerts_raise(couple=couple)
        low = Alert.objects.get(kind=LOW_COMFORT)
        assert alert_sentence(low) == "Sam rated comfort 3 or lower in a recent session."
        unsafe = Alert.objects.get(kind=LOW_SAFE)
        assert alert_sentence(unsafe) == "Sam rated feeling safe 3 or lower in a recent session."
        idle = Alert.objects.get(kind=NO_SESSION)
        assert alert_sentence(idle) == "No session has been logged for an active exercise in the last 14 days."
        assert set(SENTENCES) == set(Alert.Kind)

    @pytest.mark.parametrize(
        ("kind", "sentence"),
        [
            (
                CONNECTION_DOWN,
                "Sam's connection ratings over the last 3 weeks are 2 points or more below the 3 weeks before,"
                " in the same role (at least 3 ratings in each).",
            ),
            (AWAITING, "Sam has 3 or more sessions from the last 21 days still waiting for their reflection."),
            (
                PERCEPTION_GAP,
                "In 2 of Sam's last 3 sessions as receiver where both reflected (last 28 days), Sam found the"
                " pressure too firm or the pace too fast, or felt no relief, while the giver rated connection (and"
                " presence and how it felt to give, where answered) 7 or more.",
            ),
            (TENSION_WORSE, "Sam's tension was higher after the session than before, 2 times in a row as receiver."),
        ],
    )
    def test_sentences_quote_the_thresholds(self, couple, partner_b, kind, sentence):
        alert = Alert.objects.create(couple=couple, kind=kind, partner=partner_b, week=THIS_WEEK)
        assert alert_sentence(alert) == sentence


@pytest.mark.parametrize("sessions", [2, 30])
def test_query_count_does_not_grow_with_the_history(
    couple, assignment, partner_a, partner_b, sessions, django_assert_num_queries
):
    # One session a day back from yesterday, givers alternating, both reflections; the newest
    # with Alex's safe rating at 2, so each size raises exactly one alert.
    for i in range(sessions):
        giver, receiver = (partner_a, partner_b) if i % 2 == 0 else (partner_b, partner_a)
        rub(
            assignment,
            date(2026, 11, 24) - timedelta(days=i),
            giver,
            receiver,
            giver_says={"safe": 2 if i == 0 else 9},
        )
    # savepoint (a transaction outside tests); partners with their awaiting counts, newest waiting
    # session and last such alert; any idle assignment; connection per partner and role over six weeks;
    # the recent pauses, low comfort and low safe ratings (one query for the three kinds); the latest
    # sessions under "take turns"; the last 28 days' reflections (perception gap); each receiver's last
    # two tension answers; the couple's check-ins (once, for the three check-in rules); alerts stored
    # for these weeks; the insert; then, since a low "safe" rating puts the couple's touch exercises on
    # hold (intimacy/holds.py), in the same transaction: the new alert read back; any open hold;
    # savepoint; the hold; its audit row; release savepoint; and release
    with django_assert_num_queries(18):
        assert summary(alerts_raise(couple=couple)) == [(LOW_SAFE, partner_a, THIS_WEEK, True)]
    # Again: nothing new, so no insert.
    with django_assert_num_queries(11):
        assert alerts_raise(couple=couple) == []


# Acknowledging ---------------------------------------------------------------------------------------------


@pytest.fixture
def alert(couple, partner_b):
    return Alert.objects.create(couple=couple, kind=LOW_SAFE, partner=partner_b, week=THIS_WEEK, urgent=True)


class TestAcknowledge:
    def test_records_who_when_and_the_note(self, alert, therapist):
        alert_acknowledge(alert=alert, by=therapist, note="  Discussed in session.  ")
        alert.refresh_from_db()
        assert alert.acknowledged_at == timezone.now()
        assert alert.acknowledged_by == therapist
        assert alert.acknowledgement == "Discussed in session."
        assert not Alert.objects.open().exists()

    def test_twice_keeps_the_first(self, alert, therapist):
        alert_acknowledge(alert=alert, by=therapist, note="First.")
        with time_machine.travel("2026-11-26 09:00:00+00:00", tick=False):
            alert_acknowledge(alert=Alert.objects.get(pk=alert.pk), by=therapist, note="Second.")
            # A stale copy, as from a second browser tab, cannot overwrite it either.
            stale = Alert.objects.get(pk=alert.pk)
            stale.acknowledged_at = None
            alert_acknowledge(alert=stale, by=therapist, note="Third.")
        assert stale.acknowledgement == "First."
        alert.refresh_from_db()
        assert (alert.acknowledged_at, alert.acknowledgement) == (timezone.now(), "First.")

    def test_the_note_is_at_most_300_characters(self, alert, therapist):
        alert_acknowledge(alert=alert, by=therapist, note="x" * 300)
        with pytest.raises(ValidationError):
            alert_acknowledge(
                alert=Alert.objects.create(couple=alert.couple, kind=PAUSED, week=THIS_WEEK),
                by=therapist,
                note="x" * 301,
            )

    def test_only_the_couples_therapist(self, alert, other_therapist):
        with pytest.raises(PermissionDenied):
            alert_acknowledge(alert=alert, by=other_therapist, note="")
        assert Alert.objects.open().count() == 1


# The hook in the services, and the cron command ------------------------------------------------------------


class TestHook:
    def test_logging_low_safe_raises_an_urgent_alert(self, couple, assignment, partner_a, partner_b):
        services.session_log(
            assignment=assignment,
            partner=partner_b,
            day=TODAY,
            minutes=15,
            role="receiver",
            answers={"connection": 6, "comfort": 7, "safe": 2},
            idempotency_key=uuid.uuid4(),
        )
        assert stored(couple) == [(LOW_SAFE, partner_b, THIS_WEEK, True)]

    def test_adding_a_paused_reflection_raises(self, couple, session, partner_b):
        services.reflection_add(
            session=session, partner=partner_b, answers={"connection": 5, "comfort": 6, "safe": 6, "paused": True}
        )
        # The fixture's session is on Fri 20 Nov, in the week of Mon 16 Nov.
        assert stored(couple) == [(PAUSED, partner_b, date(2026, 11, 16), False)]

    def test_moving_the_only_session_back_makes_the_couple_idle(self, couple, session, partner_a):
        services.session_update(session=session, partner=partner_a, day=date(2026, 11, 10), minutes=15)
        assert stored(couple) == [(NO_SESSION, None, THIS_WEEK, False)]

    def test_deleting_the_only_session_makes_the_couple_idle(self, couple, session, partner_a):
        services.session_delete(session=session, partner=partner_a)
        assert stored(couple) == [(NO_SESSION, None, THIS_WEEK, False)]


class TestCheckAlertsCommand:
    def test_raises_for_an_idle_couple_and_prints_a_bare_number(self, couple, assignment, partner_a, partner_b):
        out = io.StringIO()
        call_command("check_alerts", stdout=out)
        assert out.getvalue() == "1\n"
        assert stored(couple) == [(NO_SESSION, None, THIS_WEEK, False)]
        out = io.StringIO()
        call_command("check_alerts", stdout=out)
        assert out.getvalue() == "0\n"

    def test_skips_couples_that_are_not_active(self, couple, assignment, partner_a, partner_b):
        couple.status = "paused"
        couple.save()
        out = io.StringIO()
        call_command("check_alerts", stdout=out)
        assert out.getvalue() == "0\n"
        assert not Alert.objects.exists()
