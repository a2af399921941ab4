"""The weekly check-in (CSI-4): a partner's optional answers, for their therapist only.

Once answered, a partner's answers are not shown back to them (a phone may be shared): the form comes
up empty, and answering again in the same week replaces that week's answers.
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
    form = CheckInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.checkin_save(partner=partner, answers=form.answers(), today=today)
        except ValidationError as exc:  # e.g. the case was closed while the form was open
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Thank you for checking in. Your therapist will see your answers."))
            return redirect("home")
    context = {"form": form, "done": selectors.checkin_done(partner, request.user, today), "source": csi4.SOURCE}
    return render(request, "intimacy/checkin.html", context)
