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
from datetime import date, datetime, time, timedelta, tzinfo

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import models, transaction
from django.utils import timezone

from accounts.models import Couple, Partner, User
from intimacy import trend_parts
from intimacy.alerts import LOW_COMFORT_MAX, LOW_SAFE_MAX
from intimacy.demo import DEMO_TOTP_SECRET, PASSWORD
from intimacy.models import (
    Alert,
    Assignment,
    CheckIn,
    CoupleNote,
    Exercise,
    HowSpoken,
    Reflection,
    SafetyCheck,
    ScreeningRecord,
    Session,
)
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
            result = ScaleResult()
            if missing:
                now, tz = timezone.now(), timezone.get_current_timezone()
                result = _couples(_Caseload(therapist, t, weeks, today, now, tz, password, exercise), missing)
                # bulk_create sends no signals: the therapist's trend parts are built from what was inserted.
                trend_parts.rebuild(list(Couple.objects.filter(therapist=therapist).values_list("pk", flat=True)))
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


@dataclass(frozen=True)
class _Story:
    """How one couple's homework goes over the generated history (picked at random per couple)."""

    mean_at_start: float  # of the 0–10 ratings
    mean_change: float  # by the last day
    pause_chance: float
    comfort_spread: float
    checkin_shift: float  # of the CSI-4 answers, all weeks alike

    def mean(self, progress: float) -> float:
        return self.mean_at_start + self.mean_change * progress


# Insertion order matters: each couple's generator picks a story by position.
STORIES = {
    "improving": _Story(mean_at_start=4.5, mean_change=3.5, pause_chance=0.04, comfort_spread=1.0, checkin_shift=0.5),
    "steady": _Story(mean_at_start=6.5, mean_change=0, pause_chance=0.04, comfort_spread=1.0, checkin_shift=0.5),
    "struggling": _Story(mean_at_start=6.5, mean_change=-3, pause_chance=0.12, comfort_spread=1.5, checkin_shift=-0.8),
}
ASSIGNMENT_STATUS = {
    Couple.Status.ACTIVE: Assignment.Status.ACTIVE,
    Couple.Status.PAUSED: Assignment.Status.PAUSED,
    Couple.Status.CLOSED: Assignment.Status.ENDED,
}


@dataclass(frozen=True)
class _Caseload:
    """What all of one therapist's generated couples share: the calendar, the password hash, the exercise."""

    therapist: User
    t: int
    weeks: int
    today: date
    now: datetime
    tz: tzinfo
    password: str
    exercise: Exercise

    @property
    def start(self) -> date:
        return week_start(self.today) - timedelta(weeks=self.weeks - 1)

    @property
    def joined(self) -> datetime:
        return self.at(self.start - timedelta(days=7), 10)

    @property
    def total_days(self) -> int:
        return max((self.today - self.start).days, 1)

    def at(self, day: date, hour: int) -> datetime:
        return datetime.combine(day, time(hour), tzinfo=self.tz)

    def past(self, day: date, hour: int) -> datetime:
        """`at`, but never later than now: this week's evening rows may still lie ahead today."""
        return min(self.at(day, hour), self.now)


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

    # Generated rows name partners by slot index (0/1): the partners have no ids until inserted.
    def link_people(self) -> None:
        for partner, user in zip(self.partners, self.users, strict=True):
            partner.couple, partner.user = self.couple, user
        self.assignment.couple = self.couple

    def link_sessions(self) -> list[Session]:
        for session, _ in self.sessions:
            session.assignment = self.assignment
            session.giver, session.receiver, session.logged_by = (
                self.partners[i] for i in (session.giver_slot, session.receiver_slot, session.logger_slot)
            )
        return [session for session, _ in self.sessions]

    def link_reflections(self) -> list[Reflection]:
        out = []
        for session, reflections in self.sessions:
            for reflection in reflections:
                reflection.session = session
                reflection.partner = self.partners[reflection.partner_slot]
                out.append(reflection)
        return out

    def link_couple_rows(self) -> None:
        for row in (*self.alerts, *self.checkins):
            row.couple = self.couple
            if row.partner_slot is not None:
                row.partner = self.partners[row.partner_slot]
        for note in self.notes:
            note.couple = self.couple


def _couples(caseload: _Caseload, ks: list[int]) -> ScaleResult:
    generated = [_generate(caseload, k, random.Random(f"tend-scale-{caseload.t}-{k}")) for k in ks]
    with _explicit_timestamps(Couple, Assignment, Session, Reflection, Alert, CheckIn, CoupleNote):
        _insert_people(generated)
        sessions = _bulk_insert(Session, [s for g in generated for s in g.link_sessions()])
        reflections = _bulk_insert(Reflection, [r for g in generated for r in g.link_reflections()])
        alerts, checkins, notes = _insert_couple_rows(generated)
    return ScaleResult(
        couples=len(generated),
        sessions=len(sessions),
        reflections=len(reflections),
        alerts=len(alerts),
        checkins=len(checkins),
        notes=len(notes),
    )


def _bulk_insert(model: type[models.Model], rows: list) -> list:
    return model.objects.bulk_create(rows, batch_size=BATCH)


def _insert_people(generated: list[_CoupleRows]) -> None:
    """Couples, their people and assignments, parents first so that each child can take their ids."""
    _bulk_insert(Couple, [g.couple for g in generated])
    users = _bulk_insert(User, [u for g in generated for u in g.users])
    _bulk_insert(EmailAddress, [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users])
    for g in generated:
        g.link_people()
    _bulk_insert(Partner, [p for g in generated for p in g.partners])
    _bulk_insert(Assignment, [g.assignment for g in generated])
    # Touch work open from the start, as for a couple the therapist has screened (intimacy/holds.py):
    # a separate conversation with each partner, and each partner's clean private check.
    _bulk_insert(
        ScreeningRecord,
        [
            ScreeningRecord(
                couple=g.couple,
                partner=p,
                date=g.assignment.starts_on,
                how=HowSpoken.IN_PERSON,
                recorded_by_id=g.couple.therapist_id,
            )
            for g in generated
            for p in g.partners
        ],
    )
    _bulk_insert(
        SafetyCheck,
        [SafetyCheck(couple=g.couple, partner=p, **SafetyCheck.FINE) for g in generated for p in g.partners],
    )


def _insert_couple_rows(generated: list[_CoupleRows]) -> tuple[list, list, list]:
    """What hangs off the couple itself: alerts, check-ins, the therapist's notes."""
    for g in generated:
        g.link_couple_rows()
    return (
        _bulk_insert(Alert, [a for g in generated for a in g.alerts]),
        _bulk_insert(CheckIn, [c for g in generated for c in g.checkins]),
        _bulk_insert(CoupleNote, [n for g in generated for n in g.notes]),
    )


def _generate(caseload: _Caseload, k: int, rng: random.Random) -> _CoupleRows:
    """One couple's people and `weeks` weeks of back rubs: 2–4 a week, most with both reflections."""
    # The order of the draws from `rng` is the data: keep it when changing anything here.
    status = couple_status(k)
    names = rng.sample(FIRST_NAMES, 2)
    couple, users, partners = _people(caseload, k, status, names)
    assignment = _assignment(caseload, status, rng)
    story = STORIES[rng.choice(list(STORIES))]
    sessions, alert_keys = _history(caseload, story, rng)
    alerts = _alerts(caseload, alert_keys, rng)
    checkins = _checkins(caseload, story, rng)
    return _CoupleRows(
        k=k,
        couple=couple,
        users=users,
        partners=partners,
        assignment=assignment,
        sessions=sessions,
        alerts=alerts,
        checkins=checkins,
        notes=_notes(caseload, rng),
    )


def _people(caseload: _Caseload, k: int, status: str, names: list[str]) -> tuple[Couple, list, list]:
    joined = caseload.joined
    couple = Couple(
        therapist=caseload.therapist,
        label=f"{names[0]} & {names[1]}",
        time_zone=settings.TIME_ZONE,
        status=status,
        screened_at=joined,
        progress_page=k % 3 == 0,
        created_at=joined,
    )
    users, partners = [], []
    accepted = joined + timedelta(days=1)
    for slot, side in ((1, "a"), (2, "b")):
        email = PARTNER_EMAIL.format(t=caseload.t, k=k, side=side)
        name = names[slot - 1]
        users.append(User(email=email, role=User.Role.PARTNER, name=name, password=caseload.password))
        partners.append(
            Partner(
                slot=slot,
                name=name,
                email=email,
                invited_at=joined,
                accepted_at=accepted,
                consent_version=settings.TEND_CONSENT_VERSION,
                consent_accepted_at=accepted,
            )
        )
    return couple, users, partners


def _assignment(caseload: _Caseload, status: str, rng: random.Random) -> Assignment:
    return Assignment(
        exercise=caseload.exercise,
        target_per_week=rng.choice([2, 2, 3]),
        suggested_minutes=15,
        starts_on=caseload.start,
        ends_on=caseload.today if status == Couple.Status.CLOSED else None,
        status=ASSIGNMENT_STATUS[status],
        note="Two or three evenings a week. Keep it short and unhurried; stopping early is fine.",
        created_at=caseload.joined,
    )


def _history(caseload: _Caseload, story: _Story, rng: random.Random) -> tuple[list, dict]:
    """The sessions week by week, and the alerts they call for as {(kind, partner slot, monday): urgent}."""
    start, total_days = caseload.start, caseload.total_days
    sessions, alert_keys, turn = [], {}, 0
    for week in range(caseload.weeks):
        monday = start + timedelta(weeks=week)
        for day in _session_days(rng, monday, caseload.today):
            # Partners mostly take turns giving; sometimes the same one gives twice in a row.
            giver = turn % 2 if rng.random() > 0.15 else 1 - turn % 2
            turn += 1
            mean = story.mean((day - start).days / total_days)
            session, reflections = _session(caseload, rng, day, giver, mean, story)
            sessions.append((session, reflections))
            _add_alert_keys(alert_keys, reflections, monday)
    return sessions, alert_keys


def _session_days(rng: random.Random, monday: date, today: date) -> list[date]:
    """2–4 evenings of the week starting `monday`, none after today."""
    days = (monday + timedelta(days=offset) for offset in sorted(rng.sample(range(7), rng.choice([2, 3, 3, 4]))))
    return [day for day in days if day <= today]


def _add_alert_keys(alert_keys: dict, reflections: list[Reflection], monday: date) -> None:
    # One alert per kind, partner and week, as the engine raises them; only a low "safe" one is urgent.
    for r in reflections:
        if r.paused:
            alert_keys.setdefault((Alert.Kind.PAUSED, r.partner_slot, monday), False)
        if r.comfort <= LOW_COMFORT_MAX:
            alert_keys.setdefault((Alert.Kind.LOW_COMFORT, r.partner_slot, monday), False)
        if r.safe <= LOW_SAFE_MAX:
            alert_keys[(Alert.Kind.LOW_SAFE, r.partner_slot, monday)] = True


def _alerts(caseload: _Caseload, alert_keys: dict, rng: random.Random) -> list[Alert]:
    last_monday = week_start(caseload.today) - timedelta(weeks=1)
    alerts = []
    for (kind, slot, monday), urgent in alert_keys.items():
        alert = Alert(kind=kind, week=monday, urgent=urgent, raised_at=caseload.past(monday + timedelta(days=6), 21))
        alert.partner_slot = slot
        if monday < last_monday:  # older ones were seen and noted by the therapist
            alert.acknowledged_at = caseload.at(monday + timedelta(days=8), 9)
            alert.acknowledged_by = caseload.therapist
            alert.acknowledgement = "Talked it over in session." if rng.random() < 0.5 else ""
        alerts.append(alert)
    return alerts


def _notes(caseload: _Caseload, rng: random.Random) -> list[CoupleNote]:
    """Up to three therapist notes on random days (two draws can fall on the same day)."""
    days = sorted({caseload.start + timedelta(days=rng.randrange(caseload.total_days + 1)) for _ in range(3)})
    return [
        CoupleNote(
            author=caseload.therapist, date=day, text=rng.choice(THERAPIST_NOTES), created_at=caseload.past(day, 12)
        )
        for day in days
    ]


def _session(caseload: _Caseload, rng: random.Random, day: date, giver: int, mean: float, story: _Story):
    """A session (partners by slot index 0/1, set on insert) and the reflections written on it."""
    receiver = 1 - giver
    logger = giver if rng.random() < 0.7 else receiver
    logged_at = caseload.past(day, 21)
    session = Session(
        date=day,
        minutes=rng.choice([10, 15, 15, 20, 30]),
        idempotency_key=uuid.uuid4(),
        created_at=logged_at,
        updated_at=logged_at,
    )
    session.giver_slot, session.receiver_slot, session.logger_slot = giver, receiver, logger
    paused = rng.random() < story.pause_chance
    # The other partner usually reflects within a day or two; the last few days are still open.
    other_reflects = rng.random() < (0.9 if day + timedelta(days=4) <= caseload.today else 0.4)
    # Rarely, the logger deleted a session the other had reflected on: it is withdrawn, their words stay.
    withdrawn = other_reflects and rng.random() < 0.003
    if withdrawn:
        session.withdrawn_at = logged_at + timedelta(days=1)
    slots = ([] if withdrawn else [logger]) + ([1 - logger] if other_reflects else [])
    reflections = []
    for slot in slots:
        written = logged_at
        if slot != logger:  # the logger reflects as they log, the other partner some hours later
            written = min(logged_at + timedelta(hours=rng.choice([1, 12, 24, 40])), caseload.now)
        reflection = _reflection(rng, slot == giver, written, mean, story, paused)
        reflection.partner_slot = slot
        reflections.append(reflection)
    return session, reflections


def _reflection(
    rng: random.Random, as_giver: bool, written: datetime, mean: float, story: _Story, paused: bool
) -> Reflection:
    role = Reflection.Role.GIVER if as_giver else Reflection.Role.RECEIVER
    reflection = Reflection(
        role=role,
        connection=_score(rng, mean),
        comfort=(comfort := _score(rng, mean + 1, story.comfort_spread)),
        safe=demo_safe(comfort),
        paused=paused,
        pause_reason="We stopped early; it didn't feel right tonight." if paused and rng.random() < 0.5 else "",
        next_time="A little slower, please." if rng.random() < 0.2 else "",
        notes=rng.choice(NOTES[role]) if rng.random() < 0.35 else "",
        visibility=_visibility(rng),
        created_at=written,
        updated_at=written,
    )
    if as_giver:
        reflection.presence, reflection.giving_felt = _score(rng, mean), _score(rng, mean + 0.5)
    else:
        before = rng.randint(4, 8)
        reflection.tension_before, reflection.tension_after = before, max(0, before - rng.randint(0, 4))
        reflection.cared_for = _score(rng, mean + 0.5)
        reflection.pressure = rng.choice(["right", "right", "light", "firm"])
        reflection.pace = rng.choice(["right", "right", "slow", "fast"])
    return reflection


def demo_safe(comfort: int) -> int:
    """A plausible "safe" rating beside a demo comfort rating: most people feel a little safer than
    comfortable. Derived rather than drawn, so the demo's random sequence stays as it was."""
    return min(10, comfort + 1)


def _score(rng: random.Random, mean: float, spread: float = 1.2) -> int:
    return max(0, min(10, round(rng.gauss(mean, spread))))


def _visibility(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.12:
        return Reflection.Visibility.PRIVATE
    if roll < 0.24:
        return Reflection.Visibility.THERAPIST
    return Reflection.Visibility.SHARED


def _checkins(caseload: _Caseload, story: _Story, rng: random.Random) -> list[CheckIn]:
    """Both partners' weekly CSI-4 check-ins, on a bit over half of the weeks each."""
    shift = story.checkin_shift
    out, monday = [], caseload.start
    while monday <= caseload.today:
        for slot in (0, 1):
            if rng.random() < 0.55:
                values = {
                    "happiness": max(0, min(6, round(rng.gauss(3.5 + shift, 1)))),
                    "warm": max(0, min(5, round(rng.gauss(3 + shift, 1)))),
                    "rewarding": max(0, min(5, round(rng.gauss(3 + shift, 1)))),
                    "satisfied": max(0, min(5, round(rng.gauss(3 + shift, 1)))),
                }
                answered = caseload.past(monday + timedelta(days=6), 20)
                checkin = CheckIn(
                    week=monday, total=sum(values.values()), created_at=answered, updated_at=answered, **values
                )
                checkin.partner_slot = slot
                out.append(checkin)
        monday += timedelta(weeks=1)
    return out
