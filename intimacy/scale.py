"""Scale data for performance work: many therapists, each with many couples and years of homework.

`seed_scale` is what `seed_demo --therapists T --couples-per-therapist C --weeks W` runs. The people
sign in like the demo cast (the demo password; therapists have the demo authenticator secret):
therapists `scale-therapist-{t}@example.com`, and the partners of couple k of therapist t
`scale-t{t}-c{k}-a@example.com` and `scale-t{t}-c{k}-b@example.com`.

Everything is written with `bulk_create`, which sends no signals: the generated history has no audit
rows and raises no alerts through the engine (the alerts it should have are derived here and
inserted directly). That is fine for made-up data and the only way to write ~150,000 sessions in
minutes; the demo cast of `seed_demo` still goes through the services.

Idempotent: a couple whose first partner's address exists is skipped, and each therapist's batch
is one transaction, so a second run (or a run after an interrupted one) adds only what is missing.
The data is deterministic for a given (therapist, couple, today): each couple has its own seeded
random generator.
"""

import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import models, transaction
from django.utils import timezone

from accounts.models import Couple, Partner, User
from intimacy.alerts import LOW_COMFORT_MAX
from intimacy.demo import DEMO_TOTP_SECRET, PASSWORD
from intimacy.models import Alert, Assignment, CheckIn, CoupleNote, Exercise, Reflection, Session
from intimacy.weeks import week_start

BATCH = 5000
THERAPIST_EMAIL = "scale-therapist-{t}@example.com"
PARTNER_EMAIL = "scale-t{t}-c{k}-{side}@example.com"
# Every tenth couple is not active (k = 10, 30, 50 … closed; k = 20, 40 … paused), so the caseload's
# filters have something to show. `make bench` signs in partners of the active ones.
CLOSED_EVERY, PAUSED_EVERY = 20, 20

FIRST_NAMES = (  # noqa: SIM905 - a list of words reads best as words
    "Alex Sam Jordan Riley Casey Drew Robin Kim Jamie Morgan Taylor Avery Quinn Rowan Sasha Noor Ines Marta "
    "Tomas Leila Yusuf Hana Omar Priya Ravi Mei Ken Ana Luis Eva Jonas Lena Ola Per Sina Tariq Zoe Ada Ben Cleo"
).split()
NOTES = {
    Reflection.Role.GIVER: [
        "I slowed down when I noticed I was rushing. That felt better.",
        "Hard to switch off after work, but the last few minutes were lovely.",
        "I liked just paying attention to them.",
    ],
    Reflection.Role.RECEIVER: [
        "I really relaxed. A bit lighter on the shoulders next time.",
        "It was nice to be looked after.",
        "My mind kept wandering, but my shoulders let go.",
    ],
}
THERAPIST_NOTES = ["Agreed on two evenings a week", "Talked about pace", "Work trip this week", "Discussed pausing"]


@dataclass
class ScaleResult:
    therapists: int = 0
    couples: int = 0
    sessions: int = 0
    reflections: int = 0
    alerts: int = 0
    checkins: int = 0
    notes: int = 0

    def add(self, other: "ScaleResult") -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def __str__(self) -> str:
        return ", ".join(f"{getattr(self, f.name)} {f.name}" for f in fields(self))


def couple_status(k: int) -> str:
    """The status of scale couple k (1-based) of any therapist."""
    if k % CLOSED_EVERY == CLOSED_EVERY // 2:
        return Couple.Status.CLOSED
    if k % PAUSED_EVERY == 0:
        return Couple.Status.PAUSED
    return Couple.Status.ACTIVE


@contextmanager
def _explicit_timestamps(*model_classes: type[models.Model]) -> Iterator[None]:
    """Let bulk_create store the timestamps set on each object.

    `auto_now`/`auto_now_add` fields would all say "now"; a generated history needs its own dates
    (edit windows and "quiet since" read them). The flags are restored afterwards. Not thread-safe:
    for this management command only.
    """
    changed = []
    for model in model_classes:
        for f in model._meta.concrete_fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                changed.append((f, f.auto_now, f.auto_now_add))
                f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in changed:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def seed_scale(
    *, therapists: int, couples_per_therapist: int, weeks: int, log=lambda message: None, today: date | None = None
) -> ScaleResult:
    """Add T therapists × C couples × W weeks of homework, skipping whatever exists. Returns what was added."""
    if therapists < 1 or couples_per_therapist < 1 or weeks < 1:
        raise ValueError("therapists, couples per therapist and weeks must each be at least 1")
    today = today or timezone.localdate()
    # One Argon2 hash for everyone: hashing a thousand passwords one by one would take minutes.
    password = make_password(PASSWORD)
    exercise = Exercise.objects.back_rub()
    total = ScaleResult()
    for t in range(1, therapists + 1):
        with transaction.atomic():
            therapist, created = _therapist(t, password, DEMO_TOTP_SECRET)
            wanted = {PARTNER_EMAIL.format(t=t, k=k, side="a"): k for k in range(1, couples_per_therapist + 1)}
            existing = set(Partner.objects.filter(email__in=wanted).values_list("email", flat=True))
            missing = [k for email, k in wanted.items() if email not in existing]
            result = _couples(therapist, t, missing, weeks, today, password, exercise) if missing else ScaleResult()
            result.therapists = int(created)
        total.add(result)
        log(f"  scale-therapist-{t}: {result}")
    return total


def _therapist(t: int, password: str, totp_secret: str) -> tuple[User, bool]:
    email = THERAPIST_EMAIL.format(t=t)
    user = User.objects.filter(email=email).first()
    created = user is None
    if created:
        user = User.objects.create(email=email, role=User.Role.THERAPIST, name=f"Therapist {t}", password=password)
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, totp_secret)
    return user, created


def _at(day: date, hour: int, tz) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=tz)


@dataclass
class _CoupleRows:
    """One generated couple's rows, before insert (their foreign keys are filled in as parents get ids)."""

    k: int
    couple: Couple
    users: list
    partners: list
    assignment: Assignment
    sessions: list  # (Session, [Reflection, ...])
    alerts: list
    checkins: list
    notes: list


def _couples(therapist: User, t: int, ks: list[int], weeks: int, today: date, password: str, exercise) -> ScaleResult:
    tz = timezone.get_current_timezone()
    now = timezone.now()
    generated = [
        _generate(therapist, t, k, weeks, today, now, tz, password, exercise, random.Random(f"tend-scale-{t}-{k}"))
        for k in ks
    ]
    result = ScaleResult(couples=len(generated))
    with _explicit_timestamps(Couple, Assignment, Session, Reflection, Alert, CheckIn, CoupleNote):
        Couple.objects.bulk_create([g.couple for g in generated], batch_size=BATCH)
        users = User.objects.bulk_create([u for g in generated for u in g.users], batch_size=BATCH)
        EmailAddress.objects.bulk_create(
            [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users], batch_size=BATCH
        )
        for g in generated:
            for partner, user in zip(g.partners, g.users, strict=True):
                partner.couple, partner.user = g.couple, user
            g.assignment.couple = g.couple
        Partner.objects.bulk_create([p for g in generated for p in g.partners], batch_size=BATCH)
        Assignment.objects.bulk_create([g.assignment for g in generated], batch_size=BATCH)
        sessions = []
        for g in generated:
            for session, _ in g.sessions:
                session.assignment = g.assignment
                session.giver, session.receiver, session.logged_by = (
                    g.partners[i] for i in (session.giver_slot, session.receiver_slot, session.logger_slot)
                )
                sessions.append(session)
        Session.objects.bulk_create(sessions, batch_size=BATCH)
        reflections = []
        for g in generated:
            for session, session_reflections in g.sessions:
                for reflection in session_reflections:
                    reflection.session = session
                    reflection.partner = g.partners[reflection.partner_slot]
                    reflections.append(reflection)
        Reflection.objects.bulk_create(reflections, batch_size=BATCH)
        for g in generated:
            for row in (*g.alerts, *g.checkins):
                row.couple = g.couple
                if row.partner_slot is not None:
                    row.partner = g.partners[row.partner_slot]
            for note in g.notes:
                note.couple = g.couple
        Alert.objects.bulk_create([a for g in generated for a in g.alerts], batch_size=BATCH)
        CheckIn.objects.bulk_create([c for g in generated for c in g.checkins], batch_size=BATCH)
        CoupleNote.objects.bulk_create([n for g in generated for n in g.notes], batch_size=BATCH)
    result.sessions, result.reflections = len(sessions), len(reflections)
    result.alerts = sum(len(g.alerts) for g in generated)
    result.checkins = sum(len(g.checkins) for g in generated)
    result.notes = sum(len(g.notes) for g in generated)
    return result


def _generate(therapist, t, k, weeks, today, now, tz, password, exercise, rng: random.Random) -> _CoupleRows:
    """One couple's people and `weeks` weeks of back rubs: 2–4 a week, most with both reflections."""
    status = couple_status(k)
    start = week_start(today) - timedelta(weeks=weeks - 1)
    joined = _at(start - timedelta(days=7), 10, tz)
    names = rng.sample(FIRST_NAMES, 2)
    couple = Couple(
        therapist=therapist,
        label=f"{names[0]} & {names[1]}",
        time_zone=settings.TIME_ZONE,
        status=status,
        screened_at=joined,
        progress_page=k % 3 == 0,
        created_at=joined,
    )
    users, partners = [], []
    for slot, side in ((1, "a"), (2, "b")):
        email = PARTNER_EMAIL.format(t=t, k=k, side=side)
        users.append(User(email=email, role=User.Role.PARTNER, name=names[slot - 1], password=password))
        accepted = joined + timedelta(days=1)
        partners.append(
            Partner(
                slot=slot,
                name=names[slot - 1],
                email=email,
                invited_at=joined,
                accepted_at=accepted,
                consent_version=settings.TEND_CONSENT_VERSION,
                consent_accepted_at=accepted,
            )
        )
    assignment = Assignment(
        exercise=exercise,
        target_per_week=rng.choice([2, 2, 3]),
        suggested_minutes=15,
        starts_on=start,
        ends_on=today if status == Couple.Status.CLOSED else None,
        status={
            Couple.Status.ACTIVE: Assignment.Status.ACTIVE,
            Couple.Status.PAUSED: Assignment.Status.PAUSED,
            Couple.Status.CLOSED: Assignment.Status.ENDED,
        }[status],
        note="Two or three evenings a week. Keep it short and unhurried; stopping early is fine.",
        created_at=joined,
    )
    story = rng.choice(["improving", "steady", "struggling"])
    total_days = max((today - start).days, 1)
    sessions, alert_keys, turn = [], {}, 0
    for week in range(weeks):
        monday = start + timedelta(weeks=week)
        for offset in sorted(rng.sample(range(7), rng.choice([2, 3, 3, 4]))):
            day = monday + timedelta(days=offset)
            if day > today:
                break
            progress = (day - start).days / total_days
            base = {"improving": 4.5 + 3.5 * progress, "steady": 6.5, "struggling": 6.5 - 3 * progress}[story]
            giver = turn % 2 if rng.random() > 0.15 else 1 - turn % 2
            turn += 1
            session, reflections = _session(rng, day, today, now, tz, giver, base, story)
            sessions.append((session, reflections))
            for r in reflections:
                if r.paused:
                    alert_keys.setdefault((Alert.Kind.PAUSED, r.partner_slot, monday), False)
                if r.comfort <= LOW_COMFORT_MAX:
                    alert_keys[(Alert.Kind.LOW_COMFORT, r.partner_slot, monday)] = True
    this_monday = week_start(today)
    alerts = []
    for (kind, slot, monday), urgent in alert_keys.items():
        raised = min(_at(monday + timedelta(days=6), 21, tz), now)
        alert = Alert(kind=kind, week=monday, urgent=urgent, raised_at=raised)
        alert.partner_slot = slot
        if monday < this_monday - timedelta(weeks=1):  # older ones were seen and noted by the therapist
            alert.acknowledged_at = _at(monday + timedelta(days=8), 9, tz)
            alert.acknowledged_by = therapist
            alert.acknowledgement = "Talked it over in session." if rng.random() < 0.5 else ""
        alerts.append(alert)
    return _CoupleRows(
        k=k,
        couple=couple,
        users=users,
        partners=partners,
        assignment=assignment,
        sessions=sessions,
        alerts=alerts,
        checkins=_checkins(rng, start, today, now, tz, story),
        notes=[
            CoupleNote(
                author=therapist,
                date=day,
                text=rng.choice(THERAPIST_NOTES),
                created_at=min(_at(day, 12, tz), now),
            )
            for day in sorted({start + timedelta(days=rng.randrange(total_days + 1)) for _ in range(3)})
        ],
    )


def _session(rng: random.Random, day: date, today: date, now: datetime, tz, giver: int, base: float, story: str):
    """A session (partners by slot index 0/1, set on insert) and the reflections written on it."""
    receiver = 1 - giver
    logger = giver if rng.random() < 0.7 else receiver
    logged_at = min(_at(day, 21, tz), now)
    session = Session(
        date=day,
        minutes=rng.choice([10, 15, 15, 20, 30]),
        idempotency_key=uuid.uuid4(),
        created_at=logged_at,
        updated_at=logged_at,
    )
    session.giver_slot, session.receiver_slot, session.logger_slot = giver, receiver, logger
    paused = rng.random() < (0.12 if story == "struggling" else 0.04)
    # The other partner usually reflects within a day or two; the last few days are still open.
    other_reflects = rng.random() < (0.9 if day + timedelta(days=4) <= today else 0.4)
    # Rarely, the logger deleted a session the other had reflected on: it is withdrawn, their words stay.
    withdrawn = other_reflects and rng.random() < 0.003
    if withdrawn:
        session.withdrawn_at = logged_at + timedelta(days=1)
    slots = ([] if withdrawn else [logger]) + ([1 - logger] if other_reflects else [])
    reflections = []
    for slot in slots:
        role = Reflection.Role.GIVER if slot == giver else Reflection.Role.RECEIVER
        written = logged_at if slot == logger else min(logged_at + timedelta(hours=rng.choice([1, 12, 24, 40])), now)
        reflection = Reflection(
            role=role,
            connection=_score(rng, base),
            comfort=_score(rng, base + 1, 1.0 if story != "struggling" else 1.5),
            paused=paused,
            pause_reason="We stopped early; it didn't feel right tonight." if paused and rng.random() < 0.5 else "",
            next_time="A little slower, please." if rng.random() < 0.2 else "",
            notes=rng.choice(NOTES[role]) if rng.random() < 0.35 else "",
            visibility=_visibility(rng),
            created_at=written,
            updated_at=written,
        )
        reflection.partner_slot = slot
        if role == Reflection.Role.GIVER:
            reflection.presence, reflection.giving_felt = _score(rng, base), _score(rng, base + 0.5)
        else:
            before = rng.randint(4, 8)
            reflection.tension_before, reflection.tension_after = before, max(0, before - rng.randint(0, 4))
            reflection.cared_for = _score(rng, base + 0.5)
            reflection.pressure = rng.choice(["right", "right", "light", "firm"])
            reflection.pace = rng.choice(["right", "right", "slow", "fast"])
        reflections.append(reflection)
    return session, reflections


def _score(rng: random.Random, mean: float, spread: float = 1.2) -> int:
    return max(0, min(10, round(rng.gauss(mean, spread))))


def _visibility(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.12:
        return Reflection.Visibility.PRIVATE
    if roll < 0.24:
        return Reflection.Visibility.THERAPIST
    return Reflection.Visibility.SHARED


def _checkins(rng: random.Random, start: date, today: date, now: datetime, tz, story: str) -> list[CheckIn]:
    """Both partners' weekly CSI-4 check-ins, on a bit over half of the weeks each."""
    shift = {"improving": 0.5, "steady": 0.5, "struggling": -0.8}[story]
    out, monday = [], start
    while monday <= today:
        for slot in (0, 1):
            if rng.random() < 0.55:
                values = {
                    "happiness": max(0, min(6, round(rng.gauss(3.5 + shift, 1)))),
                    "warm": max(0, min(5, round(rng.gauss(3 + shift, 1)))),
                    "rewarding": max(0, min(5, round(rng.gauss(3 + shift, 1)))),
                    "satisfied": max(0, min(5, round(rng.gauss(3 + shift, 1)))),
                }
                answered = min(_at(monday + timedelta(days=6), 20, tz), now)
                checkin = CheckIn(
                    week=monday, total=sum(values.values()), created_at=answered, updated_at=answered, **values
                )
                checkin.partner_slot = slot
                out.append(checkin)
        monday += timedelta(weeks=1)
    return out
