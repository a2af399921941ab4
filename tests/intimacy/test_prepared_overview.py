"""The couple overview's queries compiled once per process (intimacy/prepared.py; issue 16, "Fast").

Each prepared query must return exactly the rows its queryset form does, and each call its own couple's,
period's and therapist's rows (in turns, so a value kept from an earlier call would show). The expected
rows are worked out by hand from the fixtures. None of these queries reads the clock: the therapist's
trends count every reflection at once (no reveal rule), so there is no moment to travel across."""

from datetime import UTC, date, datetime

import pytest

from intimacy import selectors
from intimacy.models import Alert, CheckIn, CoupleNote, Reflection, SafetyCheck, SafetyMessage, SessionDispute
from intimacy.trends import aggregation
from intimacy.trends.aggregation import NOTHING_LEFT_OUT, Scope
from intimacy.trends.period import period_from
from tests.factories import AssignmentFactory, ReflectionFactory, SessionFactory

SHARED, THERAPIST, PRIVATE = (
    Reflection.Visibility.SHARED,
    Reflection.Visibility.THERAPIST,
    Reflection.Visibility.PRIVATE,
)
GIVER, RECEIVER = Reflection.Role.GIVER, Reflection.Role.RECEIVER
TODAY = date(2026, 11, 25)
# Three whole weeks, by week (Mondays 2, 9 and 16 November); and two years, by month.
WEEKLY = period_from({"from": "2026-11-02", "to": "2026-11-22"}, TODAY)
MONTHLY = period_from({"weeks": "104"}, TODAY)


@pytest.fixture
def homework(assignment, partner_a, partner_b, outsider):
    """Alex (a) and Sam (b), and in another couple Casey (outsider) and Drew. Every visibility counts for the
    therapist (their numbers, never the words of "Just me": those stay in `selectors`); a disputed or
    withdrawn session counts for no one; sessions before 2 or after 22 November are outside WEEKLY."""

    def session(day, giver, receiver, **kwargs):
        return SessionFactory(
            assignment=assignment, date=day, giver=giver, receiver=receiver, logged_by=giver, **kwargs
        )

    first = session(date(2026, 11, 3), partner_a, partner_b)
    ReflectionFactory(session=first, partner=partner_a, role=GIVER, visibility=SHARED, connection=7)
    ReflectionFactory(
        session=first,
        partner=partner_b,
        role=RECEIVER,
        visibility=PRIVATE,
        connection=5,
        tension_before=6,
        tension_after=2,
    )
    second = session(date(2026, 11, 10), partner_b, partner_a)
    ReflectionFactory(session=second, partner=partner_a, role=RECEIVER, visibility=THERAPIST, connection=4, paused=True)
    disputed = session(date(2026, 11, 11), partner_a, partner_b)
    ReflectionFactory(session=disputed, partner=partner_a, role=GIVER, connection=1)
    SessionDispute.objects.create(session=disputed, partner=partner_b, couple=assignment.couple)
    withdrawn = session(date(2026, 11, 12), partner_a, partner_b, withdrawn_at=datetime(2026, 11, 13, tzinfo=UTC))
    ReflectionFactory(session=withdrawn, partner=partner_a, role=GIVER, connection=1)
    session(date(2026, 10, 30), partner_a, partner_b)  # before WEEKLY
    session(date(2026, 11, 23), partner_a, partner_b)  # after WEEKLY

    drew = outsider.couple.partners.exclude(pk=outsider.pk).get()
    theirs = AssignmentFactory(couple=outsider.couple)
    other = SessionFactory(assignment=theirs, date=date(2026, 11, 17), giver=outsider, receiver=drew, logged_by=drew)
    ReflectionFactory(session=other, partner=outsider, role=GIVER, connection=3)
    return {"ours": assignment, "theirs": theirs, "casey": outsider, "drew": drew}


def _sessions(couple, period):
    return aggregation._session_groups(couple, period, Scope.THERAPIST, None, NOTHING_LEFT_OUT)


def _sessions_by_queryset(couple, period):
    grouped = aggregation._grouped_sessions(Scope.THERAPIST, None, NOTHING_LEFT_OUT, period.monthly)
    return aggregation._sessions_in(grouped, couple.pk, period.start, period.end)


def _reflections(couple, period):
    return aggregation._reflection_groups(couple, period, Scope.THERAPIST, None, NOTHING_LEFT_OUT)


def _reflections_by_queryset(couple, period):
    grouped = aggregation._grouped_reflections(Scope.THERAPIST, None, NOTHING_LEFT_OUT, period.monthly)
    return aggregation._reflections_in(grouped, couple.pk, period.start, period.end)


def _comparable(groups, keys) -> list[tuple]:
    """The groups as sorted tuples, the bucket as a date (each driver gives it its own way)."""
    return sorted(tuple(aggregation._as_date(g[k]) if k == "bucket" else g[k] for k in keys) for g in groups)


SESSION_KEYS = ("bucket", "assignment_id", "giver_id", "n", "both", "giver_sum", "receiver_sum", "paused")
REFLECTION_KEYS = ("bucket", "partner_id", "role", "n", "connection_sum", "comfort_sum", "safe_sum", "relief_sum")


def test_session_groups_are_the_querysets_and_each_calls_own(homework, couple, partner_a, partner_b, other_couple):
    ours, theirs = homework["ours"].pk, homework["theirs"].pk
    a, b, casey = partner_a.pk, partner_b.pk, homework["casey"].pk
    # By hand: 3 Nov, Alex gives, both reflected (7 and 5); 10 Nov, Sam gives, only Alex's reflection, paused.
    weekly = [
        (date(2026, 11, 2), ours, a, 1, 1, 7, 5, 0),
        (date(2026, 11, 9), ours, b, 1, 0, None, None, 1),
    ]
    # By month: October has the 30th; November the 3rd and the 23rd (Alex gives) and the 10th (Sam gives).
    monthly = [
        (date(2026, 10, 1), ours, a, 1, 0, None, None, 0),
        (date(2026, 11, 1), ours, a, 2, 1, 7, 5, 0),
        (date(2026, 11, 1), ours, b, 1, 0, None, None, 1),
    ]
    theirs_weekly = [(date(2026, 11, 16), theirs, casey, 1, 0, None, None, 0)]
    assert _comparable(_sessions(couple, WEEKLY), SESSION_KEYS) == weekly
    assert _comparable(_sessions(other_couple, WEEKLY), SESSION_KEYS) == theirs_weekly
    assert _comparable(_sessions(couple, MONTHLY), SESSION_KEYS) == monthly
    assert _comparable(_sessions(couple, WEEKLY), SESSION_KEYS) == weekly
    for who, period in ((couple, WEEKLY), (couple, MONTHLY), (other_couple, WEEKLY)):
        assert _comparable(_sessions(who, period), SESSION_KEYS + ("shape",)) == _comparable(
            _sessions_by_queryset(who, period), SESSION_KEYS + ("shape",)
        )


def test_reflection_groups_are_the_querysets_and_each_calls_own(homework, couple, partner_a, partner_b, other_couple):
    a, b, casey = partner_a.pk, partner_b.pk, homework["casey"].pk
    # By hand (comfort 8 and safe 9 each, the factory's): Sam's "Just me" counts for the therapist, with
    # her relief 6 - 2; the disputed and the withdrawn sessions' reflections don't count.
    weekly = [
        (date(2026, 11, 2), a, GIVER, 1, 7, 8, 9, None),
        (date(2026, 11, 2), b, RECEIVER, 1, 5, 8, 9, 4),
        (date(2026, 11, 9), a, RECEIVER, 1, 4, 8, 9, None),
    ]
    monthly = [
        (date(2026, 11, 1), a, GIVER, 1, 7, 8, 9, None),
        (date(2026, 11, 1), a, RECEIVER, 1, 4, 8, 9, None),
        (date(2026, 11, 1), b, RECEIVER, 1, 5, 8, 9, 4),
    ]
    theirs_weekly = [(date(2026, 11, 16), casey, GIVER, 1, 3, 8, 9, None)]
    assert _comparable(_reflections(couple, WEEKLY), REFLECTION_KEYS) == weekly
    assert _comparable(_reflections(other_couple, WEEKLY), REFLECTION_KEYS) == theirs_weekly
    assert _comparable(_reflections(couple, MONTHLY), REFLECTION_KEYS) == monthly
    assert _comparable(_reflections(couple, WEEKLY), REFLECTION_KEYS) == weekly
    for who, period in ((couple, WEEKLY), (couple, MONTHLY), (other_couple, WEEKLY)):
        keys = REFLECTION_KEYS + ("relief_n",)
        assert _comparable(_reflections(who, period), keys) == _comparable(_reflections_by_queryset(who, period), keys)


def _checkin(partner, week, answers):
    happiness, warm, rewarding, satisfied = answers
    CheckIn.objects.create(
        couple=partner.couple,
        partner=partner,
        week=week,
        happiness=happiness,
        warm=warm,
        rewarding=rewarding,
        satisfied=satisfied,
        total=sum(answers),
    )


def test_checkin_groups_are_each_calls_own(couple, partner_a, partner_b, outsider, other_couple):
    _checkin(partner_a, date(2026, 10, 26), (5, 5, 5, 5))  # the week before WEEKLY
    _checkin(partner_a, date(2026, 11, 2), (4, 2, 2, 2))
    _checkin(partner_a, date(2026, 11, 9), (5, 3, 3, 3))
    _checkin(partner_b, date(2026, 11, 9), (3, 1, 1, 1))
    _checkin(outsider, date(2026, 11, 16), (3, 3, 3, 3))

    def rows(who, period):
        data = aggregation.couple_trends(who, period, Scope.THERAPIST)
        return sorted((r.bucket.start, p, r.checkin[p], r.checkin_low[p]) for r in data.rows for p in r.checkin)

    a, b = partner_a.pk, partner_b.pk
    weekly = [(date(2026, 11, 2), a, 10, 10), (date(2026, 11, 9), a, 14, 14), (date(2026, 11, 9), b, 6, 6)]
    # By month: October, Alex's 20 alone; November, Alex's 10 and 14 (mean 12, lowest 10) and Sam's 6.
    monthly = [(date(2026, 10, 1), a, 20, 20), (date(2026, 11, 1), a, 12, 10), (date(2026, 11, 1), b, 6, 6)]
    assert rows(couple, WEEKLY) == weekly
    assert rows(other_couple, WEEKLY) == [(date(2026, 11, 16), outsider.pk, 12, 12)]
    assert rows(couple, MONTHLY) == monthly
    assert rows(couple, WEEKLY) == weekly


def test_notes_are_the_periods_and_each_couples_own(couple, other_couple, therapist, other_therapist):
    def note(who, day, author):
        return CoupleNote.objects.create(couple=who, author=author, date=day, text=f"note of {day}")

    note(couple, date(2026, 11, 1), therapist)  # before WEEKLY
    late = note(couple, date(2026, 11, 22), therapist)
    early = note(couple, date(2026, 11, 2), therapist)
    note(couple, date(2026, 11, 23), therapist)  # after WEEKLY
    theirs = note(other_couple, date(2026, 11, 10), other_therapist)

    def notes(who):
        return [n.pk for n in aggregation.couple_trends(who, WEEKLY, Scope.THERAPIST).notes]

    # Oldest first, by date.
    assert notes(couple) == [early.pk, late.pk]
    assert notes(other_couple) == [theirs.pk]
    assert notes(couple) == [early.pk, late.pk]
    by_queryset = couple.notes.filter(date__gte=WEEKLY.start, date__lte=WEEKLY.end).order_by("date", "pk")
    assert notes(couple) == [n.pk for n in by_queryset]


def _alert(couple, partner, week, *, urgent=False, seen_on=None, assignment=None):
    return Alert.objects.create(
        couple=couple,
        kind=Alert.Kind.PAUSED,
        partner=partner,
        week=week,
        urgent=urgent,
        assignment=assignment,
        acknowledged_at=None if seen_on is None else datetime(2026, 11, seen_on, 12, tzinfo=UTC),
        acknowledged_by=None if seen_on is None else couple.therapist,
    )


def test_alerts_in_view_are_the_querysets_each_couples_own_with_what_they_are_about(
    assignment, couple, partner_a, partner_b, outsider, other_couple, django_assert_num_queries
):
    open_old = _alert(couple, partner_a, date(2026, 11, 2), assignment=assignment)
    open_urgent = _alert(couple, partner_b, date(2026, 10, 26), urgent=True)
    seen_first = _alert(couple, partner_a, date(2026, 10, 5), seen_on=3)
    seen_last = _alert(couple, partner_b, date(2026, 10, 12), seen_on=9, assignment=assignment)
    seen_middle = _alert(couple, partner_a, date(2026, 10, 19), seen_on=6)
    theirs_open = _alert(other_couple, outsider, date(2026, 11, 9))
    theirs_seen = _alert(other_couple, outsider, date(2026, 11, 2), seen_on=10)
    ours = {"partners": [partner_a, partner_b], "assignments": [assignment]}
    others = {"partners": list(other_couple.partners.all()), "assignments": []}

    def view(who, given):
        got = selectors.alerts_in_view(who, seen_limit=2, **given)
        return [a.pk for a in got.open], [a.pk for a in got.seen]

    # Urgent first; the latest two marked as seen, newest first (9 and 6 November), not the one of the 3rd.
    mine = ([open_urgent.pk, open_old.pk], [seen_last.pk, seen_middle.pk])
    assert view(couple, ours) == mine
    assert view(other_couple, others) == ([theirs_open.pk], [theirs_seen.pk])
    assert view(couple, ours) == mine
    assert view(couple, {}) == mine  # the queryset form
    assert seen_first.pk not in mine[1]
    # What each alert is about comes from the rows given, without a query more.
    with django_assert_num_queries(1):
        got = selectors.alerts_in_view(couple, seen_limit=2, **ours)
        assert [(a.partner, a.assignment) for a in got.open] == [(partner_b, None), (partner_a, assignment)]
        assert [(a.partner, a.assignment) for a in got.seen] == [(partner_b, assignment), (partner_a, None)]


def test_safety_messages_reach_the_couples_therapist_alone(
    couple, partner_a, partner_b, therapist, other_therapist, outsider, other_couple, django_assert_num_queries
):
    def message(who, partner, words):
        return SafetyMessage.objects.create(couple=who, partner=partner, feeling="pressured", message=words)

    first = message(couple, partner_a, "first")
    second = message(couple, partner_b, "second")
    third = message(couple, partner_a, "third")
    theirs = message(other_couple, outsider, "theirs")
    partners = [partner_a, partner_b]

    def read(who, viewer, given=None):
        return [m.pk for m in selectors.safety_messages(who, viewer, limit=2, partners=given)]

    # Newest first, the latest two; only the couple's own therapist reads them; a partner, never, not even
    # the one who wrote it.
    assert read(couple, therapist, partners) == [third.pk, second.pk]
    assert read(other_couple, other_therapist, list(other_couple.partners.all())) == [theirs.pk]
    assert read(couple, other_therapist, partners) == []
    assert read(couple, partner_a.user, partners) == []
    assert read(couple, therapist, partners) == [third.pk, second.pk]
    assert read(couple, therapist) == [third.pk, second.pk]  # the queryset form
    assert first.pk not in read(couple, therapist, partners)
    with django_assert_num_queries(1):
        got = selectors.safety_messages(couple, therapist, limit=2, partners=partners)
        assert [m.partner for m in got] == [partner_a, partner_b]


def test_touch_clearance_reads_each_couples_latest(couple, partner_a, partner_b, outsider, other_couple):
    # Each partner has one check and one screening already (the factory clears them); Alex answers three more.
    mine = [SafetyCheck.objects.create(couple=couple, partner=partner_a, **SafetyCheck.FINE) for _ in range(3)]

    def checks(who, partners, limit=3):
        return [[c.pk for c in p.checks] for p in selectors.touch_clearance(who, partners, limit=limit)]

    def by_queryset(partner, limit):
        return list(SafetyCheck.objects.filter(couple=partner.couple, partner=partner).values_list("pk", flat=True))[
            :limit
        ]

    partners = [partner_a, partner_b]
    drew = other_couple.partners.exclude(pk=outsider.pk).get()
    # Newest first: Alex's three new ones (not the factory's), Sam's one.
    expected = [[c.pk for c in reversed(mine)], by_queryset(partner_b, 3)]
    assert len(expected[1]) == 1
    assert checks(couple, partners) == expected
    assert checks(other_couple, [outsider, drew]) == [by_queryset(outsider, 3), by_queryset(drew, 3)]
    assert checks(couple, partners, limit=1) == [[mine[-1].pk], expected[1]]
    assert checks(couple, partners) == expected == [by_queryset(partner_a, 3), by_queryset(partner_b, 3)]
    screenings = [[s.pk for s in p.screenings] for p in selectors.touch_clearance(couple, partners)]
    assert screenings == [list(couple.screenings.filter(partner=p).values_list("pk", flat=True)) for p in partners]
    assert all(len(s) == 1 for s in screenings)
