"""Views for privacy and data rights: the safety line, a partner's own data and consent, and the end
of a couple's therapy (close, export, delete). Every object comes through the access gate."""

import json

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import services as people
from accounts.access import get_couple_for_user, partner_exit_required, partner_required
from accounts.audit import record_access
from accounts.drafts import shows_words_on_failure
from accounts.models import User
from accounts.reauthentication import DELETE_WHY, DOWNLOAD_WHY, reauthenticate_first
from intimacy import records, services
from intimacy.forms import SafetyCheckForm, SafetyForm

THERAPIST = User.Role.THERAPIST


def _json_download(data: dict, filename: str) -> HttpResponse:
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


# The safety line ----------------------------------------------------------------------------------


# Never kept across a sign-out (keeps_draft): nothing sent on the private line is shown again, on a
# phone that may be shared. With the database down, the 503 page shows the words just typed, once,
# not stored, so they are not lost (the same words were on that screen a moment before).
@shows_words_on_failure(SafetyForm)
@partner_exit_required
@require_http_methods(["GET", "POST"])
def safety(request: HttpRequest) -> HttpResponse:
    """ "Tell my therapist privately": reaches the therapist alone, and is never listed back here."""
    form = SafetyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.safety_message_send(partner=request.partner, **form.cleaned_data)
        # Back to the ordinary home page with a thank-you that names nothing: the next person to pick
        # up this phone, or to read its history, sees no sign that the safety line was used.
        messages.success(request, _("Thank you. It is sent."))
        return redirect("home")
    return render(request, "intimacy/safety.html", {"form": form})


@partner_required
@require_http_methods(["GET", "POST"])
def safety_check(request: HttpRequest) -> HttpResponse:
    """The private check before touch work, answered alone. The answers go to the therapist only and
    are never shown back here; the thank-you is the same whatever the answers."""
    form = SafetyCheckForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.safety_check_answer(partner=request.partner, answers=form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Thank you. Your answers go to your therapist only."))
        return redirect("home")
    return render(request, "intimacy/safety_check.html", {"form": form})


@login_required
@require_POST
def quick_sign_out(request: HttpRequest) -> HttpResponse:
    """Sign out at once, no questions, and land on a page that says nothing about Tend's content."""
    logout(request)
    return redirect("account_login")


# A partner's own data and consent -----------------------------------------------------------------


@partner_exit_required
@require_GET
def my_data(request: HttpRequest) -> HttpResponse:
    return render(request, "intimacy/my_data.html", {"partner": request.partner})


@partner_exit_required
@require_GET
def my_data_download(request: HttpRequest) -> HttpResponse:
    """The partner's own data as JSON: what they logged and wrote, and only what their partner shared."""
    data = records.partner_record(request.partner, request.user)
    return _json_download(data, f"tend-my-data-{request.partner.couple.today().isoformat()}.json")


@partner_exit_required
@require_GET
def my_data_page(request: HttpRequest) -> HttpResponse:
    """The same as the download, as a page to read or print (issue 17): drawn from the very same dict."""
    partner = request.partner
    data = records.partner_record(partner, request.user)
    context = {
        "about": data["about"],
        "sections": records.readable(data, partner.couple.tz),
        "today": partner.couple.today(),
    }
    return render(request, "intimacy/my_data_page.html", context)


@partner_required
@require_http_methods(["GET", "POST"])
def consent_withdraw(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        if request.POST.get("confirm") != "yes":
            messages.error(request, _("Tick the box to confirm, or go back."))
        else:
            services.consent_withdraw(partner=request.partner)
            logout(request)
            messages.info(request, _("Your consent is withdrawn and you are signed out. Your therapist has been told."))
            return redirect("account_login")
    return render(request, "intimacy/consent_withdraw.html", {"partner": request.partner})


# The end of therapy (therapist) --------------------------------------------------------------------


@login_required
@require_POST
def couple_record(request: HttpRequest, pk: int) -> HttpResponse:
    """The couple's whole record as JSON for the clinical file. "Just me" words are not in it.

    A POST, because it records that the export was made (deleting the couple needs one first).
    The password first: after it, the therapist chooses the export again on the couple's page.
    """
    couple = get_couple_for_user(request.user, pk, role=THERAPIST)
    back = reverse("couple_exercises", args=[couple.pk]) + "#record"
    if asked := reauthenticate_first(request, back=back, why=DOWNLOAD_WHY):
        return asked
    data = records.couple_record(couple, request.user)
    record_access(request, couple)
    people.couple_mark_exported(couple=couple)
    return _json_download(data, f"tend-record-{couple.pk}-{couple.today().isoformat()}.json")


@login_required
@require_http_methods(["GET", "POST"])
def couple_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a couple and all of its clinical data for good: typed confirmation, after an export.

    The password before the page, and again if it was sent too long after (nothing is deleted then:
    the page comes back to be confirmed again).
    """
    couple = get_couple_for_user(request.user, pk, role=THERAPIST)
    back = reverse("couple_delete", args=[couple.pk])
    if asked := reauthenticate_first(request, back=back, why=DELETE_WHY):
        return asked
    error = ""
    if request.method == "POST":
        try:
            services.couple_delete(couple=couple, confirmation=request.POST.get("confirmation", ""))
        except ValidationError as exc:
            error = exc.messages[0]
        else:
            messages.success(request, _("The couple and all of their records are deleted."))
            return redirect("home")
    return render(
        request,
        "intimacy/couple_delete.html",
        {
            "couple": couple,
            "error": error,
            "typed": request.POST.get("confirmation", ""),
            "back": reverse("couple_detail", args=[couple.pk]),
        },
        status=400 if error else 200,
    )
