"""Views of a couple's trends: the therapist's dashboard, print, export, notes, alerts, and the partners'
own progress page (the appointment view is intimacy/views/appointment.py). Every object comes through
the access gate."""

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import drafts
from accounts.access import get_couple_for_user, partner_required
from accounts.audit import record_access
from accounts.forms import add_service_errors
from accounts.models import Couple, User
from accounts.reauthentication import DOWNLOAD_WHY, reauthenticate_first
from accounts.services import couple_set_progress_page
from intimacy import alerts, csi4, holds, selectors, services, trends
from intimacy.access import (
    get_alert_for_user,
    get_note_for_user,
    get_session_for_user,
)
from intimacy.forms import AcknowledgeForm, HoldLiftForm, NoteForm, ScreeningForm
from intimacy.models import ACKNOWLEDGEMENT_MAX_LENGTH, MAX_RATING, MIN_RATING, SHAPE_ROLES, ExerciseShape, Reflection
from intimacy.reminders import reminder_overview

THERAPIST = User.Role.THERAPIST
# Acknowledged alerts kept in view on the dashboard; the rest stay in the database as history.
ALERT_HISTORY_SHOWN = 10
NOTES_SHOWN = 20
# The numbers the check-in panel quotes, from the module that defines them.
CSI4_NUMBERS = {
    "min": csi4.TOTAL_MIN,
    "max": csi4.TOTAL_MAX,
    "threshold": csi4.THRESHOLD,
    "critical": csi4.RCI_CRITICAL,
    "reliability": csi4.PUBLISHED_RELIABILITY,
    "reliability_source": csi4.RELIABILITY_SOURCE,
}
SAFETY_SHOWN = 20


def _period(request: HttpRequest, couple: Couple) -> trends.Period:
    period = trends.period_from(request.GET, couple.today())
    if period.notice:
        messages.info(request, period.notice)
    return period


def _trend_context(
    couple: Couple,
    period: trends.Period,
    scope: trends.Scope,
    view_name: str,
    left_out: trends.LeftOut = trends.NOTHING_LEFT_OUT,
) -> dict:
    data = trends.couple_trends(couple, period, scope, left_out=left_out)
    charts = trends.couple_charts(data)
    return {
        "base_url": reverse(view_name, args=[couple.pk]),
        "couple": couple,
        "period": period,
        "trends": data,
        "charts": charts,
        "chart_data": {"charts": charts, "markers": trends.markers(data)},
        "week_choices": trends.WEEK_CHOICES,
    }


# The couple's pages (issue 16): a short overview, and each other part one click away as its own page,
# reading only what it shows. The tabs, in order: (url name, words). Every tab keeps the period.
TABS = (
    ("couple_detail", gettext_lazy("Overview")),
    ("couple_trends", gettext_lazy("Trends and check-ins")),
    ("couple_reflections", gettext_lazy("Reflections")),
    ("couple_notes", gettext_lazy("Notes")),
    ("couple_exercises", gettext_lazy("Partners and exercises")),
)
# The overview's charts, chosen by the couple's exercises: the sessions against the target and
# connection always; the weekly check-in when there is one in the period, otherwise for touch work
# how comfortable and safe each partner felt. The trends tab has them all.
KEY_CHARTS = ("sessions", "connection")
# The charts `_key_charts` may choose from: only these are built for the overview.
KEY_CHARTS_BUILT = frozenset({*KEY_CHARTS, "checkin", "comfort"})


def _key_charts(charts: list[dict], data: trends.Trends) -> list[dict]:
    """The two or three charts the overview shows, in the trends page's order (see KEY_CHARTS)."""
    ids = {c["id"] for c in charts}
    wanted = set(KEY_CHARTS)
    if "checkin" in ids:
        wanted.add("checkin")
    elif any(a.exercise.shape == ExerciseShape.TOUCH for a in data.assignments):
        wanted.add("comfort")
    return [c for c in charts if c["id"] in wanted]


def _session_period(request: HttpRequest, couple: Couple) -> tuple[trends.Period, int | str | None]:
    """The period and page of the timeline: an alert's "Open the session" (`?session=<id>`) asks for
    that session's week, on the page that holds it; otherwise the period and page asked for."""
    if place := selectors.session_place(couple, request.user, request.GET.get("session")):
        dates = {"from": place.start.isoformat(), "to": place.end.isoformat()}
        return trends.period_from(dates, couple.today()), place.page
    return _period(request, couple), request.GET.get("page")


def _tab(request: HttpRequest, couple: Couple, tab: str, context: dict, *, status: int = 200) -> HttpResponse:
    """Render one of the couple's pages: the header (the couple, its exercises' actions) and the tabs.

    The viewing is recorded on a GET; a rejected form shown again is not one."""
    if request.method == "GET":
        record_access(request, couple)
    if "partners" not in context:  # the header names them; the trends' own read has them already
        context["partners"] = selectors.couple_partners(couple)
    if "assignments" not in context:  # the overview read them already, for its trends too
        # The header's pause and resume; this week's counts only where they are shown (the exercises tab).
        context.update(selectors.couple_overview(couple, couple.today(), counts=tab == "couple_exercises"))
    context.update(couple=couple, tab=tab, tabs=TABS, base_url=reverse(tab, args=[couple.pk]))
    return render(request, f"intimacy/couple/{tab.removeprefix('couple_')}.html", context, status=status)


def _charts_context(period: trends.Period, data: trends.Trends, charts: list[dict]) -> dict:
    return {
        "period": period,
        "trends": data,
        "charts": charts,
        "chart_data": {"charts": charts, "markers": trends.markers(data)},
        "week_choices": trends.WEEK_CHOICES,
        "partners": data.partners,
    }


def _dashboard(
    request: HttpRequest,
    couple: Couple,
    *,
    status: int = 200,
    lift_form: HoldLiftForm | None = None,
):
    """The overview: what needs attention, the period at a glance and the key charts."""
    period = _period(request, couple)
    # The header's assignments are every one of the couple's; the trends pick the period's from them.
    header = selectors.couple_overview(couple, couple.today(), counts=False)
    # The partners come with what each has done towards touch work.
    clearance, partners = holds.clearance_and_partners(couple)
    data = trends.couple_trends(
        couple, period, trends.Scope.THERAPIST, all_assignments=header["assignments"], partners=partners
    )
    context = _charts_context(period, data, _key_charts(trends.couple_charts(data, only=KEY_CHARTS_BUILT), data))
    context.update(header)
    alerts = selectors.alerts_in_view(
        couple, seen_limit=ALERT_HISTORY_SHOWN, partners=partners, assignments=header["assignments"]
    )
    safety = selectors.safety_messages(couple, request.user, limit=SAFETY_SHOWN, partners=partners)
    context.update(
        open_alerts=alerts.open,
        acknowledged_alerts=alerts.seen,
        safety_messages=selectors.safety_messages_by_seen(couple, safety, alerts.open),
        acknowledge_form=AcknowledgeForm(),
        # The hold itself is read only when the clearance found one open (issue 16, "Fast").
        hold=(hold := holds.open_hold(couple) if clearance.held else None),
        clearance=clearance,
        touch_clearance=selectors.touch_clearance(couple, partners, paused_by=clearance.paused_by),
        lift_form=lift_form or (_lift_form(couple, partners=partners) if hold else None),
    )
    return _tab(request, couple, "couple_detail", context, status=status)


def _trends_page(request: HttpRequest, couple: Couple) -> HttpResponse:
    period = _period(request, couple)
    data = trends.couple_trends(couple, period, trends.Scope.THERAPIST)
    context = _charts_context(period, data, trends.couple_charts(data))
    context.update(checkin=selectors.checkin_panel(couple, data.partners), panel_numbers=CSI4_NUMBERS)
    return _tab(request, couple, "couple_trends", context)


def _reflections_page(request: HttpRequest, couple: Couple) -> HttpResponse:
    period, page_number = _session_period(request, couple)
    context = {
        "period": period,
        "page": selectors.couple_sessions_page(couple, request.user, page_number, start=period.start, end=period.end),
        "same_back_rub": selectors.session_pairs(couple, kind=selectors.PAIR_SAME_BACK_RUB),
        "gap_sessions": selectors.sessions_with_reflections(
            trends.sessions_both_reflected(couple, period, trends.Scope.THERAPIST), request.user
        ),
    }
    return _tab(request, couple, "couple_reflections", context)


def _notes_page(request: HttpRequest, couple: Couple, *, note_form: NoteForm | None = None, status: int = 200):
    if request.method == "POST":  # a rejected note, shown again at the period it was written in
        period = trends.period_from(QueryDict(request.POST.get("period", "")), couple.today())
    else:
        period = _period(request, couple)
    context = {
        "period": period,
        "note_form": note_form or _note_form(request, couple),
        "notes": selectors.recent_notes(couple, limit=NOTES_SHOWN),
    }
    return _tab(request, couple, "couple_notes", context, status=status)


def _exercises_page(request: HttpRequest, couple: Couple) -> HttpResponse:
    partners = selectors.couple_partners(couple)
    context = {
        "period": _period(request, couple),
        "partners": partners,
        "statuses": Couple.Status.choices,
        "reminders": reminder_overview(partners),
        "program": selectors.couple_program(couple, request.user),
    }
    return _tab(request, couple, "couple_exercises", context)


def _screening_form(couple: Couple, data=None) -> ScreeningForm:
    # Prefixed as when it was on the overview beside the note form's own "date": the same field names.
    return ScreeningForm(data, partners=selectors.couple_partners(couple), today=couple.today(), prefix="screening")


def _lift_form(couple: Couple, data=None, partners=None) -> HoldLiftForm:
    partners = partners if partners is not None else selectors.couple_partners(couple)
    return HoldLiftForm(data, partners=partners, today=couple.today(), prefix="lift")


@login_required
@require_GET
def couple_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The couple's overview: what needs attention, the period at a glance, the key charts, the actions."""
    couple = get_couple_for_user(request.user, pk, role=THERAPIST)
    if "session" in request.GET:  # an older "Open the session" link: the session is on the reflections tab
        return redirect(f"{reverse('couple_reflections', args=[couple.pk])}?{request.GET.urlencode()}")
    return _dashboard(request, couple)


@login_required
@require_GET
def couple_trends(request: HttpRequest, pk: int) -> HttpResponse:
    """Every chart of the period, and the weekly check-in panel."""
    return _trends_page(request, get_couple_for_user(request.user, pk, role=THERAPIST))


@login_required
@require_GET
def couple_reflections(request: HttpRequest, pk: int) -> HttpResponse:
    """Giver and receiver side by side, and the sessions with their reflections, a page at a time."""
    return _reflections_page(request, get_couple_for_user(request.user, pk, role=THERAPIST))


@login_required
@require_GET
def couple_notes(request: HttpRequest, pk: int) -> HttpResponse:
    """The therapist's own notes on the couple, and the form for a new one."""
    return _notes_page(request, get_couple_for_user(request.user, pk, role=THERAPIST))


@login_required
@require_GET
def couple_exercises(request: HttpRequest, pk: int) -> HttpResponse:
    """The partners, the program, the exercises and the couple's settings and record."""
    return _exercises_page(request, get_couple_for_user(request.user, pk, role=THERAPIST))


@login_required
@require_GET
def couple_summary(request: HttpRequest, pk: int) -> HttpResponse:
    """A printable summary of the period for the clinical record: tables, at most two pages."""
    couple = get_couple_for_user(request.user, pk, role=THERAPIST)
    record_access(request, couple)
    period = _period(request, couple)
    context = _trend_context(couple, period, trends.Scope.THERAPIST, "couple_summary")
    context["open_alerts"] = selectors.open_alerts(couple)
    context["rows"] = trends.summary_rows(context["trends"])
    context["printed_on"] = couple.today()
    context["scale"] = {
        "rating_min": MIN_RATING,
        "rating_max": MAX_RATING,
        "csi4_min": csi4.TOTAL_MIN,
        "csi4_max": csi4.TOTAL_MAX,
        "csi4_threshold": csi4.THRESHOLD,
    }
    return render(request, "intimacy/couple_summary.html", context)


EXPORT_COLUMNS = [
    "date",
    "exercise",
    "minutes",
    "giver",
    "receiver",
    "giver_connection",
    "giver_comfort",
    "giver_safe",
    "giver_presence",
    "giver_giving_felt",
    "giver_paused",
    "giver_shared_with",
    "receiver_connection",
    "receiver_comfort",
    "receiver_safe",
    "receiver_tension_before",
    "receiver_tension_after",
    "receiver_cared_for",
    "receiver_pressure",
    "receiver_pace",
    "receiver_paused",
    "receiver_shared_with",
    # Issue 15: the exercise's shape and the roles of its two columns. The "giver_" columns hold the
    # session's first partner (the giver, the speaker, or the first of a together session), the
    # "receiver_" columns the second (the receiver, the listener, the other); then the talk questions,
    # and the second partner's "how present" of a together session.
    "shape",
    "giver_role",
    "receiver_role",
    "speaker_felt_heard",
    "speaker_felt_understood",
    "speaker_safe_to_say",
    "listener_stayed_open",
    "listener_understood_what_mattered",
    "receiver_presence",
]

SHARED_WITH = {
    Reflection.Visibility.SHARED: "partner and therapist",
    Reflection.Visibility.THERAPIST: "therapist only",
    Reflection.Visibility.PRIVATE: "just me (numbers only)",
}


def _cell(value) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (names are typed by people)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _export_rows(sessions):
    yield EXPORT_COLUMNS
    for session in sessions:
        # By column, not role: each shape has two (models.SHAPE_ROLES).
        by_partner = {r.partner_id: r for r in session.reflections.all()}
        giver, receiver = by_partner.get(session.giver_id), by_partner.get(session.receiver_id)
        row = [session.date.isoformat(), session.assignment.exercise.title, session.minutes]
        row += [session.giver.name, session.receiver.name]
        if giver:
            row += [giver.connection, giver.comfort, giver.safe, giver.presence, giver.giving_felt, int(giver.paused)]
            row += [SHARED_WITH[giver.visibility]]
        else:
            row += [""] * 7
        if receiver:
            row += [receiver.connection, receiver.comfort, receiver.safe, receiver.tension_before]
            row += [receiver.tension_after, receiver.cared_for, receiver.pressure, receiver.pace, int(receiver.paused)]
            row += [SHARED_WITH[receiver.visibility]]
        else:
            row += [""] * 10
        row += _shape_cells(session, giver, receiver)
        yield [_cell(v) for v in row]


def _shape_cells(session, first, second) -> list:
    shape = session.assignment.exercise.shape
    first_role, second_role = SHAPE_ROLES[shape]
    speaker = first if shape == ExerciseShape.TALK else None
    listener = second if shape == ExerciseShape.TALK else None
    together_second = second if shape == ExerciseShape.TOGETHER else None
    return [
        shape,
        first_role,
        second_role,
        *(getattr(speaker, name) if speaker else "" for name in Reflection.SPEAKER_ONLY),
        *(getattr(listener, name) if listener else "" for name in Reflection.LISTENER_ONLY),
        together_second.presence if together_second else "",
    ]


class _Echo:
    def write(self, value):
        return value


@login_required
@require_GET
def couple_export(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """The period's sessions and ratings as CSV, streamed. Ratings only: no one's words leave Tend this way.

    A GET (a download reads; the access record is the audit trail's). The password first: then the
    therapist is back on the dashboard at the same period and downloads again, rather than getting
    the file as the answer to the password form and staying on it.
    """
    couple = get_couple_for_user(request.user, pk, role=THERAPIST)
    period = trends.period_from(request.GET, couple.today())
    back = f"{reverse('couple_detail', args=[couple.pk])}?{period.query}"
    if asked := reauthenticate_first(request, back=back, why=DOWNLOAD_WHY):
        return asked
    record_access(request, couple)
    sessions = selectors.export_sessions(couple, request.user, start=period.start, end=period.end)
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse((writer.writerow(r) for r in _export_rows(sessions)), content_type="text/csv")
    # The file name carries the couple's id and the period: the label stays out of downloads folders and logs.
    name = f"tend-couple-{couple.pk}-{period.start.isoformat()}-to-{period.end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


def _note_form(request: HttpRequest, couple: Couple) -> NoteForm:
    # A note that arrived after an idle sign-out comes back here, where the form is (accounts/drafts.py).
    kept = drafts.restore(request, path=reverse("note_add", args=[couple.pk]))
    return NoteForm(initial={"date": couple.today(), **kept})


@drafts.keeps_draft(NoteForm, shown_on="couple_notes")
@login_required
@require_POST
def note_add(request: HttpRequest, pk: int) -> HttpResponse:
    couple = get_couple_for_user(request.user, pk, role=THERAPIST)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.note_add(
                couple=couple, author=request.user, day=form.cleaned_data["date"], text=form.cleaned_data["text"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
            return _notes_page(request, couple, note_form=form, status=400)
        messages.success(request, _("Note added."))
        # Back to the period the therapist was looking at, re-read so only a valid period goes into the URL.
        period = trends.period_from(QueryDict(request.POST.get("period", "")), couple.today())
        return redirect(f"{reverse('couple_notes', args=[couple.pk])}?{period.query}#notes")
    # Keep what was typed: show the dashboard again with the form and its errors.
    return _notes_page(request, couple, note_form=form, status=400)


@login_required
@require_POST
def note_delete(request: HttpRequest, pk: int) -> HttpResponse:
    note = get_note_for_user(request.user, pk)
    couple_pk = note.couple_id
    services.note_delete(note=note)
    messages.success(request, _("Note removed."))
    return redirect(reverse("couple_notes", args=[couple_pk]) + "#notes")


@login_required
@require_POST
def alert_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_alert_for_user(request.user, pk)
    form = AcknowledgeForm(request.POST)
    if not form.is_valid():
        text = ngettext(
            "The note can be at most %(count)d character; nothing was saved.",
            "The note can be at most %(count)d characters; nothing was saved.",
            ACKNOWLEDGEMENT_MAX_LENGTH,
        )
        messages.error(request, text % {"count": ACKNOWLEDGEMENT_MAX_LENGTH})
        return redirect(reverse("couple_detail", args=[alert.couple_id]) + "#attention")
    alerts.alert_acknowledge(alert=alert, by=request.user, note=form.cleaned_data["note"])
    messages.success(request, _("Marked as seen. It stays in the alert history."))
    return redirect(reverse("couple_detail", args=[alert.couple_id]) + "#attention")


@login_required
@require_POST
def hold_lift(request: HttpRequest, pk: int) -> HttpResponse:
    """Lift the hold on the couple's touch exercises: their therapist only, with a new separate
    conversation with each partner and a note. Keyed by the couple, so a partner learns nothing of
    whether a hold exists (403 either way)."""
    couple = get_couple_for_user(request.user, pk, role=THERAPIST)
    form = _lift_form(couple, request.POST)
    if form.is_valid():
        try:
            services.hold_lift(
                couple=couple, by=request.user, note=form.cleaned_data["note"], screenings=form.screenings()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The hold is lifted. Each partner answers the private check again first."))
            return redirect(reverse("couple_detail", args=[couple.pk]) + "#attention")
    return _dashboard(request, couple, status=400, lift_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def screening_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a separate conversation with one partner (their therapist only): a page of its own, linked
    from the overview's touch-work panel. (On the overview, where it is needed once or twice a couple, the
    form was a tenth of every view's time; issue 16, "Fast".)"""
    couple = get_couple_for_user(request.user, pk, role=THERAPIST)
    form = _screening_form(couple, request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        partner = next(p for p in selectors.couple_partners(couple) if p.pk == data["partner"])
        try:
            services.screening_record(
                couple=couple, partner=partner, by=request.user, day=data["date"], how=data["how"], note=data["note"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Recorded."))
            return redirect(reverse("couple_detail", args=[couple.pk]) + "#clearance")
    context = {"couple": couple, "form": form}
    return render(request, "intimacy/screening_form.html", context, status=400 if form.is_bound else 200)


@login_required
@require_POST
def progress_page_switch(request: HttpRequest, pk: int) -> HttpResponse:
    couple = get_couple_for_user(request.user, pk, role=THERAPIST)
    enabled = request.POST.get("enabled") == "1"
    couple_set_progress_page(couple=couple, enabled=enabled)
    messages.success(
        request, _("The couple can now see their progress page.") if enabled else _("Progress page hidden.")
    )
    return redirect(reverse("couple_exercises", args=[couple.pk]) + "#details")


@partner_required
@require_GET
def progress(request: HttpRequest) -> HttpResponse:
    """The couple's own progress: sessions per week, the partner's own connection, shared words only."""
    couple = request.partner.couple
    if not couple.progress_page:
        raise PermissionDenied
    period = trends.period_from(request.GET, couple.today())
    data = trends.couple_trends(couple, period, trends.Scope.OWN, viewer_partner=request.partner)
    # No target line here: the couple's own page shows what they did, never what they fell short of.
    chart_list = trends.couple_charts(data, targets=False, only=frozenset({"sessions", "connection"}))
    return render(
        request,
        "intimacy/progress.html",
        {
            "couple": couple,
            "period": period,
            "trends": data,
            "charts": chart_list,
            "chart_data": {"charts": chart_list, "markers": []},
            "base_url": reverse("progress"),
            "week_choices": trends.WEEK_CHOICES,
        },
    )


@login_required
@require_POST
@never_cache
def keepalive(request: HttpRequest) -> HttpResponse:
    """Counts as activity, so the appointment view stays signed in while it is open; never past the
    absolute limit (`SessionRulesMiddleware` signs the therapist out first, and this answers 302)."""
    request.session.modified = True
    return HttpResponse(status=204)


@login_required
@require_POST
def session_merge(request: HttpRequest, pk: int) -> HttpResponse:
    """The therapist makes one session of two accounts of the same back rub (each partner's log)."""
    session = get_session_for_user(request.user, pk, role=THERAPIST)
    other = request.POST.get("other", "")
    back = reverse("couple_reflections", args=[session.assignment.couple_id]) + "#timeline"
    try:
        if not (other.isascii() and other.isdigit()):  # "²" is a digit to isdigit(), not to int()
            raise ValidationError(_("Choose the two sessions to make one."))
        duplicate = get_session_for_user(request.user, int(other), role=THERAPIST)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    except Http404:
        # Made one a moment ago (a partner, another tab), or not there to see: one answer for all.
        messages.info(request, _("Nothing to do: the other session is no longer there."))
        return redirect(back)
    try:
        services.session_merge(keep=session, duplicate=duplicate, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Made one session, with both reflections."))
    return redirect(back)
