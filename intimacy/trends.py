"""Selectors for the trends a couple's homework shows over a period.

Used by the therapist's dashboard, the appointment view, the printable summary and the partners'
progress page. Everything is aggregated in the database, grouped by ISO week (Monday first) or, for
periods longer than WEEKLY_UP_TO_WEEKS, by month, so a two-year view costs the same few queries as a
one-month view: the Python that follows only walks the grouped rows, never the sessions themselves.

What a view may show decides the `scope`:
- THERAPIST: every reflection's ratings (the words of "Just me" ones never leave `selectors`), the
  therapist's notes and both partners' weekly check-ins (CSI-4).
- SHARED: only reflections shared with the partner; for anything the couple sees together. No check-ins.
- OWN: a partner's own reflections, for their progress page. No check-ins.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import Enum
from urllib.parse import urlencode

from django.db.models import Count, Exists, F, FilteredRelation, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import Couple, Partner
from intimacy import csi4
from intimacy.models import Assignment, CheckIn, CoupleNote, Reflection, Session
from intimacy.weeks import week_start

WEEK_CHOICES = (4, 12, 26, 52, 104)
DEFAULT_WEEKS = 12
# Longer periods are shown month by month, so tables and charts stay short enough to read and print.
WEEKLY_UP_TO_WEEKS = 26
# A custom period may reach this far back; longer ones get the default with a notice.
MAX_CUSTOM_DAYS = 5 * 366
# No couple did homework in Tend before this; earlier dates are typing mistakes.
EARLIEST = date(2020, 1, 1)
NOTE_MARKER_CHARS = 40


class Scope(Enum):
    THERAPIST = "therapist"
    SHARED = "shared"
    OWN = "own"


# The period ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    weeks: int | None = None  # set for "last N weeks", None for custom dates
    notice: str = ""
    today: date | None = None  # the couple's today when the period was read

    @property
    def runs_to_today(self) -> bool:
        return self.today is None or self.end >= self.today

    @property
    def monthly(self) -> bool:
        return (week_start(self.end) - week_start(self.start)).days // 7 + 1 > WEEKLY_UP_TO_WEEKS

    @property
    def query(self) -> str:
        """The period as a query string, to carry it from one view to the next."""
        if self.weeks:
            return urlencode({"weeks": self.weeks})
        return urlencode({"from": self.start.isoformat(), "to": self.end.isoformat()})

    def buckets(self) -> list["Bucket"]:
        if self.monthly:
            buckets, first = [], self.start.replace(day=1)
            while first <= self.end:
                following = (first + timedelta(days=32)).replace(day=1)
                buckets.append(Bucket(first, following - timedelta(days=1), date_format(first, "M Y")))
                first = following
            return buckets
        monday, buckets = week_start(self.start), []
        while monday <= self.end:
            buckets.append(Bucket(monday, monday + timedelta(days=6), date_format(monday, "j M")))
            monday += timedelta(days=7)
        return buckets


@dataclass(frozen=True)
class Bucket:
    start: date
    end: date
    label: str


def period_from(params, today: date) -> Period:
    """The period a request asks for: `?weeks=N` or `?from=YYYY-MM-DD&to=YYYY-MM-DD`.

    Anything else gets the default (the last DEFAULT_WEEKS weeks) and a short notice; never an error.
    """
    default = Period(week_start(today) - timedelta(weeks=DEFAULT_WEEKS - 1), today, DEFAULT_WEEKS, today=today)
    if "from" in params or "to" in params:
        try:
            start, end = date.fromisoformat(params.get("from", "")), date.fromisoformat(params.get("to", ""))
        except ValueError:
            return _with_notice(default, _("Those dates weren't recognised, so this shows the last 12 weeks."))
        if start > end:
            return _with_notice(default, _("The start date was after the end date, so this shows the last 12 weeks."))
        if start > today or start < EARLIEST:
            return _with_notice(default, _("That period holds no sessions yet, so this shows the last 12 weeks."))
        # Nothing can have happened after today; stopping there also keeps date arithmetic in range.
        end = min(end, today)
        if (end - start).days > MAX_CUSTOM_DAYS:
            return _with_notice(default, _("That period is longer than five years, so this shows the last 12 weeks."))
        return Period(start, end, today=today)
    if "weeks" in params:
        try:
            weeks = int(params["weeks"])
        except ValueError:
            weeks = 0
        if weeks not in WEEK_CHOICES:
            return _with_notice(default, _("Choose 4, 12, 26, 52 or 104 weeks; this shows the last 12 weeks."))
        return Period(week_start(today) - timedelta(weeks=weeks - 1), today, weeks, today=today)
    return default


def _with_notice(period: Period, notice: str) -> Period:
    return Period(period.start, period.end, period.weeks, notice, period.today)


# The trends ------------------------------------------------------------------------------------


@dataclass
class Row:
    """One week or month of the period."""

    bucket: Bucket
    sessions: int = 0
    target: int = 0
    by_assignment: dict = field(default_factory=dict)  # assignment id -> sessions
    gave: dict = field(default_factory=dict)  # partner id -> sessions given
    both_reflected: int = 0
    # partner id, role -> mean connection; partner id -> mean comfort; partner id -> relief as receiver
    connection: dict = field(default_factory=dict)
    comfort: dict = field(default_factory=dict)
    relief: dict = field(default_factory=dict)
    paused: int = 0  # sessions with a "paused or stopped early" in a reflection
    gap_giver: float | None = None
    gap_receiver: float | None = None
    notes: list = field(default_factory=list)
    checkin: dict = field(default_factory=dict)  # partner id -> mean CSI-4 total (therapist scope only)

    @property
    def completion(self) -> int | None:
        """Percentage of sessions with both partners' reflections."""
        return round(100 * self.both_reflected / self.sessions) if self.sessions else None


@dataclass
class Trends:
    couple: Couple
    period: Period
    scope: Scope
    partners: list[Partner]
    assignments: list[Assignment]
    rows: list[Row]
    notes: list[CoupleNote]

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


def _trunc(period: Period, field_name: str):
    return TruncMonth(field_name) if period.monthly else TruncWeek(field_name)


def _as_date(value) -> date:
    # TruncWeek/TruncMonth of a DateField give a date on PostgreSQL and SQLite alike; be strict anyway.
    return value.date() if hasattr(value, "date") and callable(value.date) else value


def _mean(total, count) -> float | None:
    return round(total / count, 1) if count else None


def _scoped(reflections: QuerySet, scope: Scope, viewer_partner: Partner | None) -> QuerySet:
    if scope is Scope.SHARED:
        return reflections.filter(visibility=Reflection.Visibility.SHARED)
    if scope is Scope.OWN:
        return reflections.filter(partner=viewer_partner)
    return reflections


def _scope_q(scope: Scope, viewer_partner: Partner | None, prefix: str = "") -> Q:
    """`_scoped` as a condition, for a join (`prefix` is the path to the reflection)."""
    if scope is Scope.SHARED:
        return Q(**{f"{prefix}visibility": Reflection.Visibility.SHARED})
    if scope is Scope.OWN:
        return Q(**{f"{prefix}partner": viewer_partner})
    return Q()


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


def couple_trends(couple: Couple, period: Period, scope: Scope, viewer_partner: Partner | None = None) -> Trends:
    """The couple's homework over the period, bucket by bucket, as `scope` allows.

    Five queries whatever the period's length, six for the therapist: partners, assignments, sessions
    grouped by bucket, assignment and giver (with the giver's and receiver's connection on sessions
    both reflected on), reflections grouped by bucket, partner and role, and (for the therapist) their
    notes and the check-ins grouped by bucket and partner.
    """
    buckets = period.buckets()
    rows = {b.start: Row(b) for b in buckets}
    partners = list(couple.partners.all())
    assignments = list(
        couple.assignments.filter(starts_on__lte=period.end)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=period.start))
        .select_related("exercise", "planned_giver")
        .order_by("starts_on", "pk")
    )
    for row in rows.values():
        for assignment in assignments:
            row.target += target_for(assignment, row.bucket, period)

    in_period = {"date__gte": period.start, "date__lte": period.end}
    reflections = _scoped(Reflection.objects.all(), scope, viewer_partner)
    # Each session joined to its giver's and its receiver's reflection (as the scope allows): at most one
    # of each (one reflection per session and role), so the joins multiply nothing. Correlated subqueries
    # here ran about eight times per session (EXPLAIN ANALYZE on 104 weeks: ~10 ms against ~3 ms joined).
    scope_q = _scope_q(scope, viewer_partner, "reflections__")

    def reflection_as(role: str) -> FilteredRelation:
        return FilteredRelation("reflections", condition=Q(reflections__role=role) & scope_q)

    both = Q(giver_reflection__connection__isnull=False, receiver_reflection__connection__isnull=False)
    session_groups = (
        Session.objects.filter(assignment__couple=couple, withdrawn_at__isnull=True, **in_period)
        .annotate(
            bucket=_trunc(period, "date"),
            giver_reflection=reflection_as(Reflection.Role.GIVER),
            receiver_reflection=reflection_as(Reflection.Role.RECEIVER),
        )
        .values("bucket", "assignment_id", "giver_id")
        .annotate(
            n=Count("pk"),
            both=Count("pk", filter=both),
            giver_sum=Sum("giver_reflection__connection", filter=both),
            receiver_sum=Sum("receiver_reflection__connection", filter=both),
            # A session both partners marked "paused" is one paused session, not two.
            paused=Count("pk", filter=Q(giver_reflection__paused=True) | Q(receiver_reflection__paused=True)),
        )
        .order_by()
    )
    gap_sums = defaultdict(lambda: [0, 0, 0])
    for group in session_groups:
        row = rows.get(_as_date(group["bucket"]))
        if row is None:  # a custom period's first week starts before the period: it has its own row
            continue
        row.sessions += group["n"]
        row.by_assignment[group["assignment_id"]] = row.by_assignment.get(group["assignment_id"], 0) + group["n"]
        row.gave[group["giver_id"]] = row.gave.get(group["giver_id"], 0) + group["n"]
        row.both_reflected += group["both"]
        row.paused += group["paused"]
        sums = gap_sums[row.bucket.start]
        sums[0] += group["both"]
        sums[1] += group["giver_sum"] or 0
        sums[2] += group["receiver_sum"] or 0
    for start, (n, giver_sum, receiver_sum) in gap_sums.items():
        rows[start].gap_giver, rows[start].gap_receiver = _mean(giver_sum, n), _mean(receiver_sum, n)

    reflection_groups = (
        reflections.filter(
            session__assignment__couple=couple,
            session__withdrawn_at__isnull=True,
            session__date__gte=period.start,
            session__date__lte=period.end,
        )
        .annotate(bucket=_trunc(period, "session__date"))
        .values("bucket", "partner_id", "role")
        .annotate(
            n=Count("pk"),
            connection_sum=Sum("connection"),
            comfort_sum=Sum("comfort"),
            relief_sum=Sum(F("tension_before") - F("tension_after")),
            relief_n=Count("pk", filter=Q(tension_before__isnull=False, tension_after__isnull=False)),
        )
        .order_by()
    )
    comfort_sums = defaultdict(lambda: [0, 0])
    for group in reflection_groups:
        row = rows.get(_as_date(group["bucket"]))
        if row is None:
            continue
        partner_id = group["partner_id"]
        row.connection[(partner_id, group["role"])] = _mean(group["connection_sum"], group["n"])
        comfort_sums[(row.bucket.start, partner_id)][0] += group["comfort_sum"]
        comfort_sums[(row.bucket.start, partner_id)][1] += group["n"]
        if group["relief_n"]:
            row.relief[partner_id] = _mean(group["relief_sum"], group["relief_n"])
    for (start, partner_id), (total, n) in comfort_sums.items():
        rows[start].comfort[partner_id] = _mean(total, n)

    notes = []
    if scope is Scope.THERAPIST:
        notes = list(couple.notes.filter(**in_period).select_related("author").order_by("date", "pk"))
        for note in notes:
            for row in rows.values():
                if row.bucket.start <= note.date <= row.bucket.end:
                    row.notes.append(note)
        _add_checkins(couple, period, rows)
    return Trends(couple, period, scope, partners, assignments, list(rows.values()), notes)


def _add_checkins(couple: Couple, period: Period, rows: dict) -> None:
    """Each partner's mean CSI-4 total per bucket, from one grouped query. For the therapist only:
    check-ins never reach the couple, so no other scope calls this."""
    # A check-in belongs to its whole week: the first week counts even when the period starts mid-week.
    groups = (
        CheckIn.objects.filter(couple=couple, week__gte=week_start(period.start), week__lte=period.end)
        .annotate(bucket=_trunc(period, "week"))
        .values("bucket", "partner_id")
        .annotate(n=Count("pk"), total_sum=Sum("total"))
        .order_by()
    )
    for group in groups:
        row = rows.get(_as_date(group["bucket"]))
        if row is not None:
            row.checkin[group["partner_id"]] = _mean(group["total_sum"], group["n"])


def sessions_both_reflected(couple: Couple, period: Period, scope: Scope, limit: int = 10) -> QuerySet:
    """The latest sessions of the period with both partners' reflections (as `scope` allows).

    For the perception gap: what the receiver said of pressure and pace beside what the giver wrote.
    """
    reflections = _scoped(Reflection.objects.all(), scope, None)
    return Session.objects.filter(
        assignment__couple=couple, withdrawn_at__isnull=True, date__gte=period.start, date__lte=period.end
    ).filter(
        Exists(reflections.filter(session=OuterRef("pk"), role=Reflection.Role.GIVER)),
        Exists(reflections.filter(session=OuterRef("pk"), role=Reflection.Role.RECEIVER)),
    )[:limit]


# Charts ----------------------------------------------------------------------------------------


def _series(label: str, values: list, kind: str = "") -> dict:
    return {"label": label, "values": values, "kind": kind}


def charts(trends: Trends, *, targets: bool = True) -> list[dict]:
    """The charts of a period as plain data: drawn by static/tend/charts.js and tabled by the template.

    Each chart: id, title, a sentence saying how to read it, the bucket labels, the series, the y range.
    A chart with nothing to draw is left out, so no empty chart appears.
    """
    labels = [row.bucket.label for row in trends.rows]
    names = {p.pk: p.name for p in trends.partners}
    out = []

    sessions = [
        _series(a.exercise.title, [r.by_assignment.get(a.pk, 0) for r in trends.rows]) for a in trends.assignments
    ]
    if len(trends.assignments) > 1:
        for series, assignment in zip(sessions, trends.assignments, strict=True):
            series["label"] = _("%(exercise)s (from %(date)s)") % {
                "exercise": assignment.exercise.title,
                "date": date_format(assignment.starts_on, "j M"),
            }
    if targets:
        # No target line before the first assignment started or after the last one ended.
        sessions.append(_series(_("Target"), [r.target or None for r in trends.rows], "line"))
    if trends.assignments:
        out.append(
            {
                "id": "sessions",
                "title": _("Sessions against the target") if targets else _("Sessions together"),
                "about": (
                    _("Sessions done each month, by exercise.")
                    if trends.period.monthly
                    else _("Sessions done each week, by exercise.")
                ),
                "type": "bar",
                "stacked": True,
                "series": sessions,
            }
        )

    gave = [
        _series(_("%(name)s gave") % {"name": p.name}, [r.gave.get(p.pk, 0) for r in trends.rows])
        for p in trends.partners
    ]
    if trends.sessions:
        out.append(
            {
                "id": "reciprocity",
                "title": _("Who gave"),
                "about": _("Sessions each partner gave."),
                "type": "bar",
                "stacked": True,
                "series": gave,
            }
        )

    own = trends.scope is Scope.OWN  # a partner's own page speaks to them: "When giving", not their name
    if own:
        role_labels = {Reflection.Role.GIVER: _("When giving"), Reflection.Role.RECEIVER: _("When receiving")}
    else:
        role_labels = {Reflection.Role.GIVER: _("%(name)s, giving"), Reflection.Role.RECEIVER: _("%(name)s, receiving")}
    connection = [
        _series(
            role_labels[role] if own else role_labels[role] % {"name": names[p.pk]},
            [r.connection.get((p.pk, role)) for r in trends.rows],
        )
        for p in trends.partners
        for role in (Reflection.Role.GIVER, Reflection.Role.RECEIVER)
    ]
    _add_if_any(
        out,
        "connection",
        _("How connected you felt") if own else _("Connection"),
        _("From your own reflections, 0 to 10; the mean of each week.")
        if own
        else _("Mean connection, 0 to 10, for each partner as giver and as receiver."),
        connection,
        0,
        10,
    )
    comfort = [_series(p.name, [r.comfort.get(p.pk) for r in trends.rows]) for p in trends.partners]
    _add_if_any(out, "comfort", _("Comfort and safety"), _("Mean comfort and safety, 0 to 10."), comfort, 0, 10)
    relief = [
        _series(_("%(name)s, receiving") % {"name": p.name}, [r.relief.get(p.pk) for r in trends.rows])
        for p in trends.partners
    ]
    _add_if_any(
        out,
        "relief",
        _("Relief"),
        _("Tension before minus tension after, for the partner receiving."),
        relief,
        -10,
        10,
    )
    gap = [
        _series(_("Giver's connection"), [r.gap_giver for r in trends.rows]),
        _series(_("Receiver's connection"), [r.gap_receiver for r in trends.rows]),
    ]
    _add_if_any(
        out,
        "gap",
        _("Giver and receiver, same session"),
        _("Mean connection on sessions where both partners reflected."),
        gap,
        0,
        10,
    )
    if trends.sessions:
        out.append(
            {
                "id": "completion",
                "title": _("Both reflections written"),
                "about": (
                    _("Share of sessions where each of you shared a reflection, in per cent.")
                    if trends.scope is Scope.SHARED
                    else _("Share of sessions with a reflection from each partner, in per cent.")
                ),
                "type": "line",
                "min": 0,
                "max": 100,
                "series": [_series(_("Both reflected (%)"), [r.completion for r in trends.rows])],
            }
        )
    if trends.scope is Scope.THERAPIST:  # check-ins are the therapist's alone: never SHARED, never OWN
        _add_checkin_chart(out, trends)
    for chart in out:
        chart["labels"] = labels
        # The same numbers as a table beneath the chart, for screen readers and print.
        chart["rows"] = [[label, *(s["values"][i] for s in chart["series"])] for i, label in enumerate(labels)]
    return out


def _add_checkin_chart(out: list, trends: Trends) -> None:
    """Each partner's weekly check-in (CSI-4 total, 0–21), with the published threshold as a dashed line."""
    series = [_series(p.name, [r.checkin.get(p.pk) for r in trends.rows]) for p in trends.partners]
    series = [s for s in series if any(v is not None for v in s["values"])]
    if not series:  # no empty chart: the threshold alone is not data
        return
    series.append(
        _series(
            _("Threshold (%(threshold)s)") % {"threshold": csi4.THRESHOLD}, [csi4.THRESHOLD] * len(trends.rows), "line"
        )
    )
    numbers = {
        "min": csi4.TOTAL_MIN,
        "max": csi4.TOTAL_MAX,
        "threshold": csi4.THRESHOLD,
        "source": csi4.SHORT_SOURCE,
    }
    if trends.period.monthly:
        about = _(
            "Each partner's CSI-4 total, %(min)s to %(max)s, the mean of each month; lower totals mean more "
            "distress, and below %(threshold)s (dashed line) suggests notable dissatisfaction (%(source)s). "
            "For you only: not in the appointment view."
        )
    else:
        about = _(
            "Each partner's CSI-4 total, %(min)s to %(max)s; lower totals mean more distress, and below "
            "%(threshold)s (dashed line) suggests notable dissatisfaction (%(source)s). "
            "For you only: not in the appointment view."
        )
    out.append(
        {
            "id": "checkin",
            "title": _("Relationship satisfaction (weekly check-in)"),
            "about": about % numbers,
            "type": "line",
            "min": csi4.TOTAL_MIN,
            "max": csi4.TOTAL_MAX,
            "series": series,
        }
    )


def _add_if_any(out: list, chart_id: str, title: str, about: str, series: list, low: int, high: int) -> None:
    series = [s for s in series if any(v is not None for v in s["values"])]
    if series:
        out.append(
            {"id": chart_id, "title": title, "about": about, "type": "line", "min": low, "max": high, "series": series}
        )


def markers(trends: Trends) -> list[dict]:
    """Chart markers: paused or stopped sessions, and (therapist only) notes dated in the period."""
    out = []
    for index, row in enumerate(trends.rows):
        if row.paused:
            out.append({"index": index, "kind": "paused", "label": _("Paused ×%(count)s") % {"count": row.paused}})
        for note in row.notes:
            text = note.text if len(note.text) <= NOTE_MARKER_CHARS else note.text[: NOTE_MARKER_CHARS - 1] + "…"
            out.append({"index": index, "kind": "note", "label": text})
    return out


def _pair(a, b) -> str:
    dash = "–"
    return f"{dash if a is None else a} / {dash if b is None else b}"


def summary_rows(trends: Trends) -> list[dict]:
    """One line per week (or month) for the printable summary: every chart's numbers in one table."""
    first, second = (trends.partners + [None, None])[:2]
    ids = [p.pk if p else None for p in (first, second)]
    rows = []
    for row in trends.rows:
        rows.append(
            {
                "label": row.bucket.label,
                "sessions": f"{row.sessions} / {row.target}" if row.target else str(row.sessions),
                "gave": _pair(row.gave.get(ids[0], 0), row.gave.get(ids[1], 0)),
                "both": row.both_reflected,
                "connection": [
                    _pair(row.connection.get((pid, "giver")), row.connection.get((pid, "receiver"))) for pid in ids
                ],
                "comfort": _pair(row.comfort.get(ids[0]), row.comfort.get(ids[1])),
                "relief": _pair(row.relief.get(ids[0]), row.relief.get(ids[1])),
                "paused": row.paused,
                "notes": "; ".join(n.text for n in row.notes),
                "checkin": ["–" if row.checkin.get(pid) is None else row.checkin[pid] for pid in ids],
            }
        )
    return rows
