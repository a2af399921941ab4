"""Keeping models.TrendPart exact: each couple's homework grouped by part of the calendar (issue 16).

The therapist's trends over a long period add up these parts instead of grouping two years of sessions
and reflections on every view (aggregation._groups_from_parts). A part is derived data, so it must never
disagree with what it sums:

- every save and delete of a session, a reflection or a dispute refreshes the part of its day, in the
  same transaction (the signal receivers below; a session moved to another day refreshes both days);
- the refresh reads the part's groups with the very queries the trends use for a month
  (aggregation.SESSION_GROUPS and REFLECTION_GROUPS, therapist scope), so there is one statement of what
  counts, and it holds a lock per couple (`_lock`) to the end of the transaction, so two partners saving
  at once cannot each write a part that misses the other's save; a save of fields the parts don't count
  (a reflection's visibility or words) refreshes nothing;
- writes that send no signals (`bulk_create` in the demo and scale seeding, a queryset's `update`) are
  followed by `rebuild`; `manage.py rebuild_trend_parts --check` compares every part with the sessions;
- the suite checks after every test that touches the database that every part equals its rebuild
  (tests/conftest.py), so a write path that forgets its part fails its own tests.

Parts hold counts and sums of ratings only, as the therapist sees them; a couple's parts are deleted
with the couple.
"""

from collections import defaultdict
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date

from django.db import connections, transaction
from django.db.models.signals import post_delete, post_save, pre_save

from accounts.models import Couple, Partner
from intimacy.models import (
    Assignment,
    Reflection,
    Session,
    SessionDispute,
    TrendPartReflections,
    TrendPartSessions,
)
from intimacy.trends.aggregation import (
    NOTHING_LEFT_OUT,
    REFLECTION_GROUPS,
    SESSION_GROUPS,
    Scope,
    _as_date,
    _grouped_reflections,
    _grouped_sessions,
    part_of,
)

MONTHLY = True  # the groups' bucket: a part is a month, so its groups are that month's


# Couples whose parts are rebuilt once at the end of a `batch` instead of a part at every write.
_BATCHED: ContextVar[frozenset] = ContextVar("trend_parts_batched", default=frozenset())


@contextmanager
def batch(couple_id: int):
    """Many writes to one couple (deleting its whole record): one rebuild of its parts at the end, in the
    caller's transaction, instead of a refresh at every write."""
    token = _BATCHED.set(_BATCHED.get() | {couple_id})
    try:
        yield
    finally:
        _BATCHED.reset(token)
    rebuild([couple_id])


def refresh(couple_id: int, day: date) -> None:
    """Make the couple's part holding `day` equal its sessions, reflections and disputes again."""
    if couple_id in _BATCHED.get():
        return
    first, last = part_of(day)
    with transaction.atomic():
        _lock([couple_id])
        if not Couple.objects.filter(pk=couple_id).exists():
            return  # the couple is being deleted; `forget_couple` removes its parts
        slots = {"couple_id": couple_id, "start": first, "end": last}
        sessions = SESSION_GROUPS[Scope.THERAPIST][MONTHLY].dicts(**slots)
        reflections = REFLECTION_GROUPS[Scope.THERAPIST][MONTHLY].dicts(**slots)
        for model in PART_MODELS:
            # Every row inside the month, not only its own: one a worker of the week-parts code wrote
            # (during a rolling upgrade past migration 0024) goes with the next write of its month.
            model.objects.filter(couple_id=couple_id, first_day__gte=first, first_day__lte=last).delete()
        _write({(couple_id, first): (sessions, reflections)})


def computed(couple_ids: list[int] | None = None) -> dict[tuple[int, date], tuple[list, list]]:
    """Every part (of the given couples, or of all), as the sessions say it should be: by couple and
    first day, its session and reflection groups. Two grouped queries however many couples."""
    sessions = _grouped_sessions(Scope.THERAPIST, None, NOTHING_LEFT_OUT, MONTHLY).filter(withdrawn_at__isnull=True)
    reflections = _grouped_reflections(Scope.THERAPIST, None, NOTHING_LEFT_OUT, MONTHLY).filter(
        session__withdrawn_at__isnull=True
    )
    assignments, partners = Assignment.objects.all(), Partner.objects.all()
    if couple_ids is not None:
        sessions = sessions.filter(assignment__couple_id__in=couple_ids)
        reflections = reflections.filter(session__assignment__couple_id__in=couple_ids)
        assignments, partners = assignments.filter(couple_id__in=couple_ids), partners.filter(couple_id__in=couple_ids)
    couple_of_assignment = dict(assignments.values_list("pk", "couple_id"))
    couple_of_partner = dict(partners.values_list("pk", "couple_id"))
    parts = defaultdict(lambda: ([], []))
    for group in sessions:
        parts[(couple_of_assignment[group["assignment_id"]], _as_date(group["bucket"]))][0].append(group)
    for group in reflections:
        parts[(couple_of_partner[group["partner_id"]], _as_date(group["bucket"]))][1].append(group)
    return dict(parts)


def _lock(couple_ids) -> None:
    """Hold the couples' trend-parts locks until the transaction ends: a second refresh or rebuild of their
    parts waits for this one's transaction, then reads what it wrote (two partners saving at once can't
    each write a part missing the other's save). PostgreSQL's advisory locks, which only this module
    takes, so no other lock can wait in a cycle with them (locking the couple's row did: a program's step
    change holds that row and then the assignment a partner logging holds). SQLite runs one writer at a
    time anyway."""
    connection = connections[TrendPartSessions.objects.db]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for couple_id in sorted(couple_ids):  # in one order, so two rebuilds can't wait on each other
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_SPACE, couple_id])


# The first key of the advisory locks: the trend parts' own (any other user of advisory locks picks another).
_LOCK_SPACE = 1_687_200


def rebuild(couple_ids: list[int] | None = None, *, lock: bool = True) -> int:
    """Rewrite the parts of the given couples (or of all) from their sessions; the number of rows written.

    A few hundred couples a transaction, each holding its couples' locks (`lock=False` for the migration,
    which runs before the new code serves anyone and whose one transaction would hold them all at once)."""
    ids = sorted(Couple.objects.values_list("pk", flat=True) if couple_ids is None else couple_ids)
    written = 0
    for start in range(0, len(ids), REBUILD_CHUNK):
        chunk = ids[start : start + REBUILD_CHUNK]
        with transaction.atomic():
            if lock:
                _lock(chunk)
            expected = computed(chunk)
            for model in PART_MODELS:
                model.objects.filter(couple_id__in=chunk).delete()
            written += _write(expected)
    if couple_ids is None:  # rows of couples gone without their receiver (a raw delete): gone too
        for model in PART_MODELS:
            model.objects.exclude(couple_id__in=Couple.objects.values("pk")).delete()
    return written


REBUILD_CHUNK = 200


def differences(couple_ids: list[int] | None = None) -> list[int]:
    """The couples (ids) with a part's group missing, left over or not equal to its rebuild."""
    expected = set()
    for (couple_id, first), (sessions, reflections) in computed(couple_ids).items():
        expected |= {_as_row(row) for row in _rows(couple_id, first, sessions, reflections)}
    stored = set()
    for model in PART_MODELS:
        rows = model.objects.all() if couple_ids is None else model.objects.filter(couple_id__in=couple_ids)
        stored |= {_as_row(row) for row in rows}
    return sorted({row[1] for row in expected ^ stored})


def forget_couple(couple_id: int) -> None:
    for model in PART_MODELS:
        model.objects.filter(couple_id=couple_id).delete()


PART_MODELS = (TrendPartSessions, TrendPartReflections)
_SESSION_FIELDS = ("assignment_id", "giver_id", "shape", "n", "both", "giver_sum", "receiver_sum", "paused")
_REFLECTION_FIELDS = ("partner_id", "role", "n", "connection_sum", "comfort_sum", "safe_sum", "relief_sum", "relief_n")


def _rows(couple_id: int, first: date, sessions: list[dict], reflections: list[dict]) -> list:
    """A part's groups as unsaved rows of `PART_MODELS`."""
    place = {"couple_id": couple_id, "first_day": first, "last_day": part_of(first)[1]}
    sessions = [TrendPartSessions(**place, **{f: g[f] for f in _SESSION_FIELDS}) for g in sessions]
    return sessions + [TrendPartReflections(**place, **{f: g[f] for f in _REFLECTION_FIELDS}) for g in reflections]


def _write(parts: dict) -> int:
    rows = [row for (couple_id, first), (s, r) in parts.items() for row in _rows(couple_id, first, s, r)]
    for model in PART_MODELS:
        model.objects.bulk_create([row for row in rows if type(row) is model], batch_size=1000)
    return len(rows)


def _as_row(row) -> tuple:
    """A row's content, to compare a stored row with a computed one."""
    fields = _SESSION_FIELDS if type(row) is TrendPartSessions else _REFLECTION_FIELDS
    return (type(row).__name__, row.couple_id, row.first_day, row.last_day, *(getattr(row, f) for f in fields))


# The receivers: every write to what a part sums refreshes the part of its day.


def _session_place(session_id: int) -> tuple[int, date] | None:
    """The couple and day of a session, or None once it is gone (a cascade deletes it)."""
    return Session.objects.filter(pk=session_id).values_list("assignment__couple_id", "date").first()


# What a session's and a reflection's parts count: a save of other fields only (a reflection's visibility,
# its words, a session's minutes) leaves them as they are.
SESSION_COUNTED = {"assignment", "date", "giver", "receiver", "withdrawn_at"}
REFLECTION_COUNTED = {"session", "partner", "role", "connection", "comfort", "safe", "paused"}
REFLECTION_COUNTED |= {"tension_before", "tension_after"}


def _counts(update_fields, counted: set) -> bool:
    return update_fields is None or bool({name.removesuffix("_id") for name in update_fields} & counted)


def _session_saving(sender, instance: Session, update_fields=None, raw=False, **kwargs) -> None:
    # A session moved to another day leaves its old part too: remember that day before the save.
    instance._trend_old_day = None
    if raw:
        return
    if not instance._state.adding and (update_fields is None or "date" in update_fields):
        instance._trend_old_day = Session.objects.filter(pk=instance.pk).values_list("date", flat=True).first()


def _session_saved(sender, instance: Session, update_fields=None, raw=False, **kwargs) -> None:
    # A fixture loaded raw (`loaddata`) is followed by `rebuild_trend_parts`, as any write without signals.
    if raw or not _counts(update_fields, SESSION_COUNTED):
        return
    # As stored: the instance may hold the date as the string it was given.
    couple_id, day = _session_place(instance.pk)
    refresh(couple_id, day)
    old_day = getattr(instance, "_trend_old_day", None)
    if old_day and part_of(old_day) != part_of(day):
        refresh(couple_id, old_day)


def _session_deleted(sender, instance: Session, **kwargs) -> None:
    couple_id = _couple_of_assignment(instance)
    if couple_id is not None:
        day = instance.date
        refresh(couple_id, date.fromisoformat(day) if isinstance(day, str) else day)


def _couple_of_assignment(session: Session) -> int | None:
    if Session.assignment.is_cached(session):
        return session.assignment.couple_id
    return Assignment.objects.filter(pk=session.assignment_id).values_list("couple_id", flat=True).first()


def _on_a_session(sender, instance, update_fields=None, raw=False, **kwargs) -> None:
    """A reflection or a dispute, saved or deleted: the part of its session's day. (One moved to another
    session, when two are merged, leaves a session that is then deleted, which refreshes its own part.)"""
    if raw or (sender is Reflection and not _counts(update_fields, REFLECTION_COUNTED)):
        return
    place = _session_place(instance.session_id)
    if place is not None:
        refresh(*place)


def _couple_deleted(sender, instance: Couple, **kwargs) -> None:
    forget_couple(instance.pk)


def connect() -> None:
    """Called once, from IntimacyConfig.ready."""
    uid = "tend-trend-parts"
    pre_save.connect(_session_saving, sender=Session, dispatch_uid=f"{uid}-session-pre")
    post_save.connect(_session_saved, sender=Session, dispatch_uid=f"{uid}-session")
    post_delete.connect(_session_deleted, sender=Session, dispatch_uid=f"{uid}-session-deleted")
    for model in (Reflection, SessionDispute):
        post_save.connect(_on_a_session, sender=model, dispatch_uid=f"{uid}-{model.__name__}")
        post_delete.connect(_on_a_session, sender=model, dispatch_uid=f"{uid}-{model.__name__}-deleted")
    post_delete.connect(_couple_deleted, sender=Couple, dispatch_uid=f"{uid}-couple")
