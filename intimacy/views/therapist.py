"""The therapist's screens outside one couple's dashboard: the caseload, exercises, assignments,
a couple's status."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import drafts
from accounts.access import get_couple_for_user, therapist_required
from accounts.forms import add_service_errors
from accounts.models import Couple, User
from accounts.services import couple_set_status
from intimacy import selectors, services
from intimacy.access import get_assignment_for_user, get_exercise_for_user
from intimacy.forms import AssignmentForm, ExerciseCopyForm, ExerciseForm
from intimacy.models import Assignment, Exercise

THERAPIST = User.Role.THERAPIST
# The caseload filter that shows every couple, whatever their status.
ALL_COUPLES = "all"


@therapist_required
def therapist_home(request: HttpRequest) -> HttpResponse:
    """The caseload, active couples by default; ?status=paused|closed|all for the others."""
    status = request.GET.get("status", Couple.Status.ACTIVE)
    if status != ALL_COUPLES and status not in Couple.Status.values:
        status = Couple.Status.ACTIVE
    rows = selectors.caseload(request.user, status=None if status == ALL_COUPLES else status)
    filters = [*Couple.Status.choices, (ALL_COUPLES, _("All"))]
    context = {"rows": rows, "status": status, "filters": filters, "weeks": selectors.CASELOAD_WEEKS}
    return render(request, "intimacy/therapist_home.html", context)


@login_required
@require_POST
def couple_status(request: HttpRequest, pk: int) -> HttpResponse:
    couple = get_couple_for_user(request.user, pk, role=THERAPIST)
    status = request.POST.get("status", "")
    if status not in Couple.Status.values:
        statuses = get_text_list([str(label).lower() for label in Couple.Status.labels], _("or"))
        messages.error(request, _("Choose %(statuses)s.") % {"statuses": statuses})
    else:
        couple_set_status(couple=couple, status=status)
        status_name = couple.get_status_display().lower()
        messages.success(request, _("%(couple)s is now %(status)s.") % {"couple": couple.label, "status": status_name})
    return redirect(reverse("couple_exercises", args=[couple.pk]) + "#details")


@therapist_required
@require_GET
def exercise_list(request: HttpRequest) -> HttpResponse:
    """The library: built in, the therapist's own, archived; ?shape=touch|talk|together and
    ?touch=yes|no narrow every list (an unknown value is ignored)."""
    shape = request.GET.get("shape", "")
    shape = shape if shape in Exercise.Shape.values else None
    touch = {"yes": True, "no": False}.get(request.GET.get("touch", ""))
    library = selectors.exercise_library(request.user, shape=shape, touch=touch)
    context = {**library, "shape": shape, "touch": touch, "shapes": Exercise.Shape.choices}
    return render(request, "intimacy/exercise_list.html", context)


@therapist_required
@require_GET
def exercise_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "intimacy/exercise_detail.html", {"exercise": get_exercise_for_user(request.user, pk)})


@drafts.keeps_draft(ExerciseForm)
@therapist_required
@require_http_methods(["GET", "POST"])
def exercise_create(request: HttpRequest) -> HttpResponse:
    form = ExerciseForm(request.POST or None, initial={"suggested_minutes": 15, **drafts.restore(request)})
    if request.method == "POST" and form.is_valid():
        exercise = services.exercise_create(owner=request.user, **form.cleaned_data)
        messages.success(request, _("Exercise saved."))
        return redirect("exercise_detail", pk=exercise.pk)
    return render(request, "intimacy/exercise_form.html", {"form": form, "exercise": None})


@drafts.keeps_draft(ExerciseForm)
@therapist_required
@require_http_methods(["GET", "POST"])
def exercise_edit(request: HttpRequest, pk: int) -> HttpResponse:
    exercise = get_exercise_for_user(request.user, pk)
    if exercise.is_builtin:
        raise PermissionDenied
    form = ExerciseForm(request.POST or None, instance=exercise, initial=drafts.restore(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.exercise_update(exercise=exercise, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Exercise saved. Couples see the new wording from now on."))
            return redirect("exercise_detail", pk=exercise.pk)
    return render(request, "intimacy/exercise_form.html", {"form": form, "exercise": exercise})


@drafts.keeps_draft(ExerciseCopyForm)
@therapist_required
@require_http_methods(["GET", "POST"])
def exercise_customize(request: HttpRequest, pk: int) -> HttpResponse:
    """A copy of an exercise in the therapist's own words: the form starts from the original's, and
    the copy exists only once it is saved (opening the page writes nothing)."""
    original = get_exercise_for_user(request.user, pk)
    form = ExerciseCopyForm(request.POST or None, original=original, initial=drafts.restore(request))
    if request.method == "POST" and form.is_valid():
        copy = services.exercise_customize(exercise=original, owner=request.user, **form.cleaned_data)
        messages.success(request, _("Your own copy is saved. Only you and your couples see it."))
        return redirect("exercise_detail", pk=copy.pk)
    context = {"form": form, "exercise": None, "original": original}
    return render(request, "intimacy/exercise_form.html", context)


@therapist_required
@require_POST
def exercise_archive(request: HttpRequest, pk: int) -> HttpResponse:
    exercise = get_exercise_for_user(request.user, pk)
    if exercise.is_builtin:
        raise PermissionDenied
    archived = request.POST.get("archived", "1") == "1"
    services.exercise_set_archived(exercise=exercise, archived=archived)
    messages.success(request, _("Exercise archived.") if archived else _("Exercise restored."))
    return redirect("exercise_list")


@drafts.keeps_draft(AssignmentForm)
@login_required
@require_http_methods(["GET", "POST"])
def assignment_create(request: HttpRequest, pk: int) -> HttpResponse:
    couple = get_couple_for_user(request.user, pk, role=THERAPIST)
    exercises = selectors.assignable_exercises(request.user)
    builtin = selectors.default_exercise(exercises)
    initial = {
        "exercise": builtin,
        "target_per_week": 2,
        "suggested_minutes": builtin.suggested_minutes if builtin else 15,
        "starts_on": couple.today(),
        **drafts.restore(request),
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
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
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
    # Back to the page the button was on: the overview's header and alerts, or the exercises' list.
    if request.POST.get("back") == "overview":
        return redirect("couple_detail", pk=assignment.couple_id)
    return redirect(reverse("couple_exercises", args=[assignment.couple_id]) + f"#assignment-{assignment.pk}")
