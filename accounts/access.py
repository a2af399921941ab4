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
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import redirect

from accounts.models import Couple, Partner, User


def require_role(user, role: str | None) -> None:
    """403 unless `user` has `role` (no role: anyone). Call it only once the object is known to be theirs."""
    if role is not None and user.role != role:
        raise PermissionDenied


def visible_or_404(visible: QuerySet, user, pk: int, *, role: str | None = None):
    """The one rule of every access helper: object `pk` among those `user` may see (`visible`), else
    404, whether it is missing or someone else's; only then 403 if `role` is given and isn't theirs."""
    found = visible.filter(pk=pk).first()
    if found is None:
        raise Http404
    require_role(user, role)
    return found


def get_couple_for_user(user, pk: int, *, role: str | None = None) -> Couple:
    """The couple `pk` if `user` may see it (404 otherwise); 403 if `role` is given and isn't theirs."""
    return visible_or_404(Couple.objects.visible_to(user).select_related("therapist"), user, pk, role=role)


def partner_of(user) -> Partner:
    """The signed-in partner's own Partner row (with their couple), the other partner read beside it.

    Both rows of the couple in one read: most partner pages name the other partner (`other_partner`),
    which then costs no query of its own (issue 16, "Fast")."""
    own_couple = Partner.objects.filter(user=user).values("couple_id")
    rows = list(Partner.objects.select_related("couple").filter(couple_id__in=own_couple))
    own = next((p for p in rows if p.user_id == user.pk), None)
    if own is None:  # a partner account whose couple was removed
        raise PermissionDenied
    own.remember_other_partner(next((p for p in rows if p is not own), None))
    return own


def therapist_required(view: Callable) -> Callable:
    """For therapist views of no particular object: signed in (else to sign-in) and a therapist (else 403).

    Views of one couple use plain `login_required` and the helper's `role=`, so outsiders get 404.
    """

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        require_role(request.user, User.Role.THERAPIST)
        return view(request, *args, **kwargs)

    return wrapper


def _partner_gate(view: Callable, *, exit_after_withdrawal: bool) -> Callable:
    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        request.partner = None
        if request.user.role == User.Role.PARTNER:
            request.partner = partner_of(request.user)
            consented = request.partner.has_current_consent
            if not consented and not (exit_after_withdrawal and request.partner.withdrew_consent):
                return redirect("consent")
        return view(request, *args, **kwargs)

    return wrapper


def partner_context(view: Callable) -> Callable:
    """Signed in; a partner must also have accepted the current consent (else to the consent page).

    For views of one object: the role is checked by the access helper *after* the lookup, so an
    outsider gets 404 before anyone gets 403. A partner's own row is `request.partner` (None for others).
    """
    return _partner_gate(view, exit_after_withdrawal=False)


def partner_exit_context(view: Callable) -> Callable:
    """`partner_context` that also lets in a partner who withdrew consent: for the few ways out that
    must stay open to them (the private line to the therapist, their own data, making their words more
    private). Withdrawing consent must never cut someone off from the therapist or from their words."""
    return _partner_gate(view, exit_after_withdrawal=True)


def _partner_role(gate: Callable, view: Callable) -> Callable:
    @gate
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        require_role(request.user, User.Role.PARTNER)
        return view(request, *args, **kwargs)

    return wrapper


def partner_required(view: Callable) -> Callable:
    """For partner views of no particular object: a partner (else 403) who has accepted the consent."""
    return _partner_role(partner_context, view)


def partner_exit_required(view: Callable) -> Callable:
    """`partner_required` that also lets in a partner who withdrew consent (see `partner_exit_context`)."""
    return _partner_role(partner_exit_context, view)
