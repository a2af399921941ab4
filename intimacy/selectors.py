"""Reads: what each screen shows, with access and partner privacy applied in the queries."""

import operator
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache, cached_property, partial, reduce

from django.core.paginator import Page, Paginator
from django.db.models import (
    Avg,
    BooleanField,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, RowNumber, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from accounts.models import Couple, Partner, User
from intimacy import csi4, holds
from intimacy.builtin import BACK_RUB_KEY
from intimacy.models import (
    Alert,
    AppointmentExclusion,
    Assignment,
    CheckIn,
    CoupleNote,
    Exercise,
    ExerciseShape,
    PersonalPause,
    Program,
    ProgramRun,
    ProgramStage,
    ProgramStep,
    ReadinessAnswer,
    Reflection,
    ReflectionDecline,
    SafetyCheck,
    SafetyMessage,
    ScreeningRecord,
    Session,
    SessionDispute,
    SessionPairDismissal,
    reveal_cutoff,
    revealed_together,
)
from intimacy.prepared import Prepared
from intimacy.trends.aggregation import NOTHING_LEFT_OUT, LeftOut
from intimacy.weeks import week_start

# "Did you mean this one?": the partner's sessions from this many days back that lack their reflection.
RECENT_UNREFLECTED_DAYS = 2


def _mask_unreadable(reflection: Reflection, viewer: User) -> Reflection:
    """Withhold the words of a reflection the viewer may see only the ratings of.

    The text is blanked on the instance itself, so no template can print it by mistake.
    """
    reflection.show_text = reflection.text_visible_to(viewer)
    if not reflection.show_text:
        for name in Reflection.TEXT_FIELDS:
            setattr(reflection, name, "")
    return reflection


def picked_then_joined(sessions, *, known: "Known | None" = None) -> QuerySet:
    """`sessions` (filtered, ordered, sliced as the caller likes) with their partners and exercise.

    The rows are picked first, in a subquery, and only they are joined: joined before the LIMIT, every
    session of the couple's history (or every partner of the practice, hashed) went through the joins,
    and with a filter's EXISTS beside them PostgreSQL spent ~25 ms planning (docs/PERFORMANCE.md).
    What the caller already holds (`known`) is not joined: the caller attaches it (`Known.attach`).
    """
    picked = Session.objects.filter(pk__in=sessions.values("pk"))
    if sessions.query.order_by:
        picked = picked.order_by(*sessions.query.order_by)
    related = []
    if known is None or not known.partners:
        related += ["giver", "receiver", "logged_by"]
    if known is None or known.assignments is None:
        related.append("assignment__exercise")
    return picked.select_related(*related) if related else picked


@dataclass
class Known:
    """The rows a couple's sessions point to that a page already holds: both partners (the access gate
    reads them together, `accounts.access.partner_of`) and, when read anyway, the couple's assignments
    with their exercise. Attached to each session in place of joining the partners three times and the
    assignment and exercise into every query: each join cost PostgreSQL planning time (issue 16)."""

    partners: dict[int, Partner]
    assignments: dict[int, Assignment] | None = None

    @classmethod
    def of(cls, partner: Partner, assignments: list[Assignment] | None = None) -> "Known":
        both = [p for p in (partner, partner.other_partner()) if p is not None]
        return cls({p.pk: p for p in both}, None if assignments is None else {a.pk: a for a in assignments})

    def attach(self, sessions: list[Session]) -> list[Session]:
        """Set each session's partners (and assignment) from these rows; any not here stays lazy."""
        for session in sessions:
            for column in SESSION_PARTNER_FIELDS:
                person = self.partners.get(getattr(session, column.attname))
                if person is not None:
                    column.set_cached_value(session, person)
            if self.assignments is not None and session.assignment_id in self.assignments:
                SESSION_ASSIGNMENT_FIELD.set_cached_value(session, self.assignments[session.assignment_id])
        return sessions

    def viewer(self, user: User) -> Partner | None:
        """`user`'s own partner row among these, if they are one of the couple."""
        return next((p for p in self.partners.values() if p.user_id == user.pk), None)

    def attach_partner(self, reflection: Reflection) -> None:
        person = self.partners.get(reflection.partner_id)
        if person is not None:
            REFLECTION_PARTNER_FIELD.set_cached_value(reflection, person)


SESSION_PARTNER_FIELDS = [Session._meta.get_field(name) for name in ("giver", "receiver", "logged_by")]
SESSION_ASSIGNMENT_FIELD = Session._meta.get_field("assignment")
REFLECTION_PARTNER_FIELD = Reflection._meta.get_field("partner")
REFLECTION_SESSION_FIELD = Reflection._meta.get_field("session")


def sessions_with_reflections(
    sessions,
    viewer: User,
    *,
    shared_only: bool = False,
    left_out: LeftOut = NOTHING_LEFT_OUT,
    mark_disputed: bool = False,
    known: Known | None = None,
) -> list[Session]:
    """Attach `giver_reflection`, `receiver_reflection` and `mine` to each session, as the viewer may see them.

    `shared_only` keeps just the reflections shared between the partners, for what the couple sees together,
    and of those only the ones revealed to both (`revealed_together`): a shared reflection still waiting
    for the other partner's is replaced by `giver_waiting` / `receiver_waiting`. `left_out` drops the
    reflections the therapist left out of the appointment view; `mark_disputed` (the therapist's page
    only) adds `disputed_by`, the name of a partner who disputed the session.

    A partner viewer gets, on each session, their own signals only: `i_disputed` (they said it didn't
    happen), `i_declined` (they said they won't reflect), and `theirs`, the other partner's reflection
    once revealed to them; `theirs_waiting` when the other partner shared one that is not yet revealed
    (the existence of a shared reflection is all they learn; of any other, nothing).

    `known`: the couple's partners (and assignments) the caller holds, attached instead of joined.
    """
    reflections = Reflection.objects.visible_to(viewer, partner=known.viewer(viewer) if known else None)
    if left_out.reflections:
        reflections = reflections.exclude(pk__in=left_out.reflections)
    if known is None or not known.partners:
        reflections = reflections.select_related("partner")
    if shared_only:
        reflections = reflections.filter(visibility=Reflection.Visibility.SHARED).annotate(
            revealed=ExpressionWrapper(revealed_together(), output_field=BooleanField())
        )
    picked = picked_then_joined(sessions, known=known)
    if mark_disputed:
        disputes = SessionDispute.objects.filter(session=OuterRef("pk")).order_by("pk")
        picked = picked.annotate(disputed_by=Subquery(disputes.values("partner__name")[:1]))
    if viewer.is_partner:
        picked = picked.annotate(**_partner_signals(viewer, known.viewer(viewer) if known else None))
    sessions = list(
        picked.prefetch_related(Prefetch("reflections", queryset=reflections, to_attr="visible_reflections"))
    )
    if known is not None:
        known.attach(sessions)
    for session in sessions:
        if known is not None:
            for reflection in session.visible_reflections:
                known.attach_partner(reflection)
        _attach_reflections(session, viewer)
    return sessions


def _partner_signals(viewer: User, me: Partner | None = None) -> dict:
    """A partner's own signals on each session, for `annotate` (see `sessions_with_reflections`).
    By the viewer's own partner row when the caller holds it (`me`): no join to find it in each."""
    mine = {"partner": me} if me is not None else {"partner__user": viewer}
    theirs_shared = Reflection.objects.filter(session=OuterRef("pk"), visibility=Reflection.Visibility.SHARED)
    return {
        "i_disputed": Exists(SessionDispute.objects.filter(session=OuterRef("pk"), **mine)),
        "i_declined": Exists(ReflectionDecline.objects.filter(session=OuterRef("pk"), **mine)),
        "other_shared": Exists(theirs_shared.exclude(**mine)),
    }


def _attach_reflections(session: Session, viewer: User) -> None:
    session.giver_reflection = session.receiver_reflection = session.mine = session.theirs = None
    session.giver_waiting = session.receiver_waiting = False
    shown = []
    for reflection in session.visible_reflections:
        # By the session's column, not the role's name: a speaker's is the giver column's, and each
        # partner of a together session has their own column too (models.SHAPE_ROLES).
        giver = reflection.partner_id == session.giver_id
        if not getattr(reflection, "revealed", True):
            # Shared, but the other partner has not yet shared theirs, nor declined: not on the shared screen.
            setattr(session, "giver_waiting" if giver else "receiver_waiting", True)
            continue
        _mask_unreadable(reflection, viewer)
        shown.append(reflection)
        if giver:
            session.giver_reflection = reflection
        else:
            session.receiver_reflection = reflection
        if reflection.partner.user_id == viewer.pk:
            session.mine = reflection
        else:
            session.theirs = reflection
    session.visible_reflections = shown
    session.theirs_waiting = getattr(session, "other_shared", False) and session.theirs is None


# Partner screens -----------------------------------------------------------------------------------


@dataclass
class AssignmentProgress:
    assignment: Assignment
    done_this_week: int
    # Before this partner's first session of it (issue 17): its guidance stands open above "Log …".
    first_time: bool = False

    @property
    def target(self) -> int:
        return self.assignment.target_per_week


def _sessions_in_week(monday: date, sunday: date) -> Coalesce:
    """An assignment's sessions (not withdrawn) in the week from `monday` to `sunday`, for `annotate`: a
    count on the (assignment, date) index, not a join of every session the assignment ever had to group."""
    week = Session.objects.filter(
        assignment=OuterRef("pk"), date__gte=monday, date__lte=sunday, withdrawn_at__isnull=True
    )
    counted = week.order_by().values("assignment").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def couple_assignments(partner: Partner, today: date) -> list[Assignment]:
    """All of the couple's assignments (a handful), with their exercise, this week's count of sessions
    (`done`) and whether `partner` took part in one yet (`taken_part`); the couple and the planned giver
    are set from the partner's own rows. The partner home reads them once: its progress cards, and the
    assignment and exercise of every session it lists (`Known`)."""
    monday = week_start(today)
    ids = {"partner_id": partner.pk, "couple_id": partner.couple_id}
    # Prepared (intimacy/prepared.py), so the exercises are read on their own, not joined.
    exercises = {e.pk: e for e in COUPLE_EXERCISES(couple_id=partner.couple_id)}
    assignments = list(_COUPLE_ASSIGNMENTS(**ids, monday=monday, sunday=monday + timedelta(days=6)))
    known = Known.of(partner)
    for assignment in assignments:
        ASSIGNMENT_FIELDS["couple"].set_cached_value(assignment, partner.couple)
        ASSIGNMENT_FIELDS["exercise"].set_cached_value(assignment, exercises[assignment.exercise_id])
        if assignment.planned_giver_id in known.partners:
            ASSIGNMENT_FIELDS["planned_giver"].set_cached_value(assignment, known.partners[assignment.planned_giver_id])
    return assignments


def _couple_assignments(partner_id: int, couple_id: int, monday: date, sunday: date) -> QuerySet:
    partner = Partner(pk=partner_id, couple_id=couple_id)
    return (
        Assignment.objects.filter(couple_id=couple_id)
        .annotate(done=_sessions_in_week(monday, sunday), taken_part=Exists(_taken_part(partner)))
        .order_by("status", "-starts_on", "pk")
    )


_COUPLE_ASSIGNMENTS = Prepared(_couple_assignments, partner_id=int, couple_id=int, monday=date, sunday=date)


def _is_current(assignment: Assignment, today: date) -> bool:
    open_status = assignment.status in (Assignment.Status.ACTIVE, Assignment.Status.PAUSED)
    return open_status and (assignment.ends_on is None or assignment.ends_on >= today)


def current_assignments(
    partner: Partner, today: date, assignments: list[Assignment] | None = None
) -> list[AssignmentProgress]:
    """The couple's active and paused assignments, each with this week's count of sessions
    (of `assignments`, from `couple_assignments`, when the caller has read them)."""
    if assignments is None:
        assignments = couple_assignments(partner, today)
    return [AssignmentProgress(a, a.done, first_time=not a.taken_part) for a in assignments if _is_current(a, today)]


def _taken_part(partner: Partner) -> QuerySet:
    """The sessions (not withdrawn) of the outer assignment that `partner` took part in, whoever logged them."""
    return Session.objects.filter(assignment=OuterRef("pk"), withdrawn_at__isnull=True).filter(
        Q(giver=partner) | Q(receiver=partner)
    )


def awaiting_my_reflection(partner: Partner, *, since: date | None = None, pairs: list["SessionPair"] | None = None):
    """Sessions this partner took part in (given or received) that still lack their reflection.

    Not the other partner's account of a back rub this partner logged too (`session_pairs`, read here
    unless the caller has them as `pairs`): reflecting on it would make two sessions of one back rub
    for good. The pair is offered instead, to make one or to say they were two."""
    qs = _awaiting(partner)
    if since is not None:
        qs = qs.filter(date__gte=since)
    if pairs is None:
        pairs = session_pairs(partner.couple, partner=partner)
    if pairs:
        qs = qs.exclude(pk__in=[p.theirs.pk for p in pairs])
    return qs


def _awaiting(partner: Partner) -> QuerySet:
    """`awaiting_my_reflection` before its options: by the partner row's ids only."""
    theirs = {"session": OuterRef("pk"), "partner": partner}
    return (
        Session.objects.filter(assignment__couple_id=partner.couple_id, withdrawn_at__isnull=True)
        .filter(Q(giver=partner) | Q(receiver=partner))
        # Each as the NOT EXISTS an exclude across the relation would make, written out: Django builds
        # it several times faster (issue 16).
        .exclude(Exists(Reflection.objects.filter(**theirs)))
        # A session they said did not happen, or was not agreed, no longer waits for them.
        .exclude(Exists(SessionDispute.objects.filter(**theirs)))
        # Nor one they said they won't reflect on (they still may, from their history).
        .exclude(Exists(ReflectionDecline.objects.filter(**theirs)))
        .order_by("-date", "-pk")
    )


def _awaiting_shown(partner_id: int, couple_id: int) -> QuerySet:
    """The partner home's sessions waiting for `partner`'s reflection, when no pair is offered: one more
    than it shows (AWAITING_SHOWN) says whether there are more."""
    return _awaiting(Partner(pk=partner_id, couple_id=couple_id))[: AWAITING_SHOWN + 1]


def _awaiting_shown_no_touch(partner_id: int, couple_id: int) -> QuerySet:
    """… while touch work is paused (intimacy/holds.py): nothing of a touch exercise waits meanwhile."""
    awaiting = _awaiting(Partner(pk=partner_id, couple_id=couple_id))
    return awaiting.exclude(assignment__exercise__shape=ExerciseShape.TOUCH)[: AWAITING_SHOWN + 1]


# Prepared (intimacy/prepared.py): compiled once per process, run with each partner's ids.
_AWAITING_SHOWN = Prepared(_awaiting_shown, partner_id=int, couple_id=int)
_AWAITING_SHOWN_NO_TOUCH = Prepared(_awaiting_shown_no_touch, partner_id=int, couple_id=int)


def recent_unreflected(partner: Partner, assignment: Assignment, today: date) -> list[Session]:
    """ "Did you mean this one?": the partner's sessions of `assignment` from the last
    RECENT_UNREFLECTED_DAYS days that still lack their reflection, offered before a new one is logged."""
    since = today - timedelta(days=RECENT_UNREFLECTED_DAYS)
    return list(picked_then_joined(awaiting_my_reflection(partner, since=since).filter(assignment=assignment)))


def logged_in_the_other_role(session: Session, partner: Partner, since) -> bool:
    """Whether `partner` also logged, since `since`, a session of the same assignment and day as
    `session` in which they had the other role (a turn each, or a role chosen by mistake). A together
    exercise has no other role."""
    if session.shape == ExerciseShape.TOGETHER:
        return False
    own_side = {"receiver": partner} if session.giver_id == partner.pk else {"giver": partner}
    return (
        Session.objects.filter(
            assignment_id=session.assignment_id,
            date=session.date,
            logged_by=partner,
            withdrawn_at__isnull=True,
            created_at__gte=since,
            **own_side,
        )
        .exclude(pk=session.pk)
        .exists()
    )


def loggable_assignments(viewer: User) -> list[Assignment]:
    """The active assignments the viewer may see (a partner's: their couple's), with their exercise.
    Whether touch work is paused is the caller's question (intimacy/holds.py)."""
    return list(
        Assignment.objects.visible_to(viewer).filter(status=Assignment.Status.ACTIVE).select_related("exercise")
    )


def own_reflection(session: Session, partner: Partner) -> Reflection | None:
    """`partner`'s own reflection on `session`, if they have written it."""
    return session.reflections.filter(partner=partner).first()


def last_visibility(partner: Partner) -> str | None:
    """Who `partner` let read their most recent reflection: offered as the choice on their next form.
    None before their first, so the first choice is theirs to make (nothing preselected)."""
    return (
        Reflection.objects.filter(partner=partner)
        .order_by("-created_at", "-pk")
        .values_list("visibility", flat=True)
        .first()
    )


def own_reflections_not_private(partner: Partner) -> list[Reflection]:
    """`partner`'s own reflections that someone else may still read (all but "Just me"), newest first:
    what a partner who withdrew consent can still make more private."""
    return list(
        Reflection.objects.filter(partner=partner)
        .exclude(visibility=Reflection.Visibility.PRIVATE)
        .select_related("session")
        .order_by("-session__date", "-pk")
    )


@dataclass
class PartnerHome:
    today: date
    progress: list[AssignmentProgress]
    awaiting: list[Session]
    recent: list[Session] = field(default_factory=list)
    # More sessions wait than the home shows (AWAITING_SHOWN): the rest are a link away, in the history.
    more_awaiting: bool = False
    # Touch exercises paused for the couple (intimacy/holds.py): every touch exercise shows the same
    # neutral pause, and no touch session waits for a reflection meanwhile; talk and together go on.
    touch_paused: bool = False
    # This partner is asked for the private check before touch work (their own prompt, never the other's).
    check_due: bool = False
    # This partner's own pause ("not this week" / "pause for me"): shown to them alone.
    my_pause: bool = False
    # Both partners logged the same day in the same role ("we both say I gave"): asked, calmly, on
    # both homes until one of them answers (`session_pairs`).
    conflicts: list["SessionPair"] = field(default_factory=list)
    # … and the same back rub logged by each in their own role: offered to make one (or say it was two)
    # in place of "Add your reflection" on the other's account.
    same_back_rub: list["SessionPair"] = field(default_factory=list)
    # The "How Tend works" card (issue 17): until the partner dismisses it or a first session of the
    # couple is logged (every session is both partners', whoever logged it).
    intro: bool = False


# The sessions waiting for the partner's reflection shown on their home, newest first (issue 16, "Fast":
# up to 20 cards, each with its own form, were most of the page); the rest are in the history.
AWAITING_SHOWN = 3


def partner_home(partner: Partner, viewer: User, today: date) -> PartnerHome:
    clearance = holds.clearance(partner.couple)
    paused = not clearance.open
    assignments = couple_assignments(partner, today)
    known = Known.of(partner, assignments)
    pairs = session_pairs(partner.couple, partner=partner)
    waiting = known.attach(_waiting_for(partner, pairs, paused))
    if paused:
        # Touch work paused: nothing of a touch exercise waits meanwhile; talk and together go on.
        pairs = [p for p in pairs if p.first.shape != ExerciseShape.TOUCH]
    shown = [] if partner.couple.is_closed else pairs
    recent = partner_history(partner, viewer, known=known)
    return PartnerHome(
        today=today,
        progress=current_assignments(partner, today, assignments),
        awaiting=waiting[:AWAITING_SHOWN],
        more_awaiting=len(waiting) > AWAITING_SHOWN,
        recent=recent,
        intro=partner.intro_dismissed_at is None and not recent and not partner.couple.is_closed,
        touch_paused=paused,
        check_due=clearance.check_due(partner),
        my_pause=partner.pk in clearance.paused_by,
        conflicts=[p for p in shown if p.kind == PAIR_SAME_ROLE],
        same_back_rub=[p for p in shown if p.kind == PAIR_SAME_BACK_RUB],
    )


def _waiting_for(partner: Partner, pairs: list["SessionPair"], paused: bool) -> list[Session]:
    """The home's sessions waiting for `partner`'s reflection (one more than shown): prepared in the
    usual case; with a pair offered (rare), the pair's other account is left out by its id."""
    ids = {"partner_id": partner.pk, "couple_id": partner.couple_id}
    if not pairs:
        return list((_AWAITING_SHOWN_NO_TOUCH if paused else _AWAITING_SHOWN)(**ids))
    awaiting = awaiting_my_reflection(partner, pairs=pairs)
    if paused:
        awaiting = awaiting.exclude(assignment__exercise__shape=ExerciseShape.TOUCH)
    # Nothing is joined (`Known` attaches what the page holds), so nothing is picked first.
    return list(awaiting[: AWAITING_SHOWN + 1])


def session_pair_of(session: Session, partner: Partner) -> "SessionPair | None":
    """The pair (`session_pairs`) in which `session` is the other partner's account of a back rub
    `partner` logged too, if it is one: offered above `partner`'s reflection form for it."""
    if session.logged_by_id == partner.pk or partner.couple.is_closed:
        return None
    # A pair is two sessions of one assignment and day: only that day is read, however long the history
    # (this runs on every reflection the partner adds).
    day = Session.objects.filter(assignment_id=session.assignment_id, date=session.date)
    pairs = [p.seen_by(partner) for p in _find_pairs(day, partner=partner)]
    return next((p for p in pairs if p.theirs.pk == session.pk), None)


# The latest sessions on a partner's home; the rest are in their history.
RECENT_SHOWN = 5


def partner_history(partner: Partner, viewer: User, *, known: Known | None = None) -> list[Session]:
    """The couple's latest sessions (RECENT_SHOWN), newest first, with only the reflections this partner
    may see: `sessions_with_reflections` for a partner, in two prepared queries (intimacy/prepared.py)
    compiled from the same rules, run with this partner's ids and the reveal rule's moment."""
    known = known or Known.of(partner)
    me = known.viewer(viewer)
    if me is None or me.pk != partner.pk:
        raise ValueError("a partner's history is read as that partner")
    ids = {"partner_id": partner.pk, "couple_id": partner.couple_id}
    sessions = known.attach(list(_LATEST_SESSIONS(**ids)))
    by_session = defaultdict(list)
    # No session, no reflection to read (as a prefetch would skip it).
    for reflection in _LATEST_REFLECTIONS(**ids, cutoff=reveal_cutoff()) if sessions else ():
        known.attach_partner(reflection)
        by_session[reflection.session_id].append(reflection)
    for session in sessions:
        session.visible_reflections = by_session[session.pk]
        _attach_reflections(session, viewer)
    return sessions


def _as_partner(partner_id: int, couple_id: int) -> tuple[User, Partner]:
    """A partner and their own row by ids alone, for a prepared query's builder: the user is never saved,
    so a rule that reached for it (instead of the row's ids) would fail to compile, not read a stand-in's."""
    user = User(role=User.Role.PARTNER)
    return user, Partner(pk=partner_id, user=user, couple_id=couple_id)


def _latest(user: User, me: Partner) -> QuerySet:
    return Session.objects.visible_to(user, partner=me)[:RECENT_SHOWN]


def _latest_sessions(partner_id: int, couple_id: int) -> QuerySet:
    user, me = _as_partner(partner_id, couple_id)
    # Picked first, then annotated (`picked_then_joined`); the partners and assignments are attached from
    # what the page holds (`Known`), so nothing is joined.
    picked = Session.objects.filter(pk__in=_latest(user, me).values("pk"))
    return picked.annotate(**_partner_signals(user, me))


def _latest_reflections(partner_id: int, couple_id: int, cutoff: datetime) -> QuerySet:
    user, me = _as_partner(partner_id, couple_id)
    latest = _latest(user, me).values("pk")
    return Reflection.objects.visible_to(user, partner=me, cutoff=cutoff).filter(session_id__in=latest)


_LATEST_SESSIONS = Prepared(_latest_sessions, partner_id=int, couple_id=int)
_LATEST_REFLECTIONS = Prepared(_latest_reflections, partner_id=int, couple_id=int, cutoff=datetime)


# One back rub, one session ---------------------------------------------------------------------------

# The kinds of pair (intimacy/services.py `session_pair_kind` holds the rule for one pair; `session_pairs`
# below finds them all in the database). Two sessions of the same day that are one back rub logged twice,
# each partner in their own role:
PAIR_SAME_BACK_RUB = "same"
# … and two where both partners claim the same role ("we both say I gave").
PAIR_SAME_ROLE = "conflict"


def _lonely(sessions: QuerySet) -> QuerySet:
    """Of `sessions`, those not withdrawn on which no one but the logger has reflected."""
    others = Reflection.objects.filter(session=OuterRef("pk")).exclude(partner=OuterRef("logged_by"))
    return sessions.filter(withdrawn_at__isnull=True).exclude(Exists(others))


@dataclass
class SessionPair:
    """Two sessions that may be two accounts of one back rub, each logged by one partner, earliest first."""

    first: Session
    second: Session
    kind: str
    # For a partner's page: the session they logged, and the other partner's.
    mine: Session | None = None
    theirs: Session | None = None

    def seen_by(self, partner: Partner) -> "SessionPair":
        mine_first = self.first.logged_by_id == partner.pk
        self.mine, self.theirs = (self.first, self.second) if mine_first else (self.second, self.first)
        return self

    @property
    def pks(self) -> tuple[int, int]:
        return tuple(sorted((self.first.pk, self.second.pk)))


def _pair_up(sessions: list[Session]) -> list[SessionPair]:
    """Pairs of `sessions` (sorted by creation) with the same assignment and day and different loggers;
    each session in one pair at most, roles that fit together matched first."""
    by_day = defaultdict(list)
    for s in sessions:
        by_day[s.assignment_id, s.date].append(s)
    pairs, used = [], set()
    for group in by_day.values():
        for kind in (PAIR_SAME_BACK_RUB, PAIR_SAME_ROLE):
            for a, b in ((a, b) for i, a in enumerate(group) for b in group[i + 1 :]):
                # Two logs of a together exercise always fit: there is no role to claim twice.
                same_roles = a.giver_id == b.giver_id or a.shape == ExerciseShape.TOGETHER
                fits = same_roles == (kind == PAIR_SAME_BACK_RUB)
                if fits and a.logged_by_id != b.logged_by_id and not {a.pk, b.pk} & used:
                    pairs.append(SessionPair(a, b, kind))
                    used |= {a.pk, b.pk}
    return pairs


def _find_pairs(scope: QuerySet, *, partner: Partner | None = None) -> list[SessionPair]:
    """The pairs among `scope` (whole days of sessions): one query, and one more when there is a pair.
    Pairs a partner said were two back rubs are left out (`services.session_pair_dismiss`), for the
    therapist too: the partners know what happened, and "Make one session" would undo their answer. For
    one partner (`partner`), the pairs with a session they themselves disputed are left out too. Only their own
    dispute: the other partner's is the therapist's to see, and a pair vanishing from the logger's page
    would tell them who disputed which session. (The reminders, `paired_accounts`, need no dispute filter:
    a partner can dispute only the other's session, which then waits for them no longer anyway.)"""
    twins = _lonely(
        Session.objects.filter(assignment=OuterRef("assignment"), date=OuterRef("date")).exclude(
            logged_by=OuterRef("logged_by")
        )
    )
    sessions = _lonely(scope).filter(Exists(twins))
    if partner is not None:
        sessions = sessions.exclude(disputes__partner=partner)
    found = list(
        sessions.select_related("giver", "receiver", "logged_by", "assignment__exercise").order_by("created_at", "pk")
    )
    pairs = _pair_up(found)
    if pairs:
        firsts = [p.pks[0] for p in pairs]
        dismissed = set(SessionPairDismissal.objects.filter(first_id__in=firsts).values_list("first_id", "second_id"))
        pairs = [p for p in pairs if p.pks not in dismissed]
    return pairs


def _pair_days(couple_id: int) -> QuerySet:
    """The (assignment, day)s of the couple's sessions with sessions of two different loggers that no one
    but their logger has reflected on: the only days where `_find_pairs` can find a pair. One light query
    (an aggregate over one anti-join), prepared (intimacy/prepared.py): `_find_pairs`' own query over a
    couple's whole history spent ~6 ms being planned and ~2.5 ms run for the partner home and the
    dashboard, and most couples have no such day at all (docs/PERFORMANCE.md, issue 16)."""
    return (
        _lonely(Session.objects.filter(assignment__couple_id=couple_id))
        .order_by()
        .values("assignment_id", "date")
        .annotate(loggers=Count("logged_by", distinct=True))
        .filter(loggers__gt=1)
        .values_list("assignment_id", "date")
    )


_PAIR_DAYS = Prepared(_pair_days, couple_id=int)


def session_pairs(couple: Couple, *, kind: str | None = None, partner: Partner | None = None) -> list[SessionPair]:
    """The couple's sessions that may be one back rub logged twice (`services.session_pair_kind`), newest
    day first (`_find_pairs`: as a partner (`partner`) is offered them, or all, for the therapist).
    One query when no day can hold a pair (`_pair_days`), the usual case; otherwise `_find_pairs`' too,
    on those days only."""
    days = _PAIR_DAYS.rows(couple_id=couple.pk)
    if not days:
        return []
    scope = Session.objects.filter(assignment__couple=couple).filter(
        reduce(operator.or_, (Q(assignment_id=a, date=d) for a, d in days))
    )
    pairs = _find_pairs(scope, partner=partner)
    if kind is not None:
        pairs = [p for p in pairs if p.kind == kind]
    if partner is not None:
        pairs = [p.seen_by(partner) for p in pairs]
    return sorted(pairs, key=lambda p: (p.first.date, p.first.pk), reverse=True)


def paired_accounts(session_ids: list[int]) -> set[tuple[int, int]]:
    """(session, partner) for those of `session_ids` that are the other partner's account of a back rub
    `partner` logged too, as the partners are offered the pair (`_find_pairs`): such a session does not
    wait for `partner`'s reflection (`awaiting_my_reflection`), so no reminder asks for it. Any number of
    couples at once; one or two queries."""
    same_day = Session.objects.filter(pk__in=session_ids, assignment=OuterRef("assignment"), date=OuterRef("date"))
    pairs = _find_pairs(Session.objects.filter(Exists(same_day)))
    return {(p.first.pk, p.second.logged_by_id) for p in pairs} | {(p.second.pk, p.first.logged_by_id) for p in pairs}


# Therapist screens ----------------------------------------------------------------------------------


# Weeks in the caseload's small bar of sessions against the target.
CASELOAD_WEEKS = 8
BAR_WIDTH, BAR_GAP, BAR_HEIGHT = 8, 3, 28


@dataclass
class WeekBar:
    monday: date
    done: int
    x: int = 0
    y: int = 0
    height: int = 0


@dataclass
class CaseloadRow:
    couple: Couple
    last_session: date | None
    done_this_week: int
    target_this_week: int
    pending_invites: int
    open_alerts: int = 0
    urgent_alerts: int = 0
    weeks: list[WeekBar] = field(default_factory=list)
    target_y: int = 0

    @property
    def quiet_since(self) -> date:
        """The last session, or the day the couple was added if they have had none."""
        return self.last_session or timezone.localdate(self.couple.created_at, self.couple.tz)

    @cached_property
    def weeks_text(self) -> str:
        counts = ", ".join(str(w.done) for w in self.weeks)
        if self.target_this_week:
            target = gettext("target %(target)s a week") % {"target": self.target_this_week}
        else:
            target = gettext("no active exercise")
        text = ngettext(
            "Sessions in the last week: %(counts)s; %(target)s.",
            "Sessions in the last %(weeks)s weeks, oldest first: %(counts)s; %(target)s.",
            len(self.weeks),
        )
        return text % {"weeks": len(self.weeks), "counts": counts, "target": target}


def _draw_bars(row: CaseloadRow) -> None:
    """SVG geometry for the 8-week bar, worked out here so the template needs no arithmetic or styles."""
    top = max([row.target_this_week, 1] + [w.done for w in row.weeks])
    for i, week in enumerate(row.weeks):
        week.height = round(BAR_HEIGHT * week.done / top) if week.done else 2
        week.x, week.y = i * (BAR_WIDTH + BAR_GAP), BAR_HEIGHT - week.height
    row.target_y = BAR_HEIGHT - round(BAR_HEIGHT * row.target_this_week / top)


# The caseload's per-couple aggregates, as scalar subqueries on the outer couple row. Written as SQL
# because Django spent ~5 ms of CPU building and compiling the same five subqueries as expressions on
# every caseload, twenty times their execution (docs/PERFORMANCE.md). Fixed text naming only tables and
# columns (every value is a query parameter); the same SQL runs on SQLite and PostgreSQL.
_CASELOAD_SQL = {
    # The latest of each assignment's last session, each a single step down the (assignment, date) index;
    # a MAX over all the couple's sessions read two years of them for each row.
    "last_session": (
        "SELECT MAX((SELECT s.date FROM intimacy_session s WHERE s.assignment_id = a.id"
        " AND s.withdrawn_at IS NULL ORDER BY s.date DESC LIMIT 1))"
        ' FROM intimacy_assignment a WHERE a.couple_id = "accounts_couple"."id"',
        DateField(),
    ),
    # The weekly targets of the assignments running today (a day's leeway either side of UTC is not
    # worth a query per zone). Parameters: the active status, then today twice.
    "target": (
        "COALESCE((SELECT SUM(a.target_per_week) FROM intimacy_assignment a"
        ' WHERE a.couple_id = "accounts_couple"."id" AND a.status = %s AND a.starts_on <= %s'
        " AND (a.ends_on IS NULL OR a.ends_on >= %s)), 0)",
        IntegerField(),
    ),
    # Counted in subqueries, not joins: joined, every alert the couple ever had (acknowledged ones stay
    # as history) times both partners became rows to group, a cost growing with the years.
    "pending": (
        'SELECT COUNT(*) FROM accounts_partner p WHERE p.couple_id = "accounts_couple"."id" AND p.accepted_at IS NULL',
        IntegerField(),
    ),
    "open_alerts": (
        'SELECT COUNT(*) FROM intimacy_alert al WHERE al.couple_id = "accounts_couple"."id"'
        " AND al.acknowledged_at IS NULL",
        IntegerField(),
    ),
    "urgent_alerts": (
        'SELECT COUNT(*) FROM intimacy_alert al WHERE al.couple_id = "accounts_couple"."id"'
        " AND al.acknowledged_at IS NULL AND al.urgent",
        IntegerField(),
    ),
}


def _caseload_couples(therapist: User, now, status: str | None) -> list[Couple]:
    """The therapist's couples with their aggregates (`_CASELOAD_SQL`), in one query."""
    utc_today = now.astimezone(UTC).date()
    return list(_prepared_caseload(status)(therapist_id=therapist.pk, utc_today=utc_today))


@cache
def _prepared_caseload(status: str | None) -> Prepared:
    """`_caseload_couples`' query compiled once per process and status (a status is a word, not a slot; there
    are three): building and compiling it was most of the caseload's work in Django (issue 16, "Fast")."""

    def build(therapist_id: int, utc_today: date) -> QuerySet:
        params = {"target": (Assignment.Status.ACTIVE, utc_today, utc_today)}
        couples = Couple.objects.filter(therapist_id=therapist_id)
        if status:
            couples = couples.filter(status=status)
        aggregates = {
            # Fixed SQL text from _CASELOAD_SQL; every value is a parameter.
            name: RawSQL(sql, params.get(name, ()), output_field=field)  # noqa: S611  # nosec B611
            for name, (sql, field) in _CASELOAD_SQL.items()
        }
        return couples.annotate(**aggregates).order_by("label", "pk")

    return Prepared(build, therapist_id=int, utc_today=date)


def _caseload_sessions_per_week(therapist: User, now) -> dict[int, dict[date, int]]:
    """Couple id -> Monday -> sessions, over the last CASELOAD_WEEKS weeks in every time zone, in one query.

    A session's date is already the couple's own day, so its week needs no time zone; only which week is
    "this week" does (`_caseload_row`). Counted by week in the database: by day, 45 couples made ~1,100
    rows to read and add up in Python."""
    # A week starts at most a day earlier anywhere on Earth than in UTC; going one more day back covers every zone.
    earliest = week_start(now.astimezone(UTC).date() - timedelta(days=1)) - timedelta(weeks=CASELOAD_WEEKS - 1)
    per_week = defaultdict(dict)
    for couple_id, monday, n in _CASELOAD_WEEKS.rows(therapist_id=therapist.pk, earliest=earliest):
        per_week[couple_id][monday] = n  # a date: Prepared.rows converts as values_list does
    return per_week


_CASELOAD_WEEKS = Prepared(
    lambda therapist_id, earliest: Session.objects.filter(
        assignment__couple__therapist_id=therapist_id, withdrawn_at__isnull=True, date__gte=earliest
    )
    .annotate(monday=TruncWeek("date"))
    .values("assignment__couple_id", "monday")
    .annotate(n=Count("pk"))
    .order_by()
    .values_list("assignment__couple_id", "monday", "n"),
    therapist_id=int,
    earliest=date,
)


def _caseload_row(couple: Couple, weeks_done: dict[date, int], now) -> CaseloadRow:
    """The couple's caseload row, its weeks counted in the couple's own time zone."""
    this_monday = week_start(couple.today(now))
    weeks = []
    for back in range(CASELOAD_WEEKS - 1, -1, -1):
        monday = this_monday - timedelta(weeks=back)
        weeks.append(WeekBar(monday, weeks_done.get(monday, 0)))
    row = CaseloadRow(
        couple,
        couple.last_session,
        weeks[-1].done,
        couple.target,
        couple.pending,
        couple.open_alerts,
        couple.urgent_alerts,
        weeks,
    )
    _draw_bars(row)
    return row


def caseload(therapist: User, now=None, status: str | None = None) -> list[CaseloadRow]:
    """The therapist's couples, those needing attention first: urgent alerts, then open alerts, then
    the longest since their last session. Each with the last CASELOAD_WEEKS weeks of sessions against
    the target.

    Two queries whatever the caseload's size: couples with their aggregates, then the sessions of the
    last CASELOAD_WEEKS weeks grouped by couple and week, placed in each couple's own weeks (their
    time zone).
    """
    now = now or timezone.now()
    couples = _caseload_couples(therapist, now, status)
    per_week = _caseload_sessions_per_week(therapist, now)
    rows = [_caseload_row(couple, per_week[couple.pk], now) for couple in couples]
    rows.sort(key=lambda r: (-r.urgent_alerts, -r.open_alerts, r.quiet_since, r.couple.label.lower()))
    return rows


def couple_overview(couple: Couple, today: date, *, counts: bool = True) -> dict:
    """The couple's assignments, each with this week's count of sessions (`done`) unless `counts` is
    False: the couple pages' header shows only their pause and resume buttons (issue 16, "Fast": the
    count joined every session of the couple's history on every tab; the exercises tab shows it)."""
    assignments = couple.assignments.select_related("exercise", "planned_giver")
    if counts:
        monday = week_start(today)
        assignments = assignments.annotate(done=_sessions_in_week(monday, monday + timedelta(days=6)))
    return {"assignments": list(assignments)}


def couple_partners(couple: Couple) -> list[Partner]:
    """The couple's two partners, in a stable order."""
    return list(couple.partners.order_by("pk"))


@dataclass
class PartnerClearance:
    partner: Partner
    checks: list[SafetyCheck]
    screenings: list[ScreeningRecord]
    pauses: list[PersonalPause]


def touch_clearance(
    couple: Couple, partners: list[Partner], *, limit: int = 3, paused_by: frozenset[int] | None = None
) -> list[PartnerClearance]:
    """For the therapist: each of `partners`' latest private checks and recorded separate conversations,
    and their own pauses in force. `paused_by`, the partners with a pause in force when the caller knows
    them already (`holds.clearance`): the pauses are read only when there are some (issue 16, "Fast")."""
    checks = list(_prepared(_latest_checks, limit * 10)(couple_id=couple.pk))
    screenings = list(_prepared(_latest_screenings, limit * 10)(couple_id=couple.pk))
    pauses = list(holds.active_pauses().filter(couple=couple)) if paused_by is None or paused_by else []
    return [
        PartnerClearance(
            partner=p,
            checks=[c for c in checks if c.partner_id == p.pk][:limit],
            screenings=[r for r in screenings if r.partner_id == p.pk][:limit],
            pauses=[x for x in pauses if x.partner_id == p.pk],
        )
        for p in partners
    ]


@cache
def _prepared(build, limit: int) -> Prepared:
    """`build(couple_id, limit=limit)` compiled once per process (intimacy/prepared.py; issue 16, "Fast"):
    a LIMIT is written into the SQL, so each limit is a query of its own."""
    return Prepared(partial(build, limit=limit), couple_id=int)


def _latest_checks(couple_id: int, *, limit: int) -> QuerySet:
    """The couple's latest `limit` private checks, newest first (the model's order)."""
    return SafetyCheck.objects.filter(couple_id=couple_id)[:limit]


def _latest_screenings(couple_id: int, *, limit: int) -> QuerySet:
    """The couple's latest `limit` recorded separate conversations, newest first (the model's order)."""
    return ScreeningRecord.objects.filter(couple_id=couple_id)[:limit]


def open_alerts(couple: Couple) -> list[Alert]:
    """The couple's alerts not yet marked as seen, urgent first, each with the partner it is about and
    the exercise (whether it can still be paused), in one query."""
    return list(couple.alerts.open().select_related("partner", "assignment"))


@dataclass
class AlertsInView:
    """The dashboard's alerts: the open ones (urgent first) and the latest ones marked as seen."""

    open: list[Alert]
    seen: list[Alert]


def alerts_in_view(
    couple: Couple,
    *,
    seen_limit: int,
    partners: list[Partner] | None = None,
    assignments: list[Assignment] | None = None,
) -> AlertsInView:
    """The open alerts (as `open_alerts`) and the latest `seen_limit` marked as seen, newest first, in one
    query (issue 16, "Fast"): the open alerts and the latest seen ones by id, each with its partner and
    exercise, put in their orders here.
    `partners`, the couple's when the caller has them: each alert's partner is taken from them rather
    than joined (the join hashed every partner of the practice). With `assignments` too (every one of the
    couple's, with its exercise), nothing is joined and the query is compiled once per process."""
    if partners is not None and assignments is not None:
        rows = list(_prepared_alerts(seen_limit)(couple_id=couple.pk))
        _attach_alert_assignments(rows, assignments)
    else:
        # Not who marked them seen: the page says when, and with what note, never who (one therapist).
        related = ("assignment",) if partners is not None else ("partner", "assignment")
        rows = list(_alerts_in_view(couple.pk, seen_limit=seen_limit).select_related(*related))
    if partners is not None:
        _attach_partners(rows, partners)
    open_ = sorted((a for a in rows if a.acknowledged_at is None), key=lambda a: (a.urgent, a.week, a.pk), reverse=True)
    seen = sorted((a for a in rows if a.acknowledged_at is not None), key=lambda a: (a.acknowledged_at, a.pk))
    return AlertsInView(open=open_, seen=seen[::-1])


def _alerts_in_view(couple_id: int, *, seen_limit: int) -> QuerySet:
    """`alerts_in_view`'s rows, in no order: the couple's open alerts and their latest `seen_limit` seen."""
    couples = Alert.objects.filter(couple_id=couple_id)
    latest_seen = couples.filter(acknowledged_at__isnull=False).order_by("-acknowledged_at", "-pk").values("pk")
    return couples.filter(Q(acknowledged_at__isnull=True) | Q(pk__in=latest_seen[:seen_limit])).order_by()


@cache
def _prepared_alerts(seen_limit: int) -> Prepared:
    # The limit is written into the SQL (a subquery's LIMIT): one prepared query per limit.
    return Prepared(partial(_alerts_in_view, seen_limit=seen_limit), couple_id=int)


ALERT_ASSIGNMENT_FIELD = Alert._meta.get_field("assignment")


def _attach_alert_assignments(alerts: list[Alert], assignments: list[Assignment]) -> None:
    """Give each alert its exercise's assignment from `assignments`; one not among them stays lazy."""
    by_pk = {a.pk: a for a in assignments}
    for alert in alerts:
        if alert.assignment_id in by_pk:
            ALERT_ASSIGNMENT_FIELD.set_cached_value(alert, by_pk[alert.assignment_id])


def _attach_partners(alerts: list[Alert], partners: list[Partner]) -> None:
    """Give each alert its partner from `partners` (an alert is about a partner of its own couple); one
    not among them is left to be read as usual."""
    by_pk = {p.pk: p for p in partners}
    for alert in alerts:
        if alert.partner_id in by_pk:
            alert.partner = by_pk[alert.partner_id]


def appointment_warnings(couple: Couple) -> int:
    """How many things the therapist should see alone before the couple look at the appointment view:
    open urgent alerts and safety messages not yet marked as seen (each raises an open safety alert)."""
    return couple.alerts.open().filter(Q(urgent=True) | Q(kind=Alert.Kind.SAFETY)).count()


def _left_out_on(couple_id: int, day: date) -> QuerySet:
    return AppointmentExclusion.objects.filter(couple_id=couple_id, day=day)


LEFT_OUT = Prepared(_left_out_on, couple_id=int, day=date)


def appointment_left_out(couple: Couple, day: date) -> LeftOut:
    """The sessions and reflections the therapist left out of the appointment of `day` (prepared: the
    appointment view reads it on every opening)."""
    sessions, reflections = set(), set()
    for row in LEFT_OUT(couple_id=couple.pk, day=day):
        (sessions.add(row.session_id) if row.session_id else reflections.add(row.reflection_id))
    return LeftOut(frozenset(sessions), frozenset(reflections))


# The couple's partners and assignments (with their exercise and planned giver) for the appointment view,
# prepared: the rows `couple_trends` would read itself (`couple.partners.all()`, `_assignments_in`), read
# once for it and for the timeline's sessions. A prepared query can't select_related, so the exercises
# are a query of their own, attached to the assignments.
def _partners_of(couple_id: int) -> QuerySet:
    return Partner.objects.filter(couple_id=couple_id)


def _assignments_of(couple_id: int) -> QuerySet:
    return Assignment.objects.filter(couple_id=couple_id)


def _exercises_of(couple_id: int) -> QuerySet:
    return Exercise.objects.filter(pk__in=_assignments_of(couple_id).values("exercise_id"))


APPOINTMENT_PARTNERS = Prepared(_partners_of, couple_id=int)
APPOINTMENT_ASSIGNMENTS = Prepared(_assignments_of, couple_id=int)
COUPLE_EXERCISES = Prepared(_exercises_of, couple_id=int)
PARTNER_COUPLE_FIELD = Partner._meta.get_field("couple")
ASSIGNMENT_FIELDS = {name: Assignment._meta.get_field(name) for name in ("couple", "exercise", "planned_giver")}


def appointment_couple_rows(couple: Couple) -> tuple[list[Partner], list[Assignment]]:
    """Both partners, in `couple.partners.all()`'s order, and every assignment of the couple with its
    couple, exercise and planned giver attached (`couple_trends`'s `partners` and `all_assignments`)."""
    partners = list(APPOINTMENT_PARTNERS(couple_id=couple.pk))
    for partner in partners:
        PARTNER_COUPLE_FIELD.set_cached_value(partner, couple)
    by_pk = {p.pk: p for p in partners}
    exercises = {e.pk: e for e in COUPLE_EXERCISES(couple_id=couple.pk)}
    assignments = list(APPOINTMENT_ASSIGNMENTS(couple_id=couple.pk))
    for assignment in assignments:
        ASSIGNMENT_FIELDS["couple"].set_cached_value(assignment, couple)
        ASSIGNMENT_FIELDS["exercise"].set_cached_value(assignment, exercises[assignment.exercise_id])
        if assignment.planned_giver_id is None or assignment.planned_giver_id in by_pk:
            ASSIGNMENT_FIELDS["planned_giver"].set_cached_value(assignment, by_pk.get(assignment.planned_giver_id))
    return partners, assignments


def safety_messages(
    couple: Couple, viewer: User, *, limit: int, partners: list[Partner] | None = None
) -> list[SafetyMessage]:
    """The latest `limit` safety messages of the couple, newest first; none for anyone but their therapist.
    With the couple's `partners` at hand, a therapist's are read by a query compiled once per process
    (issue 16, "Fast") and each message's partner is taken from them rather than joined."""
    if partners is None or getattr(viewer, "role", None) != User.Role.THERAPIST:
        return list(SafetyMessage.objects.visible_to(viewer).filter(couple=couple).select_related("partner")[:limit])
    messages = list(_prepared_safety_messages(limit)(therapist_id=viewer.pk, couple_id=couple.pk))
    by_pk = {p.pk: p for p in partners}
    for message in messages:
        if message.partner_id in by_pk:
            SAFETY_MESSAGE_PARTNER_FIELD.set_cached_value(message, by_pk[message.partner_id])
    return messages


SAFETY_MESSAGE_PARTNER_FIELD = SafetyMessage._meta.get_field("partner")


def _therapists_safety_messages(therapist_id: int, couple_id: int, *, limit: int) -> QuerySet:
    """What `SafetyMessage.objects.visible_to` lets a therapist read of the couple's (`_therapist`: by id alone)."""
    return SafetyMessage.objects.visible_to(_therapist(therapist_id)).filter(couple_id=couple_id)[:limit]


@cache
def _prepared_safety_messages(limit: int) -> Prepared:
    return Prepared(partial(_therapists_safety_messages, limit=limit), therapist_id=int, couple_id=int)


@dataclass
class SafetyMessages:
    """A couple's safety messages split by whether the therapist has seen them."""

    new: list[SafetyMessage]
    seen: list[SafetyMessage]


def safety_messages_by_seen(couple: Couple, messages: list[SafetyMessage], open_alerts: list[Alert]) -> SafetyMessages:
    """Split `messages` into new and seen, without a query. A message raises (or reopens) its partner's
    safety alert of that ISO week, in the couple's time zone (intimacy/alerts.py alert_raise_now), so
    "Mark as seen" on that alert is what marks the week's messages as seen."""
    unseen = {(a.partner_id, a.week) for a in open_alerts if a.kind == Alert.Kind.SAFETY}
    split = SafetyMessages(new=[], seen=[])
    for m in messages:
        key = (m.partner_id, week_start(timezone.localtime(m.created_at, couple.tz).date()))
        (split.new if key in unseen else split.seen).append(m)
    return split


def recent_notes(couple: Couple, *, limit: int) -> list[CoupleNote]:
    """The therapist's latest `limit` notes on the couple, newest first."""
    return list(couple.notes.order_by("-date", "-pk")[:limit])


def export_sessions(couple: Couple, viewer: User, *, start: date, end: date) -> Iterator[Session]:
    """The couple's sessions of a period but the withdrawn ones, oldest first, with what a CSV row needs,
    read in chunks so a long period streams."""
    return (
        Session.objects.visible_to(viewer)
        .filter(assignment__couple=couple, withdrawn_at__isnull=True, date__gte=start, date__lte=end)
        .select_related("assignment__exercise", "giver", "receiver")
        .prefetch_related("reflections")
        .order_by("date", "pk")
        .iterator(chunk_size=500)
    )


SESSIONS_PER_PAGE = 20


@dataclass(frozen=True)
class SessionPlace:
    """Where one session sits on the couple page's timeline: the period of its ISO week, and the page."""

    start: date
    end: date
    page: int


def session_place(couple: Couple, viewer: User, pk, *, per_page: int = SESSIONS_PER_PAGE) -> SessionPlace | None:
    """The timeline period and page that show session `pk` of this couple, so an alert's link reaches it
    however old it is: its ISO week (Monday to Sunday), on the page that many newer sessions of that
    week push it to, newest first as `couple_sessions_page` lists them. None for anything else (not a
    number, another couple's, not the viewer's to see): the page then shows its usual period.
    Two small reads, only when asked."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    sessions = Session.objects.visible_to(viewer).filter(assignment__couple_id=couple.pk)
    day = sessions.filter(pk=pk).values_list("date", flat=True).first()
    if day is None:
        return None
    start = week_start(day)
    end = start + timedelta(days=6)
    newer = sessions.filter(date__lte=end).filter(Q(date__gt=day) | Q(date=day, pk__gt=pk)).count()
    return SessionPlace(start, end, newer // per_page + 1)


def couple_sessions_page(
    couple: Couple,
    viewer: User,
    page_number,
    per_page: int = SESSIONS_PER_PAGE,
    *,
    start: date | None = None,
    end: date | None = None,
    shared_only: bool = False,
    left_out: LeftOut = NOTHING_LEFT_OUT,
    known: Known | None = None,
):
    """One page of the couple's sessions, newest first, each with the reflections the viewer may see.

    Paginated in the database, so two years of sessions cost what one page does. Used by the
    therapist's dashboard, the appointment view (`shared_only`) and the partner's history alike:
    `visible_to` decides what each sees. `start`/`end` limit it to a period; `left_out` is what the
    therapist left out of the appointment view; `known`, the rows the caller holds (`sessions_with_reflections`).
    """
    sessions = Session.objects.visible_to(viewer).filter(assignment__couple_id=couple.pk)
    if start:
        sessions = sessions.filter(date__gte=start)
    if end:
        sessions = sessions.filter(date__lte=end)
    if shared_only:
        sessions = sessions.filter(withdrawn_at__isnull=True)
    if left_out.sessions:
        sessions = sessions.exclude(pk__in=left_out.sessions)
    page = Paginator(sessions, per_page).get_page(page_number)
    # Left out of every trend of theirs, a disputed session is listed on the therapist's page, marked.
    page.object_list = sessions_with_reflections(
        page.object_list,
        viewer,
        shared_only=shared_only,
        left_out=left_out,
        mark_disputed=viewer.is_therapist and not shared_only,
        known=known,
    )
    return page


# The appointment view's timeline, prepared (intimacy/prepared.py, issue 16 "Fast"): compiling its
# sessions, count and shared reflections (the reveal rule's EXISTS) anew was ~5 ms of every opening.
# The same rules as `couple_sessions_page(shared_only=True)` gives a therapist, built by the same
# `visible_to` and `revealed_together`; only how the page's rows are picked differs (below).

# The order `Session.Meta.ordering` gives the timeline, as the window that numbers the period's rows.
SESSION_ORDER = (F("date").desc(), F("pk").desc())


def _therapist(therapist_id: int) -> User:
    # By id alone, never saved: a rule reaching for the row rather than its id fails to compile.
    return User(pk=therapist_id, role=User.Role.THERAPIST)


def _appointment_period(therapist_id: int, couple_id: int, start: date, end: date) -> QuerySet:
    """The sessions the appointment view's timeline lists: `couple_sessions_page(shared_only=True)`'s."""
    return Session.objects.visible_to(_therapist(therapist_id)).filter(
        assignment__couple_id=couple_id, date__gte=start, date__lte=end, withdrawn_at__isnull=True
    )


def _appointment_page_rows(therapist_id: int, couple_id: int, start: date, end: date, first: int, last: int):
    """The period's sessions numbered `first` + 1 to `last`, newest first, each with `total`, how many the
    period has (the pager's count, in the same query). Numbered by a window rather than sliced: a
    slice's OFFSET is written into the SQL, a window's bounds are parameters (slots)."""
    period = _appointment_period(therapist_id, couple_id, start, end)
    numbered = period.annotate(row=Window(RowNumber(), order_by=SESSION_ORDER)).filter(row__gt=first, row__lte=last)
    counted = period.order_by().values("assignment__couple_id").annotate(n=Count("pk")).values("n")
    return (
        Session.objects.filter(pk__in=numbered.values("pk"))
        .annotate(total=Subquery(counted, output_field=IntegerField()))
        .order_by(*SESSION_ORDER)
    )


def _appointment_reflections(therapist_id: int, couple_id: int, first_day: date, last_day: date, cutoff: datetime):
    """The shared reflections of the couple's sessions from `first_day` to `last_day`, each marked
    `revealed` or not, as `sessions_with_reflections(shared_only=True)` reads them for a therapist. By
    the page's days, not its ids (a list is no slot): the caller keeps those of the page's sessions."""
    return (
        Reflection.objects.visible_to(_therapist(therapist_id))
        .filter(
            session__assignment__couple_id=couple_id,
            session__date__gte=first_day,
            session__date__lte=last_day,
            visibility=Reflection.Visibility.SHARED,
        )
        .annotate(revealed=ExpressionWrapper(revealed_together(cutoff=cutoff), output_field=BooleanField()))
    )


APPOINTMENT_PAGE = Prepared(
    _appointment_page_rows, therapist_id=int, couple_id=int, start=date, end=date, first=int, last=int
)
APPOINTMENT_REFLECTIONS = Prepared(
    _appointment_reflections, therapist_id=int, couple_id=int, first_day=date, last_day=date, cutoff=datetime
)
# Beyond this many rows a page number is past any couple's history: read as "past the last page".
_MAX_ROW = 2**31 - 1


def appointment_sessions_page(
    couple: Couple,
    viewer: User,
    page_number,
    per_page: int,
    *,
    start: date,
    end: date,
    left_out: LeftOut = NOTHING_LEFT_OUT,
    known: Known,
) -> Page:
    """`couple_sessions_page(..., shared_only=True)` for the appointment view, by prepared queries: the
    same page, the same sessions and cards, the same pager. `known` holds both partners and the couple's
    assignments with their exercise (`appointment_couple_rows`), attached to the sessions, not joined.

    Sessions left out are a list of ids, which would change the query's shape: then the page is read
    as `couple_sessions_page` reads it. Reflections left out are dropped here, as its `exclude` would."""
    if left_out.sessions or not viewer.is_therapist:
        return couple_sessions_page(
            couple,
            viewer,
            page_number,
            per_page,
            start=start,
            end=end,
            shared_only=True,
            left_out=left_out,
            known=Known(known.partners),  # its sessions' assignments joined, as before
        )
    slots = {"therapist_id": viewer.pk, "couple_id": couple.pk, "start": start, "end": end}
    number, rows, total = _appointment_rows(slots, page_number, per_page)
    paginator = Paginator((), per_page)
    paginator.count = total  # a cached_property: set, it is not read again
    _appointment_attach(rows, viewer, couple, known, left_out)
    return Page(rows, number, paginator)


def _appointment_rows(slots: dict, page_number, per_page: int) -> tuple[int, list[Session], int]:
    """The page's number, sessions and the period's count, as `Paginator.get_page` picks the page: a
    number that is no integer gives the first page, one outside the pages the last."""
    try:
        if isinstance(page_number, float) and not page_number.is_integer():
            raise ValueError
        number = int(page_number) if page_number is not None else 1
    except (TypeError, ValueError):
        number = 1
    if number >= 1 and number * per_page <= _MAX_ROW:
        rows = list(APPOINTMENT_PAGE(**slots, first=(number - 1) * per_page, last=number * per_page))
        if rows or number == 1:
            return number, rows, rows[0].total if rows else 0
    # Past the last page (or before the first): the count, from the first row, then the last page.
    first = list(APPOINTMENT_PAGE(**slots, first=0, last=1))
    total = first[0].total if first else 0
    number = max(1, -(-total // per_page))
    rows = list(APPOINTMENT_PAGE(**slots, first=(number - 1) * per_page, last=number * per_page))
    return number, rows, total


def _appointment_attach(sessions: list[Session], viewer: User, couple: Couple, known: Known, left_out: LeftOut) -> None:
    """Each session's partners, assignment and shared reflections, as `sessions_with_reflections` sets them."""
    _attach_session_assignments(sessions, known)
    known.attach(sessions)
    by_session = {s.pk: s for s in sessions}
    for session in sessions:
        session.visible_reflections = []
    if sessions:
        reflections = APPOINTMENT_REFLECTIONS(
            therapist_id=viewer.pk,
            couple_id=couple.pk,
            first_day=sessions[-1].date,
            last_day=sessions[0].date,
            cutoff=reveal_cutoff(),  # the clock's now, as `revealed_together()` reads it
        )
        for reflection in reflections:
            session = by_session.get(reflection.session_id)
            if session is None or reflection.pk in left_out.reflections:
                continue  # another page's session of the same day, or left out of today's appointment
            REFLECTION_SESSION_FIELD.set_cached_value(reflection, session)
            known.attach_partner(reflection)
            session.visible_reflections.append(reflection)
    for session in sessions:
        _attach_reflections(session, viewer)


def _attach_session_assignments(sessions: list[Session], known: Known) -> None:
    """The sessions' assignments from `known`; any it lacks (a caller holding only the period's, and a
    session dated outside its assignment's dates) read here with its exercise, in one query, not one each."""
    held = known.assignments or {}
    missing = {s.assignment_id for s in sessions} - held.keys()
    if missing:
        held = held | Assignment.objects.select_related("exercise").in_bulk(missing)
    for session in sessions:
        SESSION_ASSIGNMENT_FIELD.set_cached_value(session, held[session.assignment_id])


# Exercises --------------------------------------------------------------------------------------------


def exercise_library(
    therapist: User, *, shape: str | None = None, touch: bool | None = None
) -> dict[str, list[Exercise]]:
    """The exercises a therapist may use, in one query: built in, their own, and their own archived.

    `shape` keeps one shape only; `touch` True keeps the touch exercises, False the others (talk and
    together), the ones the private safety check and a hold on touch leave alone.
    """
    exercises = Exercise.objects.available_to(therapist)
    if shape is not None:
        exercises = exercises.filter(shape=shape)
    if touch is True:
        exercises = exercises.filter(shape=Exercise.Shape.TOUCH)
    elif touch is False:
        exercises = exercises.exclude(shape=Exercise.Shape.TOUCH)
    exercises = list(exercises)
    return {
        "builtin": [e for e in exercises if e.is_builtin],
        "own": [e for e in exercises if not e.is_builtin and e.archived_at is None],
        "archived": [e for e in exercises if not e.is_builtin and e.archived_at is not None],
    }


def assignable_exercises(therapist: User) -> QuerySet:
    """The exercises a therapist may assign now: built in or their own, and not archived."""
    return Exercise.objects.available_to(therapist).filter(archived_at__isnull=True)


def default_exercise(exercises: QuerySet) -> Exercise | None:
    """Of `exercises`, the one a new assignment starts with: the built-in back rub, else the first."""
    return exercises.filter(builtin_key=BACK_RUB_KEY).first() or exercises.first()


# The weekly check-in ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EarlierCheckIn:
    """A partner's own answers from earlier in this week, to start their new answers from (issue 17)."""

    answers: dict
    answered_on: date


def own_checkin_this_week(partner: Partner, viewer: User, today: date) -> EarlierCheckIn | None:
    """`partner`'s own check-in of the ISO week holding `today`, through the gate: never the other's."""
    checkin = CheckIn.objects.visible_to(viewer).filter(partner=partner, week=week_start(today)).first()
    if checkin is None:
        return None
    answers = {name: getattr(checkin, name) for name in csi4.FIELDS}
    return EarlierCheckIn(answers, timezone.localtime(checkin.updated_at, partner.couple.tz).date())


@dataclass(frozen=True)
class CheckInPanel:
    """The dashboard's "Weekly check-in (CSI-4)" panel: each partner beside their progress, and the gap."""

    rows: list[tuple[Partner, "csi4.PartnerProgress"]]
    progress: "csi4.CoupleProgress"
    norm: "csi4.Norm | None"

    @property
    def any(self) -> bool:
        return any(p.count for _, p in self.rows)


def checkin_panel(couple: Couple, partners: list[Partner]) -> CheckInPanel:
    """Each partner's baseline, latest total and reliable change (intimacy/csi4.py), in one query.

    For the therapist only: the caller is the therapist's dashboard. A couple's check-ins are weekly,
    so even years of them are a few hundred short rows."""
    rows = CheckIn.objects.filter(couple=couple).order_by().values_list("partner_id", "week", "total")
    norm = csi4.norm()
    progress = csi4.progress(rows, [p.pk for p in partners], norm)
    return CheckInPanel(list(zip(partners, progress.partners, strict=True)), progress, norm)


# Staged programs (issue 15) --------------------------------------------------------------------------------

# How long after a change of step both partners see "Your therapist has changed this exercise".
STEP_CHANGE_SHOWN_DAYS = 7


def program_library(therapist: User) -> dict[str, list[Program]]:
    """The programs a therapist may use, each with its number of stages, in one query."""
    programs = list(Program.objects.available_to(therapist).annotate(stage_count=Count("stages")))
    return {"builtin": [p for p in programs if p.is_builtin], "own": [p for p in programs if not p.is_builtin]}


def program_stages(program: Program) -> list[ProgramStage]:
    """A program's stages in walking order, with their exercises."""
    return list(program.stages.select_related("exercise").order_by("position"))


def assignable_programs(therapist: User) -> QuerySet:
    """The programs a therapist may start for a couple: built in or their own, with at least one stage."""
    return Program.objects.available_to(therapist).filter(stages__isnull=False).distinct()


@dataclass
class PathStep:
    step: ProgramStep
    answers: list[ReadinessAnswer]


@dataclass
class CoupleProgram:
    """A couple's program for their therapist: the path walked so far and where things stand now."""

    run: ProgramRun
    path: list[PathStep]
    current: ProgramStep | None
    # The current step's latest answer of each partner: (partner, the answer's label, "" for none yet).
    latest: list[tuple[Partner, str]]
    both_ready: bool


def couple_program(couple: Couple, viewer: User) -> CoupleProgram | None:
    """The couple's latest program: each step with its dates, sessions, mean ratings and the readiness
    answers given on it (all of them, in order: the therapist sees both partners' answers over time)."""
    run = ProgramRun.objects.visible_to(viewer).filter(couple=couple).select_related("program").first()
    if run is None:
        return None
    kept = Q(assignment__sessions__withdrawn_at__isnull=True)
    steps = (
        run.steps.select_related("stage__exercise")
        .annotate(
            sessions=Count("assignment__sessions", filter=kept, distinct=True),
            connection=Avg("assignment__sessions__reflections__connection", filter=kept),
            comfort=Avg("assignment__sessions__reflections__comfort", filter=kept),
        )
        .order_by("pk")
    )
    answers = defaultdict(list)
    for answer in ReadinessAnswer.objects.visible_to(viewer).filter(step__run=run).select_related("partner"):
        answers[answer.step_id].append(answer)
    path = [PathStep(step=step, answers=answers[step.pk]) for step in steps]
    current = next((p.step for p in path if p.step.ended_on is None), None)
    if run.status != ProgramRun.Status.ACTIVE:
        current = None
    latest = {}
    for answer in answers[current.pk] if current else []:
        if answer.counts:  # one given before its partner withdrew consent no longer counts
            latest[answer.partner_id] = answer
    rows = [(p, latest[p.pk].get_answer_display() if p.pk in latest else "") for p in couple_partners(couple)]
    ready = [a for a in latest.values() if a.answer == ReadinessAnswer.Answer.READY]
    return CoupleProgram(run=run, path=path, current=current, latest=rows, both_ready=len(ready) == 2)


@dataclass
class PartnerProgram:
    """What one partner sees of their program: the current step, their own answer (never the other's)."""

    step: ProgramStep
    my_answer: str
    changed: bool
    can_go_back: bool


def _current_steps(partner: Partner):
    """The couple's open step of its active program: one at most (one active run, one open step each)."""
    return ProgramStep.objects.filter(
        run__couple_id=partner.couple_id, run__status=ProgramRun.Status.ACTIVE, ended_on__isnull=True
    ).order_by("run", "pk")


def partner_home_reads(partner: Partner, viewer: User, today: date) -> tuple[bool, PartnerProgram | None]:
    """The partner home's last two reads, in one query: whether `partner` has checked in during the ISO
    week holding `today` (the couple's today), and their program step (`partner_program`), whose rows
    are read only if there is one. A closed couple is asked neither, so nothing is read."""
    if partner.couple.is_closed:
        return True, None
    ((done, step_id),) = _HOME_READS.rows(
        user_id=viewer.pk, partner_id=partner.pk, couple_id=partner.couple_id, monday=week_start(today)
    )
    program = partner_program(partner, viewer, today, step_id=step_id) if step_id is not None else None
    return done, program


def _home_reads(user_id: int, partner_id: int, couple_id: int, monday: date) -> QuerySet:
    # Prepared (intimacy/prepared.py): compiled once per process, run with each partner's ids and week.
    viewer = User(pk=user_id, role=User.Role.PARTNER)
    checked_in = CheckIn.objects.visible_to(viewer).filter(partner_id=partner_id, week=monday)
    step = _current_steps(Partner(pk=partner_id, couple_id=couple_id)).values("pk")[:1]
    return Partner.objects.filter(pk=partner_id).values_list(Exists(checked_in), Subquery(step))


_HOME_READS = Prepared(_home_reads, user_id=int, partner_id=int, couple_id=int, monday=date)


def partner_program(
    partner: Partner, viewer: User, today: date, *, step_id: int | None = None
) -> PartnerProgram | None:
    """The partner's current step, if their couple is on a program; their own latest answer on it only.
    `step_id`: that step's id, when the caller has read it (`partner_home_reads`)."""
    if partner.couple.is_closed:
        return None
    steps = _current_steps(partner) if step_id is None else ProgramStep.objects.filter(pk=step_id)
    step = steps.select_related("stage__exercise").first()
    if step is None:
        return None
    mine = (
        ReadinessAnswer.objects.visible_to(viewer)
        .filter(step=step, partner=partner)
        .exclude(answer=ReadinessAnswer.Answer.BACK)
        .order_by("-created_at", "-pk")
        .values_list("answer", flat=True)
        .first()
    )
    changed = step.reason != ProgramStep.Reason.START and step.started_on > today - timedelta(
        days=STEP_CHANGE_SHOWN_DAYS
    )
    return PartnerProgram(step=step, my_answer=mine or "", changed=changed, can_go_back=step.stage.position > 1)
