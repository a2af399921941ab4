"""intimacy/prepared.py: a query compiled once, run with each call's values (issue 16, "Fast").

What matters: each call reads *its* values (another couple, another partner, another moment give other
rows, never the first call's), a privacy rule compiled this way picks exactly the rows it picks as a
queryset, and a builder that would not carry a slot into the SQL is refused rather than run."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import Partner, User
from intimacy.models import Assignment, Reflection, Session, reveal_cutoff, revealed_to
from intimacy.prepared import Prepared, _numbered
from tests.factories import ReflectionFactory, SessionFactory

SHARED, THERAPIST, PRIVATE = (
    Reflection.Visibility.SHARED,
    Reflection.Visibility.THERAPIST,
    Reflection.Visibility.PRIVATE,
)


def _viewer(partner_id: int, couple_id: int) -> tuple[User, Partner]:
    """A partner and their own row, by ids alone: the user is never saved, so a rule that reached for
    it (rather than for the row's ids) would fail to compile instead of reading a stand-in's rows."""
    user = User(role=User.Role.PARTNER)
    return user, Partner(pk=partner_id, user=user, couple_id=couple_id)


def _partner_visible(partner_id: int, couple_id: int, cutoff: datetime):
    """What a partner may read, by `Reflection.objects.visible_to` with their own row (the home page's form)."""
    user, me = _viewer(partner_id, couple_id)
    return Reflection.objects.visible_to(user, partner=me, cutoff=cutoff).order_by("pk")


VISIBLE = Prepared(_partner_visible, partner_id=int, couple_id=int, cutoff=datetime)


def _visible(partner):
    return VISIBLE(partner_id=partner.pk, couple_id=partner.couple_id, cutoff=reveal_cutoff())


@pytest.fixture
def two_couples(assignment, partner_a, partner_b, outsider):
    """Sam (partner_b) shares one reflection, keeps one for the therapist and one for herself; Alex writes his
    side of the first two. In the other couple, one shared reflection on each side."""
    day = assignment.couple.today()
    ones = [
        SessionFactory(
            assignment=assignment,
            date=day - timedelta(days=n),
            giver=partner_a,
            receiver=partner_b,
            logged_by=partner_a,
        )
        for n in (1, 2, 3)
    ]
    rows = {
        "alex_1": ReflectionFactory(session=ones[0], partner=partner_a, role="giver", visibility=SHARED),
        "sam_shared": ReflectionFactory(session=ones[0], partner=partner_b, role="receiver", visibility=SHARED),
        "alex_2": ReflectionFactory(session=ones[1], partner=partner_a, role="giver", visibility=SHARED),
        "sam_therapist": ReflectionFactory(session=ones[1], partner=partner_b, role="receiver", visibility=THERAPIST),
        "sam_private": ReflectionFactory(session=ones[2], partner=partner_b, role="receiver", visibility=PRIVATE),
    }
    a2, b2 = outsider.couple.partners.order_by("slot")
    theirs = SessionFactory(assignment__couple=outsider.couple, giver=a2, receiver=b2, logged_by=a2)
    rows["other_a"] = ReflectionFactory(session=theirs, partner=a2, role="giver", visibility=SHARED)
    rows["other_b"] = ReflectionFactory(session=theirs, partner=b2, role="receiver", visibility=SHARED)
    return rows, a2, b2


def test_each_call_reads_its_own_partner_and_couple(two_couples, partner_a, partner_b):
    rows, a2, b2 = two_couples
    # Worked out by hand: Alex reads his own two and Sam's shared one (revealed: he wrote his side);
    # never Sam's "My therapist only" or "Just me". Sam reads her own three and Alex's two shared ones.
    alex = {rows[k].pk for k in ("alex_1", "alex_2", "sam_shared")}
    sam = {rows[k].pk for k in ("sam_shared", "sam_therapist", "sam_private", "alex_1", "alex_2")}
    other = {rows["other_a"].pk, rows["other_b"].pk}
    # In turns, so a value kept from an earlier call would show.
    assert {r.pk for r in _visible(partner_a)} == alex
    assert {r.pk for r in _visible(a2)} == other
    assert {r.pk for r in _visible(partner_b)} == sam
    assert {r.pk for r in _visible(partner_a)} == alex


def test_the_rows_are_the_querysets_rows_and_whole_instances(two_couples, partner_a):
    rows, _, _ = two_couples
    got = list(_visible(partner_a))
    assert [r.pk for r in got] == list(
        Reflection.objects.visible_to(partner_a.user, partner=partner_a).order_by("pk").values_list("pk", flat=True)
    )
    first = next(r for r in got if r.pk == rows["sam_shared"].pk)
    assert (first.partner_id, first.visibility, first.session_id) == (
        rows["sam_shared"].partner_id,
        SHARED,
        rows["sam_shared"].session_id,
    )


def _revealed_shared(partner_id: int, couple_id: int, cutoff: datetime):
    user, me = _viewer(partner_id, couple_id)
    return (
        Reflection.objects.filter(session__assignment__couple_id=couple_id, visibility=SHARED)
        .exclude(partner_id=partner_id)
        .filter(revealed_to(user, partner=me, cutoff=cutoff))
    )


REVEALED = Prepared(_revealed_shared, partner_id=int, couple_id=int, cutoff=datetime)


def test_a_time_slot_reads_each_calls_moment(assignment, partner_a, partner_b):
    """Sam shares her side; Alex has not written his. It reaches him only after the reveal delay
    (7 days: models.REVEAL_AFTER), by the moment each call gives, not by the moment of the first."""
    with time_machine.travel(datetime(2026, 3, 2, 12, 0, tzinfo=UTC), tick=False):
        session = SessionFactory(
            assignment=assignment, date=date(2026, 3, 2), giver=partner_a, receiver=partner_b, logged_by=partner_b
        )
        sams = ReflectionFactory(session=session, partner=partner_b, role="receiver", visibility=SHARED)
    args = {"partner_id": partner_a.pk, "couple_id": partner_a.couple_id}
    six_days = datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
    eight_days = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    assert list(REVEALED(**args, cutoff=reveal_cutoff(six_days))) == []
    assert [r.pk for r in REVEALED(**args, cutoff=reveal_cutoff(eight_days))] == [sams.pk]
    assert list(REVEALED(**args, cutoff=reveal_cutoff(six_days))) == []


def test_a_builder_that_reads_the_clock_is_refused(db):
    # visible_to without a cutoff reads "now" itself: compiled once, the first call's moment would stay.
    clock = Prepared(
        lambda partner_id, couple_id: _partner_visible_by_default_clock(partner_id, couple_id),
        partner_id=int,
        couple_id=int,
    )
    with pytest.raises(ImproperlyConfigured, match="clock"):
        list(clock(partner_id=1, couple_id=1))


def _partner_visible_by_default_clock(partner_id: int, couple_id: int):
    user, me = _viewer(partner_id, couple_id)
    return Reflection.objects.visible_to(user, partner=me)


def test_annotations_come_back_as_attributes(assignment, partner_a, partner_b):
    from django.db.models import Exists, OuterRef

    def build(couple_id: int):
        mine = Reflection.objects.filter(session=OuterRef("pk"))
        return Session.objects.filter(assignment__couple_id=couple_id).annotate(has_any=Exists(mine))

    with_any = Prepared(build, couple_id=int)
    session = SessionFactory(assignment=assignment, giver=partner_a, receiver=partner_b, logged_by=partner_a)
    # Booleans as the queryset gives them (SQLite's EXISTS is 0 or 1 until converted).
    assert [(s.pk, s.has_any) for s in with_any(couple_id=partner_a.couple_id)] == [(session.pk, False)]
    ReflectionFactory(session=session, partner=partner_a, role="giver")
    assert [(s.pk, s.has_any) for s in with_any(couple_id=partner_a.couple_id)] == [(session.pk, True)]
    assert all(type(s.has_any) is bool for s in with_any(couple_id=partner_a.couple_id))


def test_a_time_annotation_comes_back_as_an_aware_datetime(assignment, partner_a, partner_b):
    from django.db.models import Max

    def build(couple_id: int):
        return Assignment.objects.filter(couple_id=couple_id).annotate(latest=Max("sessions__created_at"))

    at = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    with time_machine.travel(at, tick=False):
        SessionFactory(assignment=assignment, giver=partner_a, receiver=partner_b, logged_by=partner_a)
    (row,) = Prepared(build, couple_id=int)(couple_id=partner_a.couple_id)
    assert row.latest == at


def test_a_slot_that_does_not_reach_the_sql_is_refused(db):
    # The builder decides by the value instead of passing it on: compiled once, it would be wrong for others.
    branching = Prepared(
        lambda couple_id: Session.objects.all() if couple_id else Session.objects.none(), couple_id=int
    )
    with pytest.raises(ImproperlyConfigured, match="couple_id"):
        list(branching(couple_id=1))


def test_a_slot_written_into_the_sql_text_is_refused(db):
    # A slice's bounds are written into the SQL, never passed as a parameter.
    sliced = Prepared(lambda n: Session.objects.filter(pk=n)[:n], n=int)
    with pytest.raises(ImproperlyConfigured, match="'n'"):
        list(sliced(n=3))


def test_select_related_is_refused(db):
    joined = Prepared(
        lambda couple_id: Session.objects.filter(assignment__couple_id=couple_id).select_related("giver"),
        couple_id=int,
    )
    with pytest.raises(ImproperlyConfigured, match="select_related"):
        list(joined(couple_id=1))


def test_values_of_the_wrong_kind_or_missing_are_refused(db):
    by_couple = Prepared(lambda couple_id: Session.objects.filter(assignment__couple_id=couple_id), couple_id=int)
    with pytest.raises(TypeError):
        by_couple(couple_id="1")
    with pytest.raises(TypeError):
        by_couple(couple_id=True)
    with pytest.raises(TypeError):
        by_couple()
    on_day = Prepared(lambda day: Session.objects.filter(date=day), day=date)
    with pytest.raises(TypeError):
        on_day(day=datetime(2026, 3, 2, tzinfo=UTC))
    assert list(on_day(day=date(2026, 3, 2))) == []


def test_rows_are_converted_tuples(assignment, partner_a, partner_b, outsider):
    from django.db.models import Count

    def build(couple_id: int, since: date):
        return (
            Session.objects.filter(assignment__couple_id=couple_id, date__gte=since)
            .order_by("date")
            .values("date")
            .annotate(n=Count("pk"))
            .values_list("date", "n")
        )

    by_day = Prepared(build, couple_id=int, since=date)
    for day in (date(2026, 3, 2), date(2026, 3, 2), date(2026, 3, 4), date(2026, 2, 20)):
        SessionFactory(assignment=assignment, date=day, giver=partner_a, receiver=partner_b, logged_by=partner_a)
    assert by_day.rows(couple_id=partner_a.couple_id, since=date(2026, 3, 1)) == [
        (date(2026, 3, 2), 2),
        (date(2026, 3, 4), 1),
    ]
    assert by_day.rows(couple_id=outsider.couple_id, since=date(2026, 3, 1)) == []
    assert by_day.rows(couple_id=partner_a.couple_id, since=date(2026, 3, 3)) == [(date(2026, 3, 4), 1)]
    # The same as dicts by column name, as `values` gives a group.
    assert by_day.dicts(couple_id=partner_a.couple_id, since=date(2026, 3, 3)) == [{"date": date(2026, 3, 4), "n": 1}]


def test_unconverted_groups_are_the_drivers_values(assignment, partner_a, partner_b):
    """`dicts(converted=False)`: the counts as ints, the month as the driver gives it (a datetime at midnight on
    PostgreSQL, an ISO string on SQLite), which `aggregation._as_date` makes the same date as converted."""
    from django.db.models import Count
    from django.db.models.functions import TruncMonth

    from intimacy.trends.aggregation import _as_date

    def build(couple_id: int):
        return (
            Session.objects.filter(assignment__couple_id=couple_id)
            .annotate(month=TruncMonth("date"))
            .values("month")
            .annotate(n=Count("pk"))
            .order_by("month")
        )

    by_month = Prepared(build, couple_id=int)
    for day in (date(2026, 3, 2), date(2026, 3, 31), date(2026, 4, 1)):
        SessionFactory(assignment=assignment, date=day, giver=partner_a, receiver=partner_b, logged_by=partner_a)
    assert by_month.dicts(couple_id=partner_a.couple_id) == [
        {"month": date(2026, 3, 1), "n": 2},
        {"month": date(2026, 4, 1), "n": 1},
    ]
    raw = by_month.dicts(couple_id=partner_a.couple_id, converted=False)
    assert [(type(g["n"]), g["n"]) for g in raw] == [(int, 2), (int, 1)]
    assert not isinstance(raw[0]["month"], date) or isinstance(raw[0]["month"], datetime)
    assert [_as_date(g["month"]) for g in raw] == [date(2026, 3, 1), date(2026, 4, 1)]


# Server-side prepared statements (PostgreSQL): PREPARE once per kept connection, then EXECUTE.

ONLY_POSTGRES = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PREPARE/EXECUTE is PostgreSQL's: it runs in the PostgreSQL pass."
)


def _by_day(couple_id: int, since: date):
    return Session.objects.filter(assignment__couple_id=couple_id, date__gte=since).order_by("date", "pk")


def _statement_text(name: str) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE name = %s", [name])
        found = cursor.fetchone()
    return found[0] if found else None


def _run(by_day, couple_id: int, since: date) -> tuple[list[int], list[str]]:
    """The rows' ids, and the SQL Django sent for them."""
    with CaptureQueriesContext(connection) as sent:
        ids = [s.pk for s in by_day(couple_id=couple_id, since=since)]
    return ids, [q["sql"] for q in sent.captured_queries]


def test_numbered_placeholders_and_percent_signs():
    # Worked by hand: each %s in turn becomes $1, $2, …; the driver's %% is PREPARE's plain %.
    assert _numbered("a = %s AND b LIKE 'x%%' AND c IN (%s, %s)") == "a = $1 AND b LIKE 'x%' AND c IN ($2, $3)"
    assert _numbered("SELECT 1") == "SELECT 1"


@pytest.fixture
def two_days(assignment, partner_a, partner_b):
    """Alex's sessions on 2 and 4 March 2026."""
    return [
        SessionFactory(assignment=assignment, date=day, giver=partner_a, receiver=partner_b, logged_by=partner_a).pk
        for day in (date(2026, 3, 2), date(2026, 3, 4))
    ]


@ONLY_POSTGRES
def test_prepared_once_per_connection_then_executed_with_each_calls_values(two_days, partner_a, outsider):
    by_day = Prepared(_by_day, couple_id=int, since=date)
    ids, sent = _run(by_day, partner_a.couple_id, date(2026, 3, 1))
    assert ids == two_days
    # The PREPARE went on the driver's cursor, once: Django sent only the EXECUTE.
    [execute] = sent
    name = execute.removeprefix("EXECUTE ").split("(")[0]
    assert execute.startswith(f"EXECUTE {name}(") and "SELECT" not in execute
    text = _statement_text(name)
    assert text.startswith(f"PREPARE {name} AS SELECT") and "$1" in text and "%s" not in text
    # Other values, the same statement: each call its own rows, no second PREPARE.
    for couple_id, since, expected in (
        (outsider.couple_id, date(2026, 3, 1), []),
        (partner_a.couple_id, date(2026, 3, 3), [two_days[1]]),
    ):
        ids, [again] = _run(by_day, couple_id, since)
        assert ids == expected
        assert again.startswith(f"EXECUTE {name}(")
    assert by_day.rows(couple_id=partner_a.couple_id, since=date(2026, 3, 3))[0][0] == two_days[1]


@ONLY_POSTGRES
@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_again(two_days, partner_a):
    by_day = Prepared(_by_day, couple_id=int, since=date)
    assert _run(by_day, partner_a.couple_id, date(2026, 3, 1))[0] == two_days
    connection.close()  # a worker's connection past CONN_MAX_AGE, or lost: the new one has no statements
    ids, [execute] = _run(by_day, partner_a.couple_id, date(2026, 3, 3))
    assert ids == [two_days[1]]
    assert _statement_text(execute.removeprefix("EXECUTE ").split("(")[0]) is not None


@ONLY_POSTGRES
def test_a_statement_prepared_in_a_rolled_back_transaction_still_runs(two_days, partner_a):
    by_day = Prepared(_by_day, couple_id=int, since=date)

    class Undone(Exception):
        pass

    with pytest.raises(Undone), transaction.atomic():
        assert _run(by_day, partner_a.couple_id, date(2026, 3, 1))[0] == two_days
        raise Undone
    # PostgreSQL keeps a PREPARE through a rollback: running it again needs no new one, and works.
    assert _run(by_day, partner_a.couple_id, date(2026, 3, 3))[0] == [two_days[1]]


@ONLY_POSTGRES
@pytest.mark.parametrize("setting", [("CONN_MAX_AGE", 0), ("DISABLE_SERVER_SIDE_CURSORS", True)])
def test_plain_sql_on_a_connection_per_request_or_behind_a_transaction_pooler(
    two_days, partner_a, monkeypatch, setting
):
    monkeypatch.setitem(connection.settings_dict, *setting)
    by_day = Prepared(_by_day, couple_id=int, since=date)
    ids, [sql] = _run(by_day, partner_a.couple_id, date(2026, 3, 1))
    assert ids == two_days
    assert sql.startswith("SELECT ")


@time_machine.travel(datetime(2026, 11, 25, 12, 0, tzinfo=UTC), tick=False)
def test_each_therapists_caseload_reads_its_own_couples_and_day(
    therapist, other_therapist, assignment, partner_a, outsider
):
    """The caseload's two prepared reads (issue 16): therapist, then the other, then the first again; the
    day as a slot; each status a query of its own."""
    from intimacy import selectors

    people = {"giver": partner_a, "receiver": assignment.couple.partners.exclude(pk=partner_a.pk).get()}
    SessionFactory(assignment=assignment, date=date(2026, 11, 24), logged_by=partner_a, **people)
    theirs = outsider.couple
    SessionFactory(
        assignment__couple=theirs,
        date=date(2026, 11, 10),
        giver=outsider,
        receiver=theirs.partners.exclude(pk=outsider.pk).get(),
        logged_by=outsider,
    )

    def rows(who, status=None, now=None):
        return [
            (r.couple.pk, r.last_session, r.done_this_week) for r in selectors.caseload(who, now=now, status=status)
        ]

    # By hand: ours logged Tuesday 24 November (this week: 1); theirs on 10 November (none this week).
    mine = [(assignment.couple_id, date(2026, 11, 24), 1)]
    assert rows(therapist) == mine
    assert rows(other_therapist) == [(theirs.pk, date(2026, 11, 10), 0)]
    assert rows(therapist) == mine
    assert rows(therapist, status="closed") == []
    assert rows(therapist, status="active") == mine
    # A week later the same session is last week's: this week's count reads the later day.
    assert rows(therapist, now=datetime(2026, 12, 2, 12, 0, tzinfo=UTC)) == [
        (assignment.couple_id, date(2026, 11, 24), 0)
    ]
