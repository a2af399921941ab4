"""People and relationships: users, couples, partners and their invitations."""

import secrets
import zoneinfo
from datetime import date, datetime, time

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.clinical import ClinicalQuerySet
from accounts.text_limits import text_within_limits

# Limits on what people type, in characters (accounts/text_limits.py): generous for what each holds,
# held by the database and by the forms alike.
EMAIL_MAX_LENGTH = 254  # the longest address SMTP carries (RFC 5321); Django's EmailField default
USER_NAME_MAX_LENGTH = 80
COUPLE_LABEL_MAX_LENGTH = 80  # first names, e.g. "Alex & Sam"
PARTNER_NAME_MAX_LENGTH = 40  # one first name


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """Someone who signs in with their email address: a therapist or a partner."""

    class Role(models.TextChoices):
        THERAPIST = "therapist", _("Therapist")
        PARTNER = "partner", _("Partner")

    username = None
    first_name = None
    last_name = None
    email = models.EmailField(_("email address"), max_length=EMAIL_MAX_LENGTH, unique=True)
    name = models.CharField(max_length=USER_NAME_MAX_LENGTH, blank=True, help_text=_("How Tend greets you."))
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.THERAPIST)
    # A therapist's "a client in Tend needs your attention" emails (intimacy/reminders.py). Off counts
    # only while the therapist has no active couple: urgent alerts never go nowhere.
    alert_emails = models.BooleanField(_("email me when a client needs attention"), default=True)
    # Where those emails go instead of the sign-in address; set only once the address is confirmed
    # through a signed link sent to it (accounts/services.py alert_address_confirm).
    alert_email = models.EmailField(_("address for urgent emails"), max_length=EMAIL_MAX_LENGTH, blank=True)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            text_within_limits(
                "user_text_within_limits",
                {"email": EMAIL_MAX_LENGTH, "name": USER_NAME_MAX_LENGTH, "alert_email": EMAIL_MAX_LENGTH},
            ),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_therapist(self) -> bool:
        return self.role == self.Role.THERAPIST

    @property
    def is_partner(self) -> bool:
        return self.role == self.Role.PARTNER

    @property
    def alert_address(self) -> str:
        """Where a therapist's urgent emails go: the confirmed address they chose, else the sign-in."""
        return self.alert_email or self.email


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Choose a time zone from the list."))


class CoupleQuerySet(ClinicalQuerySet):
    def visible_to(self, user) -> "CoupleQuerySet":
        """The couples this user may see at all: a therapist's caseload, or a partner's own couple."""
        if not user.is_authenticated:
            return self.none()
        if user.role == User.Role.THERAPIST:
            return self.filter(therapist=user)
        return self.filter(partners__user=user)


# Choices used in a model's constraints live at module level: its Meta cannot see names in its class.
class CoupleStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    CLOSED = "closed", _("Closed")


class Couple(models.Model):
    Status = CoupleStatus

    therapist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="couples")
    label = models.CharField(
        max_length=COUPLE_LABEL_MAX_LENGTH, help_text=_("First names are enough, e.g. “Alex & Sam”.")
    )
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    # Set once the therapist confirms they screened the relationship for coercion or violence.
    screened_at = models.DateTimeField(null=True, blank=True)
    # The therapist decides whether the couple gets their own progress page (shared reflections only).
    progress_page = models.BooleanField(_("partners' progress page"), default=False)
    # Set by an export of the record; deleting the couple is allowed only after one.
    exported_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CoupleQuerySet.as_manager()

    class Meta:
        ordering = ["label", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=CoupleStatus.values), name="couple_status_valid"),
            text_within_limits("couple_text_within_limits", {"label": COUPLE_LABEL_MAX_LENGTH}),
        ]

    def __str__(self) -> str:
        return self.label

    def get_additional_data(self) -> dict:
        # django-auditlog stores this with each audit row; intimacy/audit.py keys the row by couple.
        return {"couple": self.pk}

    @property
    def is_closed(self) -> bool:
        """A closed case is read-only: its records are kept, nothing new is written."""
        return self.status == self.Status.CLOSED

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def today(self, now: datetime | None = None) -> date:
        """Today's date where the couple lives; every 'this week' is computed from it."""
        return timezone.localtime(now or timezone.now(), self.tz).date()


class Partner(models.Model):
    """One of the exactly two members of a couple; a user once their invitation is accepted."""

    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="partners")
    # Slot 1 or 2: with the unique constraint below the database holds "two partners per couple".
    slot = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=PARTNER_NAME_MAX_LENGTH, help_text=_("The first name the couple uses."))
    email = models.EmailField(max_length=EMAIL_MAX_LENGTH)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="partner"
    )
    # Changing it (on re-send) invalidates every invite link issued before.
    invite_nonce = models.CharField(max_length=32, default="", blank=True)
    # When the current invitation was emailed (None until an email went out), and when its link was
    # first opened: what the therapist sees instead of the link, which reaches the invitee alone.
    invited_at = models.DateTimeField(null=True, blank=True)
    invite_opened_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    consent_version = models.CharField(max_length=16, blank=True)
    consent_accepted_at = models.DateTimeField(null=True, blank=True)
    consent_withdrawn_at = models.DateTimeField(null=True, blank=True)
    # Reminder emails (intimacy/reminders.py): off until the partner turns them on. The days are a bit
    # set, bit n for ISO weekday n + 1 (Monday is bit 0); the time is in the couple's time zone.
    reminders_on = models.BooleanField(_("reminder emails"), default=False)
    reminder_days = models.PositiveSmallIntegerField(default=0)
    reminder_time = models.TimeField(default=time(19, 0))
    # The "How Tend works" card on the partner's home (issue 17): shown until they dismiss it (a POST)
    # or their first session is logged (intimacy/selectors.py partner_home).
    intro_dismissed_at = models.DateTimeField(null=True, blank=True)

    objects = ClinicalQuerySet.as_manager()

    class Meta:
        ordering = ["slot"]
        constraints = [
            models.CheckConstraint(condition=Q(slot__in=[1, 2]), name="partner_slot_1_or_2"),
            models.CheckConstraint(
                condition=Q(reminder_days__gte=0, reminder_days__lte=127), name="partner_reminder_days_week"
            ),
            models.UniqueConstraint(fields=["couple", "slot"], name="partner_two_per_couple"),
            # Each partner of a couple has their own address. Across couples an address may repeat: a
            # rule there would tell a therapist that someone else's client uses it (accounts/services.py,
            # `couple_create`, keeps one therapist's caseload free of repeats instead).
            models.UniqueConstraint(Lower("email"), "couple", name="partner_email_own_in_couple"),
            text_within_limits(
                "partner_text_within_limits", {"name": PARTNER_NAME_MAX_LENGTH, "email": EMAIL_MAX_LENGTH}
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_additional_data(self) -> dict:
        # django-auditlog stores this with each audit row; intimacy/audit.py keys the row by couple.
        return {"couple": self.couple_id}

    def new_invite_nonce(self) -> None:
        self.invite_nonce = secrets.token_hex(16)

    def other_partner(self) -> "Partner | None":
        """The other member of this partner's couple (None only while a couple is being made): one query,
        or none when it was read with this one (`remember_other_partner`)."""
        if "_other_partner" in self.__dict__:
            return self.__dict__["_other_partner"]
        return Partner.objects.filter(couple_id=self.couple_id).exclude(pk=self.pk).first()

    def remember_other_partner(self, other: "Partner | None") -> None:
        """Keep `other`, read together with this partner, as `other_partner`; it shares this one's couple."""
        if other is not None:
            Partner.couple.field.set_cached_value(other, self.couple)
        self.__dict__["_other_partner"] = other

    @property
    def has_accepted(self) -> bool:
        return self.accepted_at is not None

    @property
    def withdrew_consent(self) -> bool:
        """Withdrew consent and has not given it again (a partner who never gave it has not withdrawn)."""
        return self.consent_withdrawn_at is not None and not self.has_current_consent

    @property
    def has_current_consent(self) -> bool:
        return self.consent_version == settings.TEND_CONSENT_VERSION and self.consent_accepted_at is not None

    @property
    def reminder_weekdays(self) -> list[int]:
        """The chosen reminder days as weekday numbers, Monday 0 … Sunday 6 (as `date.weekday()`)."""
        return [day for day in range(7) if self.reminder_days & (1 << day)]

    @staticmethod
    def weekdays_to_bits(weekdays) -> int:
        return sum(1 << day for day in set(weekdays))


class ReminderKind(models.TextChoices):
    PLANNED = "planned", _("Planned day")
    MIDWEEK = "midweek", _("Midweek nudge")
    REFLECTION = "reflection", _("Reflection waiting")
    CHECKIN = "checkin", _("Weekly check-in")
    URGENT_ALERT = "urgent_alert", _("A client needs attention (therapist)")


class ReminderStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Being handed to the mail server")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Gave up")
    CANCELLED = "cancelled", _("Not sent: turned off")


class ReminderChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    PUSH = "push", _("Notification")


class ReminderSend(models.Model):
    """One reminder email, recorded before it is sent. Not a clinical record, and it holds nothing
    clinical: who it is for, which kind, when, and a key built from ids and dates only.

    The unique `key` ("planned:<partner>:<local date>", "urgent_alert:<alert>", …) makes each reminder
    exist once, however many runs of `send_reminders` compute it; `claim` and `next_attempt_at` let
    exactly one run send it, and a failed send wait for the next run. "sending", written just before
    the email is handed to the mail server, is how a later run knows that a run which died may have
    sent it (intimacy/reminders.py).
    """

    Kind = ReminderKind
    Status = ReminderStatus
    Channel = ReminderChannel

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminder_sends")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    key = models.CharField(max_length=100)
    # Each reminder is sent once by each way it goes: an email, and a notification to the person's
    # devices when they turned notifications on (issue 17). The same key, one row per channel.
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.EMAIL)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When it became due, and when a run may next try it (a claim pushes this forward: the lease).
    due_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField()
    # Set by the run that claimed the row; only that run sends it.
    claim = models.UUIDField(null=True, blank=True)
    # A run died while handing it to the mail server, so it may already have gone: it was put back
    # to be sent once more, and is never sent a third time.
    maybe_sent = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ReminderStatus.values), name="remindersend_status_valid"),
            models.CheckConstraint(condition=Q(kind__in=ReminderKind.values), name="remindersend_kind_valid"),
            models.CheckConstraint(condition=Q(channel__in=ReminderChannel.values), name="remindersend_channel_valid"),
            models.UniqueConstraint(fields=["key", "channel"], name="remindersend_once_per_channel"),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="remindersend_queue"),
            models.Index(fields=["recipient", "status", "sent_at"], name="remindersend_last_sent"),
        ]

    def __str__(self) -> str:
        return f"Reminder {self.pk}"


# A push service's address for one browser (RFC 8030): https, a few hundred characters at most today.
PUSH_ENDPOINT_MAX_LENGTH = 1000
# The browser's keys, base64url: a P-256 public key (65 bytes, 87 characters) and a 16-byte secret (22).
PUSH_KEY_MAX_LENGTH = 100


class PushSubscription(models.Model):
    """One browser (a phone, a laptop) where a partner turned on notifications from Tend (issue 17).

    Not a clinical record, and it holds nothing clinical: where the push service takes a message for
    that browser, and the browser's keys that encrypt what is sent. Removed when the partner turns it
    off, when the push service says it has expired (404/410), and by "Sign out everywhere"
    (accounts/adapter.py). The endpoint and the keys are secrets of a kind: never logged."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions")
    endpoint = models.CharField(max_length=PUSH_ENDPOINT_MAX_LENGTH, unique=True)
    p256dh = models.CharField(max_length=PUSH_KEY_MAX_LENGTH)
    auth = models.CharField(max_length=PUSH_KEY_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            text_within_limits(
                "pushsubscription_text_within_limits",
                {"endpoint": PUSH_ENDPOINT_MAX_LENGTH, "p256dh": PUSH_KEY_MAX_LENGTH, "auth": PUSH_KEY_MAX_LENGTH},
            ),
        ]

    def __str__(self) -> str:
        return f"Notifications {self.pk}"

    @property
    def info(self) -> dict:
        """What pywebpush takes: the endpoint and the keys."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}
