"""The therapist's view of the audit trail: who viewed or changed one couple's records, when, from where."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.access import get_couple_for_user
from accounts.models import User
from intimacy.audit import audit_row, couple_trail

ENTRIES_PER_PAGE = 50


@login_required
@require_GET
def couple_audit(request: HttpRequest, pk: int) -> HttpResponse:
    """The couple's access history, newest first: one page of rows, read in the database.

    Rows carry no clinical content by construction (see intimacy/audit.py), so the therapist sees
    exactly what is stored: a person's sign-in, an action, an opaque record id, a time and an address.
    """
    couple = get_couple_for_user(request.user, pk, role=User.Role.THERAPIST)
    page = Paginator(couple_trail(couple.pk), ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = [audit_row(entry) for entry in page.object_list]
    return render(request, "intimacy/couple_audit.html", {"couple": couple, "page": page, "base_url": request.path})
