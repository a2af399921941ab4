"""Demo practice: two therapists, three couples, eight weeks of varied sessions. Idempotent."""

import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction
from django.utils import timezone

from accounts import services as people
from accounts.models import Couple, Partner, User
from intimacy import csi4, scale, services
from intimacy.alerts import alerts_raise
from intimacy.builtin import STRESS_OF_THE_DAY_KEY
from intimacy.demo import DEMO_TOTP_SECRET, PASSWORD
from intimacy.models import SHAPE_ROLES, Exercise, Program, ReadinessAnswer, Reflection, SafetyCheck
from intimacy.programs_builtin import EXAMPLE_PROGRAM_KEY
from intimacy.weeks import week_start

# The name each demo therapist signs invitations with ("Dr Lee invited you to Tend").
THERAPIST_NAMES = {"therapist@example.com": "Dr Morgan Lee", "therapist2@example.com": "Dr Priya Shah"}
THERAPISTS = {
    "therapist@example.com": [("Alex & Sam", "Alex", "alex@example.com", "Sam", "sam@example.com", "improving")],
    "therapist2@example.com": [("Casey & Drew", "Casey", "casey@example.com", "Drew", "drew@example.com", "steady")],
}
THERAPISTS["therapist@example.com"].append(
    ("Jordan & Riley", "Jordan", "jordan@example.com", "Riley", "riley@example.com", "struggling")
)
# The demo couple on the example program, at its second step (issue 15).
PROGRAM_COUPLE = "Jordan & Riley"
# The demo couple who also talk about the day's stresses (a talk exercise, issue 15), for the last TALK_WEEKS
# weeks, with numbers drawn from their own random sequence (TALK_SEED): the rest of the demo draws from the
# main one, and stays as it was.
TALK_COUPLE = "Casey & Drew"
TALK_WEEKS = 4
TALK_SEED = 15

NOTES = {
    Reflection.Role.GIVER: [
        "I slowed down when I noticed I was rushing. That felt better.",
        "Hard to switch off after work, but the last few minutes were lovely.",
        "I liked just paying attention to them.",
        "Felt a bit awkward at first, then easier.",
    ],
    Reflection.Role.RECEIVER: [
        "I really relaxed. I'd like a bit lighter on the shoulders next time.",
        "It was nice to be looked after.",
        "My mind kept wandering to tomorrow, but my shoulders let go.",
        "Felt close to them afterwards.",
    ],
    Reflection.Visibility.PRIVATE: [
        "I still feel tense about touch after the argument last week. Not ready to say it out loud.",
        "Writing this just for me: it was better than I expected.",
    ],
    Reflection.Visibility.THERAPIST: [
        "I want to talk about how rushed it felt. Please bring it up gently.",
        "I stopped because a memory came up. I'd like to discuss it in session.",
    ],
    Reflection.Role.SPEAKER: [
        "Work was a lot today. It helped to say it out loud.",
        "They didn't try to fix it, which was exactly right.",
        "I rambled a bit, but I felt heard.",
    ],
    Reflection.Role.LISTENER: [
        "I wanted to give advice and held it back. Harder than it sounds.",
        "I understood why the meeting got to them.",
        "I drifted once, then came back to it.",
    ],
}


@dataclass(frozen=True)
class DemoStory:
    """How a demo couple's eight weeks go, from the ratings to what the therapist wrote down."""

    mean_at_start: float  # of the 0–10 ratings
    mean_change: float  # by today
    gaps: tuple[int, ...]  # days between sessions, one picked at random each time
    # The CSI-4 answers' mean at the start (4 answers: a total near 4 ×; 13.5 is the line) and its drift
    # per four weeks.
    checkin_start: float
    checkin_drift: float
    notes: tuple[tuple[int, str], ...]  # the therapist's (weeks ago, text)
    progress_page: bool = False
    checkin_last_week: float = 0  # a change of the mean CSI-4 answer in the last week alone
    # 0: the couple never stops early, and no number is drawn for it (the demo's random sequence depends on it).
    pause_chance: float = 0

    def mean(self, progress: float) -> float:
        return self.mean_at_start + self.mean_change * progress


DEMO_STORIES = {
    "improving": DemoStory(
        mean_at_start=5,
        mean_change=3,
        gaps=(2, 3, 4),
        # Starts below the line (a total near 12) and rises reliably, to near 18.
        checkin_start=3,
        checkin_drift=0.75,
        notes=((6, "Agreed on two evenings a week"), (2, "Alex: work trip this week")),
        progress_page=True,
    ),
    "steady": DemoStory(
        mean_at_start=6.5,
        mean_change=0,
        gaps=(2, 3, 4),
        checkin_start=4.1,  # steady above the line: totals near 16
        checkin_drift=0,
        notes=((4, "Talked about pace"),),
    ),
    "struggling": DemoStory(
        mean_at_start=6.5,
        mean_change=-2.5,
        gaps=(3, 4, 6),
        # Starts above the line (near 17) and drifts down, then a hard last week ends below it (near 10):
        # a reliable drop, and a crossing of the line that week.
        checkin_start=4.4,
        checkin_drift=-0.3,
        checkin_last_week=-1.2,
        notes=((5, "Riley raised feeling rushed"), (1, "Discuss pausing safely")),
        pause_chance=0.15,
    ),
}


class Command(BaseCommand):
    help = "Create the demo practice (password tend-demo-2026). Safe to run again: it changes nothing then."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Seed even with DEBUG off (the demo secrets are public)."
        )
        # Scale data for performance work (intimacy/scale.py, docs/PERFORMANCE.md), added after the demo cast.
        parser.add_argument("--therapists", type=int, default=0, help="Also add this many scale therapists.")
        parser.add_argument("--couples-per-therapist", type=int, default=50, help="Scale couples per therapist.")
        parser.add_argument("--weeks", type=int, default=104, help="Weeks of homework per scale couple.")

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "The demo's password and authenticator secret are public. Refusing with DEBUG off; "
                "use --force on a machine that is not a real practice."
            )
        rng = random.Random(2026)  # the same demo every time
        for therapist_email, couples in THERAPISTS.items():
            therapist = self._user(therapist_email, User.Role.THERAPIST, THERAPIST_NAMES[therapist_email])
            for spec in couples:
                self._couple(therapist, spec, rng)
        self.stdout.write(self.style.SUCCESS("Demo ready at http://127.0.0.1:8000/ — every password: " + PASSWORD))
        for therapist_email, couples in THERAPISTS.items():
            partners = ", ".join(f"{c[2]} / {c[4]}" for c in couples)
            self.stdout.write(f"  therapist {therapist_email}  (couples' partners: {partners})")
        self.stdout.write(
            f"Therapists also need a code: add the secret {DEMO_TOTP_SECRET} to an authenticator app, "
            "or run `python manage.py demo_code`."
        )
        if options["therapists"]:
            self._scale(options["therapists"], options["couples_per_therapist"], options["weeks"])

    def _scale(self, therapists: int, couples: int, weeks: int) -> None:
        started = time.monotonic()
        self.stdout.write(f"Scale data: {therapists} therapists × {couples} couples × {weeks} weeks (bulk inserts)")
        added = scale.seed_scale(
            therapists=therapists, couples_per_therapist=couples, weeks=weeks, log=self.stdout.write
        )
        self.stdout.write(self.style.SUCCESS(f"Scale data added in {time.monotonic() - started:.1f} s: {added}"))
        self.stdout.write(
            "  sign in as scale-therapist-1@example.com …, partners scale-t1-c1-a@example.com / -b@example.com …"
        )

    def _user(self, email: str, role: str, name: str = "") -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User(email=email, role=role, name=name)
            user.set_password(PASSWORD)
            user.save()
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
            if role == User.Role.THERAPIST:
                TOTP.activate(user, DEMO_TOTP_SECRET)
        return user

    @transaction.atomic
    def _couple(self, therapist: User, spec, rng: random.Random) -> None:
        label, name1, email1, name2, email2, story_name = spec
        story = DEMO_STORIES[story_name]
        if Partner.objects.filter(email=email1).exists():
            return
        couple = people.couple_create(
            therapist=therapist,
            label=label,
            time_zone=settings.TIME_ZONE,
            partners=[people.NewPartner(name1, email1), people.NewPartner(name2, email2)],
        )
        now = timezone.now()
        for partner in couple.partners.all():
            partner.user = self._user(partner.email, User.Role.PARTNER, partner.name)
            partner.accepted_at = partner.consent_accepted_at = now - timedelta(days=60)
            partner.consent_version = settings.TEND_CONSENT_VERSION
            partner.save()
        today = couple.today()
        start = week_start(today) - timedelta(weeks=8)
        assignment = services.assignment_create(
            couple=couple,
            exercise=Exercise.objects.back_rub(),
            target_per_week=2,
            suggested_minutes=15,
            starts_on=start,
            note="Try two evenings a week. Keep it short and unhurried; stopping early is fine.",
        )
        # The therapist spoke with each partner alone, and each answered the private check.
        for partner in couple.partners.all():
            services.screening_record(couple=couple, partner=partner, by=therapist, day=start, how="in_person")
            services.safety_check_answer(partner=partner, answers=dict(SafetyCheck.FINE))
        self._sessions(couple, assignment, start, today, story, rng)
        if label == TALK_COUPLE:
            _talk_about_the_days_stresses(couple, today, story)
        _date_reflections(couple)
        self._checkins(couple, start, today, story, rng)
        # The therapist's own dated notes mark the dashboard's charts; one couple sees their progress page.
        for weeks_ago, text in story.notes:
            services.note_add(couple=couple, author=therapist, day=today - timedelta(weeks=weeks_ago), text=text)
        if story.progress_page:
            people.couple_set_progress_page(couple=couple, enabled=True)
        if label == PROGRAM_COUPLE:
            _walk_the_example_program(couple, therapist, assignment)
        # Each back-dated write above raised alerts as of today with only part of the history in
        # place (e.g. "no session for 14 days" before the later sessions existed): raise them afresh.
        for alert in couple.alerts.all():  # one by one: clinical models allow no bulk delete (audit trail)
            alert.delete()
        alerts_raise(couple=couple)

    def _checkins(self, couple: Couple, start, today, story: DemoStory, rng: random.Random) -> None:
        """Most weeks each partner answers the CSI-4 check-in; the story shapes the trend."""
        weeks = (today - start).days // 7
        for partner in couple.partners.all():
            for week in range(weeks + 1):
                # Optional, so some weeks are skipped; never the first two (the baseline) or the last two
                # (the latest change, and the week before it, are what the dashboard and alerts judge).
                if 2 <= week < weeks - 1 and rng.random() < 0.2:
                    continue
                base = story.checkin_start + week * story.checkin_drift / 4
                if week == weeks:
                    base += story.checkin_last_week
                answers = {
                    field: max(0, min(top, round(rng.gauss(base, 0.5))))
                    for field, top in zip(csi4.FIELDS, (6, 5, 5, 5), strict=True)
                }
                services.checkin_save(partner=partner, answers=answers, today=start + timedelta(weeks=week))

    def _sessions(self, couple: Couple, assignment, start, today, story: DemoStory, rng: random.Random) -> None:
        a, b = list(couple.partners.all())
        day, turn = start + timedelta(days=1), 0
        total_days = (today - start).days or 1
        while day <= today:
            mean = story.mean((day - start).days / total_days)
            giver, receiver = (a, b) if turn % 2 == 0 else (b, a)
            paused = story.pause_chance > 0 and rng.random() < story.pause_chance
            session = _give(assignment, giver, day, mean, paused, rng)
            # The newest session of each couple waits for the receiver's reflection.
            if day + timedelta(days=4) <= today:
                _receive(session, receiver, mean, paused, rng)
            turn += 1
            day += timedelta(days=rng.choice(story.gaps))


def _walk_the_example_program(couple: Couple, therapist: User, back_rub) -> None:
    """The built-in example program (issue 15), with the back rub the couple have done for eight weeks as its
    first step: both said they were ready, and the therapist approved the second step, which starts today.
    Without the library's exercises the example has no second step, and the couple stay as they were."""
    program = Program.objects.filter(builtin_key=EXAMPLE_PROGRAM_KEY).first()
    stages = list(program.stages.order_by("position")) if program else []
    if len(stages) < 2 or stages[0].exercise_id != back_rub.exercise_id:
        return
    step = services.program_assign(couple=couple, program=program, current=back_rub).steps.get()
    for partner in couple.partners.all():
        services.readiness_answer(step=step, partner=partner, answer=ReadinessAnswer.Answer.READY)
    services.program_stage_approve(step=step, by=therapist)


def _talk_about_the_days_stresses(couple: Couple, today, story: DemoStory) -> None:
    """The library's daily stress talk (issue 15) beside the back rub, for the last TALK_WEEKS weeks: two or
    three talks a week, the partners taking turns to speak, each logged by the speaker and reflected on by
    the listener (the newest waits for the listener). Its own random sequence, so the rest stays as it was.
    Without the library the couple keep only their back rub."""
    exercise = Exercise.objects.filter(builtin_key=STRESS_OF_THE_DAY_KEY).first()
    if exercise is None:
        return
    rng = random.Random(TALK_SEED)
    start = week_start(today) - timedelta(weeks=TALK_WEEKS)
    talk = services.assignment_create(
        couple=couple,
        exercise=exercise,
        target_per_week=3,
        suggested_minutes=exercise.suggested_minutes,
        starts_on=start,
        note="A short talk most evenings, about anything but the two of you. Listening is the whole job.",
    )
    speaker_role, listener_role = SHAPE_ROLES[exercise.shape]
    a, b = list(couple.partners.all())
    day, turn = start + timedelta(days=1), 0
    while day <= today:
        speaker, listener = (a, b) if turn % 2 == 0 else (b, a)
        mean = story.mean(1)
        session, _ = services.session_log(
            assignment=talk,
            partner=speaker,
            day=day,
            minutes=rng.choice([10, 15, 20, 20]),
            role=speaker_role,
            answers=_talk_answers(speaker_role, mean, rng),
            idempotency_key=uuid.uuid4(),
        )
        if day + timedelta(days=3) <= today:
            services.reflection_add(session=session, partner=listener, answers=_talk_answers(listener_role, mean, rng))
        turn += 1
        day += timedelta(days=rng.choice((2, 3)))


def _talk_answers(role: str, mean: float, rng: random.Random) -> dict:
    """A speaker's or a listener's reflection on a talk: the questions every role answers, then its own."""
    answers = {
        "connection": _score(rng, mean),
        "comfort": (comfort := _score(rng, mean + 1, 1.0)),
        "safe": scale.demo_safe(comfort),
        "paused": False,
        "notes": rng.choice(NOTES[role]) if rng.random() < 0.5 else "",
        "visibility": Reflection.Visibility.SHARED,
    }
    for question in Reflection.ROLE_QUESTIONS[role]:
        answers[question] = _score(rng, mean + 0.5)
    return answers


def _date_reflections(couple: Couple) -> None:
    """Each reflection written on the evening of its session, as a couple would, not at seeding time:
    otherwise every shared side of the last seven days' seeding would wait for the other partner
    (the reveal rule, issue 14) on sessions weeks old. A base QuerySet on purpose: clinical querysets
    refuse bulk writes so that real edits keep their audit rows; this is back-dating demo data."""
    evening, now = datetime.min.time().replace(hour=21), timezone.now()
    for pk, day in Reflection.objects.filter(session__assignment__couple=couple).values_list("pk", "session__date"):
        written = min(datetime.combine(day, evening, tzinfo=couple.tz), now)
        models.QuerySet(model=Reflection).filter(pk=pk).update(created_at=written, updated_at=written)


# The order of the draws from `rng` is the demo: keep it when changing the helpers below.


def _give(assignment, giver: Partner, day, mean: float, paused: bool, rng: random.Random):
    """The giver logs the session with their reflection."""
    visibility, note = _visibility_and_note(Reflection.Role.GIVER, rng)
    session, _ = services.session_log(
        assignment=assignment,
        partner=giver,
        day=day,
        minutes=rng.choice([10, 15, 15, 20]),
        role=Reflection.Role.GIVER,
        answers={
            "connection": _score(rng, mean),
            "comfort": (comfort := _score(rng, mean + 1, 1.0)),
            "safe": scale.demo_safe(comfort),
            "presence": _score(rng, mean),
            "giving_felt": _score(rng, mean),
            "paused": paused,
            "pause_reason": "We stopped early; it didn't feel right tonight." if paused else "",
            "notes": note,
            "visibility": visibility,
        },
        idempotency_key=uuid.uuid4(),
    )
    return session


def _receive(session, receiver: Partner, mean: float, paused: bool, rng: random.Random) -> None:
    visibility, note = _visibility_and_note(Reflection.Role.RECEIVER, rng)
    before = rng.randint(5, 8)
    services.reflection_add(
        session=session,
        partner=receiver,
        answers={
            "connection": _score(rng, mean),
            "comfort": (comfort := _score(rng, mean + 1, 1.0)),
            "safe": scale.demo_safe(comfort),
            "tension_before": before,
            "tension_after": max(0, before - rng.randint(1, 4)),
            "cared_for": _score(rng, mean),
            "pressure": rng.choice(["right", "right", "light", "firm"]),
            "pace": rng.choice(["right", "right", "fast"]),
            "paused": paused,
            "next_time": "A little slower, please." if rng.random() < 0.3 else "",
            "notes": note,
            "visibility": visibility,
        },
    )


def _score(rng: random.Random, mean: float, spread: float = 1.2) -> int:
    return max(0, min(10, round(rng.gauss(mean, spread))))


def _visibility_and_note(role: str, rng: random.Random) -> tuple[str, str]:
    """Private and therapist-only reflections always say something: that is why they are kept from the partner."""
    roll = rng.random()
    if roll < 0.12:
        return Reflection.Visibility.PRIVATE, rng.choice(NOTES[Reflection.Visibility.PRIVATE])
    if roll < 0.24:
        return Reflection.Visibility.THERAPIST, rng.choice(NOTES[Reflection.Visibility.THERAPIST])
    return Reflection.Visibility.SHARED, rng.choice(NOTES[role]) if rng.random() < 0.6 else ""
