"""The "Needs attention" alerts engine: rules that flag a couple for the therapist's eye.

Each rule is a small function beside its thresholds and its sentence: it reads the couple's
sessions and reflections in the database and returns the alerts it finds, keyed by (couple, kind,
partner, ISO week). `alerts_raise` runs the rules in `RULES` and stores what is new; the unique
constraints on `Alert` make raising idempotent, so it can run from the nightly `check_alerts`
command and after every write that could change the answer, in any order and even twice at once.
An acknowledged alert stays in the history and keeps its week's key, so it is not raised again
that week; but a hold signal written after the therapist lifted a hold puts a new hold on and opens
its week's alert again (`_renew`), since lifting a hold answers only the signals before it.
A new rule is one function decorated with its sentence, and one line in `RULES`.

Alerts are the therapist's alone, so every rating counts whatever the reflection's visibility:
the therapist always sees the ratings of a "Just me" reflection, never its words. No alert holds
text from the couple; the sentence shown is built from the kind and the partner's name.
Withdrawn sessions, and the reflections on them, are ignored throughout.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import NamedTuple

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Subquery, Sum, Window
from django.db.models.functions import RowNumber, TruncWeek
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from accounts.models import Couple, Partner, User
from intimacy import csi4
from intimacy.holds import hold_place, places_hold
from intimacy.models import Alert, Assignment, CheckIn, Reflection, Session, SessionDispute, TouchHold
from intimacy.reminders import urgent_alert_reopened
from intimacy.weeks import week_start

Kind = Alert.Kind


@dataclass(frozen=True)
class Facts:
    """What every rule reads: one active couple, on one day."""

    couple: Couple
    today: date
    this_week: date
    # The couple's partners by id, each with `awaiting`: their sessions still lacking their reflection.
    partners: dict[int, Partner]
    # Sessions and reflections, not withdrawn; exercises active today.
    sessions: QuerySet[Session]
    reflections: QuerySet[Reflection]
    running: QuerySet[Assignment]


class Found(NamedTuple):
    """An alert a rule finds; stored unless its (kind, partner, week) already is."""

    kind: str
    partner_id: int | None
    week: date
    urgent: bool = False
    # When the newest reflection behind it was written, for kinds that hold: a signal written after the
    # therapist lifted a hold places a new one, even in a week whose alert is already stored.
    written: datetime | None = None


@dataclass(frozen=True)
class Rule:
    find: Callable[[Facts], list[Found]]
    # The sentence for each kind the rule raises, and the numbers those sentences quote.
    sentences: dict[str, Promise]
    numbers: dict[str, object]

    def __call__(self, facts: Facts) -> list[Found]:
        # A rule still reads as the function it was declared as: `no_session(facts)`.
        return self.find(facts)


def rule(sentences: dict[str, Promise], **numbers: object) -> Callable[[Callable[[Facts], list[Found]]], Rule]:
    """Declare a rule's function with its sentences, so a rule, its thresholds and its words sit together.

    Sentences are translated when shown, then filled in by `alert_sentence` with the partner's name
    and the rules' numbers, so a translation follows any change to a threshold. Every sentence sees
    every rule's numbers (SENTENCE_NUMBERS), so each number's name must be new."""
    return lambda find: Rule(find, sentences, numbers)


# The rules -----------------------------------------------------------------------------------------

# An active exercise that started at least this many days ago, with no session dated from this many
# days back up to today, needs a look.
NO_SESSION_DAYS = 14


@rule(
    {
        Kind.NO_SESSION: gettext_lazy(
            "No session has been logged for an active exercise in the last %(no_session_days)s days."
        )
    },
    no_session_days=NO_SESSION_DAYS,
)
def no_session(facts: Facts) -> list[Found]:
    since = facts.today - timedelta(days=NO_SESSION_DAYS)
    recent = Session.objects.filter(
        assignment=OuterRef("pk"), withdrawn_at__isnull=True, date__gte=since, date__lte=facts.today
    )
    idle = facts.running.filter(starts_on__lte=since).exclude(Exists(recent)).exists()
    return [Found(Kind.NO_SESSION, None, facts.this_week)] if idle else []


# A partner's mean connection rating falling by this many points or more is worth raising.
CONNECTION_DROP = 2
# Connection is compared over this many complete weeks against the same number of weeks before them.
CONNECTION_WINDOW_WEEKS = 3


@rule(
    {
        Kind.CONNECTION_DOWN: gettext_lazy(
            "%(partner)s's connection ratings over the last %(window_weeks)s weeks are"
            " %(drop)s points or more below the %(window_weeks)s weeks before."
        )
    },
    window_weeks=CONNECTION_WINDOW_WEEKS,
    drop=CONNECTION_DROP,
)
def connection_down(facts: Facts) -> list[Found]:
    split = facts.this_week - timedelta(weeks=CONNECTION_WINDOW_WEEKS)
    start = split - timedelta(weeks=CONNECTION_WINDOW_WEEKS)
    in_last, in_before = Q(session__date__gte=split), Q(session__date__lt=split)
    rows = (
        facts.reflections.filter(session__date__gte=start, session__date__lt=facts.this_week)
        .values("partner_id")
        .annotate(
            last_sum=Sum("connection", filter=in_last),
            last_n=Count("pk", filter=in_last),
            before_sum=Sum("connection", filter=in_before),
            before_n=Count("pk", filter=in_before),
        )
    )
    found = []
    for row in rows:
        if row["last_n"] and row["before_n"]:
            # Sums and counts rather than Avg keep the comparison exact: 11/3 - 5/3 is 2, in floats 1.999….
            drop = Fraction(row["before_sum"], row["before_n"]) - Fraction(row["last_sum"], row["last_n"])
            if drop >= CONNECTION_DROP:
                found.append(Found(Kind.CONNECTION_DOWN, row["partner_id"], facts.this_week))
    return found


# A pause or a low rating is raised while its session is at most this many days old.
RECENT_DAYS = 14
# A comfort rating at or below this is raised as an ordinary alert: shyness or awkwardness is worth a
# word in the next appointment, not an email tonight.
LOW_COMFORT_MAX = 3
# A "safe" rating at or below this is raised, and marked urgent: feeling unsafe is the signal that
# touch work may be coercive, so it reaches the therapist at once.
LOW_SAFE_MAX = 3


@rule(
    {
        Kind.PAUSED: gettext_lazy("%(partner)s noted that a recent session was paused or stopped early."),
        Kind.LOW_COMFORT: gettext_lazy("%(partner)s rated comfort %(low_comfort_max)s or lower in a recent session."),
        Kind.LOW_SAFE: gettext_lazy("%(partner)s rated feeling safe %(low_safe_max)s or lower in a recent session."),
    },
    low_comfort_max=LOW_COMFORT_MAX,
    low_safe_max=LOW_SAFE_MAX,
)
def paused_or_low_rating(facts: Facts) -> list[Found]:
    """All three kinds, in the session's week, from one read of the recent reflections."""
    paused, uncomfortable, unsafe = Q(paused=True), Q(comfort__lte=LOW_COMFORT_MAX), Q(safe__lte=LOW_SAFE_MAX)
    rows = (
        facts.reflections.filter(
            paused | uncomfortable | unsafe,
            session__date__gte=facts.today - timedelta(days=RECENT_DAYS),
            session__date__lte=facts.today,
        )
        .values("partner_id", week=TruncWeek("session__date"))
        .annotate(
            paused=Count("pk", filter=paused),
            uncomfortable=Count("pk", filter=uncomfortable),
            unsafe=Count("pk", filter=unsafe),
            unsafe_written=Max("created_at", filter=unsafe),
        )
    )
    found = []
    for row in rows:
        if row["paused"]:
            found.append(Found(Kind.PAUSED, row["partner_id"], row["week"]))
        if row["uncomfortable"]:
            found.append(Found(Kind.LOW_COMFORT, row["partner_id"], row["week"]))
        if row["unsafe"]:
            found.append(Found(Kind.LOW_SAFE, row["partner_id"], row["week"], True, row["unsafe_written"]))
    return found


# Under "take turns", one partner giving this share or more of the latest sessions is raised ...
ONE_SIDED_SHARE = 0.8
# ... counted over this many latest sessions, and only once there are that many.
ONE_SIDED_LAST = 8


@rule(
    {
        Kind.ONE_SIDED: gettext_lazy(
            "%(partner)s gave in %(one_sided_share)s or more of the last %(one_sided_last)s sessions"
            " of a take-turns exercise."
        )
    },
    one_sided_share=f"{ONE_SIDED_SHARE:.0%}",
    one_sided_last=ONE_SIDED_LAST,
)
def one_sided(facts: Facts) -> list[Found]:
    take_turns = facts.running.filter(giver_plan=Assignment.GiverPlan.TAKE_TURNS)
    # At most ONE_SIDED_LAST rows per running take-turns assignment (usually there is one).
    latest = list(
        facts.sessions.filter(assignment__in=take_turns)
        .annotate(
            recency=Window(RowNumber(), partition_by=F("assignment_id"), order_by=[F("date").desc(), F("pk").desc()])
        )
        .filter(recency__lte=ONE_SIDED_LAST)
        .values_list("assignment_id", "giver_id")
    )
    per_assignment = Counter(assignment_id for assignment_id, _ in latest)
    return [
        Found(Kind.ONE_SIDED, giver_id, facts.this_week)
        for (assignment_id, giver_id), gave in Counter(latest).items()
        if per_assignment[assignment_id] == ONE_SIDED_LAST and gave >= ONE_SIDED_SHARE * ONE_SIDED_LAST
    ]


# A partner with this many sessions or more still lacking their reflection is raised.
AWAITING_MIN = 3


@rule(
    {
        Kind.AWAITING: gettext_lazy(
            "%(partner)s has %(awaiting_min)s or more sessions still waiting for their reflection."
        )
    },
    awaiting_min=AWAITING_MIN,
)
def awaiting(facts: Facts) -> list[Found]:
    return [
        Found(Kind.AWAITING, partner.pk, facts.this_week)
        for partner in facts.partners.values()
        # Someone who has not joined Tend yet cannot reflect: nothing to raise about them.
        if partner.accepted_at is not None and (partner.awaiting or 0) >= AWAITING_MIN
    ]


# The weekly check-in (CSI-4), judged as intimacy/csi4.py explains: each partner's baseline is the mean of
# their first two check-ins; change is judged with Jacobson & Truax's reliable change index. Each rule
# reads only a check-in from the last CHECKIN_RECENT_WEEKS weeks, so an old one raises nothing new,
# and is keyed by the week of the newest check-in behind it (the dashboard's #checkin panel).
CHECKIN_RECENT_WEEKS = 4


def _checkin_progress(facts: Facts) -> csi4.CoupleProgress:
    """The couple's check-ins read into each partner's progress (one query)."""
    rows = CheckIn.objects.filter(couple=facts.couple).order_by().values_list("partner_id", "week", "total")
    return csi4.progress(rows, list(facts.partners), csi4.norm())


def _recent(week: date | None, facts: Facts) -> bool:
    return week is not None and week >= facts.this_week - timedelta(weeks=CHECKIN_RECENT_WEEKS)


# A partner's latest check-in total below their baseline by more than measurement noise: the reliable
# change index (latest − baseline) / S_diff is below −CHECKIN_RCI (csi4.RCI_CRITICAL, 1.96). Quiet while
# no published standard deviation is set (csi4.norm()).
CHECKIN_RCI = csi4.RCI_CRITICAL


@rule(
    {
        Kind.CHECKIN_DROP: gettext_lazy(
            "%(partner)s's weekly check-in total dropped from their baseline by more than measurement noise"
            " (reliable change index below −%(checkin_rci)s)."
        )
    },
    checkin_rci=CHECKIN_RCI,
)
def checkin_drop(facts: Facts) -> list[Found]:
    return [
        Found(Kind.CHECKIN_DROP, p.partner_id, p.latest_week)
        for p in _checkin_progress(facts).partners
        if p.change is csi4.Change.RELIABLE_DROP and _recent(p.latest_week, facts)
    ]


# A partner's newest check-in total below this line when the one before it was at or above it: the
# published threshold for notable relationship dissatisfaction (Funk & Rogge 2007).
CHECKIN_LINE = csi4.THRESHOLD


@rule(
    {
        Kind.CHECKIN_BELOW: gettext_lazy(
            "%(partner)s's weekly check-in total fell below %(checkin_line)s, the published line for notable"
            " dissatisfaction; the check-in before was at or above it."
        )
    },
    checkin_line=CHECKIN_LINE,
)
def checkin_below(facts: Facts) -> list[Found]:
    return [
        Found(Kind.CHECKIN_BELOW, p.partner_id, p.latest_week)
        for p in _checkin_progress(facts).partners
        if p.crossed_below_now and _recent(p.latest_week, facts)
    ]


# The partners moving apart: the gap between their latest totals is wider than the gap between their
# baselines by more than 1.96 × the standard error of a change in a gap (2 × SE: a gap is a difference
# of two totals, its change a difference of two gaps; csi4.Norm.reliable_gap_points). About the couple,
# so no partner; quiet while no published standard deviation is set (csi4.norm()).
@rule(
    {
        Kind.CHECKIN_APART: gettext_lazy(
            "The partners' weekly check-in totals have moved apart since their baselines by more than"
            " measurement noise."
        )
    },
)
def checkin_apart(facts: Facts) -> list[Found]:
    progress = _checkin_progress(facts)
    if progress.diverging and _recent(progress.latest_week, facts):
        return [Found(Kind.CHECKIN_APART, None, progress.latest_week)]
    return []


RULES = [no_session, connection_down, paused_or_low_rating, one_sided, awaiting]
RULES += [checkin_drop, checkin_below, checkin_apart]

SENTENCES = {
    **{kind: sentence for r in RULES for kind, sentence in r.sentences.items()},
    # Raised by services, not by the rules.
    Kind.SAFETY: gettext_lazy(
        "%(partner)s used “Tell my therapist privately”. Read it below; the other partner cannot see it."
    ),
    Kind.SAFETY_CHECK: gettext_lazy(
        "%(partner)s gave a worrying answer in the private check before touch work. Touch exercises are on hold."
    ),
    Kind.DISPUTED: gettext_lazy(
        "%(partner)s said a session logged by their partner did not happen, or they did not agree to it."
        " Touch exercises are on hold."
    ),
    Kind.CONSENT_WITHDRAWN: gettext_lazy(
        "%(partner)s withdrew their consent: their logging has stopped and the exercises are paused."
    ),
}
SENTENCE_NUMBERS = {name: number for r in RULES for name, number in r.numbers.items()}
# Every sentence sees every rule's numbers: two rules naming a number alike would quote the wrong one.
assert len(SENTENCE_NUMBERS) == sum(len(r.numbers) for r in RULES), "two rules name a sentence number alike"


def alert_sentence(alert: Alert) -> str:
    """The plain sentence the therapist reads for an alert, e.g. "Sam rated feeling safe 3 or lower …"."""
    partner = alert.partner.name if alert.partner_id else ""
    return str(SENTENCES[alert.kind]) % {**SENTENCE_NUMBERS, "partner": partner}


# The engine ----------------------------------------------------------------------------------------


def alerts_raise(*, couple: Couple, today: date | None = None) -> list[Alert]:
    """Evaluate every rule for one couple and store the alerts not raised before; return those.

    Only active couples get alerts. `today` defaults to today in the couple's time zone; "complete
    weeks" are the ISO weeks before the one holding `today`, and "the last N days" runs from
    `today - N days` to `today`, both ends included.

    Five reads whatever the amount of history, each aggregated in the database (the partners, then
    one for each rule but `awaiting`, which rides on the partners), then, only if any rule fired,
    one read of the alerts already stored (with the couple's last hold lift riding along) and, only if
    one is new, one insert; only a hold signal written after a lift costs more (`_renew`). The insert ignores
    conflicts, so two runs at once store each alert once (the loser of such a race may still count
    an alert the winner stored). The returned alerts carry their partner but no primary key, since
    an insert that ignores conflicts reports none.
    """
    if couple.status != Couple.Status.ACTIVE:
        return []
    with transaction.atomic():
        facts = _facts(couple, today or couple.today())
        found = [alert for r in RULES for alert in r.find(facts)]
        return _store(facts, found) if found else []


def _facts(couple: Couple, today: date) -> Facts:
    """What the rules read. Only the partners are read here, in one query: their awaiting counts
    ride along, and their names serve the sentences."""
    sessions = Session.objects.filter(assignment__couple=couple, withdrawn_at__isnull=True)
    partners = Partner.objects.filter(couple=couple).annotate(
        awaiting=Subquery(
            sessions.filter(Q(giver=OuterRef("pk")) | Q(receiver=OuterRef("pk")))
            .exclude(Exists(Reflection.objects.filter(session=OuterRef("pk"), partner=OuterRef(OuterRef("pk")))))
            .exclude(Exists(SessionDispute.objects.filter(session=OuterRef("pk"), partner=OuterRef(OuterRef("pk")))))
            .order_by()
            .values("assignment__couple")
            .annotate(n=Count("pk"))
            .values("n")
        )
    )
    return Facts(
        couple=couple,
        today=today,
        this_week=week_start(today),
        partners={p.pk: p for p in partners},
        sessions=sessions,
        reflections=Reflection.objects.filter(
            session__assignment__couple=couple, session__withdrawn_at__isnull=True
        ).order_by(),
        running=Assignment.objects.filter(
            Q(status=Assignment.Status.ACTIVE) & (Q(ends_on__isnull=True) | Q(ends_on__gte=today)), couple=couple
        ),
    )


def _store(facts: Facts, found: list[Found]) -> list[Alert]:
    """Insert the found alerts not stored yet, each once; return them. A stored alert of a hold kind
    whose signal was written after the last lift is renewed instead (`_renew`)."""
    # The last lift rides on this read, so the usual run costs no extra query.
    last_lift = Subquery(
        TouchHold.objects.filter(couple=facts.couple, lifted_at__isnull=False)
        .order_by("-lifted_at")
        .values("lifted_at")[:1]
    )
    rows = (
        Alert.objects.filter(couple=facts.couple, week__gte=min(f.week for f in found))
        .annotate(last_lift=last_lift)
        .values_list("kind", "partner_id", "week", "pk", "acknowledged_at", "last_lift")
    )
    stored = {row[:3]: row[3:] for row in rows}
    new: dict[tuple, Alert] = {}
    for f in found:
        key = (f.kind, f.partner_id, f.week)
        if key in stored:
            _renew(facts.couple, f, *stored[key])
        elif key not in new:
            new[key] = Alert(
                couple=facts.couple, kind=f.kind, partner=facts.partners.get(f.partner_id), week=f.week, urgent=f.urgent
            )
    if new:
        Alert.objects.bulk_create(new.values(), ignore_conflicts=True)
        _hold_if_needed(facts.couple, new.values())
    return list(new.values())


def _renew(couple: Couple, f: Found, pk: int, acknowledged_at: datetime | None, last_lift: datetime | None) -> None:
    """A hold signal written after the therapist lifted the last hold puts a new hold on, though its
    week's alert is already stored; the alert opens again if it was marked as seen before that signal,
    like a second message through the safety line (`alert_raise_now`). Signals from before the lift
    were dealt with by it: they renew nothing, so running the rules again is still idempotent."""
    if not places_hold(f.kind, f.urgent) or f.written is None or last_lift is None or f.written <= last_lift:
        return
    alert = Alert.objects.select_for_update().get(pk=pk)
    if acknowledged_at is not None and acknowledged_at < f.written:
        _reopen(alert, urgent=f.urgent)
    hold_place(couple=couple, reason=f.kind, alert=alert)


def _reopen(alert: Alert, *, urgent: bool) -> None:
    """Open an alert marked as seen again; an urgent one emails the therapist again (its first email
    went out when it was raised)."""
    alert.acknowledged_at, alert.acknowledged_by, alert.acknowledgement = None, None, ""
    alert.urgent = alert.urgent or urgent
    alert.save()
    if alert.urgent:
        urgent_alert_reopened(alert)


def _hold_if_needed(couple: Couple, new) -> None:
    """A new alert of a hold kind puts the couple's touch exercises on hold, in this same transaction
    (bulk_create sends no signals, so this is where it happens)."""
    for alert in new:
        if places_hold(alert.kind, alert.urgent):
            key = {"kind": alert.kind, "partner": alert.partner, "week": alert.week}
            stored = Alert.objects.filter(couple=couple, **key).first()
            hold_place(couple=couple, reason=alert.kind, alert=stored)
            return


def alert_acknowledge(*, alert: Alert, by: User, note: str) -> Alert:
    """The couple's therapist marks an alert as seen, with an optional short note (300 characters).

    Acknowledging twice keeps the first acknowledgement, its time, author and note: the row is locked
    and re-read before writing, so of two concurrent clicks the second waits, then finds it acknowledged.
    The write is a `save()`, so it is in the audit trail. The alert stays in the history.
    """
    if alert.couple.therapist_id != by.pk:
        raise PermissionDenied
    if alert.acknowledged_at is not None:
        return alert
    alert.acknowledged_at = timezone.now()
    alert.acknowledged_by = by
    alert.acknowledgement = note.strip()
    alert.full_clean(validate_unique=False, validate_constraints=False)
    with transaction.atomic():
        locked = Alert.objects.select_for_update().values_list("acknowledged_at", flat=True).get(pk=alert.pk)
        written = locked is None
        if written:
            alert.save(update_fields=["acknowledged_at", "acknowledged_by", "acknowledgement"])
    if not written:
        alert.refresh_from_db()
    return alert


def alert_raise_now(*, couple: Couple, kind: str, partner: Partner, urgent: bool) -> Alert:
    """Raise an alert that a partner's own action causes (the safety line, withdrawn consent).

    Keyed like every alert by (couple, kind, partner, this ISO week). If this week's alert was already
    marked as seen, a new message opens it again: the therapist must not miss the second one.
    """
    week = week_start(couple.today())
    with transaction.atomic():
        alert, created = Alert.objects.select_for_update().get_or_create(
            couple=couple, kind=kind, partner=partner, week=week, defaults={"urgent": urgent}
        )
        if not created and alert.acknowledged_at is not None:
            _reopen(alert, urgent=urgent)
        if places_hold(kind, urgent):
            # Every new signal counts, even one in a week whose alert was already raised.
            hold_place(couple=couple, reason=kind, alert=alert)
    return alert
