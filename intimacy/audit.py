"""The audit trail: who created, changed, deleted or viewed which clinical record, when and from where.

Built on django-auditlog. Its rows hold no clinical content:
- every free-text field of a clinical model is excluded from the recorded changes (`FREE_TEXT`);
- the object's description (`object_repr`) is an opaque "<model> <id>", whatever the model's
  `__str__` says (a couple's label, a partner's name, an exercise title never enter the trail);
- foreign keys are recorded as ids (AUDITLOG_USE_FK_STRING_REPRESENTATION is off).

Each row is keyed by its couple: the models' `get_additional_data()` name the couple, and
`_key_by_couple` copies that into auditlog's indexed `cid` column as "couple-<id>", so a couple's
history is one index lookup (`couple_trail`), deleted sessions and reflections included.
"""

import ipaddress
from dataclasses import dataclass
from datetime import datetime

from auditlog.middleware import AuditlogMiddleware
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.conf import settings
from django.db.models import QuerySet
from django.db.models.signals import pre_save
from django.utils.translation import gettext, gettext_lazy

# Per clinical model ("app_label.Model"), the fields people type into (or that identify someone):
# never recorded. Ratings, choices, dates, statuses and ids are kept, so changes stay traceable.
FREE_TEXT: dict[str, list[str]] = {
    "accounts.Couple": ["label"],
    "accounts.Partner": ["name", "email", "invite_nonce"],
    "intimacy.Assignment": ["note"],
    # Not free text, but a replay key: nothing to trace, so it stays out too.
    "intimacy.Session": ["idempotency_key"],
    # The replay key of a reflection that joined the other partner's session: nothing to trace either.
    "intimacy.Reflection": ["pause_reason", "next_time", "notes", "idempotency_key"],
    "intimacy.CoupleNote": ["text"],
    "intimacy.Alert": ["acknowledgement"],
    "intimacy.SafetyMessage": ["message"],
    # Answers chosen from the published CSI-4 scale and their total: no free text to leave out.
    "intimacy.CheckIn": [],
    # Ids and a day only: what the therapist left out of an appointment view, and when.
    "intimacy.AppointmentExclusion": [],
    # Safety: the hold's reason is a kind, its note the therapist's words; the screening's note too.
    "intimacy.TouchHold": ["lift_note"],
    "intimacy.ScreeningRecord": ["note"],
    # Answers chosen from yes / no / not sure: no free text.
    "intimacy.SafetyCheck": [],
    # A kind and dates; ids only.
    "intimacy.PersonalPause": [],
    "intimacy.SessionDispute": [],
    # Two session ids that a partner said were two different back rubs.
    "intimacy.SessionPairDismissal": [],
    # "I won't reflect on this one": ids and a time.
    "intimacy.ReflectionDecline": [],
    # Staged programs (issue 15): ids, dates, a status and chosen answers; no free text.
    "intimacy.ProgramRun": [],
    "intimacy.ProgramStep": [],
    "intimacy.ReadinessAnswer": [],
}

ACTION_WORDS = {
    LogEntry.Action.CREATE: gettext_lazy("created"),
    LogEntry.Action.UPDATE: gettext_lazy("changed"),
    LogEntry.Action.DELETE: gettext_lazy("deleted"),
    LogEntry.Action.ACCESS: gettext_lazy("viewed"),
}
# What the access history calls each kind of record. The models keep Django's default verbose names
# (so no migration follows a wording change); these are the translatable ones people read.
RECORD_WORDS = {
    "accounts.couple": gettext_lazy("couple"),
    "accounts.partner": gettext_lazy("partner"),
    "intimacy.assignment": gettext_lazy("assignment"),
    "intimacy.session": gettext_lazy("session"),
    "intimacy.reflection": gettext_lazy("reflection"),
    "intimacy.couplenote": gettext_lazy("couple note"),
    "intimacy.alert": gettext_lazy("alert"),
    "intimacy.safetymessage": gettext_lazy("safety message"),
    "intimacy.checkin": gettext_lazy("check-in"),
    "intimacy.appointmentexclusion": gettext_lazy("left out of an appointment view"),
    "intimacy.touchhold": gettext_lazy("hold on touch exercises"),
    "intimacy.screeningrecord": gettext_lazy("separate screening"),
    "intimacy.safetycheck": gettext_lazy("private check before touch work"),
    "intimacy.personalpause": gettext_lazy("a partner's own pause"),
    "intimacy.sessiondispute": gettext_lazy("session a partner says did not happen"),
    "intimacy.sessionpairdismissal": gettext_lazy("two sessions said to be different back rubs"),
    "intimacy.reflectiondecline": gettext_lazy("a partner's choice not to reflect on a session"),
}


def couple_key(couple_pk: int) -> str:
    return f"couple-{couple_pk}"


def register_clinical_models() -> None:
    """Register the clinical models with auditlog (from `IntimacyConfig.ready`)."""
    from django.apps import apps

    for label, free_text in FREE_TEXT.items():
        model = apps.get_model(label)
        if not auditlog.contains(model):
            auditlog.register(model, exclude_fields=list(free_text))
    pre_save.connect(_key_by_couple, sender=LogEntry, dispatch_uid="tend-audit-key-by-couple")


def _key_by_couple(sender, instance: LogEntry, **kwargs) -> None:
    """Before an audit row is first written: an opaque description, and the couple key."""
    if not instance._state.adding:
        return
    model = instance.content_type.model_class()
    if model is None or not auditlog.contains(model):
        return
    instance.object_repr = f"{model._meta.model_name} {instance.object_pk}"
    couple = (instance.additional_data or {}).get("couple")
    instance.cid = couple_key(couple) if couple else None


def couple_trail(couple_pk: int) -> QuerySet:
    """Every audit row of one couple and its records, newest first: one lookup in the `cid` index,
    rows of since-deleted sessions and reflections included."""
    return (
        LogEntry.objects.filter(cid=couple_key(couple_pk)).select_related("content_type").order_by("-timestamp", "-pk")
    )


@dataclass(frozen=True)
class AuditRow:
    when: datetime
    who: str
    record: str
    action: str
    record_id: str
    where: str


def audit_row(entry: LogEntry) -> AuditRow:
    """One audit row as people read it: "therapist@… viewed couple 12 at … from 203.0.113.9"."""
    model = entry.content_type.model_class()
    return AuditRow(
        when=entry.timestamp,
        # The address stored at the time: it stays right if the account is later renamed or removed.
        who=entry.actor_email or gettext("Tend (automatic)"),
        record=str(RECORD_WORDS.get(model._meta.label_lower, model._meta.verbose_name))
        if model
        else entry.content_type.model,
        action=str(ACTION_WORDS.get(entry.action, gettext("recorded"))),
        record_id=entry.object_pk,
        where=entry.remote_addr or "",
    )


class AuditMiddleware(AuditlogMiddleware):
    """auditlog's middleware (actor and address on every row), reading the client address safely.

    auditlog believes the first X-Forwarded-For entry whenever the header is there, and any client
    can send it. Here, without a proxy (DJANGO_BEHIND_PROXY off) the address is REMOTE_ADDR; behind
    one, the last entry, which is the one the proxy itself appended.
    """

    @staticmethod
    def _get_remote_addr(request):
        if settings.AUDITLOG_DISABLE_REMOTE_ADDR:
            return None
        forwarded = request.headers.get("X-Forwarded-For", "")
        if settings.TEND_BEHIND_PROXY and forwarded.strip():
            address = forwarded.split(",")[-1].strip()
        else:
            address = request.META.get("REMOTE_ADDR", "")
        try:
            return str(ipaddress.ip_address(address))
        except ValueError:  # a Unix socket, or a proxy sending something odd: no address beats a wrong one
            return None

    @staticmethod
    def _get_remote_port(request):
        return AuditlogMiddleware._get_remote_port(request) if settings.TEND_BEHIND_PROXY else None
