"""Home: the therapist's caseload or the partner's page, by role."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from intimacy.views.partner import partner_home
from intimacy.views.therapist import therapist_home


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_therapist:
        return therapist_home(request)
    if request.user.is_partner:
        return partner_home(request)
    raise PermissionDenied
