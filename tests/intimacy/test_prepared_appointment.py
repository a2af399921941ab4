"""The appointment view's timeline by prepared queries (`selectors.appointment_sessions_page`, issue 16).

What matters: the page holds exactly what `couple_sessions_page(shared_only=True)` gives the therapist
(worked out by hand below, then compared with that ORM form too), for every visibility and reveal
state; each call reads its own couple, therapist, page and moment, never an earlier call's; the pager
picks pages as `Paginator.get_page` does."""

import contextlib
from datetime import UTC, date, datetime
from unittest import mock

import pytest
import time_machine

from accounts.models import Partner
from intimacy import selectors
from intimacy.models import AppointmentExclusion, ReflectionDecline, Session
from intimacy.trends.aggregation import NOTHING_LEFT_OUT, LeftOut
from tests.factories import (
    AssignmentFactory,
    CoupleFactory,
    ExerciseFactory,
    PartnerFactory,
    ReflectionFactory,
    SessionFactory,
)

pytestmark = pytest.mark.django_db

SHARED, THERAPIST, PRIVATE = "shared", "therapist", "private"
START, END = date(2026, 3, 1), date(2026, 3, 31)
# Every reflection below is written at WRITTEN unless said otherwise; the page is read at NOW, two days
# later, so only a reflection written before EARLY is revealed by time alone (models.REVEAL_AFTER, 7 days).
WRITTEN = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
NOW = datetime(2026, 3, 12, 12, 0, tzinfo=UTC)
EARLY = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)


def _session(assignment, day: int, a: Partner, b: Partner, **extra) -> Session:
    return SessionFactory(assignment=assignment, date=date(2026, 3, day), giver=a, receiver=b, logged_by=a, **extra)


def _reflect(session: Session, partner: Partner, visibility: str, **extra):
    role = "giver" if partner.pk == session.giver_id else "receiver"
    return ReflectionFactory(session=session, partner=partner, role=role, visibility=visibility, **extra)


@pytest.fixture
def story(therapist, assignment, partner_a, partner_b):
    """Alex (giver) and Sam (receiver), one session a day, newest first on the page:

    8 Mar  both shared                                 -> both cards
    7 Mar  withdrawn by its logger, both shared        -> not listed
    6 Mar  Alex shared; Sam kept hers for the therapist -> Alex's waits (a therapist-only one reveals nothing)
    5 Mar  Alex shared; Sam said she won't reflect      -> Alex's card
    4 Mar  Alex "Just me"; Sam shared                   -> Sam's waits
    3 Mar  Sam shared, written EARLY (9 days before NOW)   -> revealed by time alone
    2 Mar  both shared, Sam's left out for today        -> Alex's card (Sam's only when nothing is left out)
    """
    rows = {}
    with time_machine.travel(EARLY, tick=False):
        s3 = _session(assignment, 3, partner_a, partner_b)
        rows["sam_3"] = _reflect(s3, partner_b, SHARED)
    with time_machine.travel(WRITTEN, tick=False):
        s8 = _session(assignment, 8, partner_a, partner_b)
        rows["alex_8"], rows["sam_8"] = _reflect(s8, partner_a, SHARED), _reflect(s8, partner_b, SHARED)
        s7 = _session(assignment, 7, partner_a, partner_b, withdrawn_at=WRITTEN)
        _reflect(s7, partner_a, SHARED), _reflect(s7, partner_b, SHARED)
        s6 = _session(assignment, 6, partner_a, partner_b)
        rows["alex_6"], rows["sam_6"] = _reflect(s6, partner_a, SHARED), _reflect(s6, partner_b, THERAPIST)
        s5 = _session(assignment, 5, partner_a, partner_b)
        rows["alex_5"] = _reflect(s5, partner_a, SHARED)
        ReflectionDecline.objects.create(session=s5, partner=partner_b)
        s4 = _session(assignment, 4, partner_a, partner_b)
        rows["alex_4"], rows["sam_4"] = _reflect(s4, partner_a, PRIVATE), _reflect(s4, partner_b, SHARED)
        s2 = _session(assignment, 2, partner_a, partner_b)
        rows["alex_2"], rows["sam_2"] = _reflect(s2, partner_a, SHARED), _reflect(s2, partner_b, SHARED)
    rows.update(s8=s8, s6=s6, s5=s5, s4=s4, s3=s3, s2=s2)
    return rows


def _known(couple) -> selectors.Known:
    assignments = {a.pk: a for a in couple.assignments.select_related("exercise")}
    return selectors.Known({p.pk: p for p in couple.partners.all()}, assignments)


def _prepared(couple, viewer, page=None, per_page=10, left_out=NOTHING_LEFT_OUT, now=NOW, start=START, end=END):
    # The ORM form only where the prepared queries can't be (sessions left out: a list of ids).
    orm = mock.patch.object(selectors, "couple_sessions_page", side_effect=AssertionError("read by the ORM form"))
    # The reveal rule's moment: the clock's, read on each call.
    with time_machine.travel(now, tick=False), contextlib.nullcontext() if left_out.sessions else orm:
        return selectors.appointment_sessions_page(
            couple, viewer, page, per_page, start=start, end=end, left_out=left_out, known=_known(couple)
        )


def _orm(couple, viewer, page=None, per_page=10, left_out=NOTHING_LEFT_OUT, now=NOW, start=START, end=END):
    with time_machine.travel(now, tick=False):
        return selectors.couple_sessions_page(
            couple, viewer, page, per_page, start=start, end=end, shared_only=True, left_out=left_out
        )


def _pk(reflection):
    return reflection.pk if reflection is not None else None


def _seen(page) -> list[tuple]:
    """Each session as the page shows it: (session, giver's card, receiver's card, giver waits, receiver waits)."""
    return [
        (s.pk, _pk(s.giver_reflection), _pk(s.receiver_reflection), s.giver_waiting, s.receiver_waiting)
        for s in page.object_list
    ]


def _pager(page) -> tuple:
    return page.number, page.paginator.count, page.paginator.num_pages


def test_the_page_is_what_both_shared_and_revealed(therapist, assignment, story):
    r = story
    expected = [
        (r["s8"].pk, r["alex_8"].pk, r["sam_8"].pk, False, False),
        (r["s6"].pk, None, None, True, False),
        (r["s5"].pk, r["alex_5"].pk, None, False, False),
        (r["s4"].pk, None, None, False, True),
        (r["s3"].pk, None, r["sam_3"].pk, False, False),
        (r["s2"].pk, r["alex_2"].pk, r["sam_2"].pk, False, False),
    ]
    couple = assignment.couple
    page = _prepared(couple, therapist)
    assert _seen(page) == expected
    assert _pager(page) == (1, 6, 1)
    assert _seen(_orm(couple, therapist)) == expected
    # Whole rows, their partners and assignment attached, the words readable (all shared).
    top = page.object_list[0]
    assert (top.giver.name, top.receiver.name, top.shape) == ("Alex", "Sam", "touch")
    assert top.giver_reflection.partner.name == "Alex" and top.giver_reflection.show_text


def test_a_reflection_left_out_is_not_on_the_page(therapist, assignment, story):
    r = story
    left_out = LeftOut(reflections=frozenset({r["sam_2"].pk}))
    couple = assignment.couple
    last = _seen(_prepared(couple, therapist, left_out=left_out))[-1]
    assert last == (r["s2"].pk, r["alex_2"].pk, None, False, False)
    assert _seen(_prepared(couple, therapist, left_out=left_out)) == _seen(_orm(couple, therapist, left_out=left_out))


def test_a_session_left_out_is_read_as_before(therapist, assignment, story):
    # A list of ids changes the query's shape: the ORM form reads it, with the same result.
    r = story
    left_out = LeftOut(sessions=frozenset({r["s8"].pk, r["s5"].pk}))
    couple = assignment.couple
    page = _prepared(couple, therapist, left_out=left_out)
    assert [row[0] for row in _seen(page)] == [r["s6"].pk, r["s4"].pk, r["s3"].pk, r["s2"].pk]
    assert _pager(page) == (1, 4, 1)
    assert _seen(page) == _seen(_orm(couple, therapist, left_out=left_out))


@pytest.mark.parametrize(
    ("asked", "number", "days"),
    [
        # Six sessions, two a page: 8 and 6 Mar, 5 and 4 Mar, 3 and 2 Mar.
        (None, 1, [8, 6]),
        ("2", 2, [5, 4]),
        (3, 3, [3, 2]),
        ("9", 3, [3, 2]),  # past the last page: the last, as Paginator.get_page gives it
        ("0", 3, [3, 2]),
        ("-1", 3, [3, 2]),
        ("x", 1, [8, 6]),  # not a number: the first
        ("2.0", 1, [8, 6]),
        (2.0, 2, [5, 4]),
        ("99999999999999999999", 3, [3, 2]),
    ],
)
def test_pages_are_picked_as_the_paginator_picks_them(therapist, assignment, story, asked, number, days):
    couple = assignment.couple
    page = _prepared(couple, therapist, page=asked, per_page=2)
    assert [s.date.day for s in page.object_list] == days
    assert _pager(page) == (number, 6, 3)
    assert _seen(page) == _seen(_orm(couple, therapist, page=asked, per_page=2))
    assert _pager(page) == _pager(_orm(couple, therapist, page=asked, per_page=2))


def test_an_empty_period_is_one_empty_page(therapist, assignment, story):
    page = _prepared(assignment.couple, therapist, page="3", start=date(2026, 4, 1), end=date(2026, 4, 30))
    assert list(page.object_list) == [] and _pager(page) == (1, 0, 1)


def _second_couple(therapist):
    couple = CoupleFactory(therapist=therapist, label="Robin & Kim")
    robin = PartnerFactory(couple=couple, slot=1, name="Robin")
    kim = PartnerFactory(couple=couple, slot=2, name="Kim")
    assignment = AssignmentFactory(couple=couple)
    with time_machine.travel(WRITTEN, tick=False):
        s = _session(assignment, 8, robin, kim)
        robins, kims = _reflect(s, robin, SHARED), _reflect(s, kim, SHARED)
    return couple, s, robins, kims


def test_each_call_reads_its_own_couple_therapist_and_page(therapist, other_therapist, assignment, story):
    r = story
    ours = assignment.couple
    theirs, s, robins, kims = _second_couple(therapist)
    first_page = [(r["s8"].pk, r["alex_8"].pk, r["sam_8"].pk, False, False), (r["s6"].pk, None, None, True, False)]
    # In turns: a value kept from an earlier call would show.
    assert _seen(_prepared(ours, therapist, per_page=2)) == first_page
    assert _seen(_prepared(theirs, therapist, per_page=2)) == [(s.pk, robins.pk, kims.pk, False, False)]
    assert [row[0] for row in _seen(_prepared(ours, therapist, page=3, per_page=2))] == [r["s3"].pk, r["s2"].pk]
    assert _seen(_prepared(ours, therapist, per_page=2)) == first_page
    # Another therapist reads none of this couple's sessions: the therapist is a slot too.
    other = _prepared(ours, other_therapist)
    assert list(other.object_list) == [] and _pager(other) == (1, 0, 1)
    assert _seen(_prepared(ours, therapist, per_page=2)) == first_page


def test_a_shared_reflection_waits_seven_days_by_each_calls_moment(therapist, assignment, partner_a, partner_b):
    """Sam shares her side on 2 Mar at noon; Alex writes nothing. It shows 7 days later, not before:
    by the moment of each call, not by the first call's (the reveal rule's cutoff is a slot)."""
    with time_machine.travel(datetime(2026, 3, 2, 12, 0, tzinfo=UTC), tick=False):
        s = _session(assignment, 2, partner_a, partner_b)
        sams = _reflect(s, partner_b, SHARED)
    waiting, shown = [(s.pk, None, None, False, True)], [(s.pk, None, sams.pk, False, False)]
    six_days, eight_days = datetime(2026, 3, 8, 12, 0, tzinfo=UTC), datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    couple = assignment.couple
    assert _seen(_prepared(couple, therapist, now=six_days)) == waiting
    assert _seen(_prepared(couple, therapist, now=eight_days)) == shown
    assert _seen(_prepared(couple, therapist, now=six_days)) == waiting
    assert _seen(_orm(couple, therapist, now=six_days)) == waiting
    assert _seen(_orm(couple, therapist, now=eight_days)) == shown


def test_a_session_outside_its_assignments_dates_still_gets_its_assignment(therapist, partner_a, partner_b):
    # The trends hold the period's assignments only; one whose dates miss the period is read, once.
    ended = AssignmentFactory(couple=partner_a.couple, starts_on=date(2026, 1, 1), ends_on=date(2026, 1, 31))
    s = _session(ended, 4, partner_a, partner_b)
    known = selectors.Known({p.pk: p for p in (partner_a, partner_b)}, {})
    page = selectors.appointment_sessions_page(partner_a.couple, therapist, None, 10, start=START, end=END, known=known)
    (listed,) = page.object_list
    assert listed.pk == s.pk and listed.assignment.pk == ended.pk and listed.shape == "touch"


def test_the_view_shows_the_same_page(client_for, therapist, assignment, story):
    # Through the view (its own period: 12 weeks back from today in the couple's time zone).
    with time_machine.travel(NOW, tick=False):
        response = client_for(therapist).get(f"/couples/{assignment.couple_id}/appointment/", {"weeks": "4"})
    page = response.context["page"]
    assert [row[0] for row in _seen(page)] == [story[k].pk for k in ("s8", "s6", "s5", "s4", "s3", "s2")]
    assert _seen(page)[1] == (story["s6"].pk, None, None, True, False)


# What is left out of today's appointment, and the couple's partners and assignments -----------------


def _exclusions_orm(couple, day) -> tuple[set, set]:
    rows = AppointmentExclusion.objects.filter(couple=couple, day=day)
    return {r.session_id for r in rows if r.session_id}, {r.reflection_id for r in rows if r.reflection_id}


def test_left_out_is_each_couples_of_each_day(therapist, assignment, story):
    r = story
    ours = assignment.couple
    theirs, s, robins, _ = _second_couple(therapist)
    today, tomorrow = date(2026, 3, 12), date(2026, 3, 13)
    for row in (
        {"couple": ours, "day": today, "session": r["s8"]},
        {"couple": ours, "day": today, "reflection": r["sam_2"]},
        {"couple": ours, "day": tomorrow, "reflection": r["alex_5"]},
        {"couple": theirs, "day": today, "reflection": robins},
    ):
        AppointmentExclusion.objects.create(**row)
    expected = {
        (ours.pk, today): LeftOut(frozenset({r["s8"].pk}), frozenset({r["sam_2"].pk})),
        (theirs.pk, today): LeftOut(frozenset(), frozenset({robins.pk})),
        (ours.pk, tomorrow): LeftOut(frozenset(), frozenset({r["alex_5"].pk})),
    }
    # In turns: couples and days.
    for couple, day in ((ours, today), (theirs, today), (ours, tomorrow), (ours, today)):
        got = selectors.appointment_left_out(couple, day)
        assert got == expected[(couple.pk, day)]
        assert (set(got.sessions), set(got.reflections)) == _exclusions_orm(couple, day)
    assert selectors.appointment_left_out(theirs, tomorrow) == NOTHING_LEFT_OUT


def _rows_as_read(couple) -> tuple[list, list]:
    partners, assignments = selectors.appointment_couple_rows(couple)
    return (
        [(p.pk, p.name, p.couple.pk) for p in partners],
        sorted((a.pk, a.exercise.title, a.planned_giver and a.planned_giver.name, a.couple.pk) for a in assignments),
    )


def test_the_couples_partners_and_assignments_come_with_what_they_point_to(
    therapist, assignment, partner_a, partner_b, django_assert_num_queries
):
    ours = assignment.couple
    talk = ExerciseFactory(owner=therapist, title="Ten minutes of talk", shape="talk")
    alex_gives = AssignmentFactory(couple=ours, exercise=talk, giver_plan="one", planned_giver=partner_a)
    theirs, *_ = _second_couple(therapist)
    (robin, kim), (their_assignment,) = theirs.partners.order_by("slot"), theirs.assignments.all()
    back_rub = assignment.exercise.title
    expected = {
        ours.pk: (
            [(partner_a.pk, "Alex", ours.pk), (partner_b.pk, "Sam", ours.pk)],
            sorted([(assignment.pk, back_rub, None, ours.pk), (alex_gives.pk, "Ten minutes of talk", "Alex", ours.pk)]),
        ),
        theirs.pk: (
            [(robin.pk, "Robin", theirs.pk), (kim.pk, "Kim", theirs.pk)],
            [(their_assignment.pk, back_rub, None, theirs.pk)],
        ),
    }
    for couple in (ours, theirs, ours):
        with django_assert_num_queries(3):  # partners, exercises, assignments: nothing read lazily after
            got = _rows_as_read(couple)
        assert got == expected[couple.pk]
    # The ORM form: couple_trends' own reads.
    orm_assignments = ours.assignments.select_related("exercise", "planned_giver")
    assert [p.pk for p in ours.partners.all()] == [pk for pk, *_ in expected[ours.pk][0]]
    assert (
        sorted((a.pk, a.exercise.title, a.planned_giver and a.planned_giver.name, ours.pk) for a in orm_assignments)
        == (expected[ours.pk][1])
    )
