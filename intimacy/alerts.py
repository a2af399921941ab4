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

Each alert leads somewhere: a rule says what its alerts are about (`about=`: a session, an exercise,
the check-in, the trends) and which actions fit beside "Mark as seen" (`actions=`); a found alert
carries the session or exercise it is about, stored on the row, and the couple page turns that into
a link and buttons (intimacy/templatetags/alerts.py `alert_leads`), never by testing kinds.

Alerts are the therapist's alone, so every rating counts whatever the reflection's visibility:
the therapist always sees the ratings of a "Just me" reflection, never its words. No alert holds
text from the couple; the sentence shown is built from the kind and the partner's name.
Withdrawn sessions, and the reflections on them, are ignored throughout.
"""

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from functools import cached_property
from typing import NamedTuple

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Value, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from accounts.models import Couple, Partner, User
from intimacy import csi4
from intimacy.holds import hold_place, places_hold
from intimacy.models import (
    Alert,
    Assignment,
    CheckIn,
    ExerciseShape,
    Reflection,
    ReflectionDecline,
    Session,
    SessionDispute,
    TouchHold,
)
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

    @cached_property
    def checkin_progress(self) -> csi4.CoupleProgress:
        """The couple's check-ins read into each partner's progress: one query, shared by the three
        check-in rules (a cached_property writes past the frozen dataclass's guard, by design)."""
        rows = CheckIn.objects.filter(couple=self.couple).order_by().values_list("partner_id", "week", "total")
        return csi4.progress(rows, list(self.partners), csi4.norm())


class Found(NamedTuple):
    """An alert a rule finds; stored unless its (kind, partner, week) already is."""

    kind: str
    partner_id: int | None
    week: date
    urgent: bool = False
    # When the newest reflection behind it was written, for kinds that hold: a signal written after the
    # therapist lifted a hold places a new one, even in a week whose alert is already stored.
    written: datetime | None = None
    # What the alert is about, as the rule's `about` says: the session, and the exercise (for a session,
    # its own, so "Pause the exercise" needs no further read).
    session_id: int | None = None
    assignment_id: int | None = None


class About:
    """What a rule's alerts are about, so the couple page links there (templatetags/alerts.py LINKS)."""

    # The alert's session, on the couple page's timeline (the stored `session`).
    SESSION = "session"
    # The alert's exercise, in the couple page's list of exercises (the stored `assignment`).
    ASSIGNMENT = "assignment"
    # The weekly check-in panel, at the alert's week (CSI-4 rules: a drop, a crossing, partners apart).
    CHECKIN = "checkin"
    # The couple's trends, for alerts about ratings over several weeks.
    TRENDS = "trends"
    # Nothing on the page to lead to beyond the alert itself.
    NOTHING = ""


class Action:
    """What the therapist may do about an alert, beside "Mark as seen"."""

    # Pause the exercise the alert is about (the assignment status change, a POST).
    PAUSE = "pause"
    # Write a note on the couple page (the notes form, focused).
    NOTE = "note"


@dataclass(frozen=True)
class Rule:
    find: Callable[[Facts], list[Found]]
    # The sentence for each kind the rule raises, and the numbers those sentences quote.
    sentences: dict[str, Promise]
    numbers: dict[str, object]
    # Where its alerts lead, and what may be done about them (`About`, `Action`).
    about: str = About.NOTHING
    actions: tuple[str, ...] = ()

    def __call__(self, facts: Facts) -> list[Found]:
        # A rule still reads as the function it was declared as: `no_session(facts)`.
        return self.find(facts)


def rule(
    sentences: dict[str, Promise], *, about: str = About.NOTHING, actions: Iterable[str] = (), **numbers: object
) -> Callable[[Callable[[Facts], list[Found]]], Rule]:
    """Declare a rule's function with its sentences, so a rule, its thresholds and its words sit together.

    Sentences are translated when shown, then filled in by `alert_sentence` with the partner's name
    and the rules' numbers, so a translation follows any change to a threshold. Every sentence sees
    every rule's numbers (SENTENCE_NUMBERS), so each number's name must be new. `about` says what the
    alerts are about (`About`; the found alert carries the session or exercise), `actions` what fits
    beside "Mark as seen" (`Action`)."""
    return lambda find: Rule(find, sentences, numbers, about, tuple(actions))


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
    about=About.ASSIGNMENT,
    actions=[Action.PAUSE, Action.NOTE],
    no_session_days=NO_SESSION_DAYS,
)
def no_session(facts: Facts) -> list[Found]:
    since = facts.today - timedelta(days=NO_SESSION_DAYS)
    recent = Session.objects.filter(
        assignment=OuterRef("pk"), withdrawn_at__isnull=True, date__gte=since, date__lte=facts.today
    )
    idle = facts.running.filter(starts_on__lte=since).exclude(Exists(recent)).order_by("pk").values_list("pk")[:1]
    return [Found(Kind.NO_SESSION, None, facts.this_week, assignment_id=pk) for (pk,) in idle]


# A partner's mean connection rating falling by this many points or more is worth raising.
CONNECTION_DROP = 2
# Connection is compared over this many complete weeks against the same number of weeks before them.
CONNECTION_WINDOW_WEEKS = 3
# Each side of the comparison needs at least this many of the partner's ratings in the one role:
# one low evening against one good one is noise, not a trend.
CONNECTION_MIN_RATINGS = 3


@rule(
    {
        Kind.CONNECTION_DOWN: gettext_lazy(
            "%(partner)s's connection ratings over the last %(window_weeks)s weeks are"
            " %(drop)s points or more below the %(window_weeks)s weeks before, in the same role"
            " (at least %(min_ratings)s ratings in each)."
        )
    },
    about=About.TRENDS,
    actions=[Action.NOTE],
    window_weeks=CONNECTION_WINDOW_WEEKS,
    drop=CONNECTION_DROP,
    min_ratings=CONNECTION_MIN_RATINGS,
)
def connection_down(facts: Facts) -> list[Found]:
    """Like with like: a partner's ratings as giver against their ratings as giver, as receiver against
    as receiver, so a partner who gave more lately (and rates giving lower) is not "down"."""
    split = facts.this_week - timedelta(weeks=CONNECTION_WINDOW_WEEKS)
    start = split - timedelta(weeks=CONNECTION_WINDOW_WEEKS)
    in_last, in_before = Q(session__date__gte=split), Q(session__date__lt=split)
    rows = (
        facts.reflections.filter(session__date__gte=start, session__date__lt=facts.this_week)
        .values("partner_id", "role")
        .annotate(
            last_sum=Sum("connection", filter=in_last),
            last_n=Count("pk", filter=in_last),
            before_sum=Sum("connection", filter=in_before),
            before_n=Count("pk", filter=in_before),
        )
    )
    found = []
    for row in rows:
        if min(row["last_n"], row["before_n"]) >= CONNECTION_MIN_RATINGS:
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
    about=About.SESSION,
    actions=[Action.PAUSE, Action.NOTE],
    low_comfort_max=LOW_COMFORT_MAX,
    low_safe_max=LOW_SAFE_MAX,
)
def paused_or_low_rating(facts: Facts) -> list[Found]:
    """All three kinds, in the session's week, from one read of the recent reflections, newest session
    first (the alert of a week links to its latest session).

    A pause is one event of its session: both partners saying "we paused" raise one alert, in the
    name of the partner who said it first (who is also the one its week's alert already names)."""
    paused, uncomfortable, unsafe = Q(paused=True), Q(comfort__lte=LOW_COMFORT_MAX), Q(safe__lte=LOW_SAFE_MAX)
    rows = (
        facts.reflections.filter(
            paused | uncomfortable | unsafe,
            session__date__gte=facts.today - timedelta(days=RECENT_DAYS),
            session__date__lte=facts.today,
        )
        .order_by("-session__date", "-session_id", "pk")
        .values_list(
            "partner_id",
            "session_id",
            "session__date",
            "session__assignment_id",
            "paused",
            "comfort",
            "safe",
            "created_at",
        )
    )
    found, paused_sessions = [], set()
    for partner_id, session_id, day, assignment_id, was_paused, comfort, safe, written in rows:
        about = {"session_id": session_id, "assignment_id": assignment_id}
        if was_paused and session_id not in paused_sessions:
            paused_sessions.add(session_id)
            found.append(Found(Kind.PAUSED, partner_id, week_start(day), **about))
        if comfort <= LOW_COMFORT_MAX:
            found.append(Found(Kind.LOW_COMFORT, partner_id, week_start(day), **about))
        if safe <= LOW_SAFE_MAX:
            found.append(Found(Kind.LOW_SAFE, partner_id, week_start(day), True, written, **about))
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
    about=About.ASSIGNMENT,
    actions=[Action.NOTE],
    one_sided_share=f"{ONE_SIDED_SHARE:.0%}",
    one_sided_last=ONE_SIDED_LAST,
)
def one_sided(facts: Facts) -> list[Found]:
    """Touch exercises only (issue 15): who gives is what the rule is about; a talk's speaker is not
    "giving", and a together exercise has no roles."""
    take_turns = facts.running.filter(giver_plan=Assignment.GiverPlan.TAKE_TURNS, exercise__shape=ExerciseShape.TOUCH)
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
        Found(Kind.ONE_SIDED, giver_id, facts.this_week, assignment_id=assignment_id)
        for (assignment_id, giver_id), gave in Counter(latest).items()
        if per_assignment[assignment_id] == ONE_SIDED_LAST and gave >= ONE_SIDED_SHARE * ONE_SIDED_LAST
    ]


# A partner with this many sessions or more still lacking their reflection is raised ...
AWAITING_MIN = 3
# ... counting only sessions dated in this many days up to today: an old session left unreflected is
# history, not something to chase.
AWAITING_DAYS = 21


@rule(
    {
        Kind.AWAITING: gettext_lazy(
            "%(partner)s has %(awaiting_min)s or more sessions from the last %(awaiting_days)s days"
            " still waiting for their reflection."
        )
    },
    about=About.SESSION,
    actions=[Action.NOTE],
    awaiting_min=AWAITING_MIN,
    awaiting_days=AWAITING_DAYS,
)
def awaiting(facts: Facts) -> list[Found]:
    """Raised again only when a waiting session newer than the partner's last such alert appears, so
    the same three sessions are not raised week after week. Links to the newest waiting session."""
    return [
        Found(Kind.AWAITING, partner.pk, facts.this_week, session_id=partner.awaiting_newest)
        for partner in facts.partners.values()
        # Someone who has not joined Tend yet cannot reflect: nothing to raise about them.
        if partner.accepted_at is not None
        and (partner.awaiting or 0) >= AWAITING_MIN
        and (partner.awaiting_last_alert is None or partner.awaiting_newest_at > partner.awaiting_last_alert)
    ]


# The perception gap: among a receiver's last GAP_LAST sessions where both partners reflected, dated in
# the last GAP_DAYS days, at least GAP_MIN where the receiver felt it went badly while the giver felt it
# went well. "Went badly" for the receiver: pressure too firm, pace too fast, or a relief (tension before
# minus tension after) of GAP_RELIEF_MAX or less, so no easing or worse. "Went well" for the giver:
# connection, and presence and "how it felt to give" where answered, all GAP_GIVER_WELL_MIN or more.
GAP_LAST = 3
GAP_MIN = 2
GAP_DAYS = 28
GAP_RELIEF_MAX = 0
GAP_GIVER_WELL_MIN = 7
# What the rule reads of each reflection, the giver's and the receiver's alike.
GAP_FIELDS = ("connection", "presence", "giving_felt", "pressure", "pace", "tension_before", "tension_after")


@rule(
    {
        Kind.PERCEPTION_GAP: gettext_lazy(
            "In %(gap_min)s of %(partner)s's last %(gap_last)s sessions as receiver where both reflected"
            " (last %(gap_days)s days), %(partner)s found the pressure too firm or the pace too fast, or felt no"
            " relief, while the giver rated connection (and presence and how it felt to give, where answered)"
            " %(gap_giver_well_min)s or more."
        )
    },
    about=About.SESSION,
    actions=[Action.NOTE],
    gap_min=GAP_MIN,
    gap_last=GAP_LAST,
    gap_days=GAP_DAYS,
    gap_giver_well_min=GAP_GIVER_WELL_MIN,
)
def perception_gap(facts: Facts) -> list[Found]:
    """One read of the window's reflections, newest session first; paired and judged here (a few
    dozen rows at most). Raised in the week of the receiver's latest such session, and linked to it:
    the same sessions make one alert, not one a week; a new such session in a later week, another.
    Touch sessions only: pressure, pace and relief are a back rub's questions (issue 15)."""
    rows = (
        facts.reflections.filter(
            session__date__gte=facts.today - timedelta(days=GAP_DAYS),
            session__date__lte=facts.today,
            role__in=[Reflection.Role.GIVER, Reflection.Role.RECEIVER],
        )
        .order_by("-session__date", "-session_id")
        .values_list("session_id", "session__date", "session__receiver_id", "role", *GAP_FIELDS)
    )
    sessions: dict[int, tuple[date, int]] = {}
    pairs: dict[int, dict] = {}
    for session_id, day, receiver_id, role, *answers in rows:
        sessions[session_id] = (day, receiver_id)
        pairs.setdefault(session_id, {})[role] = dict(zip(GAP_FIELDS, answers, strict=True))
    judged: dict[int, list[tuple[int, bool]]] = {}
    for session_id, pair in pairs.items():
        if len(pair) == 2:  # both the giver's and the receiver's
            gap = _receiver_felt_worse(pair[Reflection.Role.RECEIVER]) and _giver_felt_well(pair[Reflection.Role.GIVER])
            judged.setdefault(sessions[session_id][1], []).append((session_id, gap))
    found = []
    for receiver_id, latest in judged.items():
        gaps = [session_id for session_id, gap in latest[:GAP_LAST] if gap]
        if len(gaps) >= GAP_MIN:
            week = week_start(sessions[gaps[0]][0])
            found.append(Found(Kind.PERCEPTION_GAP, receiver_id, week, session_id=gaps[0]))
    return found


def _receiver_felt_worse(answers: dict) -> bool:
    before, after = answers["tension_before"], answers["tension_after"]
    no_relief = before is not None and after is not None and before - after <= GAP_RELIEF_MAX
    return (
        answers["pressure"] == Reflection.Pressure.TOO_FIRM or answers["pace"] == Reflection.Pace.TOO_FAST or no_relief
    )


def _giver_felt_well(answers: dict) -> bool:
    ratings = [answers[name] for name in ("connection", "presence", "giving_felt") if answers[name] is not None]
    return min(ratings) >= GAP_GIVER_WELL_MIN


# A receiver's tension after higher than before in their last TENSION_WORSE_IN_A_ROW receiver reflections
# that answered both, the latest of them at most RECENT_DAYS old, is raised in that latest session's week.
TENSION_WORSE_IN_A_ROW = 2


@rule(
    {
        Kind.TENSION_WORSE: gettext_lazy(
            "%(partner)s's tension was higher after the session than before, %(tension_worse_in_a_row)s times"
            " in a row as receiver."
        )
    },
    about=About.SESSION,
    actions=[Action.PAUSE, Action.NOTE],
    tension_worse_in_a_row=TENSION_WORSE_IN_A_ROW,
)
def tension_worse(facts: Facts) -> list[Found]:
    answered = facts.reflections.filter(
        role=Reflection.Role.RECEIVER, tension_before__isnull=False, tension_after__isnull=False
    )
    rows = (
        answered.annotate(
            recency=Window(
                RowNumber(), partition_by=F("partner_id"), order_by=[F("session__date").desc(), F("session_id").desc()]
            )
        )
        .filter(recency__lte=TENSION_WORSE_IN_A_ROW)
        .order_by("partner_id", "recency")
        .values_list(
            "partner_id", "session_id", "session__date", "session__assignment_id", "tension_before", "tension_after"
        )
    )
    latest: dict[int, list[tuple]] = {}
    for partner_id, *row in rows:
        latest.setdefault(partner_id, []).append(row)
    since = facts.today - timedelta(days=RECENT_DAYS)
    found = []
    for partner_id, in_a_row in latest.items():
        (session_id, day, assignment_id, *_), *_older = in_a_row  # the newest first
        worse = all(after > before for *_, before, after in in_a_row)
        if len(in_a_row) == TENSION_WORSE_IN_A_ROW and worse and since <= day <= facts.today:
            about = {"session_id": session_id, "assignment_id": assignment_id}
            found.append(Found(Kind.TENSION_WORSE, partner_id, week_start(day), **about))
    return found


# The weekly check-in (CSI-4), judged as intimacy/csi4.py explains: each partner's baseline is the mean of
# their first two check-ins; change is judged with Jacobson & Truax's reliable change index. Each rule
# reads only a check-in from the last CHECKIN_RECENT_WEEKS weeks, so an old one raises nothing new,
# and is keyed by the week of the newest check-in behind it (the dashboard's #checkin panel).
CHECKIN_RECENT_WEEKS = 4


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
    about=About.CHECKIN,
    actions=[Action.NOTE],
)
def checkin_drop(facts: Facts) -> list[Found]:
    return [
        Found(Kind.CHECKIN_DROP, p.partner_id, p.latest_week)
        for p in facts.checkin_progress.partners
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
    about=About.CHECKIN,
    actions=[Action.NOTE],
)
def checkin_below(facts: Facts) -> list[Found]:
    return [
        Found(Kind.CHECKIN_BELOW, p.partner_id, p.latest_week)
        for p in facts.checkin_progress.partners
        if p.crossed_below_now and _recent(p.latest_week, facts)
    ]


# The partners moving apart: the gap between their latest totals is wider than the gap between their
# baselines by more than 1.96 × the standard error of a change in a gap (2 × SE: a gap is a difference
# of two totals, its change a difference of two gaps; csi4.Norm.reliable_gap_points). About the couple,
# so no partner; quiet while no published standard deviation is set (csi4.norm()).
CHECKIN_APART_Z = csi4.RCI_CRITICAL


@rule(
    {
        Kind.CHECKIN_APART: gettext_lazy(
            "The partners' weekly check-in totals have moved apart since their baselines by more than"
            " measurement noise (the gap widened by more than %(checkin_apart_z)s standard errors)."
        )
    },
    about=About.CHECKIN,
    actions=[Action.NOTE],
    checkin_apart_z=CHECKIN_APART_Z,
)
def checkin_apart(facts: Facts) -> list[Found]:
    progress = facts.checkin_progress
    if progress.diverging and _recent(progress.latest_week, facts):
        return [Found(Kind.CHECKIN_APART, None, progress.latest_week)]
    return []


RULES = [no_session, connection_down, paused_or_low_rating, one_sided, awaiting, perception_gap, tension_worse]
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
    Kind.PROGRAM_BACK: gettext_lazy(
        "%(partner)s asked privately to go back a step in the program. It stepped back for both of them;"
        " their partner was not told who asked."
    ),
}
# What each kind is about and what may be done about it: the rules' own, and for the kinds services raise,
# what fits (their private words are on the page already; a hold has its own "Lift the hold").
ABOUT = {
    **{kind: (r.about, r.actions) for r in RULES for kind in r.sentences},
    Kind.SAFETY: (About.NOTHING, (Action.NOTE,)),
    Kind.SAFETY_CHECK: (About.NOTHING, (Action.NOTE,)),
    Kind.DISPUTED: (About.SESSION, (Action.NOTE,)),
    Kind.CONSENT_WITHDRAWN: (About.NOTHING, (Action.NOTE,)),
    Kind.PROGRAM_BACK: (About.NOTHING, (Action.NOTE,)),
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

    Seven reads whatever the amount of history, each bounded in the database (the partners, then
    one for each rule but `awaiting`, which rides on the partners; the perception gap reads at most
    GAP_DAYS of reflections, the tension rule two rows per partner), then, only if any rule fired,
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


def sessions_awaiting_reflection(sessions: QuerySet[Session], partner: Partner | OuterRef) -> QuerySet[Session]:
    """Of `sessions`, those still waiting for `partner`'s reflection (a Partner, or an `OuterRef` to a
    partner's pk in a subquery): they took part, wrote none, did not say the session did not happen, and
    did not say "I won't reflect on this one". The one place that says "waiting" for the alerts."""
    waiting_for = partner if isinstance(partner, OuterRef) else Value(partner.pk)
    return (
        sessions.alias(waiting_for=waiting_for)
        .filter(Q(giver=F("waiting_for")) | Q(receiver=F("waiting_for")))
        .exclude(Exists(Reflection.objects.filter(session=OuterRef("pk"), partner=OuterRef("waiting_for"))))
        .exclude(Exists(SessionDispute.objects.filter(session=OuterRef("pk"), partner=OuterRef("waiting_for"))))
        .exclude(Exists(ReflectionDecline.objects.filter(session=OuterRef("pk"), partner=OuterRef("waiting_for"))))
    )


def _facts(couple: Couple, today: date) -> Facts:
    """What the rules read. Only the partners are read here, in one query: what `awaiting` needs rides
    along (their waiting sessions of the last AWAITING_DAYS days: how many, the newest, when their last
    such alert was raised), and their names serve the sentences."""
    sessions = Session.objects.filter(assignment__couple=couple, withdrawn_at__isnull=True)
    per_partner = sessions_awaiting_reflection(
        sessions.filter(date__gte=today - timedelta(days=AWAITING_DAYS), date__lte=today), OuterRef("pk")
    ).order_by()
    newest = per_partner.order_by("-created_at", "-pk")
    partners = Partner.objects.filter(couple=couple).annotate(
        awaiting=Subquery(per_partner.values("assignment__couple").annotate(n=Count("pk")).values("n")),
        awaiting_newest=Subquery(newest.values("pk")[:1]),
        awaiting_newest_at=Subquery(newest.values("created_at")[:1]),
        awaiting_last_alert=Subquery(
            Alert.objects.filter(couple=couple, kind=Kind.AWAITING, partner=OuterRef("pk"))
            .order_by("-raised_at")
            .values("raised_at")[:1]
        ),
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
                couple=facts.couple,
                kind=f.kind,
                partner=facts.partners.get(f.partner_id),
                week=f.week,
                urgent=f.urgent,
                session_id=f.session_id,
                assignment_id=f.assignment_id,
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


def alert_raise_now(
    *, couple: Couple, kind: str, partner: Partner, urgent: bool, session: Session | None = None
) -> Alert:
    """Raise an alert that a partner's own action causes (the safety line, withdrawn consent).

    Keyed like every alert by (couple, kind, partner, this ISO week). If this week's alert was already
    marked as seen, a new message opens it again: the therapist must not miss the second one. `session`
    is what the alert is about, where it is about one (a disputed session): the week's first one.
    """
    week = week_start(couple.today())
    about = {"session": session, "assignment_id": session.assignment_id} if session else {}
    with transaction.atomic():
        alert, created = Alert.objects.select_for_update().get_or_create(
            couple=couple, kind=kind, partner=partner, week=week, defaults={"urgent": urgent, **about}
        )
        if not created and alert.acknowledged_at is not None:
            _reopen(alert, urgent=urgent)
        if places_hold(kind, urgent):
            # Every new signal counts, even one in a week whose alert was already raised.
            hold_place(couple=couple, reason=kind, alert=alert)
    return alert
