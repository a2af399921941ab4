"""The hold on a couple's touch exercises: placed at once by a safety signal, lifted only by the therapist.

A hold is placed in the same transaction as the alert that carries the signal (`hold_place`, called by
the alert engine), so no touch session can be logged between the signal and the hold. While it is on,
nothing of a touch exercise can be logged or reflected on, no touch reminder goes out to either
partner, and both partners see only the neutral "Your therapist has paused this exercise": never why,
never who. Talk and together exercises are not held (issue 15): the callers ask about touch only
(services `_touch_paused`, the partner views, the reminders), so they can be logged under a hold and
without the private check. A low "safe" in any shape still raises its urgent alert and places the hold.
"""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy

from accounts.models import Couple, Partner
from intimacy.models import Alert, AlertKind, PersonalPause, SafetyCheck, ScreeningRecord, TouchHold
from intimacy.prepared import Prepared

# All a partner is ever told, whatever the reason and whoever it came from: the words a paused
# exercise has always shown (templates/intimacy/partner_home.html says the same).
PAUSED_MESSAGE = gettext_lazy("Your therapist has paused this exercise for now.")

# The urgent alert kinds that put a couple's touch exercises on hold: a safety message, a worrying
# private check, a low "safe" rating, "this didn't happen". Low comfort is an ordinary alert and holds
# nothing. One set, read by the alert engine and by nothing else.
HOLD_KINDS = frozenset({AlertKind.SAFETY, AlertKind.SAFETY_CHECK, AlertKind.LOW_SAFE, AlertKind.DISPUTED})


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


def active_pauses(now=None):
    """Partners' own pauses in force at `now` (not resumed; "not this week" not yet over)."""
    now = now or timezone.now()
    return PersonalPause.objects.filter(Q(until__isnull=True) | Q(until__gt=now), ended_at__isnull=True)


def held(couple_ref: str = "couple", now=None) -> Q:
    """True for rows whose couple (the field `couple_ref`) has no open touch work: an open hold, a
    partner's own pause in force, or a partner not yet cleared (`clearance`, in the database), for
    reminders: no touch reminder or nudge goes to either partner meanwhile."""
    return (
        Q(Exists(TouchHold.objects.open().filter(couple=OuterRef(couple_ref))))
        | Q(Exists(active_pauses(now).filter(couple=OuterRef(couple_ref))))
        | Q(Exists(_not_cleared().filter(couple=OuterRef(couple_ref))))
    )


def _clean_check() -> QuerySet:
    """The partner's (OuterRef "pk") clean private checks that no lifted hold came after: one rule for
    the partner pages (`clearance`) and the reminders (`held`)."""
    lifted_since = TouchHold.objects.filter(couple=OuterRef("couple"), lifted_at__gt=OuterRef("created_at"))
    return SafetyCheck.objects.filter(partner=OuterRef("pk"), flagged=False).exclude(Exists(lifted_since))


def _screened() -> QuerySet:
    """The separate conversations the therapist recorded with the partner (OuterRef "pk")."""
    return ScreeningRecord.objects.filter(partner=OuterRef("pk"))


def _not_cleared():
    """Partners without a separate conversation recorded, or without a clean private check since the
    couple's last lifted hold: `clearance` as one subquery."""
    return Partner.objects.exclude(Exists(_clean_check()) & Exists(_screened()))


@dataclass(frozen=True)
class Clearance:
    """Whether a couple's touch work is open, and if not, what is missing (for the therapist's eyes;
    partners are told only `check_due` for themselves, and otherwise see the neutral pause)."""

    held: bool
    # Partners who have not answered the private check without a flag since the last hold was lifted.
    to_answer: frozenset[int]
    # Partners the therapist has not recorded speaking with on their own.
    unscreened: frozenset[int]
    # Partners who said "not this week" or paused for themselves.
    paused_by: frozenset[int] = frozenset()

    @property
    def open(self) -> bool:
        return not self.held and not self.to_answer and not self.unscreened and not self.paused_by

    def check_due(self, partner) -> bool:
        """Whether to ask `partner` for the private check now (never while a hold is on)."""
        return not self.held and partner.pk in self.to_answer


CLEARANCE_COLUMNS = ("pk", "checked", "screened", "paused_for_now", "paused_until", "held")


def _clearance_partners(couple_id: int) -> QuerySet:
    """`clearance`'s query: the couple's partners, each with what they have done, and the couple's open
    hold. A prepared query (intimacy/prepared.py): compiled once per process, run with each couple's id;
    building and compiling its five subqueries on every page that asks was most of its cost (issue 16,
    "Fast"). It holds no time: a pause is in force when it has no end or its end is later than now,
    which `clearance` asks of the latest end read here."""
    not_ended = PersonalPause.objects.filter(partner=OuterRef("pk"), ended_at__isnull=True)
    return Partner.objects.filter(couple_id=couple_id).annotate(
        checked=Exists(_clean_check()),
        screened=Exists(_screened()),
        paused_for_now=Exists(not_ended.filter(until__isnull=True)),
        paused_until=Subquery(not_ended.filter(until__isnull=False).order_by("-until").values("until")[:1]),
        held=Exists(TouchHold.objects.open().filter(couple=OuterRef("couple"))),
    )


_CLEARANCE_PARTNERS = Prepared(_clearance_partners, couple_id=int)


def clearance(couple: Couple) -> Clearance:
    """Touch work opens only with no hold on, each partner's clean private check since the last hold
    was lifted (or ever, before the first), and a separate conversation recorded with each partner.
    One read: the couple's partners with what each has done, and whether the couple has an open hold
    (the same on both rows; issue 16, "Fast": it was a query of its own on every page that asks)."""
    return clearance_and_partners(couple)[0]


def clearance_and_partners(couple: Couple) -> tuple[Clearance, list[Partner]]:
    """`clearance`, and the couple's partners (as `couple.partners.all()`) from the same read: the
    therapist's overview needs both (issue 16, "Fast": one query fewer)."""
    partners = list(_CLEARANCE_PARTNERS(couple_id=couple.pk))
    rows = [tuple(getattr(p, column) for column in CLEARANCE_COLUMNS) for p in partners]
    return _clearance_of(couple, rows), partners


def _clearance_of(couple: Couple, rows: list[tuple]) -> Clearance:
    now = timezone.now()
    # A couple always has its two partners; without them, the hold is asked on its own.
    held = rows[0][5] if rows else TouchHold.objects.open().filter(couple=couple).exists()
    return Clearance(
        held=held,
        to_answer=frozenset(row[0] for row in rows if not row[1]),
        unscreened=frozenset(row[0] for row in rows if not row[2]),
        # `active_pauses` at `now`: one without an end, or one whose end is still to come.
        paused_by=frozenset(row[0] for row in rows if row[3] or (row[4] is not None and row[4] > now)),
    )


def touch_paused(partner) -> bool:
    """Whether touch exercises are paused for `partner`'s couple, as both partners see it: the one
    neutral answer for every reason (a hold, a check not yet answered, a screening not yet recorded)."""
    return not clearance(partner.couple).open
