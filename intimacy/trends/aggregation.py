"""The database reads behind the trends: a couple's homework grouped by week or month.

Everything is aggregated in the database, grouped by ISO week (Monday first) or, for periods longer
than WEEKLY_UP_TO_WEEKS, by month, so a two-year view costs the same few queries as a one-month view:
the Python that follows only walks the grouped rows, never the sessions themselves. Selectors only:
nothing here writes.
"""

import functools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import Enum
from typing import NamedTuple

from django.db.models import Count, Exists, F, FilteredRelation, Min, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth, TruncWeek

from accounts.models import Couple, Partner
from intimacy.models import (
    Assignment,
    CheckIn,
    CoupleNote,
    ExerciseShape,
    ProgramStep,
    Reflection,
    ReflectionDecline,
    Session,
    SessionDispute,
    TrendPartReflections,
    TrendPartSessions,
    reveal_cutoff,
    revealed_together,
)
from intimacy.prepared import Prepared
from intimacy.trends.period import Bucket, Period
from intimacy.weeks import week_start


class Scope(Enum):
    """What a view may show.

    THERAPIST: every reflection's ratings (the words of "Just me" ones never leave `selectors`), the
    therapist's notes and both partners' weekly check-ins (CSI-4). SHARED: only reflections shared
    with the partner and revealed to them (the reveal rule, `models.revealed_together`), for anything
    the couple sees together; no check-ins. OWN: a partner's own
    reflections, for their progress page; no check-ins.
    """

    THERAPIST = "therapist"
    SHARED = "shared"
    OWN = "own"


@dataclass(frozen=True)
class LeftOut:
    """Sessions and reflections (ids) the therapist left out of the appointment view: for that page they
    are not there at all, words, ratings, counts and every aggregate alike."""

    sessions: frozenset = frozenset()
    reflections: frozenset = frozenset()


NOTHING_LEFT_OUT = LeftOut()


@dataclass
class Row:
    """One week or month of the period."""

    bucket: Bucket
    sessions: int = 0
    target: int = 0
    by_assignment: dict = field(default_factory=dict)  # assignment id -> sessions
    gave: dict = field(default_factory=dict)  # partner id -> sessions given
    both_reflected: int = 0
    # partner id, role -> mean connection; partner id -> mean comfort, mean safe; partner id -> relief as receiver
    connection: dict = field(default_factory=dict)
    # partner id -> mean connection over every role they reflected in (issue 16: one line per partner)
    connection_all: dict = field(default_factory=dict)
    comfort: dict = field(default_factory=dict)
    safe: dict = field(default_factory=dict)
    relief: dict = field(default_factory=dict)
    paused: int = 0  # sessions with a "paused or stopped early" in a reflection
    gap_giver: float | None = None
    gap_receiver: float | None = None
    notes: list = field(default_factory=list)
    steps: list = field(default_factory=list)  # program steps started in the bucket (therapist scope only)
    checkin: dict = field(default_factory=dict)  # partner id -> mean CSI-4 total (therapist scope only)
    # partner id -> the lowest weekly CSI-4 total in the bucket: a month's mean would average a dip away.
    checkin_low: dict = field(default_factory=dict)

    @property
    def completion(self) -> int | None:
        """Percentage of sessions with both partners' reflections."""
        return round(100 * self.both_reflected / self.sessions) if self.sessions else None


@dataclass
class Trends:
    """A couple's homework over a period, one Row per bucket, as a scope allows."""

    couple: Couple
    period: Period
    scope: Scope
    partners: list[Partner]
    assignments: list[Assignment]
    rows: list[Row]
    notes: list[CoupleNote]
    # The program steps that started in the period (issue 15), each also on its bucket's row: markers.
    steps: list[ProgramStep] = field(default_factory=list)

    @property
    def sessions(self) -> int:
        return sum(r.sessions for r in self.rows)

    @property
    def target(self) -> int:
        return sum(r.target for r in self.rows)

    @property
    def gave(self) -> dict:
        totals = defaultdict(int)
        for row in self.rows:
            for partner_id, n in row.gave.items():
                totals[partner_id] += n
        return dict(totals)

    @property
    def giving(self) -> list[tuple[Partner, int]]:
        """Each partner with the sessions they gave in the period."""
        gave = self.gave
        return [(p, gave.get(p.pk, 0)) for p in self.partners]

    @property
    def both_reflected(self) -> int:
        return sum(r.both_reflected for r in self.rows)

    @property
    def paused(self) -> int:
        return sum(r.paused for r in self.rows)


def _trunc(monthly: bool, field_name: str):
    return TruncMonth(field_name) if monthly else TruncWeek(field_name)


def part_of(day: date) -> tuple[date, date]:
    """The first and last day of `day`'s part (models.TrendPart): its calendar month."""
    next_month = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return day.replace(day=1), next_month - timedelta(days=1)


def split_by_parts(start: date, end: date) -> tuple[tuple | None, tuple | None, tuple | None]:
    """[start, end] as (first, last) day ranges: the days before its first whole part, its whole parts,
    and the days after its last whole part; None where there are none (no whole part: all of it first)."""
    part_start, part_end = part_of(start)
    whole_start = start if part_start == start else part_end + timedelta(days=1)
    part_start, part_end = part_of(end)
    whole_end = end if part_end == end else part_start - timedelta(days=1)
    if whole_start > whole_end:
        return (start, end), None, None
    before = (start, whole_start - timedelta(days=1)) if whole_start > start else None
    after = (whole_end + timedelta(days=1), end) if whole_end < end else None
    return before, (whole_start, whole_end), after


def _as_date(value) -> date:
    """A bucket's first day. TruncWeek/TruncMonth of a DateField give a date on PostgreSQL and SQLite alike,
    once Django has converted them; as the driver gives them (`Prepared.dicts(converted=False)`) they are
    a datetime at midnight (PostgreSQL's date_trunc) or an ISO string (SQLite's), and a part's first day
    is a date or that string."""
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value.date() if isinstance(value, datetime) else value


def _mean(total, count) -> float | None:
    return round(total / count, 1) if count else None


def _scoped(reflections: QuerySet, scope: Scope, viewer_partner: Partner | None, *, revealed: bool = True) -> QuerySet:
    """The reflections `scope` may count (see `_scope_q`); for the shared scope only revealed ones
    (unless `revealed` is False: the caller adds that rule itself)."""
    reflections = reflections.filter(_scope_q(scope, viewer_partner))
    if scope is Scope.SHARED and revealed:
        reflections = reflections.filter(revealed_together())
    return reflections


def _revealed_as(column: str, scope: Scope, cutoff) -> Q:
    """For `_session_groups`: whether the reflection of the partner in the session's `column` ("giver" or
    "receiver", joined as `<column>_reflection`) is revealed for the scope. Only the shared scope waits
    (`models.revealed_together`, from the session's side). By column, not role: every shape has two."""
    if scope is not Scope.SHARED:
        return Q()
    other = "receiver" if column == "giver" else "giver"
    shared = Reflection.objects.filter(
        session=OuterRef("pk"), partner=OuterRef(f"{other}_id"), visibility=Reflection.Visibility.SHARED
    )
    declined = ReflectionDecline.objects.filter(session=OuterRef("pk"), partner=OuterRef(f"{other}_id"))
    return Q(Exists(shared)) | Q(Exists(declined)) | Q(**{f"{column}_reflection__created_at__lte": cutoff})


def _scope_q(scope: Scope, viewer_partner: Partner | None, prefix: str = "") -> Q:
    """The reflections a scope may count, as a condition (`prefix` is the path to the reflection, for
    a join): shared ones only for what the couple sees together, the viewer's own for their own page."""
    if scope is Scope.SHARED:
        return Q(**{f"{prefix}visibility": Reflection.Visibility.SHARED})
    if scope is Scope.OWN:
        return Q(**{f"{prefix}partner": viewer_partner})
    return Q()


def _disputed(scope: Scope, viewer_partner: Partner | None, session_ref: str = "pk") -> Q:
    """Sessions that stop counting because a partner said "this didn't happen / I didn't agree": for
    the therapist every disputed session (their page lists it as disputed instead), on a partner's
    own progress page the sessions that partner disputed. The shared scope keeps them, because it is
    also the logger's: a session vanishing there would tell them what the dispute must not."""
    disputes = SessionDispute.objects.filter(session=OuterRef(session_ref))
    if scope is Scope.THERAPIST:
        return Q(Exists(disputes))
    if scope is Scope.OWN:
        return Q(Exists(disputes.filter(partner=viewer_partner)))
    return Q(pk__in=[])


def target_for(assignment: Assignment, bucket: Bucket, period: Period) -> int:
    """Sessions the assignment asks for in the bucket: the weekly target pro rata to the bucket's days
    that fall both in the assignment and in the period.

    When the period runs to today, the rest of the current week (or month) counts in full: the
    therapist sees what this week asks for, as the couple do ("this week: 1 of 2").
    """
    first = max(bucket.start, assignment.starts_on, period.start)
    last = min(bucket.end, assignment.ends_on or bucket.end, bucket.end if period.runs_to_today else period.end)
    days = (last - first).days + 1
    # target × days / 7 is never exactly half-way (7 is prime and days, target ≤ 7), so round() is plain.
    return round(assignment.target_per_week * days / 7) if days > 0 else 0


def couple_trends(
    couple: Couple,
    period: Period,
    scope: Scope,
    viewer_partner: Partner | None = None,
    left_out: LeftOut = NOTHING_LEFT_OUT,
    all_assignments: list[Assignment] | None = None,
    partners: list[Partner] | None = None,
) -> Trends:
    """The couple's homework over the period, bucket by bucket, as `scope` allows.

    Four queries whatever the period's length, seven for the therapist: partners, assignments, sessions
    grouped by bucket, assignment and giver (with the giver's and receiver's connection on sessions
    both reflected on), reflections grouped by bucket, partner and role, and (for the therapist) their
    notes, the program steps started in the period and the check-ins grouped by bucket and partner.
    `left_out` (the appointment view's) is treated as if it had never been written. `all_assignments`,
    every assignment of the couple with its exercise and planned giver, when the caller has read them
    already (the overview's header shows them all): the period's are picked from them, one query fewer;
    `partners`, the couple's as `couple.partners.all()` gives them, likewise.
    """
    rows = {b.start: Row(b) for b in period.buckets()}
    partners = list(couple.partners.all()) if partners is None else partners
    read = all_assignments is None
    assignments = _assignments_in(couple, period) if read else _running_in(all_assignments, period)
    for row in rows.values():
        for assignment in assignments:
            row.target += target_for(assignment, row.bucket, period)
    if scope is Scope.THERAPIST and left_out == NOTHING_LEFT_OUT and period.monthly:
        session_groups, reflection_groups = _groups_from_parts(couple, period)
    else:
        session_groups = _session_groups(couple, period, scope, viewer_partner, left_out)
        reflection_groups = _reflection_groups(couple, period, scope, viewer_partner, left_out)
    _add_sessions(rows, session_groups)
    _add_reflections(rows, reflection_groups)
    notes, steps = [], []
    if scope is Scope.THERAPIST:  # notes, step markers and check-ins are the therapist's alone
        notes = _add_notes(rows, couple, period)
        steps = _add_steps(rows, couple, period)
        _add_checkins(rows, couple, period)
    return Trends(couple, period, scope, partners, assignments, list(rows.values()), notes, steps)


def _assignments_in(couple: Couple, period: Period) -> list[Assignment]:
    return list(
        couple.assignments.filter(starts_on__lte=period.end)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=period.start))
        .select_related("exercise", "planned_giver")
        .order_by("starts_on", "pk")
    )


def _running_in(assignments: list[Assignment], period: Period) -> list[Assignment]:
    """`_assignments_in`, from assignments already read: the same rule and the same order."""
    running = [a for a in assignments if a.starts_on <= period.end and (a.ends_on is None or a.ends_on >= period.start)]
    return sorted(running, key=lambda a: (a.starts_on, a.pk))


def _session_groups(
    couple: Couple, period: Period, scope: Scope, viewer_partner: Partner | None, left_out: LeftOut
) -> QuerySet | list[dict]:
    """Sessions grouped by bucket, assignment and giver, with the connection both partners gave them."""
    if scope in SESSION_GROUPS and left_out == NOTHING_LEFT_OUT:
        return _prepared_groups(SESSION_GROUPS[scope], couple, period, scope)
    grouped = _grouped_sessions(scope, viewer_partner, left_out, period.monthly)
    return _sessions_in(grouped, couple.pk, period.start, period.end)


def _sessions_in(grouped: QuerySet, couple_id: int, start: date, end: date) -> QuerySet:
    """The couple's sessions of the period, but the withdrawn ones, among `grouped`."""
    return grouped.filter(assignment__couple_id=couple_id, withdrawn_at__isnull=True, date__gte=start, date__lte=end)


def _grouped_sessions(
    scope: Scope, viewer_partner: Partner | None, left_out: LeftOut, monthly: bool, *, cutoff=None
) -> QuerySet:
    """All the sessions `scope` counts, grouped (`_session_groups` picks the couple's of the period).
    `cutoff`: the reveal rule's moment (`models.reveal_cutoff`), now's unless given."""
    # Each session joined to its giver's and its receiver's reflection (as the scope allows): at most one
    # of each (one reflection per session and role), so the joins multiply nothing. Correlated subqueries
    # here ran about eight times per session (EXPLAIN ANALYZE on 104 weeks: ~10 ms against ~3 ms joined).
    scope_q = _scope_q(scope, viewer_partner, "reflections__")
    if left_out.reflections:
        scope_q &= ~Q(reflections__pk__in=left_out.reflections)

    def reflection_as(column: str) -> FilteredRelation:
        # The reflection of the partner in the session's `column`: the giver's or speaker's, the
        # receiver's or listener's, or each partner's of a together session (models.SHAPE_ROLES).
        return FilteredRelation("reflections", condition=Q(reflections__partner=F(column)) & scope_q)

    # Both reflections in scope: in the shared scope both are shared, so each reveals the other.
    both = Q(giver_reflection__connection__isnull=False, receiver_reflection__connection__isnull=False)
    cutoff = cutoff or reveal_cutoff()
    return (
        Session.objects.exclude(pk__in=left_out.sessions)
        .exclude(_disputed(scope, viewer_partner))
        .annotate(
            bucket=_trunc(monthly, "date"),
            giver_reflection=reflection_as("giver"),
            receiver_reflection=reflection_as("receiver"),
            shape=F("assignment__exercise__shape"),
        )
        .values("bucket", "assignment_id", "giver_id", "shape")
        .annotate(
            n=Count("pk"),
            both=Count("pk", filter=both),
            giver_sum=Sum("giver_reflection__connection", filter=both),
            receiver_sum=Sum("receiver_reflection__connection", filter=both),
            # A session both partners marked "paused" is one paused session, not two.
            paused=Count(
                "pk",
                filter=Q(Q(giver_reflection__paused=True) & _revealed_as("giver", scope, cutoff))
                | Q(Q(receiver_reflection__paused=True) & _revealed_as("receiver", scope, cutoff)),
            ),
        )
        .order_by()
    )


def _add_sessions(rows: dict, groups: QuerySet | list[dict]) -> None:
    gap_sums = defaultdict(lambda: [0, 0, 0])
    for group in groups:
        row = rows.get(_as_date(group["bucket"]))
        if row is None:  # a custom period's first week starts before the period: it has its own row
            continue
        row.sessions += group["n"]
        row.by_assignment[group["assignment_id"]] = row.by_assignment.get(group["assignment_id"], 0) + group["n"]
        row.both_reflected += group["both"]
        row.paused += group["paused"]
        if group["shape"] != ExerciseShape.TOUCH:
            # Who gave, and the giver's and receiver's connection side by side, are touch questions:
            # a talk's speaker is not "giving", and a together exercise has no roles (issue 15).
            continue
        row.gave[group["giver_id"]] = row.gave.get(group["giver_id"], 0) + group["n"]
        sums = gap_sums[row.bucket.start]
        sums[0] += group["both"]
        sums[1] += group["giver_sum"] or 0
        sums[2] += group["receiver_sum"] or 0
    # Means over the bucket's sessions, not means of the groups' means.
    for start, (n, giver_sum, receiver_sum) in gap_sums.items():
        rows[start].gap_giver, rows[start].gap_receiver = _mean(giver_sum, n), _mean(receiver_sum, n)


def _reflection_groups(
    couple: Couple, period: Period, scope: Scope, viewer_partner: Partner | None, left_out: LeftOut
) -> QuerySet | list[dict]:
    """The reflections `scope` allows, grouped by bucket, partner and role."""
    if scope in REFLECTION_GROUPS and left_out == NOTHING_LEFT_OUT:
        return _prepared_groups(REFLECTION_GROUPS[scope], couple, period, scope)
    grouped = _grouped_reflections(scope, viewer_partner, left_out, period.monthly)
    return _reflections_in(grouped, couple.pk, period.start, period.end)


def _reflections_in(grouped: QuerySet, couple_id: int, start: date, end: date) -> QuerySet:
    """The reflections on the couple's sessions of the period, but the withdrawn ones, among `grouped`."""
    return grouped.filter(
        session__assignment__couple_id=couple_id,
        session__withdrawn_at__isnull=True,
        session__date__gte=start,
        session__date__lte=end,
    )


def _grouped_reflections(
    scope: Scope,
    viewer_partner: Partner | None,
    left_out: LeftOut,
    monthly: bool,
    *,
    revealed: bool = True,
) -> QuerySet:
    """All the reflections `scope` counts, grouped (`_reflection_groups` picks the couple's of the period).
    `revealed=False` leaves the shared scope's reveal rule for the caller to add."""
    return (
        _scoped(Reflection.objects.all(), scope, viewer_partner, revealed=revealed)
        .exclude(pk__in=left_out.reflections)
        .exclude(session__in=left_out.sessions)
        .exclude(_disputed(scope, viewer_partner, "session"))
        .annotate(bucket=_trunc(monthly, "session__date"))
        .values("bucket", "partner_id", "role")
        .annotate(
            n=Count("pk"),
            connection_sum=Sum("connection"),
            comfort_sum=Sum("comfort"),
            safe_sum=Sum("safe"),
            relief_sum=Sum(F("tension_before") - F("tension_after")),
            relief_n=Count("pk", filter=Q(tension_before__isnull=False, tension_after__isnull=False)),
        )
        .order_by()
    )


def _add_reflections(rows: dict, groups: QuerySet | list[dict]) -> None:
    # bucket start, partner id -> [comfort sum, safe sum, reflections, connection sum]
    both_roles = defaultdict(lambda: [0, 0, 0, 0])
    for group in groups:
        row = rows.get(_as_date(group["bucket"]))
        if row is None:
            continue
        partner_id = group["partner_id"]
        row.connection[(partner_id, group["role"])] = _mean(group["connection_sum"], group["n"])
        sums = both_roles[(row.bucket.start, partner_id)]
        sums[0] += group["comfort_sum"]
        sums[1] += group["safe_sum"]
        sums[2] += group["n"]
        sums[3] += group["connection_sum"]
        if group["relief_n"]:
            row.relief[partner_id] = _mean(group["relief_sum"], group["relief_n"])
    # Comfort and safe are asked of both roles: one mean per partner over the reflections they wrote in either.
    for (start, partner_id), (comfort_total, safe_total, n, connection_total) in both_roles.items():
        rows[start].connection_all[partner_id] = _mean(connection_total, n)
        rows[start].comfort[partner_id] = _mean(comfort_total, n)
        rows[start].safe[partner_id] = _mean(safe_total, n)


def _add_notes(rows: dict, couple: Couple, period: Period) -> list[CoupleNote]:
    """The therapist's notes dated in the period, each also on its bucket's row. Therapist scope only."""
    # Not their author: the markers and the summary show the words and the date only.
    notes = list(NOTES_IN(couple_id=couple.pk, start=period.start, end=period.end))
    for note in notes:
        for row in rows.values():
            if row.bucket.start <= note.date <= row.bucket.end:
                row.notes.append(note)
    return notes


def _notes_in(couple_id: int, start: date, end: date) -> QuerySet:
    return CoupleNote.objects.filter(couple_id=couple_id, date__gte=start, date__lte=end).order_by("date", "pk")


NOTES_IN = Prepared(_notes_in, couple_id=int, start=date, end=date)


def _add_steps(rows: dict, couple: Couple, period: Period) -> list[ProgramStep]:
    """The program steps (issue 15) started in the period, of any of the couple's runs, with their stage's
    exercise, each also on its bucket's row. Therapist scope only: the step is not private (both partners
    see it on their home), but a marker on the screens the couple share would be the charts' only one
    there (no note or pause is marked for them) and would read as a verdict on their progress."""
    steps = list(STEPS_IN(couple_id=couple.pk, start=period.start, end=period.end))
    for step in steps:
        for row in rows.values():
            if row.bucket.start <= step.started_on <= row.bucket.end:
                row.steps.append(step)
    return steps


def _steps_in(couple_id: int, start: date, end: date) -> QuerySet:
    """The steps started in the period, each with its stage's position and exercise's title as attributes
    (`stage_position`, `exercise_title`: all its marker says, charts.step_label), in date order."""
    return (
        ProgramStep.objects.filter(run__couple_id=couple_id, started_on__gte=start, started_on__lte=end)
        .annotate(stage_position=F("stage__position"), exercise_title=F("stage__exercise__title"))
        .order_by("started_on", "pk")
    )


# Prepared (a query built and compiled on every overview was ~1.5 ms of it, the same at every period).
STEPS_IN = Prepared(_steps_in, couple_id=int, start=date, end=date)


def _add_checkins(rows: dict, couple: Couple, period: Period) -> None:
    """Each partner's mean and lowest CSI-4 total per bucket, from one grouped query. For the therapist
    only: check-ins never reach the couple, so no other scope calls this."""
    # A check-in belongs to its whole week: the first week counts even when the period starts mid-week.
    prepared = CHECKIN_GROUPS[period.monthly]
    groups = prepared.dicts(couple_id=couple.pk, since=week_start(period.start), end=period.end, converted=False)
    for group in groups:
        row = rows.get(_as_date(group["bucket"]))
        if row is not None:
            row.checkin[group["partner_id"]] = _mean(group["total_sum"], group["n"])
            row.checkin_low[group["partner_id"]] = group["lowest"]


def _checkin_groups(monthly: bool) -> QuerySet:
    """Every check-in grouped by bucket and partner (`_add_checkins` picks the couple's of the period)."""
    return (
        CheckIn.objects.annotate(bucket=_trunc(monthly, "week"))
        .values("bucket", "partner_id")
        .annotate(n=Count("pk"), total_sum=Sum("total"), lowest=Min("total"))
        .order_by()
    )


def _per_grouping(build, **slots) -> dict[bool, Prepared]:
    """`build` as a prepared query (intimacy/prepared.py) for each grouping, weekly (False) and monthly
    (True): compiled once per process each; building and compiling their joins, sums and EXISTS was
    ~1.5 ms of a query on every overview and appointment view (issue 16, "Fast")."""
    return {monthly: Prepared(functools.partial(build, monthly=monthly), **slots) for monthly in (False, True)}


def _prepared_groups(by_grouping: dict[bool, Prepared], couple: Couple, period: Period, scope: Scope) -> list[dict]:
    """The couple's groups of the period; what the couple see together also by the reveal rule's moment,
    read on every call (`models.reveal_cutoff`)."""
    slots = {"couple_id": couple.pk, "start": period.start, "end": period.end}
    if scope is Scope.SHARED:
        slots["cutoff"] = reveal_cutoff()
    # As the driver gives them, as `_groups_from_parts` reads its groups: ints, and a bucket `_as_date` reads.
    return by_grouping[period.monthly].dicts(converted=False, **slots)


# The therapist's groups and what the couple see together (the appointment view), with nothing left out.
SESSION_GROUPS = {
    Scope.THERAPIST: _per_grouping(
        lambda couple_id, start, end, monthly: _sessions_in(
            _grouped_sessions(Scope.THERAPIST, None, NOTHING_LEFT_OUT, monthly), couple_id, start, end
        ),
        couple_id=int,
        start=date,
        end=date,
    ),
    Scope.SHARED: _per_grouping(
        lambda couple_id, start, end, cutoff, monthly: _sessions_in(
            _grouped_sessions(Scope.SHARED, None, NOTHING_LEFT_OUT, monthly, cutoff=cutoff), couple_id, start, end
        ),
        couple_id=int,
        start=date,
        end=date,
        cutoff=datetime,
    ),
}
# The shared scope's reveal rule goes after the grouping: a filter on a reflection's own columns still goes
# into WHERE (no aggregate in it).
REFLECTION_GROUPS = {
    Scope.THERAPIST: _per_grouping(
        lambda couple_id, start, end, monthly: _reflections_in(
            _grouped_reflections(Scope.THERAPIST, None, NOTHING_LEFT_OUT, monthly), couple_id, start, end
        ),
        couple_id=int,
        start=date,
        end=date,
    ),
    Scope.SHARED: _per_grouping(
        lambda couple_id, start, end, cutoff, monthly: _reflections_in(
            _grouped_reflections(Scope.SHARED, None, NOTHING_LEFT_OUT, monthly, revealed=False).filter(
                revealed_together(cutoff=cutoff)
            ),
            couple_id,
            start,
            end,
        ),
        couple_id=int,
        start=date,
        end=date,
        cutoff=datetime,
    ),
}
# The check-ins, by the couple and the weeks from `since` (the period's first Monday) to `end`.
CHECKIN_GROUPS = _per_grouping(
    lambda couple_id, since, end, monthly: _checkin_groups(monthly).filter(
        couple_id=couple_id, week__gte=since, week__lte=end
    ),
    couple_id=int,
    since=date,
    end=date,
)


class PartReads(NamedTuple):
    """A monthly period's groups from the parts (models.TrendPart: one row a month and group), prepared."""

    whole_months: Prepared  # a period of whole months: its parts alone
    with_days: Prepared  # its whole months' parts beside the days before and after them, from the sessions


def _part_groups(model, keys: tuple, sums: tuple, grouped: Callable[[int, date, date], QuerySet]) -> PartReads:
    """The two reads of a monthly period's groups (`_groups_from_parts`). `grouped(couple_id, first, last)`
    groups the sessions of the days given; in `with_days`, a side with no days gets an empty range, so the
    query is the same every day."""

    def parts(couple_id: int, start: date, end: date) -> QuerySet:
        return model.objects.filter(couple_id=couple_id, first_day__gte=start, last_day__lte=end).order_by()

    def whole_months(couple_id: int, start: date, end: date):
        # A part is one month's group already: its row as it is, its first day the bucket.
        return parts(couple_id, start, end).values(*keys, *sums, bucket=F("first_day"))

    def with_days(couple_id: int, start: date, end: date, before: date, before_end: date, after: date, after_end: date):
        # TruncMonth only gives a part's first day the type of the sessions' buckets beside it.
        months = parts(couple_id, start, end).annotate(bucket=TruncMonth("first_day")).values("bucket", *keys, *sums)
        # The sessions' groups first: theirs are the column names of the whole (a union's are its first's).
        return grouped(couple_id, before, before_end).union(grouped(couple_id, after, after_end), months, all=True)

    days = ("start", "end", "before", "before_end", "after", "after_end")
    return PartReads(
        Prepared(whole_months, couple_id=int, start=date, end=date),
        Prepared(with_days, couple_id=int, **dict.fromkeys(days, date)),
    )


SESSION_PARTS = _part_groups(
    TrendPartSessions,
    ("assignment_id", "giver_id", "shape"),
    ("n", "both", "giver_sum", "receiver_sum", "paused"),
    lambda couple_id, first, last: _sessions_in(
        _grouped_sessions(Scope.THERAPIST, None, NOTHING_LEFT_OUT, True), couple_id, first, last
    ),
)
REFLECTION_PARTS = _part_groups(
    TrendPartReflections,
    ("partner_id", "role"),
    ("n", "connection_sum", "comfort_sum", "safe_sum", "relief_sum", "relief_n"),
    lambda couple_id, first, last: _reflections_in(
        _grouped_reflections(Scope.THERAPIST, None, NOTHING_LEFT_OUT, True), couple_id, first, last
    ),
)


def _groups_from_parts(couple: Couple, period: Period) -> tuple[list[dict], list[dict]]:
    """The therapist's session and reflection groups of a monthly period, as `_session_groups` and
    `_reflection_groups` give them, in as many queries: its whole months from models.TrendPart (two dozen
    small rows a group for two years, no join), with the days of the months it holds only some of grouped
    from the sessions themselves. Each month comes from one side only, so no two groups share a month and
    a group's keys: nothing to add up here.

    A period that runs to today reads this month so far as its whole part: no session is dated after the
    couple's today (services refuse one, and the admin writes none), so the part holds this month's sessions
    to today and no more. (Staff moving a couple's time zone west can leave a session of the old today
    dated tomorrow for some hours; this view then counts it that much early.)

    A "last N weeks" period shown month by month starts on a month's first day (period._last_weeks), so
    it is whole months only: its parts alone, one small query each (the union of the days beside them
    cost about as much again as the parts, at every view)."""
    # (Not when the couple's today is unknown: then the period's last day may be any day.)
    end = part_of(period.end)[1] if period.today and period.end >= period.today else period.end
    before, whole, after = split_by_parts(period.start, end)
    # Unconverted: every column but the bucket is an int, a str or None as the driver gives it, and
    # `_add_sessions` and `_add_reflections` read the bucket with `_as_date` (issue 16: Django's converters
    # were a tenth of the two-year reads).
    if whole and not before and not after:
        slots = {"couple_id": couple.pk, "start": whole[0], "end": whole[1]}
        return (
            SESSION_PARTS.whole_months.dicts(converted=False, **slots),
            REFLECTION_PARTS.whole_months.dicts(converted=False, **slots),
        )
    nothing = (end + timedelta(days=1), end)  # a range that holds no day
    before, whole, after = (days or nothing for days in (before, whole, after))
    slots = {
        "couple_id": couple.pk,
        "start": whole[0],
        "end": whole[1],
        "before": before[0],
        "before_end": before[1],
        "after": after[0],
        "after_end": after[1],
    }
    return (
        SESSION_PARTS.with_days.dicts(converted=False, **slots),
        REFLECTION_PARTS.with_days.dicts(converted=False, **slots),
    )


def sessions_both_reflected(couple: Couple, period: Period, scope: Scope, limit: int = 10) -> QuerySet:
    """The latest sessions of the period with both partners' reflections (as `scope` allows).

    For the perception gap: what the receiver said of pressure and pace beside what the giver wrote.
    """
    reflections = _scoped(Reflection.objects.all(), scope, None)
    return (
        Session.objects.filter(
            assignment__couple=couple, withdrawn_at__isnull=True, date__gte=period.start, date__lte=period.end
        )
        .exclude(_disputed(scope, None))
        .filter(
            Exists(reflections.filter(session=OuterRef("pk"), role=Reflection.Role.GIVER)),
            Exists(reflections.filter(session=OuterRef("pk"), role=Reflection.Role.RECEIVER)),
        )[:limit]
    )
