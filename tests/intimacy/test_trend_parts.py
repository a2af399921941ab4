"""The therapist's trend parts (models.TrendPart, intimacy/trend_parts.py; issue 16, "Fast").

What matters: a long period's trends read from parts are exactly what grouping the sessions gives, every
write keeps the parts exact in its own transaction (tests/conftest.py also checks that after every test),
a stale part is found and rebuilt by the command, and a couple's parts go with the couple."""

from datetime import date

import pytest
import time_machine
from django.contrib import admin
from django.core.management import CommandError, call_command
from django.db import models
from django.utils import timezone

from intimacy import services, trend_parts
from intimacy.admin import ExerciseAdmin
from intimacy.models import Exercise, Session, SessionDispute, TrendPartReflections, TrendPartSessions
from intimacy.trends import Period, Scope, aggregation, couple_trends
from intimacy.trends.aggregation import LeftOut, part_of, split_by_parts
from tests.factories import ReflectionFactory, SessionFactory

D = date


@pytest.mark.parametrize(
    ("day", "part"),
    [
        (D(2026, 11, 25), (D(2026, 11, 1), D(2026, 11, 30))),
        (D(2026, 12, 31), (D(2026, 12, 1), D(2026, 12, 31))),  # the year's last day
        (D(2026, 2, 28), (D(2026, 2, 1), D(2026, 2, 28))),
        (D(2026, 3, 1), (D(2026, 3, 1), D(2026, 3, 31))),
        (D(2024, 2, 29), (D(2024, 2, 1), D(2024, 2, 29))),  # a leap day
    ],
)
def test_a_part_is_a_calendar_month(day, part):
    assert part_of(day) == part


@pytest.mark.parametrize(
    ("start", "end", "split"),
    [
        # A custom period from Monday 9 December 2024 to Wednesday 2 December 2026, two days into its month:
        # most of a month before the whole months, two days after.
        (
            D(2024, 12, 9),
            D(2026, 12, 2),
            ((D(2024, 12, 9), D(2024, 12, 31)), (D(2025, 1, 1), D(2026, 11, 30)), (D(2026, 12, 1), D(2026, 12, 2))),
        ),
        # From a month's first day to the middle of a later month: whole months, then days after.
        (D(2026, 9, 1), D(2026, 11, 20), (None, (D(2026, 9, 1), D(2026, 10, 31)), (D(2026, 11, 1), D(2026, 11, 20)))),
        # 28 October to 20 November: no whole month, all of it from the sessions.
        (D(2026, 10, 28), D(2026, 11, 20), ((D(2026, 10, 28), D(2026, 11, 20)), None, None)),
        # Within a month: the same.
        (D(2026, 11, 5), D(2026, 11, 10), ((D(2026, 11, 5), D(2026, 11, 10)), None, None)),
        # Exactly whole months.
        (D(2026, 10, 1), D(2026, 11, 30), (None, (D(2026, 10, 1), D(2026, 11, 30)), None)),
    ],
)
def test_a_period_splits_into_days_before_whole_parts_and_days_after(start, end, split):
    assert split_by_parts(start, end) == split


@pytest.fixture
def history(assignment, partner_a, partner_b, outsider):
    """Sessions on both sides of a month's start (Sat 31 Oct, Mon 2 Nov 2026) and in this month so far."""

    def give(day, giver, receiver, ratings, **receiver_fields):
        session = SessionFactory(assignment=assignment, date=day, giver=giver, receiver=receiver, logged_by=giver)
        ReflectionFactory(session=session, partner=giver, role="giver", connection=ratings[0], comfort=ratings[1])
        ReflectionFactory(session=session, partner=receiver, role="receiver", connection=ratings[2], **receiver_fields)
        return session

    other_a, other_b = outsider.couple.partners.order_by("slot")
    SessionFactory(
        assignment__couple=outsider.couple, date=D(2026, 10, 31), giver=other_a, receiver=other_b, logged_by=other_a
    )
    return {
        "oct31": give(D(2026, 10, 31), partner_a, partner_b, (8, 7, 6), comfort=5, safe=4, visibility="private"),
        "nov2": give(D(2026, 11, 2), partner_b, partner_a, (5, 6, 9), comfort=9, safe=9, paused=True),
        "nov3": give(D(2026, 11, 3), partner_a, partner_b, (7, 7, 7), comfort=6, safe=6),
        "dec1": give(D(2026, 12, 1), partner_a, partner_b, (4, 4, 4), comfort=4, safe=4),
    }


NOT_READING_PARTS = LeftOut(sessions=frozenset({-1}))
# The last 104 weeks on Wednesday 2 December 2026, as period_from gives them (tests/intimacy/test_trends.py):
# month by month, from the first of the month its first week starts in.
TWO_YEARS = Period(D(2024, 12, 1), D(2026, 12, 2), weeks=104, today=D(2026, 12, 2))


def _months(trends) -> dict:
    return {
        row.bucket.start: (row.sessions, row.both_reflected, row.paused, row.gave, row.connection, row.comfort)
        for row in trends.rows
        if row.sessions
    }


@time_machine.travel("2026-12-02 12:00:00+00:00", tick=False)
def test_two_years_from_parts_worked_by_hand(history, couple, partner_a, partner_b):
    a, b = partner_a.pk, partner_b.pk
    # Worked out by hand. October: Alex gave on the 31st, both reflected (connection 8 and 6; Sam's side is
    # "Just me", whose ratings the therapist's trends count). November: Sam gave on the 2nd (connection 5,
    # Alex 9, Alex paused), Alex on the 3rd (7 and 7). December: Alex on the 1st, this month so far (4 and 4).
    assert _months(couple_trends(couple, TWO_YEARS, Scope.THERAPIST)) == {
        D(2026, 10, 1): (1, 1, 0, {a: 1}, {(a, "giver"): 8.0, (b, "receiver"): 6.0}, {a: 7.0, b: 5.0}),
        D(2026, 11, 1): (
            2,
            2,
            1,
            {b: 1, a: 1},
            {(b, "giver"): 5.0, (a, "receiver"): 9.0, (a, "giver"): 7.0, (b, "receiver"): 7.0},
            {a: 8.0, b: 6.0},  # Alex: comfort 9 as receiver, 7 as giver; Sam: 6 as giver, 6 as receiver
        ),
        D(2026, 12, 1): (1, 1, 0, {a: 1}, {(a, "giver"): 4.0, (b, "receiver"): 4.0}, {a: 4.0, b: 4.0}),
    }
    # The parts hold October, November and December (the sessions' months). The period runs to today, so this
    # month so far is December's whole part: no session is dated after today (services refuse one).
    assert sorted(TrendPartSessions.objects.filter(couple=couple).values_list("first_day", "last_day", "n")) == [
        (D(2026, 10, 1), D(2026, 10, 31), 1),
        (D(2026, 11, 1), D(2026, 11, 30), 1),  # one row per giver: Sam's and Alex's
        (D(2026, 11, 1), D(2026, 11, 30), 1),
        (D(2026, 12, 1), D(2026, 12, 31), 1),
    ]


@time_machine.travel("2026-12-02 12:00:00+00:00", tick=False)
def test_parts_give_what_grouping_the_sessions_gives(history, couple, partner_a, partner_b, monkeypatch):
    # Another couple's, disputed and withdrawn sessions, and a custom period cutting parts at both ends.
    SessionDispute.objects.create(session=history["nov3"], partner=partner_b, couple=couple)
    withdrawn = history["oct31"]
    withdrawn.withdrawn_at = timezone.now()  # as services.session_delete withdraws one
    withdrawn.save(update_fields=["withdrawn_at"])
    periods = [
        TWO_YEARS,
        Period(D(2026, 4, 29), D(2026, 11, 4), today=D(2026, 12, 2)),
        Period(D(2026, 4, 29), D(2026, 12, 2), today=D(2026, 12, 2)),  # to today: December from its part
        Period(D(2026, 4, 29), D(2026, 11, 1), today=D(2026, 12, 2)),  # ends 1 Nov: not Sam's of the 2nd
        Period(D(2026, 4, 29), D(2026, 11, 1)),  # the same, its today unknown
    ]
    from_parts = [_months(couple_trends(couple, p, Scope.THERAPIST)) for p in periods]
    # The same periods grouped from the sessions as every other view does (with something left out, as the
    # appointment view may, the trends never read parts; a missing id leaves out nothing).
    from_sessions = [_months(couple_trends(couple, p, Scope.THERAPIST, left_out=NOT_READING_PARTS)) for p in periods]
    assert from_sessions == from_parts
    # And the union's raw side alone (every day outside a whole part) says the same.
    monkeypatch.setattr(aggregation, "split_by_parts", lambda start, end: ((start, end), None, None))
    assert [_months(couple_trends(couple, p, Scope.THERAPIST)) for p in periods] == from_parts
    # By hand: the disputed session of 3 November and the withdrawn one of 31 October are not counted.
    assert from_parts[0][D(2026, 11, 1)][0] == 1
    assert D(2026, 10, 1) not in from_parts[0]
    # Ending on 1 November, before Sam's session of the 2nd (the 3rd's is disputed): no November at all.
    assert D(2026, 11, 1) not in from_parts[3] and D(2026, 11, 1) not in from_parts[4]


@time_machine.travel("2026-12-02 12:00:00+00:00", tick=False)
def test_two_years_read_the_parts_alone(history, couple, partner_a, monkeypatch):
    """The overview's two years are whole months to today: its groups are read from the parts alone, with no
    session grouped beside them (that union was a sixth of the two-year view: issue 16)."""

    def refuse(*args, **kwargs):
        raise AssertionError("the two years' groups read the sessions")

    for reads in (aggregation.SESSION_PARTS, aggregation.REFLECTION_PARTS):
        monkeypatch.setattr(reads.with_days, "dicts", refuse)
    months = _months(couple_trends(couple, TWO_YEARS, Scope.THERAPIST))
    # By hand (as above): October, November and this month so far, December, with Alex's session of the 1st.
    assert sorted(months) == [D(2026, 10, 1), D(2026, 11, 1), D(2026, 12, 1)]
    assert months[D(2026, 12, 1)][:4] == (1, 1, 0, {partner_a.pk: 1})


def test_moving_a_session_to_another_month_moves_it_between_parts(history, couple, partner_b):
    moved = history["nov2"]
    moved.date = D(2026, 10, 30)
    moved.save(update_fields=["date", "minutes"])  # as services.session_update saves a corrected date
    # By hand: 30 October is in October's part, beside the session of the 31st; November keeps only the 3rd's.
    rows = TrendPartSessions.objects.filter(couple=couple).order_by("first_day", "giver_id")
    assert [(r.first_day, r.giver_id, r.n) for r in rows] == sorted(
        [
            (D(2026, 10, 1), history["oct31"].giver_id, 1),
            (D(2026, 10, 1), partner_b.pk, 1),
            (D(2026, 11, 1), history["nov3"].giver_id, 1),
            (D(2026, 12, 1), history["dec1"].giver_id, 1),
        ]
    )
    assert trend_parts.differences() == []


def test_a_deleted_reflection_and_a_dispute_change_their_part(history, couple, partner_a, partner_b):
    session = history["nov3"]
    session.reflections.get(partner=partner_b).delete()
    row = TrendPartSessions.objects.get(couple=couple, first_day=D(2026, 11, 1), giver_id=partner_a.pk)
    assert (row.n, row.both) == (1, 0)
    SessionDispute.objects.create(session=session, partner=partner_b, couple=couple)
    assert not TrendPartSessions.objects.filter(couple=couple, first_day=D(2026, 11, 1), giver_id=partner_a.pk)


def test_a_stale_part_is_found_and_rebuilt_by_the_command(history, couple, capsys):
    # A queryset's update sends no signal: November's and December's parts are now out of step.
    models.QuerySet(model=Session).filter(pk=history["nov3"].pk).update(date=D(2026, 12, 24))
    with pytest.raises(CommandError) as failed:
        call_command("rebuild_trend_parts", "--check")
    assert str(failed.value) == f"Trend parts differ from the sessions for couple(s): {couple.pk}"
    call_command("rebuild_trend_parts", "--couple", str(couple.pk))
    call_command("rebuild_trend_parts", "--check")
    assert "every one equals the sessions it sums" in capsys.readouterr().out
    # By hand: Alex gave on 1 December and now on the 24th; November keeps Sam's of the 2nd only.
    rows = TrendPartSessions.objects.filter(couple=couple, first_day__gte=D(2026, 11, 1)).order_by("first_day")
    assert [(r.first_day, r.giver_id, r.n) for r in rows] == [
        (D(2026, 11, 1), history["nov2"].giver_id, 1),
        (D(2026, 12, 1), history["dec1"].giver_id, 2),
    ]


def test_a_couples_parts_go_with_the_couple(history, couple, outsider):
    assert TrendPartReflections.objects.filter(couple=couple).exists()
    couple.exported_at = timezone.now()
    couple.save(update_fields=["exported_at"])
    services.couple_delete(couple=couple, confirmation=couple.label)
    assert not TrendPartSessions.objects.filter(couple_id=couple.pk).exists()
    assert not TrendPartReflections.objects.filter(couple_id=couple.pk).exists()
    assert TrendPartSessions.objects.filter(couple=outsider.couple).exists()


@time_machine.travel("2026-12-02 12:00:00+00:00", tick=False)
def test_the_months_at_both_ends_come_from_the_sessions(assignment, couple, partner_a, partner_b):
    """29 April to 20 November (monthly): May to October from their parts; 29–30 April and 1–20 November,
    parts of months the period holds only some days of, from the sessions. Alex gives on 30 April, 10 June,
    3 and 18 November."""
    ratings = {D(2026, 4, 30): (4, 2), D(2026, 6, 10): (4, 2), D(2026, 11, 3): (8, 6), D(2026, 11, 18): (5, 9)}
    for day, (giver_says, receiver_says) in ratings.items():
        session = SessionFactory(
            assignment=assignment, date=day, giver=partner_a, receiver=partner_b, logged_by=partner_a
        )
        ReflectionFactory(session=session, partner=partner_a, role="giver", connection=giver_says, comfort=7)
        ReflectionFactory(session=session, partner=partner_b, role="receiver", connection=receiver_says, comfort=6)
    period = Period(D(2026, 4, 29), D(2026, 11, 20), today=D(2026, 12, 2))
    assert period.monthly and split_by_parts(period.start, period.end) == (
        (D(2026, 4, 29), D(2026, 4, 30)),
        (D(2026, 5, 1), D(2026, 10, 31)),
        (D(2026, 11, 1), D(2026, 11, 20)),
    )
    a, b = partner_a.pk, partner_b.pk
    # By hand: April and June, one session each, Alex at 4 and Sam at 2. November, two sessions, both
    # reflected: Alex's connection as giver (8 + 5) / 2 = 6.5, Sam's as receiver (6 + 9) / 2 = 7.5; the gap
    # columns the same means. Comfort 7 and 6 throughout.
    one = (1, 1, 0, {a: 1}, {(a, "giver"): 4.0, (b, "receiver"): 2.0}, {a: 7.0, b: 6.0})
    months = {
        D(2026, 4, 1): one,
        D(2026, 6, 1): one,
        D(2026, 11, 1): (2, 2, 0, {a: 2}, {(a, "giver"): 6.5, (b, "receiver"): 7.5}, {a: 7.0, b: 6.0}),
    }
    trends = couple_trends(couple, period, Scope.THERAPIST)
    assert _months(trends) == months
    november = next(r for r in trends.rows if r.bucket.start == D(2026, 11, 1))
    assert (november.gap_giver, november.gap_receiver) == (6.5, 7.5)
    assert _months(couple_trends(couple, period, Scope.THERAPIST, left_out=NOT_READING_PARTS)) == months


def test_staff_cannot_change_the_shape_of_an_assigned_exercise(assignment, rf, staff):
    exercise_admin = ExerciseAdmin(Exercise, admin.site)
    request = rf.get("/")
    request.user = staff
    assert "shape" in exercise_admin.get_readonly_fields(request, assignment.exercise)
    unassigned = Exercise.objects.create(
        title="Unassigned", shape="talk", owner=assignment.couple.therapist, suggested_minutes=15
    )
    assert "shape" not in exercise_admin.get_readonly_fields(request, unassigned)


def test_a_full_rebuild_goes_a_few_couples_at_a_time_and_drops_rows_of_couples_gone(history, couple, monkeypatch):
    monkeypatch.setattr(trend_parts, "REBUILD_CHUNK", 1)  # one couple a transaction: both couples, in turn
    kept = sorted(TrendPartSessions.objects.values_list("couple_id", "first_day", "giver_id", "n"))
    TrendPartSessions.objects.create(
        couple_id=987654,
        first_day=D(2026, 11, 1),
        last_day=D(2026, 11, 30),
        assignment_id=1,
        giver_id=1,
        shape="touch",
        n=3,
        both=0,
        paused=0,
    )  # a row whose couple is gone (deleted without its receiver)
    # By hand: session rows: this couple's 4 (one a giver and month: November has two givers) and the other
    # couple's 1; reflection rows: a partner and role a month: 2 in October, 4 in November, 2 in December.
    assert trend_parts.rebuild() == 5 + 8
    assert sorted(TrendPartSessions.objects.values_list("couple_id", "first_day", "giver_id", "n")) == kept
    assert len(kept) == 5


def _a_week_part(couple, first: date, last: date, giver_id: int) -> None:
    """A row as the week-parts code (before migration 0024) wrote one."""
    TrendPartSessions.objects.create(
        couple=couple,
        first_day=first,
        last_day=last,
        assignment_id=1,
        giver_id=giver_id,
        shape="touch",
        n=5,
        both=0,
        paused=0,
    )


def test_a_week_part_left_by_older_code_goes_with_the_next_write_of_its_month(history, couple, partner_a):
    """A rolling upgrade past 0024: a worker of the week-parts code may still write a week part. The next
    write in that month rewrites every row inside the month, so the stray week goes too."""
    _a_week_part(couple, D(2026, 11, 9), D(2026, 11, 15), partner_a.pk)
    assert trend_parts.differences() == [couple.pk]
    reflection = history["nov3"].reflections.get(partner=partner_a)
    reflection.connection = 6
    reflection.save(update_fields=["connection"])
    assert trend_parts.differences() == []
    assert not TrendPartSessions.objects.filter(couple=couple, first_day=D(2026, 11, 9)).exists()


def test_migration_0024_writes_month_parts_and_its_reverse_empties_them(history, couple, partner_a, migration):
    from django.apps import apps

    (step,) = [op for op in migration("intimacy", "trend_parts_by_month").operations if hasattr(op, "code")]
    # Week parts, as 0023's code kept them: replaced by months.
    TrendPartSessions.objects.all().delete()
    _a_week_part(couple, D(2026, 11, 2), D(2026, 11, 8), partner_a.pk)
    step.code(apps, None)
    assert trend_parts.differences() == []
    assert not TrendPartSessions.objects.filter(last_day=D(2026, 11, 8)).exists()
    step.reverse_code(apps, None)
    assert not TrendPartSessions.objects.exists() and not TrendPartReflections.objects.exists()
    trend_parts.rebuild()  # as the suite leaves every test: parts equal to the sessions
