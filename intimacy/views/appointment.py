"""The appointment view: the couple's homework on the therapist's screen, for the couple to look at.

Built only from reflections both partners shared, less what the therapist left out for this
appointment; while it is open, every other therapist page asks for the password first
(intimacy/middleware.py, `AppointmentModeMiddleware`).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.access import get_couple_for_user
from accounts.audit import record_access
from accounts.models import Couple, User
from intimacy import appointment_mode, selectors, services, trends
from intimacy.access import get_reflection_for_user, get_session_for_user

THERAPIST = User.Role.THERAPIST
# Sessions a page on the shared screen (issue 16, "Fast": each is two reflection cards and three "Leave …
# out" forms; 20 made the timeline most of the page's time). The therapist's reflections tab keeps 20.
SESSIONS_PER_PAGE = 10


def _trend_context(data: trends.Trends) -> dict:
    """What views.dashboard's `_trend_context` gives the couple's pages, from trends read here: the
    appointment view hands `couple_trends` the partners and assignments it reads once for the page."""
    charts = trends.couple_charts(data)
    return {
        "base_url": reverse("appointment", args=[data.couple.pk]),
        "couple": data.couple,
        "period": data.period,
        "trends": data,
        "charts": charts,
        "chart_data": {"charts": charts, "markers": trends.markers(data)},
        "week_choices": trends.WEEK_CHOICES,
    }


@login_required
@require_GET
def appointment(request: HttpRequest, pk: int) -> HttpResponse:
    """The review shown to the couple: computed only from reflections both partners shared, less what
    the therapist left out for today's appointment.

    No "My therapist only" or "Just me" reflection, note, alert or check-in score is in this page's HTML.
    While the couple have something urgent the therapist has not seen, a warning comes first, and only
    `?confirm=1` (its "Open with the couple") opens the view.
    """
    couple = get_couple_for_user(request.user, pk, role=THERAPIST)
    already_open = appointment_mode.current_couple_id(request) == couple.pk
    confirmed = already_open or request.GET.get("confirm") == "1"
    if not confirmed and (waiting := selectors.appointment_warnings(couple)):
        return render(request, "intimacy/appointment_warning.html", {"couple": couple, "waiting": waiting})
    record_access(request, couple)
    appointment_mode.enter(request, couple)
    # What was said to the therapist before (such as "Successfully signed in as …") is not for the
    # couple's eyes, and would be stale by the time the therapist has confirmed it's them: dropped.
    for _message in messages.get_messages(request):
        pass
    period = trends.period_from(request.GET, couple.today())
    left_out = selectors.appointment_left_out(couple, couple.today())
    # The couple's partners and assignments read once (prepared), for the trends and the timeline alike.
    partners, assignments = selectors.appointment_couple_rows(couple)
    data = trends.couple_trends(
        couple, period, trends.Scope.SHARED, left_out=left_out, all_assignments=assignments, partners=partners
    )
    context = _trend_context(data)
    context.update(
        left_out_count=len(left_out.sessions) + len(left_out.reflections),
        page=selectors.appointment_sessions_page(
            couple,
            request.user,
            request.GET.get("page"),
            SESSIONS_PER_PAGE,
            start=period.start,
            end=period.end,
            left_out=left_out,
            # Attached to the sessions, not joined.
            known=selectors.Known({p.pk: p for p in partners}, {a.pk: a for a in assignments}),
        ),
    )
    return render(request, "intimacy/appointment.html", context)


def _back_to_appointment(request: HttpRequest, couple: Couple) -> HttpResponse:
    # Back to the period the therapist was showing, re-read so only a valid period goes into the URL.
    period = trends.period_from(QueryDict(request.POST.get("period", "")), couple.today())
    return redirect(f"{reverse('appointment', args=[couple.pk])}?{period.query}#timeline")


@login_required
@require_POST
def appointment_leave_out_session(request: HttpRequest, pk: int) -> HttpResponse:
    """Leave one session, with both reflections, out of today's appointment view."""
    session = get_session_for_user(request.user, pk, role=THERAPIST)
    couple = session.assignment.couple
    services.appointment_leave_out(couple=couple, day=couple.today(), session=session)
    return _back_to_appointment(request, couple)


@login_required
@require_POST
def appointment_leave_out_reflection(request: HttpRequest, pk: int) -> HttpResponse:
    """Leave one reflection, its words and its ratings, out of today's appointment view."""
    reflection = get_reflection_for_user(request.user, pk, role=THERAPIST)
    couple = reflection.session.assignment.couple
    services.appointment_leave_out(couple=couple, day=couple.today(), reflection=reflection)
    return _back_to_appointment(request, couple)


@login_required
@require_POST
def appointment_put_back(request: HttpRequest, pk: int) -> HttpResponse:
    """Show everything both partners shared again in today's appointment view."""
    couple = get_couple_for_user(request.user, pk, role=THERAPIST)
    services.appointment_put_back(couple=couple, day=couple.today())
    return _back_to_appointment(request, couple)
