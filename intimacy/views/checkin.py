"""The weekly check-in (CSI-4): a partner's optional answers, for their therapist only.

Answering again in the same week replaces that week's answers: the form starts from the partner's
own earlier answers of the week, saying when they gave them (issue 17), never from the other partner's.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.access import partner_required
from accounts.forms import add_service_errors
from intimacy import csi4, selectors, services
from intimacy.forms import CheckInForm


@partner_required
@require_http_methods(["GET", "POST"])
def checkin(request: HttpRequest) -> HttpResponse:
    """The four CSI-4 questions on one screen; skippable ("Not this week"), one check-in a week."""
    partner = request.partner
    couple = partner.couple
    if couple.is_closed:
        messages.info(request, _("Your therapist has closed this case, so there is no weekly check-in."))
        return redirect("home")
    today = couple.today()
    earlier = selectors.own_checkin_this_week(partner, request.user, today)
    form = CheckInForm(request.POST or None, initial=earlier.answers if earlier else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.checkin_save(partner=partner, answers=form.answers(), today=today)
        except ValidationError as exc:  # e.g. the case was closed while the form was open
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Thank you for checking in. Your therapist will see your answers."))
            return redirect("home")
    context = {"form": form, "answered_on": earlier.answered_on if earlier else None, "source": csi4.SOURCE}
    return render(request, "intimacy/checkin.html", context)
