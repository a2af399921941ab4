"""Reads: what each screen shows, with access and partner privacy applied in the queries."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta

from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, Max, OuterRef, Prefetch, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Couple, Partner, User
from intimacy.models import Assignment, Reflection, Session

# "Did you mean this one?": the partner's sessions from this many days back that lack their reflection.
RECENT_UNREFLECTED_DAYS = 2


def week_start(day: date) -> date:
    """Monday of the ISO week that holds `day`."""
    return day - timedelta(days=day.weekday())


def _mask_unreadable(reflection: Reflection, viewer: User) -> Reflection:
    """Withhold the words of a reflection the viewer may see only the ratings of.

    The text is blanked on the instance itself, so no template can print it by mistake.
    """
    reflection.show_text = reflection.text_visible_to(viewer)
    if not reflection.show_text:
        for name in Reflection.TEXT_FIELDS:
            setattr(reflection, name, "")
    return reflection


def sessions_with_reflections(sessions, viewer: User) -> list[Session]:
    """Attach `giver_reflection`, `receiver_reflection` and `mine` to each session, as the viewer may see them."""
    sessions = list(
        sessions.select_related("giver", "receiver", "logged_by", "assignment__exercise").prefetch_related(
            Prefetch(
                "reflections",
                queryset=Reflection.objects.visible_to(viewer).select_related("partner"),
                to_attr="visible_reflections",
            )
        )
    )
    for session in sessions:
        session.giver_reflection = session.receiver_reflection = session.mine = None
        for reflection in session.visible_reflections:
            _mask_unreadable(reflection, viewer)
            if reflection.role == Reflection.Role.GIVER:
                session.giver_reflection = reflection
            else:
                session.receiver_reflection = reflection
            if reflection.partner.user_id == viewer.pk:
                session.mine = reflection
    return sessions


# Partner screens -----------------------------------------------------------------------------------


@dataclass
class AssignmentProgress:
    assignment: Assignment
    done_this_week: int

    @property
    def target(self) -> int:
        return self.assignment.target_per_week


def current_assignments(partner: Partner, today: date) -> list[AssignmentProgress]:
    """The couple's active and paused assignments, each with this week's count of sessions."""
    monday = week_start(today)
    assignments = (
        Assignment.objects.filter(couple_id=partner.couple_id, status__in=["active", "paused"])
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .select_related("exercise", "planned_giver")
        .annotate(
            done=Count(
                "sessions",
                filter=Q(
                    sessions__date__gte=monday,
                    sessions__date__lte=monday + timedelta(days=6),
                    sessions__withdrawn_at__isnull=True,
                ),
            )
        )
        .order_by("status", "-starts_on", "pk")
    )
    return [AssignmentProgress(a, a.done) for a in assignments]


def awaiting_my_reflection(partner: Partner, *, since: date | None = None):
    """Sessions this partner took part in (given or received) that still lack their reflection."""
    qs = (
        Session.objects.filter(assignment__couple_id=partner.couple_id, withdrawn_at__isnull=True)
        .filter(Q(giver=partner) | Q(receiver=partner))
        .exclude(reflections__partner=partner)
        .select_related("giver", "receiver", "logged_by", "assignment__exercise")
        .order_by("-date", "-pk")
    )
    if since is not None:
        qs = qs.filter(date__gte=since)
    return qs


@dataclass
class PartnerHome:
    today: date
    progress: list[AssignmentProgress]
    awaiting: list[Session]
    recent: list[Session] = field(default_factory=list)


def partner_home(partner: Partner, viewer: User, today: date, recent_count: int = 5) -> PartnerHome:
    return PartnerHome(
        today=today,
        progress=current_assignments(partner, today),
        awaiting=list(awaiting_my_reflection(partner)[:20]),
        recent=partner_history(partner, viewer, limit=recent_count),
    )


def partner_history(partner: Partner, viewer: User, limit: int = 5) -> list[Session]:
    """The couple's latest sessions, newest first, with only the reflections this partner may see."""
    sessions = Session.objects.visible_to(viewer).filter(assignment__couple_id=partner.couple_id)[:limit]
    return sessions_with_reflections(sessions, viewer)


# Therapist screens ----------------------------------------------------------------------------------


@dataclass
class CaseloadRow:
    couple: Couple
    last_session: date | None
    done_this_week: int
    target_this_week: int
    pending_invites: int


def caseload(therapist: User, now=None) -> list[CaseloadRow]:
    """Every couple of the therapist with last session, this week's sessions vs target, pending invites.

    Three queries whatever the caseload's size: couples with their aggregates, then the recent
    sessions, counted per couple against each couple's own "this week" (their time zone).
    """
    now = now or timezone.now()
    live_sessions = Session.objects.filter(assignment__couple=OuterRef("pk"), withdrawn_at__isnull=True)
    couples = list(
        Couple.objects.filter(therapist=therapist)
        .annotate(
            last_session=Subquery(
                live_sessions.order_by().values("assignment__couple").annotate(m=Max("date")).values("m")
            ),
            target=Coalesce(
                Subquery(
                    Assignment.objects.filter(couple=OuterRef("pk"), status="active")
                    .order_by()
                    .values("couple")
                    .annotate(t=Sum("target_per_week"))
                    .values("t"),
                    output_field=IntegerField(),
                ),
                0,
            ),
            pending=Count("partners", filter=Q(partners__accepted_at__isnull=True)),
        )
        .order_by("status", "label", "pk")
    )
    # A week starts at most a day earlier anywhere on Earth than in UTC; 8 days back covers every zone.
    earliest = week_start(now.astimezone(UTC).date() - timedelta(days=1))
    recent = defaultdict(list)
    for couple_id, day in Session.objects.filter(
        assignment__couple__therapist=therapist,
        assignment__status="active",
        withdrawn_at__isnull=True,
        date__gte=earliest,
    ).values_list("assignment__couple_id", "date"):
        recent[couple_id].append(day)
    rows = []
    for couple in couples:
        monday = week_start(couple.today(now))
        done = sum(1 for day in recent[couple.pk] if monday <= day <= monday + timedelta(days=6))
        rows.append(CaseloadRow(couple, couple.last_session, done, couple.target, couple.pending))
    return rows


def couple_overview(couple: Couple, viewer: User, today: date) -> dict:
    """Everything the therapist's couple page shows: partners, assignments with this week's count, sessions."""
    monday = week_start(today)
    assignments = list(
        couple.assignments.select_related("exercise", "planned_giver").annotate(
            done=Count(
                "sessions",
                filter=Q(
                    sessions__date__gte=monday,
                    sessions__date__lte=monday + timedelta(days=6),
                    sessions__withdrawn_at__isnull=True,
                ),
            )
        )
    )
    return {
        "partners": list(couple.partners.all()),
        "assignments": assignments,
        "monday": monday,
    }


def couple_sessions_page(couple: Couple, viewer: User, page_number, per_page: int = 20):
    """One page of the couple's sessions, newest first, each with the reflections the viewer may see.

    Paginated in the database, so two years of sessions cost what one page does. Used by the
    therapist's couple page and the partner's history alike: `visible_to` decides what each sees.
    """
    paginator = Paginator(Session.objects.visible_to(viewer).filter(assignment__couple_id=couple.pk), per_page)
    page = paginator.get_page(page_number)
    page.object_list = sessions_with_reflections(page.object_list, viewer)
    return page
