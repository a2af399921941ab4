"""The homework: exercises, assignments, the sessions a couple did and each partner's reflection."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.clinical import ClinicalQuerySet
from accounts.models import Couple, Partner, User
from accounts.text_limits import text_within_limits
from intimacy.builtin import BACK_RUB_KEY
from intimacy.weeks import week_start

MIN_RATING, MAX_RATING = 0, 10
RATING_VALIDATORS = [MinValueValidator(MIN_RATING), MaxValueValidator(MAX_RATING)]
MIN_TARGET, MAX_TARGET = 1, 7
MIN_SUGGESTED_MINUTES, MAX_SUGGESTED_MINUTES = 5, 60
MIN_SESSION_MINUTES, MAX_SESSION_MINUTES = 1, 180
# How long a partner may correct what they wrote or logged (making a reflection more private has no limit).
EDIT_WINDOW_DAYS = 7
# How long a partner's shared reflection waits for the other partner's own before it is shown to them
# anyway (issue 14): neither answer anchors the other, and no one waits for ever. Not the edit window:
# that one is about correcting one's own words, this one about reading the other's.
REVEAL_AFTER = timedelta(days=7)
# Limits on what people type, in characters (accounts/text_limits.py): more than anyone writes in normal
# use, held by the database and by the forms alike, so that no one text can swell every page it is on.
EXERCISE_TITLE_MAX_LENGTH = 80
EXERCISE_SUMMARY_MAX_LENGTH = 200  # one sentence
EXERCISE_GUIDANCE_MAX_LENGTH = 10_000  # a few pages; the built-in back rub's is under 2,500
ASSIGNMENT_NOTE_MAX_LENGTH = 2_000  # the therapist's note to the couple
REFLECTION_TEXT_MAX_LENGTH = 5_000  # each of a reflection's three texts: a long journal entry
NOTE_MAX_LENGTH = 200  # a therapist's note, shown as a marker on the charts
ACKNOWLEDGEMENT_MAX_LENGTH = 300  # the therapist's note on marking an alert as seen
SAFETY_MESSAGE_MAX_LENGTH = 5_000  # never cut short someone telling their therapist they felt unsafe


def long_text(verbose_name=None, *, max_length: int, **kwargs) -> models.TextField:
    """A TextField held to `max_length` by model validation too (Django leaves a TextField's unchecked)."""
    return models.TextField(verbose_name, max_length=max_length, validators=[MaxLengthValidator(max_length)], **kwargs)


def rating(verbose_name: str, **kwargs) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(verbose_name, validators=RATING_VALIDATORS, **kwargs)


def in_range(field: str, low: int, high: int, name: str, nullable: bool = False) -> models.CheckConstraint:
    condition = Q(**{f"{field}__gte": low, f"{field}__lte": high})
    if nullable:
        condition |= Q(**{f"{field}__isnull": True})
    return models.CheckConstraint(condition=condition, name=name)


class ExerciseShape(models.TextChoices):
    """An exercise's shape decides its roles and its questions (issue 15): touch has a giver and a
    receiver, talk a speaker and a listener, together no roles. Only touch exercises need the private
    safety check, the therapist's separate conversations, and stop under a hold (DESIGN.md)."""

    TOUCH = "touch", _("Touch: one gives, one receives")
    TALK = "talk", _("Talk: one speaks, one listens")
    TOGETHER = "together", _("Together: both do the same thing")


class ExerciseQuerySet(models.QuerySet):
    def available_to(self, user) -> "ExerciseQuerySet":
        """Built-in exercises plus the therapist's own; partners browse none (they see what is assigned)."""
        if not user.is_authenticated or user.role != User.Role.THERAPIST:
            return self.none()
        return self.filter(Q(owner__isnull=True) | Q(owner=user))

    def back_rub(self) -> "Exercise":
        """The built-in "Give a back rub" (seeded by a data migration, so always there)."""
        return self.get(builtin_key=BACK_RUB_KEY)


class Exercise(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="exercises"
    )
    # Stable handle for built-in exercises so the seeding migration is idempotent.
    builtin_key = models.SlugField(max_length=40, null=True, blank=True, unique=True)
    title = models.CharField(max_length=EXERCISE_TITLE_MAX_LENGTH)
    summary = models.CharField(max_length=EXERCISE_SUMMARY_MAX_LENGTH)
    guidance = long_text(max_length=EXERCISE_GUIDANCE_MAX_LENGTH)
    suggested_minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(MIN_SUGGESTED_MINUTES), MaxValueValidator(MAX_SUGGESTED_MINUTES)]
    )
    shape = models.CharField(max_length=10, choices=ExerciseShape.choices, default=ExerciseShape.TOUCH)
    copied_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ExerciseQuerySet.as_manager()

    class Meta:
        ordering = ["title", "pk"]
        constraints = [
            in_range("suggested_minutes", MIN_SUGGESTED_MINUTES, MAX_SUGGESTED_MINUTES, "exercise_minutes_range"),
            models.CheckConstraint(condition=Q(shape__in=ExerciseShape.values), name="exercise_shape_valid"),
            models.CheckConstraint(
                condition=Q(owner__isnull=True) | Q(builtin_key__isnull=True), name="exercise_builtin_has_no_owner"
            ),
            text_within_limits(
                "exercise_text_within_limits",
                {
                    "title": EXERCISE_TITLE_MAX_LENGTH,
                    "summary": EXERCISE_SUMMARY_MAX_LENGTH,
                    "guidance": EXERCISE_GUIDANCE_MAX_LENGTH,
                },
            ),
        ]

    def __str__(self) -> str:
        return self.title

    Shape = ExerciseShape

    @property
    def is_builtin(self) -> bool:
        return self.owner_id is None

    @property
    def is_touch(self) -> bool:
        return self.shape == ExerciseShape.TOUCH

    @property
    def log_label(self) -> str:
        if self.builtin_key == BACK_RUB_KEY:
            return gettext("Log a back rub")
        return gettext("Log: %(title)s") % {"title": self.title}


class AssignmentQuerySet(ClinicalQuerySet):
    def visible_to(self, user) -> "AssignmentQuerySet":
        return self.filter(couple__in=Couple.objects.visible_to(user))


# Choices used in a model's constraints live at module level: its Meta cannot see names in its class.
class GiverPlan(models.TextChoices):
    TAKE_TURNS = "turns", _("Take turns")
    EITHER = "either", _("Either partner")
    ONE = "one", _("One named partner gives")


class Assignment(models.Model):
    GiverPlan = GiverPlan

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        ENDED = "ended", _("Ended")

    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="assignments")
    exercise = models.ForeignKey(Exercise, on_delete=models.PROTECT, related_name="assignments")
    target_per_week = models.PositiveSmallIntegerField(
        _("sessions per week"), validators=[MinValueValidator(MIN_TARGET), MaxValueValidator(MAX_TARGET)]
    )
    suggested_minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(MIN_SUGGESTED_MINUTES), MaxValueValidator(MAX_SUGGESTED_MINUTES)]
    )
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    giver_plan = models.CharField(max_length=8, choices=GiverPlan.choices, default=GiverPlan.TAKE_TURNS)
    planned_giver = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    note = long_text(_("note to the couple"), max_length=ASSIGNMENT_NOTE_MAX_LENGTH, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "-pk"]
        constraints = [
            in_range("target_per_week", MIN_TARGET, MAX_TARGET, "assignment_target_range"),
            in_range("suggested_minutes", MIN_SUGGESTED_MINUTES, MAX_SUGGESTED_MINUTES, "assignment_minutes_range"),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")), name="assignment_ends_after_start"
            ),
            models.CheckConstraint(
                condition=(Q(giver_plan=GiverPlan.ONE) & Q(planned_giver__isnull=False))
                | (~Q(giver_plan=GiverPlan.ONE) & Q(planned_giver__isnull=True)),
                name="assignment_planned_giver_iff_one",
            ),
            text_within_limits("assignment_text_within_limits", {"note": ASSIGNMENT_NOTE_MAX_LENGTH}),
        ]
        indexes = [models.Index(fields=["couple", "status"])]

    def __str__(self) -> str:
        return f"{self.exercise.title} ({self.get_status_display()})"

    def get_additional_data(self) -> dict:
        # django-auditlog stores this with each audit row; intimacy/audit.py keys the row by couple.
        return {"couple": self.couple_id}


class SessionQuerySet(ClinicalQuerySet):
    def visible_to(self, user, *, partner: Partner | None = None) -> "SessionQuerySet":
        """Sessions of couples the user may see; a session its logger withdrew is the therapist's only.

        `partner`: a partner user's own row, when the caller holds it: the same rule by its couple's id,
        without a subquery to find the couple (issue 16, "Fast"). Any other row is refused."""
        if _partner_of_user(user, partner):
            return self.filter(assignment__couple_id=partner.couple_id, withdrawn_at__isnull=True)
        qs = self.filter(assignment__couple__in=Couple.objects.visible_to(user))
        if user.is_authenticated and user.role == User.Role.PARTNER:
            qs = qs.filter(withdrawn_at__isnull=True)
        return qs


class Session(models.Model):
    """One back rub (or other exercise) that happened, as logged by one partner."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="sessions")
    date = models.DateField()
    minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(MIN_SESSION_MINUTES), MaxValueValidator(MAX_SESSION_MINUTES)]
    )
    giver = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    receiver = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    logged_by = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    # Generated when the form is shown; a double submit carries the same key and stores one row.
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Set when the logger deletes a session the other partner already reflected on: the other
    # partner's words are theirs and stay with the therapist, and the logger is not told they exist.
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SessionQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(giver=F("receiver")), name="session_giver_is_not_receiver"),
            in_range("minutes", MIN_SESSION_MINUTES, MAX_SESSION_MINUTES, "session_minutes_range"),
        ]
        indexes = [models.Index(fields=["assignment", "date"])]

    def __str__(self) -> str:
        return f"Session {self.pk} on {self.date}"

    def get_additional_data(self) -> dict:
        # django-auditlog stores this with each audit row; intimacy/audit.py keys the row by couple.
        return {"couple": self.assignment.couple_id}

    @property
    def shape(self) -> str:
        return self.assignment.exercise.shape

    def role_of(self, partner: Partner) -> str | None:
        """`partner`'s role in this session, named by the exercise's shape (SHAPE_ROLES): the `giver`
        column holds a touch giver or a talk speaker, `receiver` a receiver or a listener; in a together
        session both partners are in the one role TOGETHER."""
        first, second = SHAPE_ROLES[self.shape]
        if partner.pk == self.giver_id:
            return first
        if partner.pk == self.receiver_id:
            return second
        return None


class ReflectionQuerySet(ClinicalQuerySet):
    def visible_to(self, user, *, partner: Partner | None = None, cutoff=None) -> "ReflectionQuerySet":
        """Reflections this user may see in any form.

        A therapist sees every reflection of their caseload (the words of "Just me" ones are withheld
        by `Reflection.text_visible_to`). A partner sees their own, and their partner's only when it
        was shared with them: a "My therapist only" or "Just me" reflection reaches the other partner
        in no form, not even its ratings. And a shared one only once revealed to them (`revealed_to`).

        `partner`: a partner user's own row, when the caller holds it: the same rule, by its ids rather
        than by joins to find it (issue 16, "Fast"). Any other row is refused.
        `cutoff`: the reveal rule's moment (`reveal_cutoff`), when the caller fixes it (intimacy/prepared.py).
        """
        if not user.is_authenticated:
            return self.none()
        if user.role == User.Role.THERAPIST:
            return self.filter(session__assignment__couple__therapist=user)
        me = _partner_of_user(user, partner)
        couple = (
            Q(session__assignment__couple_id=partner.couple_id)
            if me
            else Q(session__assignment__couple__partners__user=user)
        )
        return self.filter(couple, session__withdrawn_at__isnull=True).filter(
            Q(**me or {"partner__user": user})
            | (Q(visibility=Reflection.Visibility.SHARED) & revealed_to(user, partner=partner, cutoff=cutoff))
        )


def _partner_of_user(user, partner: Partner | None) -> dict:
    """The filter naming `user`'s own partner row by its id (`partner`, if given and theirs), else {}."""
    if partner is None:
        return {}
    if partner.user_id != user.pk:
        raise ValueError("partner is not the user's own row")
    return {"partner_id": partner.pk}


def reveal_cutoff(now=None):
    """A reflection written at or before this moment is revealed by time alone (REVEAL_AFTER)."""
    return (now or timezone.now()) - REVEAL_AFTER


def revealed_to(user, now=None, *, partner: Partner | None = None, cutoff=None) -> Q:
    """The reveal rule (issue 14), as a condition on reflections: the other partner's account of a session
    reaches `user` only once `user` has written their own reflection on it (in any visibility), or said
    they won't, or REVEAL_AFTER has passed since it was written. So neither answer anchors the other.

    `now` from Python, never the database's Now(): frozen time in tests, and one clock for one page.
    Or `cutoff`, `reveal_cutoff(now)` worked out by the caller (a prepared query's slot).
    """
    if cutoff is None:
        cutoff = reveal_cutoff(now)
    mine = _partner_of_user(user, partner) or {"partner__user": user}
    return (
        Q(Exists(Reflection.objects.filter(session=OuterRef("session"), **mine)))
        | Q(Exists(ReflectionDecline.objects.filter(session=OuterRef("session"), **mine)))
        | Q(created_at__lte=cutoff)
    )


def revealed_together(now=None, session_ref: str = "session", author_ref: str = "partner", *, cutoff=None) -> Q:
    """The reveal rule for what the couple see together (the appointment view): a shared reflection is
    shown once the other partner of its session has shared their own, or said they won't reflect, or
    REVEAL_AFTER has passed since it was written. Only the other's *shared* reflection counts here, so
    a "My therapist only" or "Just me" one changes nothing on the shared screen, not even by its existence.

    `session_ref` and `author_ref` name the reflection's session and author from the query this
    condition goes into (a Reflection queryset by default). `cutoff`: as for `revealed_to`.
    """
    if cutoff is None:
        cutoff = reveal_cutoff(now)
    theirs = Reflection.objects.filter(session=OuterRef(session_ref), visibility=Reflection.Visibility.SHARED)
    declined = ReflectionDecline.objects.filter(session=OuterRef(session_ref))
    return (
        Q(Exists(theirs.exclude(partner=OuterRef(author_ref))))
        | Q(Exists(declined.exclude(partner=OuterRef(author_ref))))
        | Q(created_at__lte=cutoff)
    )


class ReflectionRole(models.TextChoices):
    GIVER = "giver", _("I gave")
    RECEIVER = "receiver", _("I received")
    # Talk (issue 15): in the database the speaker is the session's `giver`, the listener its `receiver`.
    SPEAKER = "speaker", _("I spoke")
    LISTENER = "listener", _("I listened")
    # Together: no roles, both partners answer the same questions; the session's `giver` is whoever
    # logged it first, `receiver` the other, and neither column means anything more.
    TOGETHER = "together", _("We did it together")


# The two roles of each shape, in the order of the session's columns (`giver`, `receiver`).
SHAPE_ROLES = {
    ExerciseShape.TOUCH: (ReflectionRole.GIVER, ReflectionRole.RECEIVER),
    ExerciseShape.TALK: (ReflectionRole.SPEAKER, ReflectionRole.LISTENER),
    ExerciseShape.TOGETHER: (ReflectionRole.TOGETHER, ReflectionRole.TOGETHER),
}


class ReflectionVisibility(models.TextChoices):
    SHARED = "shared", _("My partner and my therapist")
    THERAPIST = "therapist", _("My therapist only")
    PRIVATE = "private", _("Just me")


class Reflection(models.Model):
    Role = ReflectionRole
    Visibility = ReflectionVisibility

    class Pressure(models.TextChoices):
        TOO_LIGHT = "light", _("Too light")
        JUST_RIGHT = "right", _("Just right")
        TOO_FIRM = "firm", _("Too firm")

    class Pace(models.TextChoices):
        TOO_SLOW = "slow", _("Too slow")
        JUST_RIGHT = "right", _("Just right")
        TOO_FAST = "fast", _("Too fast")

    # Most private last: a partner may always move down this list, and up it only within the edit window.
    PRIVACY_ORDER = [Visibility.SHARED, Visibility.THERAPIST, Visibility.PRIVATE]

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="reflections")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="reflections")
    role = models.CharField(max_length=8, choices=Role.choices)
    # Both roles
    connection = rating(_("how connected I felt"))
    # Two questions since issue 13, so that shyness and danger no longer look alike: only a low "safe" is urgent.
    comfort = rating(_("how comfortable I felt"))
    safe = rating(_("how safe I felt"))
    # Giver
    presence = rating(_("how present I felt"), null=True, blank=True)
    giving_felt = rating(_("how it felt to give"), null=True, blank=True)
    # Receiver
    tension_before = rating(_("tension before"), null=True, blank=True)
    tension_after = rating(_("tension after"), null=True, blank=True)
    cared_for = rating(_("how cared for I felt"), null=True, blank=True)
    pressure = models.CharField(max_length=8, choices=Pressure.choices, blank=True)
    pace = models.CharField(max_length=8, choices=Pace.choices, blank=True)
    # Speaker (talk)
    felt_heard = rating(_("how heard I felt"), null=True, blank=True)
    felt_understood = rating(_("how understood I felt"), null=True, blank=True)
    safe_to_say = rating(_("how safe it felt to say it"), null=True, blank=True)
    # Listener (talk)
    stayed_open = rating(_("how well I stayed with it without defending"), null=True, blank=True)
    understood_what_mattered = rating(_("how well I understood what mattered"), null=True, blank=True)
    # Together: "how present I was" is `presence`, the giver's question too.
    # Both roles; stopping early is a valid outcome, never a failure.
    paused = models.BooleanField(_("we paused or stopped early"), default=False)
    pause_reason = long_text(max_length=REFLECTION_TEXT_MAX_LENGTH, blank=True)
    next_time = long_text(_("what I'd like next time"), max_length=REFLECTION_TEXT_MAX_LENGTH, blank=True)
    notes = long_text(max_length=REFLECTION_TEXT_MAX_LENGTH, blank=True)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.SHARED)
    # Set only when this reflection joined a session the other partner logged (services.session_log):
    # the key of the log form it came from, so that form sent twice still stores one reflection.
    idempotency_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReflectionQuerySet.as_manager()

    TEXT_FIELDS = ("pause_reason", "next_time", "notes")
    GIVER_ONLY = ("presence", "giving_felt")
    RECEIVER_ONLY = ("tension_before", "tension_after", "cared_for", "pressure", "pace")
    SPEAKER_ONLY = ("felt_heard", "felt_understood", "safe_to_say")
    LISTENER_ONLY = ("stayed_open", "understood_what_mattered")
    # Each role's own questions, besides connection, comfort and safe that every role answers.
    ROLE_QUESTIONS = {
        ReflectionRole.GIVER: GIVER_ONLY,
        ReflectionRole.RECEIVER: RECEIVER_ONLY,
        ReflectionRole.SPEAKER: SPEAKER_ONLY,
        ReflectionRole.LISTENER: LISTENER_ONLY,
        ReflectionRole.TOGETHER: ("presence",),
    }
    ROLE_ANSWERS = GIVER_ONLY + RECEIVER_ONLY + SPEAKER_ONLY + LISTENER_ONLY

    class Meta:
        ordering = ["session", "role"]
        constraints = [
            # Together has one role for both partners; (session, partner) keeps it to one reflection each.
            models.UniqueConstraint(
                fields=["session", "role"], condition=~Q(role=ReflectionRole.TOGETHER), name="reflection_one_per_role"
            ),
            models.UniqueConstraint(fields=["session", "partner"], name="reflection_one_per_partner"),
            models.CheckConstraint(condition=Q(role__in=ReflectionRole.values), name="reflection_role_valid"),
            models.CheckConstraint(
                condition=Q(visibility__in=ReflectionVisibility.values), name="reflection_visibility_valid"
            ),
            in_range("connection", MIN_RATING, MAX_RATING, "reflection_connection_range"),
            in_range("comfort", MIN_RATING, MAX_RATING, "reflection_comfort_range"),
            in_range("safe", MIN_RATING, MAX_RATING, "reflection_safe_range"),
            in_range("presence", MIN_RATING, MAX_RATING, "reflection_presence_range", nullable=True),
            in_range("giving_felt", MIN_RATING, MAX_RATING, "reflection_giving_felt_range", nullable=True),
            in_range("tension_before", MIN_RATING, MAX_RATING, "reflection_tension_before_range", nullable=True),
            in_range("tension_after", MIN_RATING, MAX_RATING, "reflection_tension_after_range", nullable=True),
            in_range("cared_for", MIN_RATING, MAX_RATING, "reflection_cared_for_range", nullable=True),
            in_range("felt_heard", MIN_RATING, MAX_RATING, "reflection_felt_heard_range", nullable=True),
            in_range("felt_understood", MIN_RATING, MAX_RATING, "reflection_felt_understood_range", nullable=True),
            in_range("safe_to_say", MIN_RATING, MAX_RATING, "reflection_safe_to_say_range", nullable=True),
            in_range("stayed_open", MIN_RATING, MAX_RATING, "reflection_stayed_open_range", nullable=True),
            in_range("understood_what_mattered", MIN_RATING, MAX_RATING, "reflection_understood_range", nullable=True),
            # Each role's answers stay empty in every other role: a giver's reflection carries no
            # receiver answers and vice versa; a talk or together reflection carries no touch answer.
            models.CheckConstraint(
                condition=Q(role=ReflectionRole.RECEIVER)
                | Q(
                    tension_before__isnull=True,
                    tension_after__isnull=True,
                    cared_for__isnull=True,
                    pressure="",
                    pace="",
                ),
                name="reflection_giver_has_no_receiver_answers",
            ),
            models.CheckConstraint(
                condition=Q(role=ReflectionRole.GIVER)
                | (Q(giving_felt__isnull=True) & (Q(role=ReflectionRole.TOGETHER) | Q(presence__isnull=True))),
                name="reflection_receiver_has_no_giver_answers",
            ),
            models.CheckConstraint(
                condition=Q(role=ReflectionRole.SPEAKER)
                | Q(felt_heard__isnull=True, felt_understood__isnull=True, safe_to_say__isnull=True),
                name="reflection_speaker_answers_only_for_speaker",
            ),
            models.CheckConstraint(
                condition=Q(role=ReflectionRole.LISTENER)
                | Q(stayed_open__isnull=True, understood_what_mattered__isnull=True),
                name="reflection_listener_answers_only_for_listener",
            ),
            text_within_limits(
                "reflection_text_within_limits",
                dict.fromkeys(("pause_reason", "next_time", "notes"), REFLECTION_TEXT_MAX_LENGTH),
            ),
        ]

    def __str__(self) -> str:
        return f"Reflection {self.pk}"

    def get_additional_data(self) -> dict:
        # django-auditlog stores this with each audit row; intimacy/audit.py keys the row by couple.
        return {"couple": self.session.assignment.couple_id}

    def text_visible_to(self, user) -> bool:
        """Whether this user may read the words (ratings follow `ReflectionQuerySet.visible_to`)."""
        if self.partner.user_id == user.pk:
            return True
        if user.role == User.Role.THERAPIST:
            return self.visibility != self.Visibility.PRIVATE
        return self.visibility == self.Visibility.SHARED


class TherapistOnlyQuerySet(ClinicalQuerySet):
    """Rows on a couple that are the therapist's alone (notes, alerts, safety messages): partners never
    see them in any form, not even the partner who wrote a safety message (a phone may be shared)."""

    def visible_to(self, user) -> "TherapistOnlyQuerySet":
        if not user.is_authenticated or user.role != User.Role.THERAPIST:
            return self.none()
        return self.filter(couple__therapist=user)


class CoupleNote(models.Model):
    """A therapist's dated note on a couple: private to the therapist, a marker on their charts."""

    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    date = models.DateField()
    text = models.CharField(max_length=NOTE_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TherapistOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-pk"]
        constraints = [text_within_limits("couplenote_text_within_limits", {"text": NOTE_MAX_LENGTH})]
        indexes = [models.Index(fields=["couple", "date"])]

    def __str__(self) -> str:
        return f"Note {self.pk}"

    def get_additional_data(self) -> dict:
        # django-auditlog stores this with each audit row; intimacy/audit.py keys the row by couple.
        return {"couple": self.couple_id}


class AlertQuerySet(TherapistOnlyQuerySet):
    def open(self) -> "AlertQuerySet":
        return self.filter(acknowledged_at__isnull=True)


class AlertKind(models.TextChoices):
    NO_SESSION = "no_session", _("No session for 14 days")
    CONNECTION_DOWN = "connection_down", _("Connection down")
    PAUSED = "paused", _("A session was paused or stopped")
    LOW_COMFORT = "low_comfort", _("Low comfort")
    LOW_SAFE = "low_safe", _("Low safety rating")
    ONE_SIDED = "one_sided", _("One partner does most of the giving")
    AWAITING = "awaiting", _("Reflections waiting")
    PERCEPTION_GAP = "perception_gap", _("Giver and receiver see the sessions differently")
    TENSION_WORSE = "tension_worse", _("Tension worse after than before")
    SAFETY = "safety", _("Safety line")
    SAFETY_CHECK = "safety_check", _("Private check before touch work")
    DISPUTED = "disputed", _("A partner said a session did not happen or was not agreed")
    CONSENT_WITHDRAWN = "consent_withdrawn", _("Consent withdrawn")
    # Staged programs (issue 15): a partner's private "go back a step" stepped the program back for both.
    PROGRAM_BACK = "program_back", _("A partner asked to go back a step")
    # The weekly check-in (CSI-4), judged against each partner's baseline (intimacy/csi4.py).
    CHECKIN_DROP = "checkin_drop", _("Check-in: reliable drop")
    CHECKIN_BELOW = "checkin_below", _("Check-in: fell below the 13.5 line")
    CHECKIN_APART = "checkin_apart", _("Check-in: partners moving apart")


class Alert(models.Model):
    """Something the therapist should look at, raised once per (couple, kind, partner, ISO week).

    Rows hold no free text from the couple: the sentence shown is built from the kind and the partner.
    """

    Kind = AlertKind

    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # The partner the alert is about; empty for alerts about the couple as a whole.
    partner = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    week = models.DateField(help_text=_("Monday of the ISO week the alert belongs to."))
    # What the alert is about, where one row says it (the rule's `about`, intimacy/alerts.py): the page
    # links there. Gone when that row goes; the alert stays in the history, linking to the couple.
    session = models.ForeignKey(Session, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    assignment = models.ForeignKey(Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    urgent = models.BooleanField(default=False)
    raised_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledgement = models.CharField(_("note"), max_length=ACKNOWLEDGEMENT_MAX_LENGTH, blank=True)

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-urgent", "-week", "-pk"]
        constraints = [
            # Two partial constraints because NULL partners never collide in a plain unique index.
            models.UniqueConstraint(
                fields=["couple", "kind", "partner", "week"],
                condition=Q(partner__isnull=False),
                name="alert_once_per_partner_week",
            ),
            models.UniqueConstraint(
                fields=["couple", "kind", "week"], condition=Q(partner__isnull=True), name="alert_once_per_couple_week"
            ),
            models.CheckConstraint(condition=Q(kind__in=AlertKind.values), name="alert_kind_valid"),
            text_within_limits("alert_text_within_limits", {"acknowledgement": ACKNOWLEDGEMENT_MAX_LENGTH}),
        ]
        indexes = [models.Index(fields=["couple", "acknowledged_at"])]

    def __str__(self) -> str:
        return f"Alert {self.pk}"

    def get_additional_data(self) -> dict:
        # django-auditlog stores this with each audit row; intimacy/audit.py keys the row by couple.
        return {"couple": self.couple_id}


class SafetyFeeling(models.TextChoices):
    PRESSURED = "pressured", _("I felt pressured")
    UNSAFE = "unsafe", _("I felt unsafe")
    OTHER = "other", _("Something else worries me")


class SafetyMessage(models.Model):
    """A partner's private word to their therapist that they felt pressured or unsafe.

    It reaches the therapist only: never the other partner, the appointment view, the partner's own
    data download or any export the couple can make, and no partner screen lists it afterwards.
    """

    Feeling = SafetyFeeling

    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="safety_messages")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    feeling = models.CharField(max_length=10, choices=Feeling.choices)
    message = long_text(max_length=SAFETY_MESSAGE_MAX_LENGTH, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TherapistOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(feeling__in=SafetyFeeling.values), name="safety_feeling_valid"),
            text_within_limits("safetymessage_text_within_limits", {"message": SAFETY_MESSAGE_MAX_LENGTH}),
        ]

    def __str__(self) -> str:
        return f"Safety message {self.pk}"

    def get_additional_data(self) -> dict:
        # django-auditlog stores this with each audit row; intimacy/audit.py keys the row by couple.
        return {"couple": self.couple_id}


class CheckInQuerySet(ClinicalQuerySet):
    def visible_to(self, user) -> "CheckInQuerySet":
        """Check-ins are for the therapist: they see those of their caseload.

        A partner reaches only their own (to know whether this week's is done, and in their own data
        download), never the other partner's, in any form. No other partner page reads check-ins.
        """
        if not user.is_authenticated:
            return self.none()
        if user.role == User.Role.THERAPIST:
            return self.filter(couple__therapist=user)
        return self.filter(partner__user=user)


class CheckIn(models.Model):
    """One partner's weekly relationship check-in: the four CSI-4 answers and their total (see
    intimacy/csi4.py for the published items and scoring). One per partner per ISO week; answering
    again in the same week updates it. For the therapist only: never shown to the other partner or
    in the appointment view."""

    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="checkins")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="checkins")
    week = models.DateField(help_text=_("Monday of the ISO week, in the couple's time zone."))
    happiness = models.PositiveSmallIntegerField(
        _("happiness, all things considered"), validators=[MinValueValidator(0), MaxValueValidator(6)]
    )
    warm = models.PositiveSmallIntegerField(
        _("warm and comfortable relationship"), validators=[MinValueValidator(0), MaxValueValidator(5)]
    )
    rewarding = models.PositiveSmallIntegerField(
        _("how rewarding"), validators=[MinValueValidator(0), MaxValueValidator(5)]
    )
    satisfied = models.PositiveSmallIntegerField(
        _("how satisfied"), validators=[MinValueValidator(0), MaxValueValidator(5)]
    )
    total = models.PositiveSmallIntegerField(_("CSI-4 total"), validators=[MinValueValidator(0), MaxValueValidator(21)])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CheckInQuerySet.as_manager()

    class Meta:
        ordering = ["-week", "partner"]
        verbose_name = _("check-in")
        constraints = [
            models.UniqueConstraint(fields=["partner", "week"], name="checkin_one_per_partner_week"),
            in_range("happiness", 0, 6, "checkin_happiness_range"),
            in_range("warm", 0, 5, "checkin_warm_range"),
            in_range("rewarding", 0, 5, "checkin_rewarding_range"),
            in_range("satisfied", 0, 5, "checkin_satisfied_range"),
            in_range("total", 0, 21, "checkin_total_range"),
            models.CheckConstraint(
                condition=Q(total=F("happiness") + F("warm") + F("rewarding") + F("satisfied")),
                name="checkin_total_is_sum",
            ),
        ]
        indexes = [models.Index(fields=["couple", "week"])]

    def __str__(self) -> str:
        return f"Check-in {self.pk}"

    def clean(self) -> None:
        errors = {}
        if self.week and self.week != week_start(self.week):
            errors["week"] = gettext("A check-in's week starts on a Monday.")
        if self.partner_id and self.couple_id and self.partner.couple_id != self.couple_id:
            errors["partner"] = gettext("The partner is not in this couple.")
        if errors:
            raise ValidationError(errors)

    def get_additional_data(self) -> dict:
        # django-auditlog stores this with each audit row; intimacy/audit.py keys the row by couple.
        return {"couple": self.couple_id}


class AppointmentExclusion(models.Model):
    """A session or a reflection the therapist left out of the appointment view for one appointment.

    "This appointment" is the couple's day (`day`, in the couple's time zone): what the therapist
    leaves out while preparing alone in the morning is still left out when the couple arrive, and
    re-authenticating to check something mid-appointment does not bring it back; the next day the view
    shows everything shared again. The row holds ids only, no words or ratings.
    """

    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="appointment_exclusions")
    day = models.DateField()
    session = models.ForeignKey(Session, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    reflection = models.ForeignKey(Reflection, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TherapistOnlyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(session__isnull=False, reflection__isnull=True)
                | Q(session__isnull=True, reflection__isnull=False),
                name="appointmentexclusion_one_item",
            ),
            models.UniqueConstraint(
                fields=["couple", "day", "session"],
                condition=Q(session__isnull=False),
                name="appointmentexclusion_session_once",
            ),
            models.UniqueConstraint(
                fields=["couple", "day", "reflection"],
                condition=Q(reflection__isnull=False),
                name="appointmentexclusion_reflection_once",
            ),
        ]

    def __str__(self) -> str:
        return f"Appointment exclusion {self.pk}"

    def get_additional_data(self) -> dict:
        # django-auditlog stores this with each audit row; intimacy/audit.py keys the row by couple.
        return {"couple": self.couple_id}


class HowSpoken(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    VIDEO = "video", _("Video call")
    PHONE = "phone", _("Phone")
    # Only on records migrated from the old single "I have screened" checkbox, which did not ask how.
    NOT_RECORDED = "unrecorded", _("Not recorded")


class ScreeningRecord(models.Model):
    """The therapist's record that they spoke with one partner on their own about safety (coercion,
    violence, fear): the therapist's own interview, which Tend's private check complements and never
    replaces. Therapist only."""

    How = HowSpoken

    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="screenings")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    how = models.CharField(max_length=10, choices=How.choices)
    note = models.CharField(max_length=NOTE_MAX_LENGTH, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TherapistOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(how__in=HowSpoken.values), name="screeningrecord_how_valid"),
            text_within_limits("screeningrecord_text_within_limits", {"note": NOTE_MAX_LENGTH}),
        ]

    def __str__(self) -> str:
        return f"Screening {self.pk}"

    def get_additional_data(self) -> dict:
        # django-auditlog stores this with each audit row; intimacy/audit.py keys the row by couple.
        return {"couple": self.couple_id}


class TouchHoldQuerySet(TherapistOnlyQuerySet):
    def open(self) -> "TouchHoldQuerySet":
        return self.filter(lifted_at__isnull=True)


class TouchHold(models.Model):
    """All of a couple's touch exercises stopped at once, after a safety signal (intimacy/holds.py).

    Why it was placed is the therapist's alone: partners learn only that the exercise is paused. At
    most one hold is open per couple; only the couple's therapist lifts it, after a new screening.
    """

    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="touch_holds")
    # The alert kind that placed it (intimacy/holds.py HOLD_KINDS).
    reason = models.CharField(max_length=20, choices=AlertKind.choices)
    placed_at = models.DateTimeField(auto_now_add=True)
    placed_by_alert = models.ForeignKey(Alert, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lift_note = models.CharField(max_length=ACKNOWLEDGEMENT_MAX_LENGTH, blank=True)

    objects = TouchHoldQuerySet.as_manager()

    class Meta:
        ordering = ["-placed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["couple"], condition=Q(lifted_at__isnull=True), name="touchhold_one_open"),
            models.CheckConstraint(
                condition=Q(lifted_at__isnull=True) | ~Q(lift_note=""), name="touchhold_lifted_with_note"
            ),
            text_within_limits("touchhold_text_within_limits", {"lift_note": ACKNOWLEDGEMENT_MAX_LENGTH}),
        ]

    def __str__(self) -> str:
        return f"Hold {self.pk}"

    def get_additional_data(self) -> dict:
        # django-auditlog stores this with each audit row; intimacy/audit.py keys the row by couple.
        return {"couple": self.couple_id}


class CheckAnswer(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    UNSURE = "unsure", _("I'm not sure")


class SafetyCheck(models.Model):
    """One partner's answers, alone, to the short private check before touch work (intimacy/holds.py).

    For the therapist only: never the other partner (not even that an answer raised a flag), the
    appointment view, or the partner's own data download (a phone may be shared, as with SafetyMessage).
    """

    Answer = CheckAnswer
    QUESTIONS = ("feel_safe", "hurt", "pressured", "free_to_say_no")
    # The answer that is not worrying, per question; any other answer ("not sure" too) raises a flag.
    FINE = {
        "feel_safe": CheckAnswer.YES,
        "hurt": CheckAnswer.NO,
        "pressured": CheckAnswer.NO,
        "free_to_say_no": CheckAnswer.YES,
    }

    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="safety_checks")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    feel_safe = models.CharField(_("Do you feel safe with your partner?"), max_length=8, choices=CheckAnswer.choices)
    hurt = models.CharField(
        _("Has your partner hurt, threatened or frightened you?"), max_length=8, choices=CheckAnswer.choices
    )
    pressured = models.CharField(
        _("Have you felt pressured into touch or sex?"), max_length=8, choices=CheckAnswer.choices
    )
    free_to_say_no = models.CharField(
        _("Do you feel free to say no to touch?"), max_length=8, choices=CheckAnswer.choices
    )
    flagged = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TherapistOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    feel_safe__in=CheckAnswer.values,
                    hurt__in=CheckAnswer.values,
                    pressured__in=CheckAnswer.values,
                    free_to_say_no__in=CheckAnswer.values,
                ),
                name="safetycheck_answers_valid",
            ),
        ]
        indexes = [models.Index(fields=["couple", "created_at"])]

    def __str__(self) -> str:
        return f"Safety check {self.pk}"

    def get_additional_data(self) -> dict:
        # django-auditlog stores this with each audit row; intimacy/audit.py keys the row by couple.
        return {"couple": self.couple_id}

    def worrying(self) -> bool:
        return any(getattr(self, name) != fine for name, fine in self.FINE.items())


class PauseKind(models.TextChoices):
    NOT_THIS_WEEK = "week", _("Not this week")
    FOR_ME = "for_me", _("Paused for me")


class PersonalPause(models.Model):
    """A partner's own private "not this week" or "pause for me" on touch exercises, without withdrawing
    consent. The therapist sees it; the other partner sees only the neutral pause (intimacy/holds.py)."""

    Kind = PauseKind

    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="personal_pauses")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=PauseKind.choices)
    # "Not this week": the end of the ISO week where the couple lives; "pause for me": until resumed.
    until = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TherapistOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=PauseKind.values), name="personalpause_kind_valid"),
            models.CheckConstraint(
                condition=Q(kind=PauseKind.FOR_ME, until__isnull=True)
                | Q(kind=PauseKind.NOT_THIS_WEEK, until__isnull=False),
                name="personalpause_until_iff_week",
            ),
        ]
        indexes = [models.Index(fields=["couple", "ended_at"])]

    def __str__(self) -> str:
        return f"Personal pause {self.pk}"

    def get_additional_data(self) -> dict:
        # django-auditlog stores this with each audit row; intimacy/audit.py keys the row by couple.
        return {"couple": self.couple_id}


class SessionDispute(models.Model):
    """A partner named in a session the other logged says it did not happen, or they did not agree.

    The session stops counting for them (nothing awaits their reflection); the therapist gets an urgent
    alert, which puts touch exercises on hold; the logger is told nothing. Therapist only.
    """

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="disputes")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TherapistOnlyQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "partner"], name="sessiondispute_once")]

    def __str__(self) -> str:
        return f"Session dispute {self.pk}"

    def get_additional_data(self) -> dict:
        # django-auditlog stores this with each audit row; intimacy/audit.py keys the row by couple.
        return {"couple": self.couple_id}


class SessionPairDismissal(models.Model):
    """Two sessions of the same exercise and day, one logged by each partner, that a partner said were two
    different back rubs: in the same role ("we both say I gave"), the conflict card stops asking both; in
    roles that fit together, the offer to make them one goes, and each waits for the other's reflection
    again (selectors.session_pairs).

    The pair is stored once, lower id first, whoever answered. Ids only: nothing anyone wrote.
    """

    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="+")
    first = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="+")
    dismissed_by = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ClinicalQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="sessionpairdismissal_once"),
            models.CheckConstraint(condition=Q(first__lt=F("second")), name="sessionpairdismissal_ordered"),
        ]

    def __str__(self) -> str:
        return f"Session pair dismissal {self.pk}"

    def get_additional_data(self) -> dict:
        # django-auditlog stores this with each audit row; intimacy/audit.py keys the row by couple.
        return {"couple": self.couple_id}


class ReflectionDecline(models.Model):
    """ "I won't reflect on this one": a partner of a session says they will not write their reflection.

    The session no longer waits for them (home, "Did you mean this one?", the reminder), and the other
    partner's shared reflection is revealed to them (`revealed_to`). Writing a reflection later is still
    possible; from then on the decline no longer matters. No undo is needed: it is kept as it was said.
    """

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="declines")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ClinicalQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "partner"], name="reflectiondecline_once")]

    def __str__(self) -> str:
        return f"Reflection decline {self.pk}"

    def get_additional_data(self) -> dict:
        # django-auditlog stores this with each audit row; intimacy/audit.py keys the row by couple.
        return {"couple": self.session.assignment.couple_id}


# Staged programs (issue 15) ------------------------------------------------------------------------------

PROGRAM_TITLE_MAX_LENGTH = 80
PROGRAM_DESCRIPTION_MAX_LENGTH = 2_000
STAGE_GUIDANCE_MAX_LENGTH = 2_000  # the therapist's note for one stage, shown to the couple with it


class ProgramQuerySet(models.QuerySet):
    def available_to(self, user) -> "ProgramQuerySet":
        """Built-in programs plus the therapist's own; partners browse none (they see their current step)."""
        if not user.is_authenticated or user.role != User.Role.THERAPIST:
            return self.none()
        return self.filter(Q(owner__isnull=True) | Q(owner=user))


class Program(models.Model):
    """A path of ordered stages, each an exercise with its target and guidance (issue 15). Not clinical:
    like an exercise, built in (no owner, read-only) or a therapist's own."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="programs"
    )
    builtin_key = models.SlugField(max_length=40, null=True, blank=True, unique=True)
    title = models.CharField(max_length=PROGRAM_TITLE_MAX_LENGTH)
    description = long_text(max_length=PROGRAM_DESCRIPTION_MAX_LENGTH, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProgramQuerySet.as_manager()

    class Meta:
        ordering = ["title", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(owner__isnull=True) | Q(builtin_key__isnull=True), name="program_builtin_has_no_owner"
            ),
            text_within_limits(
                "program_text_within_limits",
                {"title": PROGRAM_TITLE_MAX_LENGTH, "description": PROGRAM_DESCRIPTION_MAX_LENGTH},
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_builtin(self) -> bool:
        return self.owner_id is None


class ProgramStage(models.Model):
    """One step of a program: the exercise the couple does at that step, how often and for how long."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="stages")
    # 1, 2, 3 … in walking order; unique within the program.
    position = models.PositiveSmallIntegerField()
    exercise = models.ForeignKey(Exercise, on_delete=models.PROTECT, related_name="+")
    target_per_week = models.PositiveSmallIntegerField(
        _("sessions per week"), validators=[MinValueValidator(MIN_TARGET), MaxValueValidator(MAX_TARGET)]
    )
    suggested_minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(MIN_SUGGESTED_MINUTES), MaxValueValidator(MAX_SUGGESTED_MINUTES)]
    )
    guidance = long_text(_("guidance for this step"), max_length=STAGE_GUIDANCE_MAX_LENGTH, blank=True)

    class Meta:
        ordering = ["program", "position"]
        constraints = [
            models.UniqueConstraint(fields=["program", "position"], name="programstage_one_per_position"),
            models.CheckConstraint(condition=Q(position__gte=1), name="programstage_position_positive"),
            in_range("target_per_week", MIN_TARGET, MAX_TARGET, "programstage_target_range"),
            in_range("suggested_minutes", MIN_SUGGESTED_MINUTES, MAX_SUGGESTED_MINUTES, "programstage_minutes_range"),
            text_within_limits("programstage_text_within_limits", {"guidance": STAGE_GUIDANCE_MAX_LENGTH}),
        ]

    def __str__(self) -> str:
        return f"Stage {self.position} of program {self.program_id}"


class ProgramRunQuerySet(ClinicalQuerySet):
    def visible_to(self, user) -> "ProgramRunQuerySet":
        return self.filter(couple__in=Couple.objects.visible_to(user))


class ProgramRunStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    FINISHED = "finished", _("Finished")


class ProgramRun(models.Model):
    """A couple walking a program. Its current step is realised as an ordinary `Assignment` of that
    stage's exercise (so logging, trends, alerts and holds work unchanged); `ProgramStep` keeps the path."""

    Status = ProgramRunStatus

    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="program_runs")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="runs")
    started_on = models.DateField()
    status = models.CharField(max_length=10, choices=ProgramRunStatus.choices, default=ProgramRunStatus.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProgramRunQuerySet.as_manager()

    class Meta:
        ordering = ["-started_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ProgramRunStatus.values), name="programrun_status_valid"),
            # One program at a time per couple: two would fight over what "the next step" is.
            models.UniqueConstraint(
                fields=["couple"], condition=Q(status=ProgramRunStatus.ACTIVE), name="programrun_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"Program run {self.pk}"

    def get_additional_data(self) -> dict:
        # django-auditlog stores this with each audit row; intimacy/audit.py keys the row by couple.
        return {"couple": self.couple_id}


class StepReason(models.TextChoices):
    START = "start", _("Started")
    APPROVED = "approved", _("Moved on")
    BACK = "back", _("Stepped back")


class ProgramStep(models.Model):
    """One stretch of a couple's path: the stage they were at, from when to when, and the assignment that
    realised it. A run's newest step (highest id) is its current one; going back adds a step too."""

    Reason = StepReason

    run = models.ForeignKey(ProgramRun, on_delete=models.CASCADE, related_name="steps")
    stage = models.ForeignKey(ProgramStage, on_delete=models.PROTECT, related_name="+")
    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=10, choices=StepReason.choices)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ClinicalQuerySet.as_manager()

    class Meta:
        ordering = ["run", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(reason__in=StepReason.values), name="programstep_reason_valid"),
            # The open step of a run: exactly its current one.
            models.UniqueConstraint(fields=["run"], condition=Q(ended_on__isnull=True), name="programstep_one_open"),
        ]

    def __str__(self) -> str:
        return f"Program step {self.pk}"

    def get_additional_data(self) -> dict:
        return {"couple": self.run.couple_id}


class ReadinessQuerySet(ClinicalQuerySet):
    def visible_to(self, user) -> "ReadinessQuerySet":
        """A partner's readiness is theirs and their therapist's: the other partner never sees it, in any form."""
        if not user.is_authenticated:
            return self.none()
        if user.role == User.Role.THERAPIST:
            return self.filter(step__run__couple__therapist=user)
        return self.filter(partner__user=user)


class ReadinessAnswerKind(models.TextChoices):
    READY = "ready", _("Ready for the next step")
    NOT_YET = "not_yet", _("Not yet")
    BACK = "back", _("Asked to go back a step")


class ReadinessAnswer(models.Model):
    """A partner's private answer about their current step. The latest answer of a step counts; "back"
    is the request that stepped the program back (kept so the therapist sees who asked; the partners don't)."""

    Answer = ReadinessAnswerKind

    step = models.ForeignKey(ProgramStep, on_delete=models.CASCADE, related_name="readiness")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    answer = models.CharField(max_length=10, choices=ReadinessAnswerKind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ReadinessQuerySet.as_manager()

    class Meta:
        ordering = ["step", "created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(answer__in=ReadinessAnswerKind.values), name="readiness_answer_valid")
        ]
        indexes = [models.Index(fields=["step", "partner", "created_at"])]

    def __str__(self) -> str:
        return f"Readiness answer {self.pk}"

    @staticmethod
    def still_counts() -> Q:
        """Answers given after their partner's last withdrawal of consent (if any): one given before no
        longer counts towards moving on, even once they consent again (they answer afresh)."""
        return Q(partner__consent_withdrawn_at__isnull=True) | Q(created_at__gt=F("partner__consent_withdrawn_at"))

    @property
    def counts(self) -> bool:
        """`still_counts` for one answer whose partner is loaded already (the therapist's page)."""
        withdrawn = self.partner.consent_withdrawn_at
        return withdrawn is None or self.created_at > withdrawn

    def get_additional_data(self) -> dict:
        return {"couple": self.partner.couple_id}


class TrendPart(models.Model):
    """What a couple did in one *part* of the calendar, grouped as the therapist's trends group it: derived
    from sessions, reflections and disputes, kept exact by intimacy/trend_parts.py in the same transaction
    as every write to them, and rebuilt from them by `manage.py rebuild_trend_parts`.

    A part is a calendar month: a long period's monthly buckets are its parts (the last 52 or 104 weeks
    start on a month's first day, and this month so far is its whole part, as no session is dated after
    today), but for a custom period's first and last months, which it may hold only some days of, read
    from the sessions (issue 16: the database reads
    two dozen small rows a group for two years instead of joining every session to its reflections; as
    weeks cut where a month starts, the parts were four times as many rows to add up on every view).
    Only counts and sums of ratings, the therapist's to see in full; never anyone's words. One row per
    group: `TrendPartSessions`, `TrendPartReflections`.
    """

    # Not a database constraint: rows are refreshed while a couple's sessions are being deleted in a
    # cascade, in any order; a couple's rows go with it (`trend_parts.forget_couple`).
    couple = models.ForeignKey(Couple, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    first_day = models.DateField()
    last_day = models.DateField()

    class Meta:
        abstract = True


class TrendPartSessions(TrendPart):
    """A part's sessions by assignment and giver (`aggregation._grouped_sessions`, therapist scope)."""

    assignment_id = models.BigIntegerField()
    giver_id = models.BigIntegerField()
    shape = models.CharField(max_length=20, choices=ExerciseShape.choices)
    n = models.PositiveIntegerField()
    both = models.PositiveIntegerField()
    giver_sum = models.IntegerField(null=True)
    receiver_sum = models.IntegerField(null=True)
    paused = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["couple", "first_day", "assignment_id", "giver_id"], name="trendpartsessions_one_per_group"
            )
        ]

    def __str__(self) -> str:
        return f"Trend part (sessions) {self.pk}"


class TrendPartReflections(TrendPart):
    """A part's reflections by partner and role (`aggregation._grouped_reflections`, therapist scope)."""

    partner_id = models.BigIntegerField()
    role = models.CharField(max_length=20, choices=ReflectionRole.choices)
    n = models.PositiveIntegerField()
    connection_sum = models.IntegerField(null=True)
    comfort_sum = models.IntegerField(null=True)
    safe_sum = models.IntegerField(null=True)
    relief_sum = models.IntegerField(null=True)
    relief_n = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["couple", "first_day", "partner_id", "role"], name="trendpartreflections_one_per_group"
            )
        ]

    def __str__(self) -> str:
        return f"Trend part (reflections) {self.pk}"
