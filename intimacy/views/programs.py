"""Staged programs (issue 15): the therapist builds a program, assigns it to a couple and approves the next
step; each partner privately says whether they are ready, or asks to go back a step."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import get_couple_for_user, partner_context, therapist_required
from accounts.forms import add_service_errors
from accounts.models import User
from intimacy import selectors, services
from intimacy.access import get_program_for_user, get_program_stage_for_user, get_program_step_for_user
from intimacy.forms import ProgramAssignForm, ProgramForm, ProgramStageForm
from intimacy.models import ReadinessAnswer

THERAPIST, PARTNER = User.Role.THERAPIST, User.Role.PARTNER


# The therapist ------------------------------------------------------------------------------------------


@therapist_required
@require_GET
def program_list(request: HttpRequest) -> HttpResponse:
    return render(request, "intimacy/program_list.html", selectors.program_library(request.user))


@therapist_required
@require_http_methods(["GET", "POST"])
def program_create(request: HttpRequest) -> HttpResponse:
    form = ProgramForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        program = services.program_create(owner=request.user, **form.cleaned_data)
        messages.success(request, _("Program saved. Now add its steps, in order."))
        return redirect("program_detail", pk=program.pk)
    return render(request, "intimacy/program_form.html", {"form": form})


def _program_page(request: HttpRequest, program, stage_form=None, status: int = 200) -> HttpResponse:
    if stage_form is None and not program.is_builtin:
        exercises = selectors.assignable_exercises(request.user)
        stage_form = ProgramStageForm(exercises=exercises, initial={"target_per_week": 2, "suggested_minutes": 15})
    context = {"program": program, "stages": selectors.program_stages(program), "stage_form": stage_form}
    return render(request, "intimacy/program_detail.html", context, status=status)


@therapist_required
@require_GET
def program_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _program_page(request, get_program_for_user(request.user, pk))


@therapist_required
@require_POST
def program_stage_add(request: HttpRequest, pk: int) -> HttpResponse:
    program = get_program_for_user(request.user, pk)
    if program.is_builtin:
        raise PermissionDenied
    form = ProgramStageForm(request.POST, exercises=selectors.assignable_exercises(request.user))
    if form.is_valid():
        try:
            services.program_stage_add(program=program, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Step added."))
            return redirect("program_detail", pk=program.pk)
    return _program_page(request, program, stage_form=form, status=400)


@therapist_required
@require_POST
def program_stage_move(request: HttpRequest, pk: int) -> HttpResponse:
    stage = get_program_stage_for_user(request.user, pk)
    if stage.program.is_builtin:
        raise PermissionDenied
    services.program_stage_move(stage=stage, offset=-1 if request.POST.get("direction") == "up" else 1)
    return redirect("program_detail", pk=stage.program_id)


@login_required
@require_http_methods(["GET", "POST"])
def program_assign(request: HttpRequest, pk: int) -> HttpResponse:
    couple = get_couple_for_user(request.user, pk, role=THERAPIST)
    form = ProgramAssignForm(request.POST or None, programs=selectors.assignable_programs(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            services.program_assign(couple=couple, program=form.cleaned_data["program"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Program started at its first step. The couple see it on their home page."))
            return redirect(reverse("couple_exercises", args=[couple.pk]) + "#program")
    return render(request, "intimacy/program_assign.html", {"form": form, "couple": couple}, status=_status(form))


def _status(form) -> int:
    return 400 if form.is_bound and form.errors else 200


@login_required
@require_POST
def program_approve(request: HttpRequest, pk: int) -> HttpResponse:
    step = get_program_step_for_user(request.user, pk, role=THERAPIST)
    try:
        following = services.program_stage_approve(step=step, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("The couple moved on to the next step.") if following else _("The program is complete.")
        )
    return redirect(reverse("couple_exercises", args=[step.run.couple_id]) + "#program")


@login_required
@require_POST
def program_return(request: HttpRequest, pk: int) -> HttpResponse:
    """The therapist takes the couple back a step (what a partner's "go back" does, without the request)."""
    step = get_program_step_for_user(request.user, pk, role=THERAPIST)
    try:
        services.program_stage_return(step=step, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The couple are back at the previous step. They see that you changed it."))
    return redirect(reverse("couple_exercises", args=[step.run.couple_id]) + "#program")


# The partners -------------------------------------------------------------------------------------------


@partner_context
@require_POST
def step_readiness(request: HttpRequest, pk: int) -> HttpResponse:
    step = get_program_step_for_user(request.user, pk, role=PARTNER)
    answer = request.POST.get("answer", "")
    try:
        services.readiness_answer(step=step, partner=request.partner, answer=answer)
    except ValidationError as exc:
        messages.info(request, " ".join(exc.messages))
    else:
        if answer == ReadinessAnswer.Answer.READY:
            messages.success(request, _("Thank you. Your therapist will see it; your partner won't."))
        else:
            messages.success(request, _("Thank you. Take the time you need; your partner won't see your answer."))
    return redirect("home")


@partner_context
@require_POST
def step_back(request: HttpRequest, pk: int) -> HttpResponse:
    step = get_program_step_for_user(request.user, pk, role=PARTNER)
    try:
        services.program_stage_back(step=step, partner=request.partner)
    except ValidationError as exc:
        messages.info(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Done: you are back at the previous step. Your therapist has been told."))
    return redirect("home")
