"""Views about the homework. Each fetches objects through the access gate, then calls a service or selector."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import (
    get_assignment_for_user,
    get_couple_for_user,
    get_reflection_for_user,
    get_session_for_user,
    partner_context,
    partner_required,
    therapist_required,
)
from accounts.models import Couple, User
from accounts.services import couple_set_status
from intimacy import selectors, services
from intimacy.forms import AssignmentForm, ExerciseForm, LogSessionForm, ReflectionForm, SessionEditForm, VisibilityForm
from intimacy.models import EDIT_WINDOW_DAYS, Assignment, Exercise, Reflection

THERAPIST = User.Role.THERAPIST
PARTNER = User.Role.PARTNER


@require_GET
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """200 "ok" when the database answers, 503 otherwise. Public and free of any detail."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return HttpResponse("unavailable", status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_therapist:
        return therapist_home(request)
    if request.user.is_partner:
        return partner_home(request)
    raise PermissionDenied


# Therapist -------------------------------------------------------------------------------------


@therapist_required
def therapist_home(request: HttpRequest) -> HttpResponse:
    """The caseload, active couples by default; ?status=paused|closed|all for the others."""
    status = request.GET.get("status", Couple.Status.ACTIVE)
    if status != "all" and status not in Couple.Status.values:
        status = Couple.Status.ACTIVE
    rows = selectors.caseload(request.user, status=None if status == "all" else status)
    filters = [*Couple.Status.choices, ("all", _("All"))]
    return render(request, "intimacy/therapist_home.html", {"rows": rows, "status": status, "filters": filters})


@login_required
@require_POST
def couple_status(request: HttpRequest, pk: int) -> HttpResponse:
    couple = get_couple_for_user(request.user, pk, role=THERAPIST)
    status = request.POST.get("status", "")
    if status not in Couple.Status.values:
        messages.error(request, _("Choose active, paused or closed."))
    else:
        couple_set_status(couple=couple, status=status)
        status_name = couple.get_status_display().lower()
        messages.success(request, _("%(couple)s is now %(status)s.") % {"couple": couple.label, "status": status_name})
    return redirect("couple_detail", pk=couple.pk)


@therapist_required
@require_GET
def exercise_list(request: HttpRequest) -> HttpResponse:
    exercises = Exercise.objects.available_to(request.user)
    return render(
        request,
        "intimacy/exercise_list.html",
        {
            "builtin": [e for e in exercises if e.is_builtin],
            "own": [e for e in exercises if not e.is_builtin and e.archived_at is None],
            "archived": [e for e in exercises if not e.is_builtin and e.archived_at is not None],
        },
    )


def _exercise_for(user, pk: int) -> Exercise:
    """Exercises are not clinical, but a therapist's own are theirs: others' are 404 like the missing."""
    exercise = Exercise.objects.available_to(user).filter(pk=pk).first()
    if exercise is None:
        raise Http404
    return exercise


@therapist_required
@require_GET
def exercise_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "intimacy/exercise_detail.html", {"exercise": _exercise_for(request.user, pk)})


@therapist_required
@require_http_methods(["GET", "POST"])
def exercise_create(request: HttpRequest) -> HttpResponse:
    form = ExerciseForm(request.POST or None, initial={"suggested_minutes": 15})
    if request.method == "POST" and form.is_valid():
        exercise = services.exercise_create(owner=request.user, **form.cleaned_data)
        messages.success(request, _("Exercise saved."))
        return redirect("exercise_detail", pk=exercise.pk)
    return render(request, "intimacy/exercise_form.html", {"form": form, "exercise": None})


@therapist_required
@require_http_methods(["GET", "POST"])
def exercise_edit(request: HttpRequest, pk: int) -> HttpResponse:
    exercise = _exercise_for(request.user, pk)
    if exercise.is_builtin:
        raise PermissionDenied
    form = ExerciseForm(request.POST or None, instance=exercise)
    if request.method == "POST" and form.is_valid():
        services.exercise_update(exercise=exercise, **form.cleaned_data)
        messages.success(request, _("Exercise saved. Couples see the new wording from now on."))
        return redirect("exercise_detail", pk=exercise.pk)
    return render(request, "intimacy/exercise_form.html", {"form": form, "exercise": exercise})


@therapist_required
@require_POST
def exercise_customize(request: HttpRequest, pk: int) -> HttpResponse:
    copy = services.exercise_customize(exercise=_exercise_for(request.user, pk), owner=request.user)
    messages.success(request, _("Here is your own copy. Change the wording as you like."))
    return redirect("exercise_edit", pk=copy.pk)


@therapist_required
@require_POST
def exercise_archive(request: HttpRequest, pk: int) -> HttpResponse:
    exercise = _exercise_for(request.user, pk)
    if exercise.is_builtin:
        raise PermissionDenied
    archived = request.POST.get("archived", "1") == "1"
    services.exercise_set_archived(exercise=exercise, archived=archived)
    messages.success(request, _("Exercise archived.") if archived else _("Exercise restored."))
    return redirect("exercise_list")


@login_required
@require_http_methods(["GET", "POST"])
def assignment_create(request: HttpRequest, pk: int) -> HttpResponse:
    couple = get_couple_for_user(request.user, pk, role=THERAPIST)
    exercises = Exercise.objects.available_to(request.user).filter(archived_at__isnull=True)
    builtin = exercises.filter(builtin_key="back-rub").first() or exercises.first()
    initial = {
        "exercise": builtin,
        "target_per_week": 2,
        "suggested_minutes": builtin.suggested_minutes if builtin else 15,
        "starts_on": couple.today(),
    }
    form = AssignmentForm(request.POST or None, couple=couple, exercises=exercises, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.assignment_create(
                couple=couple,
                exercise=data["exercise"],
                target_per_week=data["target_per_week"],
                suggested_minutes=data["suggested_minutes"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                giver_plan=data["giver_plan"],
                planned_giver=data["planned_giver"],
                note=data["note"],
                screening_confirmed=data.get("screening_confirmed", False),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Exercise assigned. The couple will see it on their home page."))
            return redirect("couple_detail", pk=couple.pk)
    return render(request, "intimacy/assignment_form.html", {"form": form, "couple": couple})


@login_required
@require_POST
def assignment_status(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = get_assignment_for_user(request.user, pk, role=THERAPIST)
    status = request.POST.get("status", "")
    try:
        if status not in Assignment.Status.values:
            raise ValidationError(_("Unknown status."))
        services.assignment_set_status(assignment=assignment, status=status)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        text = _("%(exercise)s: %(status)s.")
        messages.success(
            request, text % {"exercise": assignment.exercise.title, "status": assignment.get_status_display().lower()}
        )
    return redirect("couple_detail", pk=assignment.couple_id)


# Partner ----------------------------------------------------------------------------------------


@partner_required
def partner_home(request: HttpRequest) -> HttpResponse:
    partner = request.partner
    today = partner.couple.today()
    data = selectors.partner_home(partner, request.user, today)
    other = partner.couple.partners.exclude(pk=partner.pk).first()
    # Offered until answered, then not mentioned again that week: no streaks, nothing "missed".
    checkin_due = not partner.couple.is_closed and not selectors.checkin_done(partner, request.user, today)
    return render(
        request,
        "intimacy/partner_home.html",
        {"home": data, "partner": partner, "other": other, "checkin_due": checkin_due},
    )


@partner_required
@require_GET
def history(request: HttpRequest) -> HttpResponse:
    page = selectors.couple_sessions_page(request.partner.couple, request.user, request.GET.get("page"))
    return render(request, "intimacy/history.html", {"page": page, "partner": request.partner})


@partner_required
@require_GET
def log_start(request: HttpRequest) -> HttpResponse:
    """Pick the assignment to log for; with only one active, go straight to it."""
    active = list(
        Assignment.objects.visible_to(request.user).filter(status=Assignment.Status.ACTIVE).select_related("exercise")
    )
    if len(active) == 1:
        return redirect("session_log", pk=active[0].pk)
    return render(request, "intimacy/log_start.html", {"assignments": active})


@partner_context
@require_http_methods(["GET", "POST"])
def session_log(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = get_assignment_for_user(request.user, pk, role=PARTNER)
    partner = request.partner
    today = assignment.couple.today()
    if assignment.status != Assignment.Status.ACTIVE and request.method == "GET":
        messages.info(request, _("This exercise is paused or finished, so there is nothing to log for it right now."))
        return redirect("home")
    # "Did you mean this one?": offer recent sessions the partner hasn't reflected on, once.
    if request.method == "GET" and request.GET.get("new") != "1":
        since = today - timedelta(days=selectors.RECENT_UNREFLECTED_DAYS)
        recent = list(selectors.awaiting_my_reflection(partner, since=since).filter(assignment=assignment))
        if recent:
            return render(request, "intimacy/log_maybe.html", {"assignment": assignment, "sessions": recent})
    form = LogSessionForm(
        request.POST or None,
        suggested_minutes=assignment.suggested_minutes,
        initial={"date": today, "role": _suggested_role(assignment, partner)},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            session, created = services.session_log(
                assignment=assignment,
                partner=partner,
                day=data["date"],
                minutes=data["minutes"],
                role=data["role"],
                answers=form.answers(),
                idempotency_key=data["idempotency_key"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            if created:
                messages.success(request, _("Thank you. Your session is saved."))
            return redirect("home")
    return render(
        request,
        "intimacy/session_log.html",
        {"form": form, "assignment": assignment, "today": today, "other": _other_partner(partner)},
    )


def _suggested_role(assignment: Assignment, partner) -> str | None:
    if assignment.giver_plan == Assignment.GiverPlan.ONE and assignment.planned_giver_id:
        return Reflection.Role.GIVER if assignment.planned_giver_id == partner.pk else Reflection.Role.RECEIVER
    return None


def _other_partner(partner):
    return partner.couple.partners.exclude(pk=partner.pk).first()


def _add_errors(form, exc: ValidationError) -> None:
    """Put a service's validation errors next to the fields they name, or at the top of the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@partner_context
@require_http_methods(["GET", "POST"])
def reflection_add(request: HttpRequest, pk: int) -> HttpResponse:
    session = get_session_for_user(request.user, pk, role=PARTNER)
    partner = request.partner
    role = session.role_of(partner)
    if role is None:
        raise PermissionDenied
    mine = session.reflections.filter(partner=partner).first()
    if mine is not None:
        return redirect("reflection_edit", pk=mine.pk)
    form = ReflectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.reflection_add(session=session, partner=partner, answers=form.answers())
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Thank you. Your reflection is saved."))
            return redirect("home")
    return render(
        request,
        "intimacy/reflection_form.html",
        {"form": form, "session": session, "role": role, "other": _other_partner(partner), "editing": False},
    )


@partner_context
@require_http_methods(["GET", "POST"])
def reflection_edit(request: HttpRequest, pk: int) -> HttpResponse:
    reflection = get_reflection_for_user(request.user, pk, role=PARTNER)
    partner = request.partner
    if reflection.partner_id != partner.pk:
        raise PermissionDenied
    session = get_session_for_user(request.user, reflection.session_id, role=PARTNER)
    # On a POST the service explains the closed window next to the form, so nothing typed is lost.
    if request.method == "GET" and not services.within_edit_window(reflection.created_at):
        return redirect("reflection_visibility", pk=reflection.pk)
    initial = {name: getattr(reflection, name) for name in ReflectionForm.ANSWER_FIELDS}
    form = ReflectionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.reflection_update(reflection=reflection, partner=partner, answers=form.answers())
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Your reflection is updated."))
            return redirect("history")
    return render(
        request,
        "intimacy/reflection_form.html",
        {
            "form": form,
            "session": session,
            "role": reflection.role,
            "other": _other_partner(partner),
            "editing": True,
            "reflection": reflection,
        },
    )


@partner_context
@require_http_methods(["GET", "POST"])
def reflection_visibility(request: HttpRequest, pk: int) -> HttpResponse:
    reflection = get_reflection_for_user(request.user, pk, role=PARTNER)
    if reflection.partner_id != request.partner.pk:
        raise PermissionDenied
    form = VisibilityForm(request.POST or None, initial={"visibility": reflection.visibility})
    if request.method == "POST" and form.is_valid():
        try:
            services.reflection_set_visibility(
                reflection=reflection, partner=request.partner, visibility=form.cleaned_data["visibility"]
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            readers = reflection.get_visibility_display().lower()
            messages.success(request, _("Now readable by: %(readers)s.") % {"readers": readers})
            return redirect("history")
    return render(
        request,
        "intimacy/reflection_visibility.html",
        {"form": form, "reflection": reflection, "window_days": EDIT_WINDOW_DAYS},
    )


def _own_session(request: HttpRequest, pk: int):
    session = get_session_for_user(request.user, pk, role=PARTNER)
    if session.logged_by_id != request.partner.pk:
        raise PermissionDenied
    return session


@partner_context
@require_http_methods(["GET", "POST"])
def session_edit(request: HttpRequest, pk: int) -> HttpResponse:
    session = _own_session(request, pk)
    if request.method == "GET" and not services.within_edit_window(session.created_at):
        messages.info(request, _("Sessions can be changed for 7 days after they were logged."))
        return redirect("history")
    form = SessionEditForm(request.POST or None, initial={"date": session.date, "minutes": session.minutes})
    if request.method == "POST" and form.is_valid():
        try:
            services.session_update(
                session=session,
                partner=request.partner,
                day=form.cleaned_data["date"],
                minutes=form.cleaned_data["minutes"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Session updated."))
            return redirect("history")
    return render(request, "intimacy/session_edit.html", {"form": form, "session": session})


@partner_context
@require_POST
def session_delete(request: HttpRequest, pk: int) -> HttpResponse:
    session = _own_session(request, pk)
    try:
        services.session_delete(session=session, partner=request.partner)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Session deleted."))
    return redirect("history")
