"""The access gate: one helper per object kind, used by every view that touches clinical data.

Each helper looks the object up only among those the user may see at all (`visible_to`), so an
outsider and a missing object get the same 404: nobody learns that someone else's couple, session
or reflection exists. Only once the object is known to be the user's business does a role check
answer 403, telling an insider that this action is not theirs to take.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.shortcuts import redirect

from accounts.models import Couple, Partner, User


def _require_role(user, role: str | None) -> None:
    if role is not None and user.role != role:
        raise PermissionDenied


def get_couple_for_user(user, pk: int, *, role: str | None = None) -> Couple:
    """The couple `pk` if `user` may see it (404 otherwise); 403 if `role` is given and isn't theirs."""
    couple = Couple.objects.visible_to(user).select_related("therapist").filter(pk=pk).first()
    if couple is None:
        raise Http404
    _require_role(user, role)
    return couple


def get_assignment_for_user(user, pk: int, *, role: str | None = None):
    """The assignment `pk` if it belongs to a couple `user` may see (404 otherwise); 403 on the wrong role."""
    from intimacy.models import Assignment

    assignment = (
        Assignment.objects.visible_to(user).select_related("couple", "exercise", "planned_giver").filter(pk=pk).first()
    )
    if assignment is None:
        raise Http404
    _require_role(user, role)
    return assignment


def get_session_for_user(user, pk: int, *, role: str | None = None):
    """The session `pk` if it belongs to a couple `user` may see (404 otherwise); 403 on the wrong role."""
    from intimacy.models import Session

    session = (
        Session.objects.visible_to(user)
        .select_related("assignment__couple", "assignment__exercise", "giver", "receiver", "logged_by")
        .filter(pk=pk)
        .first()
    )
    if session is None:
        raise Http404
    _require_role(user, role)
    return session


def get_reflection_for_user(user, pk: int, *, role: str | None = None):
    """The reflection `pk` if `user` may see it in any form (404 otherwise); 403 on the wrong role.

    A partner's reflection that was not shared with the other partner is a 404 for them, exactly
    like one that does not exist.
    """
    from intimacy.models import Reflection

    reflection = (
        Reflection.objects.visible_to(user)
        .select_related("session__assignment__couple", "partner")
        .filter(pk=pk)
        .first()
    )
    if reflection is None:
        raise Http404
    _require_role(user, role)
    return reflection


def get_note_for_user(user, pk: int):
    """The therapist's note `pk` on one of their couples; 404 for everyone else.

    Notes are the therapist's private record: to a partner, even of that couple, they do not exist.
    """
    from intimacy.models import CoupleNote

    note = CoupleNote.objects.visible_to(user).select_related("couple").filter(pk=pk).first()
    if note is None:
        raise Http404
    return note


def get_alert_for_user(user, pk: int):
    """The alert `pk` on one of the therapist's couples; 404 for everyone else, partners included."""
    from intimacy.models import Alert

    alert = Alert.objects.visible_to(user).select_related("couple", "partner").filter(pk=pk).first()
    if alert is None:
        raise Http404
    return alert


def partner_of(user) -> Partner:
    """The signed-in partner's own Partner row (with their couple)."""
    try:
        return Partner.objects.select_related("couple").get(user=user)
    except Partner.DoesNotExist as exc:  # a partner account whose couple was removed
        raise PermissionDenied from exc


def therapist_required(view: Callable) -> Callable:
    """For therapist views of no particular object: signed in (else to sign-in) and a therapist (else 403).

    Views of one couple use plain `login_required` and the helper's `role=`, so outsiders get 404.
    """

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        _require_role(request.user, User.Role.THERAPIST)
        return view(request, *args, **kwargs)

    return wrapper


def partner_context(view: Callable) -> Callable:
    """Signed in; a partner must also have accepted the current consent (else to the consent page).

    For views of one object: the role is checked by the access helper *after* the lookup, so an
    outsider gets 404 before anyone gets 403. A partner's own row is `request.partner` (None for others).
    """

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        request.partner = None
        if request.user.role == User.Role.PARTNER:
            request.partner = partner_of(request.user)
            if not request.partner.has_current_consent:
                return redirect("consent")
        return view(request, *args, **kwargs)

    return wrapper


def partner_required(view: Callable) -> Callable:
    """For partner views of no particular object: a partner (else 403) who has accepted the consent."""

    @partner_context
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        _require_role(request.user, User.Role.PARTNER)
        return view(request, *args, **kwargs)

    return wrapper
