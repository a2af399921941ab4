"""The hold on a couple's touch exercises: placed at once by a safety signal, lifted only by the therapist.

A hold is placed in the same transaction as the alert that carries the signal (`hold_place`, called by
the alert engine), so no touch session can be logged between the signal and the hold. While it is on,
nothing of a touch exercise can be logged or reflected on, no touch reminder goes out to either
partner, and both partners see only the neutral "Your therapist has paused this exercise": never why,
never who. Every exercise is a touch exercise in v1 (there is no talk or together shape yet).
"""

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy

from accounts.models import Couple
from intimacy.models import Alert, AlertKind, TouchHold

# All a partner is ever told, whatever the reason and whoever it came from: the words a paused
# exercise has always shown (templates/intimacy/partner_home.html says the same).
PAUSED_MESSAGE = gettext_lazy("Your therapist has paused this exercise for now.")

# The urgent alert kinds that put a couple's touch exercises on hold (a low "safe" rating is today's
# urgent LOW_COMFORT). One set, read by the alert engine and by nothing else.
HOLD_KINDS = frozenset({AlertKind.SAFETY, AlertKind.LOW_COMFORT})


def places_hold(kind: str, urgent: bool) -> bool:
    """Whether an alert of `kind` puts the couple's touch exercises on hold."""
    return urgent and kind in HOLD_KINDS


def hold_place(*, couple: Couple, reason: str, alert: Alert | None = None) -> TouchHold:
    """Put `couple`'s touch exercises on hold; with one already on, that one stays (its first reason).

    Called inside the transaction that raises the alert. Two signals at once still make one hold: the
    database allows one open hold per couple, and the loser of that race reads the winner's.
    """
    existing = TouchHold.objects.open().filter(couple=couple).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return TouchHold.objects.create(couple=couple, reason=reason, placed_by_alert=alert)
    except IntegrityError:
        return TouchHold.objects.open().get(couple=couple)


def open_hold(couple: Couple) -> TouchHold | None:
    """The couple's open hold, if any (for the therapist's page and the lift)."""
    return TouchHold.objects.open().filter(couple=couple).first()


def is_held(couple: Couple) -> bool:
    """Whether `couple`'s touch exercises are on hold."""
    return TouchHold.objects.open().filter(couple=couple).exists()


def held(couple_ref: str = "couple") -> Exists:
    """An `Exists` true for rows whose couple (the field `couple_ref`) has an open hold, for reminders."""
    return Exists(TouchHold.objects.open().filter(couple=OuterRef(couple_ref)))


def touch_paused(partner) -> bool:
    """Whether touch exercises are paused for `partner`'s couple, as both partners see it: the one
    neutral answer for every reason (a hold now; each reason added later joins it here)."""
    return is_held(partner.couple)
