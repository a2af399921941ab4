"""Writes about the homework. Each service validates, then changes rows in one transaction."""

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import Couple, Partner, User
from intimacy import csi4, holds, trend_parts
from intimacy.alerts import alert_raise_now, alerts_raise
from intimacy.models import (
    EDIT_WINDOW_DAYS,
    SHAPE_ROLES,
    Alert,
    AppointmentExclusion,
    Assignment,
    CheckIn,
    CoupleNote,
    Exercise,
    ExerciseShape,
    PersonalPause,
    Program,
    ProgramRun,
    ProgramStage,
    ProgramStep,
    ReadinessAnswer,
    Reflection,
    ReflectionDecline,
    SafetyCheck,
    SafetyMessage,
    ScreeningRecord,
    Session,
    SessionDispute,
    SessionPairDismissal,
    TouchHold,
)
from intimacy.selectors import PAIR_SAME_BACK_RUB, PAIR_SAME_ROLE, session_pair_of
from intimacy.weeks import week_start

EXERCISE_FIELDS = ("title", "summary", "guidance", "suggested_minutes", "shape")
SHAPE_LOCKED = gettext_lazy(
    "A couple has been given this exercise, so its shape stays as it is. For a different shape, write a new exercise."
)


def require_open(couple: Couple) -> None:
    """A closed case is read-only: its records are kept and nothing new is written to them.

    (Making one's own reflection more private stays possible: privacy is never closed.)
    """
    if couple.is_closed:
        raise ValidationError(_("This case is closed: its records are kept, read-only."))


# Exercises -------------------------------------------------------------------------------------


def exercise_create(
    *,
    owner: User,
    title: str,
    summary: str,
    guidance: str,
    suggested_minutes: int,
    shape: str = Exercise.Shape.TOUCH,
) -> Exercise:
    """A therapist's own exercise, in the shape they choose (touch, talk or together)."""
    exercise = Exercise(
        owner=owner,
        title=title,
        summary=summary,
        guidance=guidance,
        suggested_minutes=suggested_minutes,
        shape=shape,
    )
    exercise.full_clean()
    exercise.save()
    return exercise


def exercise_update(*, exercise: Exercise, **fields) -> Exercise:
    """Change the wording (or, until it is first assigned, the shape) of a therapist's own exercise;
    built-in ones are customised by copying. A shape decides the roles and questions of every session
    logged under it, so an exercise a couple was given keeps its shape: a different shape is a new
    exercise."""
    if exercise.is_builtin:
        raise PermissionDenied("Built-in exercises are copied with Customize, not edited.")
    # Compared with the saved row, not `exercise`: a bound ModelForm has already written its values onto it.
    saved_in_use = Exercise.objects.filter(pk=exercise.pk, assignments__isnull=False)
    if "shape" in fields and saved_in_use.exclude(shape=fields["shape"]).exists():
        raise ValidationError({"shape": SHAPE_LOCKED})
    for name in EXERCISE_FIELDS:
        if name in fields:
            setattr(exercise, name, fields[name])
    exercise.full_clean()
    exercise.save()
    return exercise


def exercise_customize(
    *, exercise: Exercise, owner: User, title: str, summary: str, guidance: str, suggested_minutes: int
) -> Exercise:
    """`owner`'s own copy of `exercise` in their wording, created when they save it. It keeps the
    original's shape (its guidance is written for those roles) and remembers where it came from."""
    # Only a built-in or `owner`'s own exercise is theirs to copy (the pages' access helper says 404 first).
    if not (exercise.is_builtin or exercise.owner_id == owner.pk):
        raise PermissionDenied
    copy = Exercise(
        owner=owner,
        title=title,
        summary=summary,
        guidance=guidance,
        suggested_minutes=suggested_minutes,
        shape=exercise.shape,
        copied_from=exercise,
    )
    copy.full_clean()
    copy.save()
    return copy


def exercise_set_archived(*, exercise: Exercise, archived: bool) -> Exercise:
    """Archive (hide from "Assign") or restore a therapist's own exercise; assignments keep it."""
    if exercise.is_builtin:
        raise PermissionDenied("Built-in exercises cannot be archived.")
    exercise.archived_at = timezone.now() if archived else None
    exercise.save(update_fields=["archived_at"])
    return exercise


# Assignments -----------------------------------------------------------------------------------


def assignment_create(
    *,
    couple: Couple,
    exercise: Exercise,
    target_per_week: int,
    suggested_minutes: int,
    starts_on: date,
    ends_on: date | None = None,
    giver_plan: str = Assignment.GiverPlan.TAKE_TURNS,
    planned_giver: Partner | None = None,
    note: str = "",
    keep_archived: bool = False,
) -> Assignment:
    """Assign an exercise to a couple.

    Assigning a touch exercise does not open it: touch work opens once the therapist has recorded a
    separate conversation with each partner and each has answered the private check (intimacy/holds.py
    `clearance`); until then both partners see the neutral pause. A talk or together exercise opens at once.

    `giver_plan` is the plan for the shape's first role (who gives, who speaks first). A together exercise
    has no first role: it is stored with "either partner" and no named partner, whatever was asked.
    """
    require_open(couple)
    if exercise.shape == Exercise.Shape.TOGETHER:
        giver_plan, planned_giver = Assignment.GiverPlan.EITHER, None
    # `keep_archived`: a program's step, whose program chose the exercise before it was archived (archiving
    # hides it from "Assign"; what already uses it keeps it, as assignments do).
    if exercise.archived_at is not None and not keep_archived:
        raise ValidationError({"exercise": _("This exercise is archived.")})
    if planned_giver is not None and planned_giver.couple_id != couple.pk:
        raise ValidationError({"planned_giver": _("Choose one of this couple's partners.")})
    with transaction.atomic():
        assignment = Assignment(
            couple=couple,
            exercise=exercise,
            target_per_week=target_per_week,
            suggested_minutes=suggested_minutes,
            starts_on=starts_on,
            ends_on=ends_on,
            giver_plan=giver_plan,
            planned_giver=planned_giver if giver_plan == Assignment.GiverPlan.ONE else None,
            note=note,
        )
        assignment.full_clean()
        assignment.save()
    return assignment


ALLOWED_STATUS_CHANGES = {
    Assignment.Status.PAUSED: {Assignment.Status.ACTIVE},
    Assignment.Status.ACTIVE: {Assignment.Status.PAUSED},
    Assignment.Status.ENDED: {Assignment.Status.ACTIVE, Assignment.Status.PAUSED},
}


def assignment_set_status(*, assignment: Assignment, status: str) -> Assignment:
    """Pause, resume or end an assignment. Ending is final and dates it; its sessions stay in the history."""
    require_open(assignment.couple)
    if assignment.status not in ALLOWED_STATUS_CHANGES[status]:
        raise ValidationError(
            _("An assignment that is %(current)s cannot become %(new)s.")
            % {
                "current": assignment.get_status_display().lower(),
                "new": str(Assignment.Status(status).label).lower(),
            }
        )
    assignment.status = status
    fields = ["status"]
    if status == Assignment.Status.ENDED:
        # Record when it ended, so targets in the trends stop there rather than running on.
        today = assignment.couple.today()
        if assignment.ends_on is None or assignment.ends_on > today:
            assignment.ends_on = max(today, assignment.starts_on)
            fields.append("ends_on")
    assignment.save(update_fields=fields)
    return assignment


# Sessions and reflections ------------------------------------------------------------------------


def _check_session_date(assignment: Assignment, day: date) -> None:
    today = assignment.couple.today()
    if day > today:
        raise ValidationError({"date": _("That date is in the future.")})
    if day < assignment.starts_on:
        started = date_format(assignment.starts_on, "j F Y")
        raise ValidationError({"date": _("This exercise started on %(date)s.") % {"date": started}})


def within_edit_window(created_at) -> bool:
    """Whether something written at `created_at` may still be corrected (EDIT_WINDOW_DAYS)."""
    return timezone.now() - created_at <= timedelta(days=EDIT_WINDOW_DAYS)


def session_edit_window_closed() -> str:
    """What a partner reads when a session they logged is past the edit window (the view says it too)."""
    return ngettext(
        "Sessions can be changed for %(days)d day after they were logged.",
        "Sessions can be changed for %(days)d days after they were logged.",
        EDIT_WINDOW_DAYS,
    ) % {"days": EDIT_WINDOW_DAYS}


def _own_role_answers(role: str, answers: dict) -> dict:
    """The answers that belong to a reflection in `role`; every other role's questions are dropped."""
    own = Reflection.ROLE_QUESTIONS[role]
    return {name: value for name, value in answers.items() if name not in Reflection.ROLE_ANSWERS or name in own}


def _own_side(role: str, partner: Partner) -> dict:
    """The filter on sessions naming `partner` in `role`: the session's first column holds a giver or a
    speaker, the second a receiver or a listener; a together session names both partners, either way."""
    if role == Reflection.Role.TOGETHER:
        return {}
    if role in (Reflection.Role.GIVER, Reflection.Role.SPEAKER):
        return {"giver": partner}
    return {"receiver": partner}


def _check_role(assignment: Assignment, role: str) -> None:
    """The role must be one of the exercise's shape (a talk exercise has no giver)."""
    if role not in SHAPE_ROLES[assignment.exercise.shape]:
        raise ValidationError({"role": _("Please choose your part in this exercise.")})


def _touch_paused(assignment: Assignment, partner: Partner) -> bool:
    """Holds, personal pauses and the private check stop touch exercises only (DESIGN.md, issue 15): a
    talk or together exercise goes on under a hold and needs no safety check."""
    return assignment.exercise.is_touch and holds.touch_paused(partner)


def _fill_reflection(reflection: Reflection, answers: dict) -> None:
    """Copy the answers that belong to the reflection's role; the other role's questions stay empty."""
    for name, value in _own_role_answers(reflection.role, answers).items():
        setattr(reflection, name, value)


def reflection_answers_differ(*, reflection: Reflection, answers: dict) -> bool:
    """Whether saving `answers` would change `reflection` (a form sent again after the first one was
    saved: the same answers need nothing; new ones are the person's to confirm)."""
    return any(
        getattr(reflection, name) != value for name, value in _own_role_answers(reflection.role, answers).items()
    )


# A partner who saves the same exercise, day and role again this soon after is sending the same
# session twice (Back, then Save, brings a fresh form and key); two real ones are further apart.
REPEAT_WINDOW = timedelta(minutes=10)


def _repeat_of(*, assignment: Assignment, partner: Partner, day: date, role: str, answers: dict) -> Session | None:
    """The session `partner` already saved their account of that this one repeats: the same assignment,
    day and role, their reflection on it written within REPEAT_WINDOW, or in the same words (at least
    one of them written). Their own log, or the other partner's that their reflection joined. A
    withdrawn session never matches: the logger deleted it, and must not learn it lives on."""
    own_side = _own_side(role, partner)
    same = Q(reflections__created_at__gte=timezone.now() - REPEAT_WINDOW)
    words = {name: (answers.get(name) or "") for name in Reflection.TEXT_FIELDS}
    if any(words.values()):
        same |= Q(**{f"reflections__{name}": value for name, value in words.items()})
    # One filter() call: the partner and the sameness are of the same reflection.
    candidates = Session.objects.filter(
        Q(reflections__partner=partner) & same, assignment=assignment, date=day, withdrawn_at__isnull=True, **own_side
    )
    return candidates.order_by("-created_at").first()


def _logged_already(*, idempotency_key: uuid.UUID, partner: Partner, **repeat) -> Session | None:
    existing = Session.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.logged_by_id != partner.pk:
            raise PermissionDenied
        return existing
    joined = Reflection.objects.filter(idempotency_key=idempotency_key).select_related("session").first()
    if joined is not None:
        if joined.partner_id != partner.pk:
            raise PermissionDenied
        return joined.session
    return _repeat_of(partner=partner, **repeat)


def _joinable(*, assignment: Assignment, partner: Partner, day: date, role: str) -> Session | None:
    """The session the other partner logged that `partner`'s log of (`day`, `role`) is the other side of:
    the same assignment and day, `partner` named in the role they now claim, not withdrawn, not disputed
    by `partner`, and still lacking their reflection. The earliest such, if several. For a together
    exercise any such session of that day is theirs too: there are no roles to conflict."""
    own_side = _own_side(role, partner)
    return (
        Session.objects.filter(assignment=assignment, date=day, withdrawn_at__isnull=True, **own_side)
        .exclude(logged_by=partner)
        .exclude(reflections__partner=partner)
        .exclude(disputes__partner=partner)
        .select_related("logged_by")
        .order_by("created_at", "pk")
        .first()
    )


@dataclass(frozen=True)
class SessionLogged:
    """What `session_log` did. Unpacks as `(session, created)`, as callers always have.

    `created`: something new was stored (a session, or a reflection joining one); False when the same
    log came again and the first one's session comes back unchanged. `joined`: the reflection joined
    the session the other partner logged (`session.logged_by` names them) instead of making a second.
    """

    session: Session
    created: bool
    joined: bool = False

    def _pair(self) -> tuple[Session, bool]:
        return (self.session, self.created)

    def __iter__(self):
        return iter(self._pair())

    def __getitem__(self, index):
        return self._pair()[index]

    def __len__(self) -> int:
        return 2


def session_log(
    *,
    assignment: Assignment,
    partner: Partner,
    day: date,
    minutes: int,
    role: str,
    answers: dict,
    idempotency_key: uuid.UUID,
) -> SessionLogged:
    """Record one session and the logging partner's reflection in their role, in one transaction.

    One back rub is one session: when the other partner already logged this assignment and day with
    this partner in the role they now claim, and it still lacks this partner's reflection (`_joinable`),
    the reflection joins that session (`joined`; its minutes stay the logger's) instead of making a
    second one. The assignment's row lock makes this hold when both save at the same moment.

    Stores one session however often it is sent: the same form twice (`idempotency_key`), or the same
    session sent again from a fresh form (see `_repeat_of`). Either way the session stored the first
    time comes back with `created` False, unchanged: new words in the repeat are for the caller to
    offer (`reflection_answers_differ`), never saved silently. Returns a `SessionLogged`, which
    unpacks as (session, created).
    """
    require_open(assignment.couple)
    if assignment.couple_id != partner.couple_id:
        raise PermissionDenied
    repeat = {"assignment": assignment, "day": day, "role": role, "answers": answers}
    try:
        with transaction.atomic():
            # One log of this assignment at a time: the second of two identical posts waits here until
            # the first commits, then finds its session. (No-key: sessions inserted meanwhile only
            # share-lock the row for their foreign key, and are not held up.) SQLite ignores this and
            # serialises writers anyway.
            status = (
                Assignment.objects.select_for_update(no_key=True).values_list("status", flat=True).get(pk=assignment.pk)
            )
            existing = _logged_already(idempotency_key=idempotency_key, partner=partner, **repeat)
            if existing is not None:
                return SessionLogged(existing, False)
            if status != Assignment.Status.ACTIVE:
                raise ValidationError(_("This exercise is not active right now, so sessions cannot be logged for it."))
            _check_role(assignment, role)
            if _touch_paused(assignment, partner):
                raise ValidationError(holds.PAUSED_MESSAGE)
            theirs = _joinable(assignment=assignment, partner=partner, day=day, role=role)
            if theirs is not None:
                _reflection_join(theirs, partner, role, answers, idempotency_key)
                return SessionLogged(theirs, True, joined=True)
            return SessionLogged(
                _session_create(assignment, partner, day, minutes, role, answers, idempotency_key), True
            )
    except IntegrityError:
        # The same key on another assignment's log, racing past the lookup above: the other one won.
        joined = Reflection.objects.filter(idempotency_key=idempotency_key).select_related("session").first()
        existing = Session.objects.filter(idempotency_key=idempotency_key).first() or (joined and joined.session)
        if existing is None:
            raise
        return SessionLogged(existing, False)


def _reflection_join(session: Session, partner: Partner, role: str, answers: dict, key: uuid.UUID) -> Reflection:
    """`partner`'s reflection, from their log form, on the session the other partner logged."""
    reflection = Reflection(session=session, partner=partner, role=role, idempotency_key=key)
    _fill_reflection(reflection, answers)
    reflection.full_clean(validate_unique=False)
    reflection.save()
    alerts_raise(couple=session.assignment.couple)
    return reflection


def _session_create(
    assignment: Assignment, partner: Partner, day: date, minutes: int, role: str, answers: dict, key: uuid.UUID
) -> Session:
    _check_session_date(assignment, day)
    other = partner.other_partner()
    # The logger's column by their role (`_own_side`); a together session's logger takes the first.
    first_column = role in (Reflection.Role.GIVER, Reflection.Role.SPEAKER, Reflection.Role.TOGETHER)
    giver, receiver = (partner, other) if first_column else (other, partner)
    session = Session(
        assignment=assignment,
        date=day,
        minutes=minutes,
        giver=giver,
        receiver=receiver,
        logged_by=partner,
        idempotency_key=key,
    )
    reflection = Reflection(session=session, partner=partner, role=role)
    _fill_reflection(reflection, answers)
    session.full_clean(validate_unique=False)
    reflection.full_clean(exclude=["session"])
    session.save()
    reflection.session = session
    reflection.save()
    alerts_raise(couple=assignment.couple)
    return session


def reflection_add(*, session: Session, partner: Partner, answers: dict) -> Reflection:
    """The second partner's reflection on a session the other logged, in the role they had."""
    require_open(session.assignment.couple)
    role = session.role_of(partner)
    if role is None:
        raise PermissionDenied
    if session.reflections.filter(partner=partner).exists():
        raise ValidationError(_("You have already reflected on this session; you can edit your reflection instead."))
    if _touch_paused(session.assignment, partner):
        raise ValidationError(holds.PAUSED_MESSAGE)
    # The other's account of a back rub this partner logged too: a reflection here would break the pair
    # for good (it could no longer be made one), and a private one would show the other partner, by
    # their offer vanishing, that something was written. The pair is settled first.
    if session_pair_of(session, partner) is not None:
        raise ValidationError(
            _("You logged this back rub too. Make it one, or say they were two different back rubs, first.")
        )
    reflection = Reflection(session=session, partner=partner, role=role)
    _fill_reflection(reflection, answers)
    reflection.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            reflection.save()
            alerts_raise(couple=session.assignment.couple)
    except IntegrityError as exc:
        raise ValidationError(_("You have already reflected on this session.")) from exc
    return reflection


def reflection_decline(*, session: Session, partner: Partner) -> ReflectionDecline:
    """ "I won't reflect on this one": `partner`, giver or receiver of `session`, won't write their
    reflection. The session stops waiting for them, and the other partner's shared reflection is revealed
    to them (models.revealed_to). Saying it twice keeps the first; writing a reflection later is still
    possible. Refused once they have written their reflection (there is nothing left to decline)."""
    if session.role_of(partner) is None:
        raise PermissionDenied
    require_open(session.assignment.couple)
    if session.reflections.filter(partner=partner).exists():
        raise ValidationError(_("You have already written your reflection on this session."))
    # Under a hold nothing about touch moves on, and declining would reveal the other's side early.
    if _touch_paused(session.assignment, partner):
        raise ValidationError(holds.PAUSED_MESSAGE)
    decline = ReflectionDecline(session=session, partner=partner)
    decline.full_clean(validate_unique=False, validate_constraints=False)
    with transaction.atomic():
        # get_or_create re-reads after the unique constraint refuses a twin saved a moment earlier.
        decline, _created = ReflectionDecline.objects.get_or_create(session=session, partner=partner)
    return decline


def _more_private_or_equal(new: str, old: str) -> bool:
    order = Reflection.PRIVACY_ORDER
    return order.index(new) >= order.index(old)


def reflection_update(*, reflection: Reflection, partner: Partner, answers: dict) -> Reflection:
    """Correct or finish one's own reflection within EDIT_WINDOW_DAYS of writing it."""
    if reflection.partner_id != partner.pk:
        raise PermissionDenied
    require_open(reflection.session.assignment.couple)
    if not within_edit_window(reflection.created_at):
        text = ngettext(
            "Reflections can be changed for %(days)d day; you can still make this one more private.",
            "Reflections can be changed for %(days)d days; you can still make this one more private.",
            EDIT_WINDOW_DAYS,
        )
        raise ValidationError(text % {"days": EDIT_WINDOW_DAYS})
    _fill_reflection(reflection, answers)
    reflection.full_clean(validate_unique=False)
    with transaction.atomic():
        reflection.save()
        alerts_raise(couple=reflection.session.assignment.couple)
    return reflection


def reflection_set_visibility(*, reflection: Reflection, partner: Partner, visibility: str) -> Reflection:
    """Change who may read one's own reflection: more private at any time, less private within the edit window."""
    if reflection.partner_id != partner.pk:
        raise PermissionDenied
    if visibility not in Reflection.Visibility.values:
        raise ValidationError({"visibility": _("Choose who may read this reflection.")})
    less_private = not _more_private_or_equal(visibility, reflection.visibility)
    if less_private and partner.withdrew_consent:
        # Withdrawing consent leaves the way to more privacy open, never the way to share more.
        raise ValidationError(
            {"visibility": _("While your consent is withdrawn you can make your words more private, not share them.")}
        )
    if less_private and not within_edit_window(reflection.created_at):
        text = ngettext(
            "After %(days)d day a reflection can be made more private, but not shared more widely.",
            "After %(days)d days a reflection can be made more private, but not shared more widely.",
            EDIT_WINDOW_DAYS,
        )
        raise ValidationError({"visibility": text % {"days": EDIT_WINDOW_DAYS}})
    reflection.visibility = visibility
    reflection.save(update_fields=["visibility", "updated_at"])
    return reflection


def session_update(*, session: Session, partner: Partner, day: date, minutes: int) -> Session:
    """Correct the date or length of a session one logged, within EDIT_WINDOW_DAYS of logging it."""
    if session.logged_by_id != partner.pk:
        raise PermissionDenied
    require_open(session.assignment.couple)
    if not within_edit_window(session.created_at):
        raise ValidationError(session_edit_window_closed())
    _check_session_date(session.assignment, day)
    session.date = day
    session.minutes = minutes
    session.full_clean()
    with transaction.atomic():
        session.save(update_fields=["date", "minutes", "updated_at"])
        alerts_raise(couple=session.assignment.couple)
    return session


def session_delete(*, session: Session, partner: Partner) -> None:
    """Remove a session one logged, with one's own reflection on it, within EDIT_WINDOW_DAYS of logging it.

    If the other partner already reflected on it, their words are not the logger's to destroy (nor
    to learn about, if private): the session is withdrawn instead, which hides it from both partners
    and leaves it, marked as withdrawn, with the therapist. Either way the logger sees it gone.
    """
    if session.logged_by_id != partner.pk:
        raise PermissionDenied
    require_open(session.assignment.couple)
    if not within_edit_window(session.created_at):
        text = ngettext(
            "Sessions can be deleted for %(days)d day after they were logged.",
            "Sessions can be deleted for %(days)d days after they were logged.",
            EDIT_WINDOW_DAYS,
        )
        raise ValidationError(text % {"days": EDIT_WINDOW_DAYS})
    with transaction.atomic():
        # One by one (there is at most one): each deletion goes into the audit trail.
        for own in session.reflections.filter(partner=partner):
            own.delete()
        if session.reflections.exists():
            _withdraw(session)
        else:
            session.delete()
        alerts_raise(couple=session.assignment.couple)


def _withdraw(session: Session) -> None:
    """Hide `session` from both partners, kept for the therapist (`Session.withdrawn_at`)."""
    session.withdrawn_at = timezone.now()
    # A replay of the original form must behave exactly as after a real delete, or the logger could
    # tell that the other partner had written something (or disputed it).
    session.idempotency_key = uuid.uuid4()
    session.save(update_fields=["withdrawn_at", "idempotency_key", "updated_at"])


# One back rub, one session: merging two accounts of it ---------------------------------------------


def _lonely(session: Session) -> bool:
    """No one but its logger has reflected on `session`."""
    return not session.reflections.exclude(partner_id=session.logged_by_id).exists()


def session_pair_kind(first: Session, second: Session) -> str | None:
    """Whether two sessions are two accounts of one back rub: the same assignment and day, logged by
    each partner, neither withdrawn, neither with the other's reflection. PAIR_SAME_BACK_RUB when their
    roles fit together (the same giver), PAIR_SAME_ROLE when both claim the same role; else None. Two
    logs of a together exercise always fit together: it has no roles to claim twice."""
    if (
        first.pk == second.pk
        or (first.assignment_id, first.date) != (second.assignment_id, second.date)
        or first.logged_by_id == second.logged_by_id
        or first.withdrawn_at is not None
        or second.withdrawn_at is not None
        or not (_lonely(first) and _lonely(second))
    ):
        return None
    fits = first.giver_id == second.giver_id or first.shape == ExerciseShape.TOGETHER
    return PAIR_SAME_BACK_RUB if fits else PAIR_SAME_ROLE


def _not_a_pair() -> ValidationError:
    return ValidationError(
        _("These two sessions cannot be made one: only the same back rub, logged by each of you, can.")
    )


def _locked_pair(a: Session, b: Session, kind: str) -> tuple[Session, Session]:
    """Both sessions, locked for this transaction and read afresh, earliest first; refused unless they
    are still a pair of `kind` (a moment ago the other partner may have merged or reflected)."""
    rows = list(
        Session.objects.select_for_update(of=("self",))
        .filter(pk__in=[a.pk, b.pk])
        .select_related("assignment__couple")
        .order_by("created_at", "pk")
    )
    if len(rows) != 2 or session_pair_kind(*rows) != kind:
        raise _not_a_pair()
    # A partner said these were two back rubs: nobody makes them one (the therapist is not offered it).
    if SessionPairDismissal.objects.filter(first_id=min(a.pk, b.pk), second_id=max(a.pk, b.pk)).exists():
        raise ValidationError(_("A partner said these were two different sessions, so they stay two."))
    return rows[0], rows[1]


def _repoint(rows, keep: Session, clashes) -> None:
    """Move rows that point at a session about to go onto `keep`, one by one (for the audit trail);
    a row `keep` already has its own twin of (`clashes(row)`) is deleted instead."""
    for row in rows:
        if clashes(row):
            row.delete()
        else:
            row.session = keep
            row.save(update_fields=["session"])


def _merge_into(keep: Session, duplicate: Session, role: str) -> Reflection | None:
    """Move the duplicate's logger's reflection onto `keep` in `role`, and what points at the duplicate
    with it, then delete the duplicate. The reflection keeps its visibility and shared answers; the
    answers of a role its writer turns out not to have had are dropped.

    One exception: a disputed duplicate whose roles were the other way round ("we both say I gave",
    and its logger now says they received). The dispute is about the claim given up, not about `keep`,
    so it stays on that claim: the duplicate is withdrawn instead (gone for both partners, as if deleted;
    kept for the therapist with its dispute and the alert about it)."""
    moving = duplicate.reflections.filter(partner_id=duplicate.logged_by_id).first()
    if moving is not None:
        for name in set(Reflection.ROLE_ANSWERS) - set(Reflection.ROLE_QUESTIONS[role]):
            setattr(moving, name, Reflection._meta.get_field(name).get_default())
        moving.role = role
        moving.session = keep
        moving.full_clean(validate_unique=False)
        moving.save()
    if role != duplicate.role_of(duplicate.logged_by) and duplicate.disputes.exists():
        _withdraw(duplicate)
    else:
        _repoint_and_delete(keep, duplicate)
    alerts_raise(couple=keep.assignment.couple)
    return moving


def _repoint_and_delete(keep: Session, duplicate: Session) -> None:
    _repoint(
        SessionDispute.objects.filter(session=duplicate),
        keep,
        lambda d: SessionDispute.objects.filter(session=keep, partner_id=d.partner_id).exists(),
    )
    _repoint(
        AppointmentExclusion.objects.filter(session=duplicate),
        keep,
        lambda x: AppointmentExclusion.objects.filter(session=keep, couple_id=x.couple_id, day=x.day).exists(),
    )
    # An alert about the duplicate (a "did not happen", a low "safe") still leads to the back rub it is about.
    _repoint(Alert.objects.filter(session=duplicate), keep, lambda a: False)
    duplicate.delete()


def _check_merger(session: Session, by: User) -> Partner | None:
    """The partner merging (None for the couple's therapist); anyone else may not."""
    couple = session.assignment.couple
    if by.is_therapist and couple.therapist_id == by.pk:
        return None
    partner = Partner.objects.filter(user=by, couple_id=couple.pk).first()
    if partner is None:
        raise PermissionDenied
    return partner


def session_merge(*, keep: Session, duplicate: Session, by: User) -> Session:
    """Make one session of two that are the same back rub, each logged by one partner in their own
    role (`session_pair_kind` PAIR_SAME_BACK_RUB): the later one's reflection moves onto the earlier
    one, with its disputes and appointment exclusions, and the later one is deleted. Whichever of
    `keep` and `duplicate` was logged first is kept. By the couple's therapist, or either partner (a
    pair always holds one session of each). Touch paused for a partner's couple: their merge waits
    (the therapist's does not lift or bypass anything). Returns the session kept."""
    merger = _check_merger(keep, by)
    require_open(keep.assignment.couple)
    if merger is not None and _touch_paused(keep.assignment, merger):
        raise ValidationError(holds.PAUSED_MESSAGE)
    try:
        with transaction.atomic():
            first, second = _locked_pair(keep, duplicate, PAIR_SAME_BACK_RUB)
            # Always so while couples have two partners; said here so that it stays so.
            if merger is not None and merger.pk not in (first.logged_by_id, second.logged_by_id):
                raise PermissionDenied
            _merge_into(first, second, second.role_of(second.logged_by))
    except IntegrityError as exc:  # the other partner reflected on it at this very moment
        raise _not_a_pair() from exc
    return first


def session_conflict_join(*, mine: Session, theirs: Session, partner: Partner) -> Session:
    """ "It was one back rub": both partners logged the same day in the same role (PAIR_SAME_ROLE),
    and `partner` says they had the other one. Their reflection moves onto the other partner's session
    in the role that session gives them, keeping the answers both roles share and its visibility (the
    other role's answers are dropped: they can add them by editing); their own session goes."""
    if mine.logged_by_id != partner.pk:
        raise PermissionDenied
    require_open(mine.assignment.couple)
    if _touch_paused(mine.assignment, partner):
        raise ValidationError(holds.PAUSED_MESSAGE)
    try:
        with transaction.atomic():
            first, second = _locked_pair(mine, theirs, PAIR_SAME_ROLE)
            keep = first if first.pk == theirs.pk else second
            drop = second if keep is first else first
            _merge_into(keep, drop, keep.role_of(partner))
    except IntegrityError as exc:
        raise _not_a_pair() from exc
    return keep


def session_pair_dismiss(*, mine: Session, theirs: Session, partner: Partner) -> SessionPairDismissal:
    """ "These were two different back rubs": the pair of `mine` and `theirs` (either kind: the same
    role claimed twice, or each partner's account of what looked like one back rub) is not offered
    again, to either partner. `partner` logged one of the two (in either argument: a card may name the
    earlier one first). Saying it twice keeps the first answer."""
    if partner.pk not in (mine.logged_by_id, theirs.logged_by_id):
        raise PermissionDenied
    require_open(mine.assignment.couple)
    if session_pair_kind(mine, theirs) is None:
        raise _not_a_pair()
    first, second = sorted((mine, theirs), key=lambda s: s.pk)
    with transaction.atomic():
        dismissal, _created = SessionPairDismissal.objects.get_or_create(
            first=first, second=second, defaults={"couple": partner.couple, "dismissed_by": partner}
        )
    return dismissal


# Therapist notes ----------------------------------------------------------------------------------


def note_add(*, couple: Couple, author: User, day: date, text: str) -> CoupleNote:
    """A dated note on a couple, private to the therapist; it marks the charts of any period that holds it."""
    require_open(couple)
    note = CoupleNote(couple=couple, author=author, date=day, text=text.strip())
    note.full_clean()
    note.save()
    return note


def note_delete(*, note: CoupleNote) -> None:
    """Remove a note the therapist no longer wants on the record."""
    note.delete()


# The appointment view ------------------------------------------------------------------------------


def appointment_leave_out(
    *, couple: Couple, day: date, session: Session | None = None, reflection: Reflection | None = None
) -> AppointmentExclusion:
    """Leave one session or one reflection of `couple` out of the appointment view for the appointment
    of `day` (the couple's today). Leaving out what is already left out changes nothing."""
    item = session or reflection
    item_couple_id = session.assignment.couple_id if session else reflection.session.assignment.couple_id
    if item is None or (session and reflection) or item_couple_id != couple.pk:
        raise ValidationError(_("Choose one session or one reflection of this couple."))
    exclusion = AppointmentExclusion(couple=couple, day=day, session=session, reflection=reflection)
    exclusion.full_clean(validate_unique=False, validate_constraints=False)
    with transaction.atomic():
        # Two quick clicks are one exclusion: the unique constraints hold it, get_or_create reads it back.
        exclusion, _created = AppointmentExclusion.objects.get_or_create(
            couple=couple, day=day, session=session, reflection=reflection
        )
    return exclusion


def appointment_put_back(*, couple: Couple, day: date) -> int:
    """Show everything shared again in the appointment of `day`: the count of items put back."""
    with transaction.atomic():
        # One by one, like every clinical row (accounts/clinical.py): a few rows at most.
        exclusions = list(AppointmentExclusion.objects.filter(couple=couple, day=day))
        for exclusion in exclusions:
            exclusion.delete()
    return len(exclusions)


# The safety line ----------------------------------------------------------------------------------


def safety_message_send(*, partner: Partner, feeling: str, message: str) -> SafetyMessage:
    """A partner tells their therapist privately that they felt pressured or unsafe: stored for the
    therapist only, with an urgent alert. Nothing about it reaches the other partner."""
    safety = SafetyMessage(couple=partner.couple, partner=partner, feeling=feeling, message=message.strip())
    safety.full_clean()
    with transaction.atomic():
        safety.save()
        alert_raise_now(couple=partner.couple, kind=Alert.Kind.SAFETY, partner=partner, urgent=True)
    return safety


# Holds and separate screenings -------------------------------------------------------------------------


def screening_record(
    *, couple: Couple, partner: Partner, by: User, day: date, how: str, note: str = ""
) -> ScreeningRecord:
    """The therapist records that they spoke with `partner` on their own about safety, on `day`, and how."""
    if couple.therapist_id != by.pk:
        raise PermissionDenied
    if partner.couple_id != couple.pk:
        raise ValidationError(_("Choose one of this couple's partners."))
    if how == ScreeningRecord.How.NOT_RECORDED:
        raise ValidationError({"how": _("Say how you spoke with them.")})
    if day > couple.today():
        raise ValidationError({"date": _("That date is in the future.")})
    record = ScreeningRecord(couple=couple, partner=partner, date=day, how=how, note=note.strip(), recorded_by=by)
    record.full_clean()
    record.save()
    return record


def hold_lift(*, couple: Couple, by: User, note: str, screenings: dict[int, dict]) -> TouchHold:
    """The couple's therapist lifts the hold on their touch exercises, after speaking again with each
    partner on their own: `screenings` holds, per partner id, the day (on or after the hold) and how.

    Only the therapist lifts a hold, with a note; each partner then answers the private check again
    before touch work opens (intimacy/holds.py).
    """
    if couple.therapist_id != by.pk:
        raise PermissionDenied
    require_open(couple)
    hold = holds.open_hold(couple)
    if hold is None:
        raise ValidationError(_("There is no hold on this couple's touch exercises."))
    if not note.strip():
        raise ValidationError({"note": _("Add a note on why touch work can resume.")})
    placed_on = timezone.localtime(hold.placed_at, couple.tz).date()
    partners = list(couple.partners.all())
    with transaction.atomic():
        for partner in partners:
            answer = screenings.get(partner.pk) or {}
            if not answer.get("day") or not answer.get("how"):
                raise ValidationError(_("Record a separate conversation with each partner first."))
            if answer["day"] < placed_on:
                raise ValidationError(_("The separate conversations must be on or after the day of the hold."))
            screening_record(couple=couple, partner=partner, by=by, day=answer["day"], how=answer["how"])
        hold.lifted_at = timezone.now()
        hold.lifted_by = by
        hold.lift_note = note.strip()
        hold.full_clean(validate_constraints=False)
        hold.save(update_fields=["lifted_at", "lifted_by", "lift_note"])
    return hold


def safety_check_answer(*, partner: Partner, answers: dict) -> SafetyCheck:
    """A partner's answers, alone, to the private check before touch work: for the therapist only.

    Any worrying answer (or "not sure") raises an urgent alert, which puts the couple's touch
    exercises on hold (intimacy/holds.py). The partner is thanked the same way either way, and the
    other partner learns nothing.
    """
    require_open(partner.couple)
    check = SafetyCheck(couple=partner.couple, partner=partner, **{q: answers.get(q) for q in SafetyCheck.QUESTIONS})
    check.full_clean()
    check.flagged = check.worrying()
    with transaction.atomic():
        check.save()
        if check.flagged:
            alert_raise_now(couple=partner.couple, kind=Alert.Kind.SAFETY_CHECK, partner=partner, urgent=True)
    return check


def _end_of_this_week(couple: Couple):
    """Next Monday at midnight where the couple lives: the end of this ISO week, as an instant."""
    from datetime import datetime, time

    monday = week_start(couple.today()) + timedelta(days=7)
    return datetime.combine(monday, time(0, 0), tzinfo=couple.tz)


def pause_for_me(*, partner: Partner, kind: str) -> PersonalPause:
    """A partner privately steps back from touch exercises without withdrawing consent: "not this week"
    (to the end of this ISO week, in the couple's time zone) or "pause for me" (until they resume).
    The therapist sees it; the other partner sees only the neutral pause; no touch reminder goes out."""
    require_open(partner.couple)
    until = _end_of_this_week(partner.couple) if kind == PersonalPause.Kind.NOT_THIS_WEEK else None
    pause = PersonalPause(couple=partner.couple, partner=partner, kind=kind, until=until)
    pause.full_clean()
    with transaction.atomic():
        # One in force at a time: the newest choice replaces the last (one by one, for the audit trail).
        for earlier in holds.active_pauses().filter(partner=partner):
            earlier.ended_at = timezone.now()
            earlier.save(update_fields=["ended_at"])
        pause.save()
    return pause


def pause_resume(*, partner: Partner) -> int:
    """The partner ends their own pause (or "not this week") early; returns how many were in force."""
    with transaction.atomic():
        pauses = list(holds.active_pauses().filter(partner=partner))
        for pause in pauses:
            pause.ended_at = timezone.now()
            pause.save(update_fields=["ended_at"])
    return len(pauses)


def session_dispute(*, session: Session, partner: Partner) -> SessionDispute:
    """A partner named in a session the other logged says privately it did not happen, or they did not
    agree. It stops awaiting their reflection; the therapist gets an urgent alert, which puts touch
    exercises on hold; the logger is told nothing. Saying it twice keeps the first."""
    couple = session.assignment.couple
    if session.role_of(partner) is None or session.logged_by_id == partner.pk:
        raise PermissionDenied
    with transaction.atomic():
        dispute, _created = SessionDispute.objects.get_or_create(session=session, partner=partner, couple=couple)
        alert_raise_now(couple=couple, kind=Alert.Kind.DISPUTED, partner=partner, urgent=True, session=session)
    return dispute


# The weekly check-in --------------------------------------------------------------------------------


def checkin_save(*, partner: Partner, answers: dict, today: date) -> CheckIn:
    """Store a partner's CSI-4 answers for the ISO week holding `today` (the couple's today), with
    their total; answering again in the same week updates that week's check-in.

    The total is computed here from the published scoring (intimacy/csi4.py), never taken from the
    caller. Raises ValidationError, by item, on a missing or out-of-range answer; nothing is stored.
    """
    require_open(partner.couple)
    values = {name: answers.get(name) for name in csi4.FIELDS}
    total = csi4.score(values)
    week = week_start(today)
    try:
        return _checkin_store(partner, week, values, total)
    except IntegrityError:
        # A double submit raced this week's first answers in; the other request stored first: update that one.
        return _checkin_store(partner, week, values, total)


def _checkin_store(partner: Partner, week: date, values: dict, total: int) -> CheckIn:
    with transaction.atomic():
        checkin = CheckIn.objects.select_for_update().filter(partner=partner, week=week).first() or CheckIn(
            couple=partner.couple, partner=partner, week=week
        )
        for name, value in values.items():
            setattr(checkin, name, value)
        checkin.total = total
        checkin.full_clean(validate_unique=False)
        checkin.save()
    return checkin


# Consent and the record's end: they touch the homework, so they live with it. -------------------


def consent_withdraw(*, partner: Partner) -> Partner:
    """The partner withdraws consent: their logging stops (partner pages need consent), the couple's
    active exercises pause, and the therapist is told. What they wrote stays with the therapist."""
    with transaction.atomic():
        partner.consent_version = ""
        partner.consent_accepted_at = None
        partner.consent_withdrawn_at = timezone.now()
        partner.save(update_fields=["consent_version", "consent_accepted_at", "consent_withdrawn_at"])
        if not partner.couple.is_closed:  # a closed case has nothing running, and is read-only
            for assignment in Assignment.objects.filter(couple=partner.couple, status=Assignment.Status.ACTIVE):
                assignment_set_status(assignment=assignment, status=Assignment.Status.PAUSED)
        # Urgent: withdrawing can be the only safe way someone finds to step back from touch homework.
        alert_raise_now(couple=partner.couple, kind=Alert.Kind.CONSENT_WITHDRAWN, partner=partner, urgent=True)
    return partner


def couple_delete(*, couple: Couple, confirmation: str) -> None:
    """Delete the couple and all of its clinical data for good, and the partners' accounts.

    Refused unless the record was exported first and `confirmation` is the couple's label, typed.
    The audit trail keeps that records existed and were deleted, never what they said.
    """
    if couple.exported_at is None:
        raise ValidationError(_("Export the record first (“Export the whole record”): deleting cannot be undone."))
    if confirmation.strip() != couple.label:
        raise ValidationError(_("Type the couple's label exactly as shown to confirm."))
    with transaction.atomic():
        users = [p.user for p in couple.partners.select_related("user") if p.user is not None]
        # One by one, so each deletion is in the audit trail (bulk deletes bypass it); the trend parts
        # once at the end, not at each of them.
        with trend_parts.batch(couple.pk):
            for reflection in Reflection.objects.filter(session__assignment__couple=couple).select_related(
                "session__assignment"
            ):
                reflection.delete()
            for session in Session.objects.filter(assignment__couple=couple):
                session.delete()
        couple.delete()
        for user in users:
            user.delete()


# Staged programs (issue 15) -------------------------------------------------------------------------------
# A couple's current step is an ordinary Assignment of that stage's exercise, so logging, trends, alerts
# and holds need nothing new. Every change of step happens under the run's row lock and names the step the
# person saw: an answer or an approval from a page that is out of date is refused, never applied to
# whatever step the couple has reached since.


def program_create(*, owner: User, title: str, description: str = "") -> Program:
    """A therapist's own program, with no stages yet (`program_stage_add`)."""
    program = Program(owner=owner, title=title, description=description)
    program.full_clean()
    program.save()
    return program


def program_stage_add(
    *, program: Program, exercise: Exercise, target_per_week: int, suggested_minutes: int, guidance: str = ""
) -> ProgramStage:
    """Add a stage at the end of a therapist's own program. Built-in programs are read-only."""
    if program.is_builtin:
        raise PermissionDenied
    if exercise.archived_at is not None or not (exercise.owner_id is None or exercise.owner_id == program.owner_id):
        raise ValidationError({"exercise": _("Choose one of your exercises or a built-in one.")})
    with transaction.atomic():
        # The program's row lock numbers two stages added at once one after the other.
        Program.objects.select_for_update().filter(pk=program.pk).exists()
        last = program.stages.order_by("-position").values_list("position", flat=True).first() or 0
        stage = ProgramStage(
            program=program,
            position=last + 1,
            exercise=exercise,
            target_per_week=target_per_week,
            suggested_minutes=suggested_minutes,
            guidance=guidance,
        )
        stage.full_clean()
        stage.save()
    return stage


def program_stage_move(*, stage: ProgramStage, offset: int) -> ProgramStage:
    """Swap a stage with the one before (`offset` -1) or after (+1) it; at either end nothing moves.

    A couple already on the program keeps the step they are at; "next" and "back" follow the new order.
    """
    if stage.program.is_builtin:
        raise PermissionDenied
    with transaction.atomic():
        Program.objects.select_for_update().filter(pk=stage.program_id).exists()
        stages = list(ProgramStage.objects.filter(program_id=stage.program_id).order_by("position"))
        index = next(i for i, s in enumerate(stages) if s.pk == stage.pk)
        if not 0 <= index + offset < len(stages):
            return stage
        mine, theirs = stages[index], stages[index + offset]
        parked = stages[-1].position + 1  # a free position, so the unique (program, position) holds throughout
        mine_at, theirs_at = mine.position, theirs.position
        mine.position = parked
        mine.save(update_fields=["position"])
        theirs.position = mine_at
        theirs.save(update_fields=["position"])
        mine.position = theirs_at
        mine.save(update_fields=["position"])
    return mine


def _open_step(run: ProgramRun, stage: ProgramStage, reason: str, assignment: Assignment | None = None) -> ProgramStep:
    """Realise `stage` as the couple's assignment, from today (or as `assignment`, one they are doing
    already), and record it as the run's open step."""
    today = run.couple.today()
    if assignment is None:
        assignment = assignment_create(
            couple=run.couple,
            exercise=stage.exercise,
            target_per_week=stage.target_per_week,
            suggested_minutes=stage.suggested_minutes,
            starts_on=today,
            note=stage.guidance,
            keep_archived=True,
        )
    step = ProgramStep(
        run=run, stage=stage, assignment=assignment, reason=reason, started_on=min(today, assignment.starts_on)
    )
    step.full_clean()
    step.save()
    return step


def _close_step(step: ProgramStep) -> None:
    """End the step and its assignment (unless the therapist ended that already); its sessions stay."""
    if step.assignment.status != Assignment.Status.ENDED:
        assignment_set_status(assignment=step.assignment, status=Assignment.Status.ENDED)
    step.ended_on = step.run.couple.today()
    step.save(update_fields=["ended_on"])


def program_assign(*, couple: Couple, program: Program, current: Assignment | None = None) -> ProgramRun:
    """Start `program` for `couple` at its first stage, from the couple's today. One program at a time.

    `current`: an active assignment of the couple's, of the first stage's exercise, that becomes the first
    step as it is (the couple carry on with what they are doing; the path starts when it started).
    """
    # Only a built-in program or one of the couple's therapist's own (as the pages offer).
    if not (program.is_builtin or program.owner_id == couple.therapist_id):
        raise PermissionDenied
    require_open(couple)
    first = program.stages.select_related("exercise").order_by("position").first()
    if first is None:
        raise ValidationError(_("This program has no steps yet. Add one first."))
    if current is not None and (
        current.couple_id != couple.pk
        or current.exercise_id != first.exercise_id
        or current.status != Assignment.Status.ACTIVE
    ):
        raise ValidationError(_("The first step must be this couple's active assignment of its exercise."))
    if ProgramRun.objects.filter(couple=couple, status=ProgramRun.Status.ACTIVE).exists():
        raise ValidationError(_("This couple is already on a program."))
    try:
        with transaction.atomic():
            started = min(couple.today(), current.starts_on) if current else couple.today()
            run = ProgramRun.objects.create(couple=couple, program=program, started_on=started)
            _open_step(run, first, ProgramStep.Reason.START, assignment=current)
    except IntegrityError:  # the same form sent twice at once: the first one started it
        raise ValidationError(_("This couple is already on a program.")) from None
    return run


def _step_changed() -> ValidationError:
    return ValidationError(_("This step has changed since the page was opened. Here is where things are now."))


def _lock_open_step(step: ProgramStep) -> ProgramStep:
    """Lock the run of `step` and return the step, fresh, if it is still the run's open one (refused otherwise)."""
    run = ProgramRun.objects.select_for_update().select_related("couple").get(pk=step.run_id)
    current = run.steps.filter(ended_on__isnull=True).select_related("stage__program", "assignment").first()
    if run.status != ProgramRun.Status.ACTIVE or current is None or current.pk != step.pk:
        raise _step_changed()
    current.run = run
    return current


def _check_partner(step: ProgramStep, partner: Partner) -> None:
    if partner.couple_id != step.run.couple_id:
        raise PermissionDenied
    require_open(partner.couple)


def readiness_answer(*, step: ProgramStep, partner: Partner, answer: str) -> ReadinessAnswer:
    """A partner's private "ready for the next step" or "not yet" about the step they saw; the latest counts.

    Only the therapist reads it; the other partner never learns it, nor whether it was given.
    """
    _check_partner(step, partner)
    if answer not in (ReadinessAnswer.Answer.READY, ReadinessAnswer.Answer.NOT_YET):
        raise ValidationError(_("Choose “Ready for the next step” or “Not yet”."))
    with transaction.atomic():
        current = _lock_open_step(step)
        return ReadinessAnswer.objects.create(step=current, partner=partner, answer=answer)


def latest_readiness(step: ProgramStep) -> dict[int, str]:
    """Each partner's latest answer on `step`, by partner id (for the therapist and the approval)."""
    # An answer given before its partner withdrew consent no longer counts (`ReadinessAnswer.still_counts`):
    # withdrawing paused the exercises, and an old "ready" must not reopen them on the therapist's word.
    latest = {}
    answers = step.readiness.filter(ReadinessAnswer.still_counts()).order_by("created_at", "pk")
    for partner_id, answer in answers.values_list("partner_id", "answer"):
        latest[partner_id] = answer
    return latest


def program_stage_approve(*, step: ProgramStep, by: User) -> ProgramStep | None:
    """The therapist moves the couple on from `step` to the program's next stage; returns the new step, or
    None when `step` was the last (the run is then finished and its last exercise carries on as it is).

    Refused unless both partners' latest answers on this step are "ready": nothing moves on one
    partner's word, nor on the therapist's alone.
    """
    if by.pk != step.run.couple.therapist_id:
        raise PermissionDenied
    require_open(step.run.couple)
    with transaction.atomic():
        current = _lock_open_step(step)
        latest = latest_readiness(current)
        partner_ids = list(current.run.couple.partners.values_list("pk", flat=True))
        if len(partner_ids) != 2 or any(latest.get(pk) != ReadinessAnswer.Answer.READY for pk in partner_ids):
            raise ValidationError(_("Both partners need to say they are ready before the next step."))
        following = current.stage.program.stages.filter(position__gt=current.stage.position).order_by("position")
        nxt = following.select_related("exercise").first()
        if nxt is None:
            current.run.status = ProgramRun.Status.FINISHED
            current.run.save(update_fields=["status"])
            return None
        _close_step(current)
        return _open_step(current.run, nxt, ProgramStep.Reason.APPROVED)


def _step_back(current: ProgramStep) -> ProgramStep:
    """Close the locked open step `current` and reopen the stage before it (refused on the first). A step
    whose exercise the therapist paused or ended (after an alert, say) steps back to a paused exercise:
    stepping back moves the couple, it never reopens what the therapist stopped."""
    earlier = current.stage.program.stages.filter(position__lt=current.stage.position).order_by("-position")
    previous = earlier.select_related("exercise").first()
    if previous is None:
        raise ValidationError(_("This is the first step already. You can always take a break instead."))
    stopped = current.assignment.status != Assignment.Status.ACTIVE
    _close_step(current)
    back = _open_step(current.run, previous, ProgramStep.Reason.BACK)
    if stopped:
        assignment_set_status(assignment=back.assignment, status=Assignment.Status.PAUSED)
    return back


def program_stage_back(*, step: ProgramStep, partner: Partner) -> ProgramStep:
    """A partner privately asks to go back a step: the program steps back for both at once, at the word of
    either (stepping back is always safe; moving on is what needs both and the therapist). The therapist is
    told who asked, by an alert; the partners see only "Your therapist has changed this exercise".
    """
    # True of the therapist's own step back too (`program_stage_return`): a step back never tells who asked.
    _check_partner(step, partner)
    with transaction.atomic():
        current = _lock_open_step(step)
        ReadinessAnswer.objects.create(step=current, partner=partner, answer=ReadinessAnswer.Answer.BACK)
        back = _step_back(current)
        alert_raise_now(couple=current.run.couple, kind=Alert.Kind.PROGRAM_BACK, partner=partner, urgent=False)
    return back


def program_stage_return(*, step: ProgramStep, by: User) -> ProgramStep:
    """The therapist takes the couple back a step. The partners see what they see of a partner's request
    (`program_stage_back`): "Your therapist has changed this exercise", so neither can tell a step back
    the other asked for from one the therapist chose."""
    if by.pk != step.run.couple.therapist_id:
        raise PermissionDenied
    require_open(step.run.couple)
    with transaction.atomic():
        return _step_back(_lock_open_step(step))
