import uuid
from datetime import date, timedelta

import factory
from allauth.account.models import EmailAddress
from django.conf import settings
from django.utils import timezone

from accounts.models import Couple, Partner, User
from intimacy import trend_parts
from intimacy.models import Assignment, Exercise, Reflection, SafetyCheck, ScreeningRecord, Session

PASSWORD = "a-long-test-password-42"
# Every therapist and staff member gets an authenticator app with this secret (the demo's too).
TOTP_SECRET = "JBSWY3DPEHPK3PXP"


def totp_code(secret: str = TOTP_SECRET, offset: int = 0) -> str:
    """The authenticator app's current code (`offset` periods later, for a second sign-in)."""
    import time

    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + offset))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    role = User.Role.THERAPIST
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(obj, create, extracted, **kwargs):
        if create:
            obj.save()
            EmailAddress.objects.create(user=obj, email=obj.email, verified=True, primary=True)

    @factory.post_generation
    def second_factor(obj, create, extracted, **kwargs):
        """Therapists and staff must have one (SessionRulesMiddleware); `second_factor=False` for none."""
        if create and extracted is not False and (obj.is_staff or obj.role == User.Role.THERAPIST):
            from allauth.mfa.totp.internal.auth import TOTP

            TOTP.activate(obj, TOTP_SECRET)


class CoupleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Couple

    therapist = factory.SubFactory(UserFactory)
    label = factory.Sequence(lambda n: f"Couple {n}")
    time_zone = "Europe/London"
    screened_at = factory.LazyFunction(timezone.now)


class PartnerFactory(factory.django.DjangoModelFactory):
    """A partner who accepted the invite and the consent, with a user account."""

    class Meta:
        model = Partner
        skip_postgeneration_save = True

    couple = factory.SubFactory(CoupleFactory)
    slot = 1
    name = factory.Sequence(lambda n: f"Partner{n}")
    email = factory.Sequence(lambda n: f"partner{n}@example.org")
    user = factory.LazyAttribute(lambda o: UserFactory(email=o.email, role=User.Role.PARTNER))
    invite_nonce = "n0nce"
    accepted_at = factory.LazyFunction(timezone.now)
    consent_accepted_at = factory.LazyFunction(timezone.now)
    consent_version = factory.LazyFunction(lambda: settings.TEND_CONSENT_VERSION)

    @factory.post_generation
    def cleared(obj, create, extracted, **kwargs):
        """Cleared for touch work (issue 13): the therapist spoke with them alone and they answered the
        private check without a flag. `cleared=False` for a partner who has done neither yet."""
        if create and extracted is not False:
            ScreeningRecord.objects.create(couple=obj.couple, partner=obj, date=date(2026, 1, 1), how="in_person")
            SafetyCheck.objects.create(couple=obj.couple, partner=obj, **SafetyCheck.FINE)


def back_rub() -> Exercise:
    return Exercise.objects.back_rub()


class ExerciseFactory(factory.django.DjangoModelFactory):
    """A therapist's own exercise of any shape (`shape=Exercise.Shape.TALK`); built-ins come from the
    data migration, never from here."""

    class Meta:
        model = Exercise

    owner = None
    title = factory.Sequence(lambda n: f"Exercise {n}")
    summary = "One short sentence."
    guidance = "Plain words on how to do it."
    suggested_minutes = 15
    shape = Exercise.Shape.TOUCH


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assignment

    couple = factory.SubFactory(CoupleFactory)
    exercise = factory.LazyFunction(back_rub)
    target_per_week = 2
    suggested_minutes = 15
    starts_on = date(2026, 1, 1)


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Session

    assignment = factory.SubFactory(AssignmentFactory)
    date = date(2026, 11, 20)
    minutes = 15
    idempotency_key = factory.LazyFunction(uuid.uuid4)


class ReflectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reflection

    connection = 7
    comfort = 8
    safe = 9
    visibility = Reflection.Visibility.SHARED


def weekly_checkins(partners, last_monday: date, weeks: int) -> None:
    """Every partner's CSI-4 check-in for `weeks` weeks back from the week of `last_monday`, in bulk.

    Answers 3, 3, 3, 3 (total 12) each week: for tests about data size, not about scores.
    """
    from intimacy.models import CheckIn

    CheckIn.objects.bulk_create(
        CheckIn(
            couple=p.couple,
            partner=p,
            week=last_monday - timedelta(weeks=w),
            happiness=3,
            warm=3,
            rewarding=3,
            satisfied=3,
            total=12,
        )
        for w in range(weeks)
        for p in partners
    )


def weeks_of_homework(
    assignment: Assignment,
    a: Partner,
    b: Partner,
    weeks: int,
    *,
    latest_week: tuple[date, date],
    private_every: int = 0,
    paused_every: int = 0,
    receiver_notes: str = "",
    pressure: str = "",
    pace: str = "",
    checkins_until: date | None = None,
) -> list[Session]:
    """Two sessions a week for `weeks` weeks, both reflected, in bulk: for tests about data size.

    `latest_week` holds the dates of the newest week's two sessions (`a` gives the first, `b` the
    second); each earlier week repeats them seven days before. Every giver rates connection 7,
    comfort 8 and safe 9; every receiver 6, 7 and 8, tension 6 before and 3 after. Counting sessions from the newest:
    the receiver's reflection is "Just me" on every `private_every`-th and the giver paused on every
    `paused_every`-th (0: never). `checkins_until`: both partners' weekly check-ins too, for the same
    number of weeks up to that Monday (`weekly_checkins`).
    """
    # As the services refuse one (services._check_session_date), and as the trends count on (a period that
    # runs to today reads this month's whole part, aggregation._groups_from_parts): none after today.
    if max(latest_week) > assignment.couple.today():
        raise ValueError(f"{max(latest_week)} is after the couple's today, {assignment.couple.today()}")
    sessions = [
        Session(assignment=assignment, date=day - timedelta(weeks=w), minutes=15, giver=g, receiver=r, logged_by=g)
        for w in range(weeks)
        for day, (g, r) in zip(latest_week, ((a, b), (b, a)), strict=True)
    ]
    Session.objects.bulk_create(sessions)

    def every(n: int, i: int) -> bool:
        return bool(n) and i % n == 0

    Reflection.objects.bulk_create(
        reflection
        for i, s in enumerate(sessions)
        for reflection in (
            Reflection(
                session=s, partner=s.giver, role="giver", connection=7, comfort=8, safe=9, paused=every(paused_every, i)
            ),
            Reflection(
                session=s,
                partner=s.receiver,
                role="receiver",
                connection=6,
                comfort=7,
                safe=8,
                tension_before=6,
                tension_after=3,
                pressure=pressure,
                pace=pace,
                notes=receiver_notes,
                visibility=Reflection.Visibility.PRIVATE if every(private_every, i) else Reflection.Visibility.SHARED,
            ),
        )
    )
    if checkins_until is not None:
        weekly_checkins([a, b], checkins_until, weeks)
    # bulk_create sends no signals: the therapist's trend parts are built as the scale seeding builds them.
    trend_parts.rebuild([assignment.couple_id])
    return sessions
