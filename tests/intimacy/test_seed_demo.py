"""`seed_demo`: the documented practice, and scale data beside it (`--therapists …`).

The demo logs its eight weeks of sessions through the services, which is the slow part: it runs once
for the module, on an empty database and with the scale arguments, and both tests read that run.
"""

import io

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from accounts.models import Couple, Partner, User
from intimacy.models import Alert, CheckIn, Reflection, Session
from tests.factories import totp_code

pytestmark = pytest.mark.django_db

SCALE = ("--therapists", "1", "--couples-per-therapist", "2", "--weeks", "2")


@pytest.fixture(scope="module")
def seeded(module_db) -> None:
    with module_db.unblock(), override_settings(DEBUG=True):
        assert not User.objects.exists()
        call_command("seed_demo", *SCALE, stdout=io.StringIO())


def _counts() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in (User, Couple, Session, Reflection))


@override_settings(DEBUG=True)
def test_seed_demo_builds_the_documented_practice_once(seeded):
    counts = _counts()
    call_command("seed_demo", stdout=io.StringIO())  # again, without the scale arguments: nothing new
    assert _counts() == counts
    # The demo's own people and couples, beside the scale data.
    users = User.objects.exclude(email__startswith="scale-")
    couples = Couple.objects.exclude(therapist__email__startswith="scale-")
    assert (users.count(), couples.count()) == (8, 3)  # 2 therapists + 6 partners; 3 couples
    therapist = User.objects.get(email="therapist@example.com")
    assert therapist.check_password("tend-demo-2026") and therapist.is_therapist
    assert sorted(c.label for c in Couple.objects.filter(therapist=therapist)) == ["Alex & Sam", "Jordan & Riley"]
    assert Couple.objects.get(label="Casey & Drew").therapist.email == "therapist2@example.com"
    assert Partner.objects.get(email="alex@example.com").user.check_password("tend-demo-2026")
    # Eight weeks of sessions, with private text of both kinds for the therapist to see handled.
    sessions = Session.objects.filter(assignment__couple__in=couples)
    assert sessions.count() >= 3 * 8
    reflections = Reflection.objects.filter(session__in=sessions)
    assert reflections.filter(visibility="private").exclude(notes="").exists()
    assert reflections.filter(visibility="therapist").exclude(notes="").exists()
    # Demo therapists sign in with the documented authenticator secret; partners have none.
    assert TOTP(therapist.authenticator_set.get(type="totp")).validate_code(totp_code("JBSWY3DPEHPK3PXP"))
    assert not Partner.objects.get(email="alex@example.com").user.authenticator_set.exists()


def test_seed_demo_takes_the_scale_arguments(seeded):
    assert Couple.objects.filter(therapist__email="scale-therapist-1@example.com").count() == 2
    assert User.objects.filter(email="therapist@example.com").exists()  # the demo cast too


def _totals(email: str) -> list[int]:
    return list(CheckIn.objects.filter(partner__email=email).order_by("week").values_list("total", flat=True))


def test_seed_demo_checkins_tell_three_stories(seeded):
    """Steady couples start above the 13.5 line; one couple drifts down and ends below it with a big
    drop; one improves. Baselines are the mean of the first two totals (intimacy/csi4.py)."""
    for email in ("casey@example.com", "drew@example.com", "jordan@example.com", "riley@example.com"):
        first_two = _totals(email)[:2]
        assert sum(first_two) / 2 > 13.5, email
    for email in ("casey@example.com", "drew@example.com"):  # steady: never below the line
        assert min(_totals(email)) > 13.5, email
    for email in ("jordan@example.com", "riley@example.com"):  # drifting down, a hard last week
        totals = _totals(email)
        assert totals[-2] >= 13.5 > totals[-1], email
        assert sum(totals[:2]) / 2 - totals[-1] >= 6, email  # far beyond any plausible noise
    for email in ("alex@example.com", "sam@example.com"):  # improving
        totals = _totals(email)
        assert totals[-1] - sum(totals[:2]) / 2 >= 4, email
    # The drifting couple's crossing shows under "Needs attention" (reliable drops wait for TEND_CSI4_SD).
    riley = Partner.objects.get(email="riley@example.com")
    assert Alert.objects.filter(couple=riley.couple, kind=Alert.Kind.CHECKIN_BELOW).count() == 2


def test_demo_reflections_are_written_on_their_sessions_evening(seeded):
    """Dated at seeding time, every shared side of the last weeks would still wait for the other partner
    (the reveal rule, issue 14): each is dated the evening of its session, never in the future."""
    now = timezone.now()
    demo = Reflection.objects.filter(session__assignment__couple__label__in=["Alex & Sam", "Jordan & Riley"])
    assert demo.exists()
    for reflection in demo.select_related("session__assignment__couple"):
        local = reflection.created_at.astimezone(reflection.session.assignment.couple.tz)
        assert local.date() == reflection.session.date and reflection.created_at <= now


def test_casey_and_drew_also_talk_about_the_days_stresses(seeded):
    """Issue 15: beside the back rub, the demo's steady couple have the library's daily stress talk for a few
    weeks, logged through the services: each speaks in turn, the other listens and reflects as listener."""
    from intimacy.builtin import STRESS_OF_THE_DAY_KEY
    from intimacy.models import Assignment

    couple = Couple.objects.get(label="Casey & Drew")
    exercises = set(couple.assignments.values_list("exercise__builtin_key", flat=True))
    assert exercises == {"back-rub", STRESS_OF_THE_DAY_KEY}
    talk = Assignment.objects.get(couple=couple, exercise__builtin_key=STRESS_OF_THE_DAY_KEY)
    sessions = talk.sessions.all()
    assert sessions.count() >= 8  # a few weeks, two or three talks a week
    assert set(sessions.values_list("giver__name", flat=True)) == {"Casey", "Drew"}  # both spoke
    reflections = Reflection.objects.filter(session__assignment=talk)
    assert set(reflections.values_list("role", flat=True)) == {"speaker", "listener"}
    speaking = reflections.filter(role="speaker")
    assert speaking.count() == sessions.count() and not speaking.filter(felt_heard__isnull=True).exists()
    assert reflections.filter(role="listener", stayed_open__isnull=False).count() >= sessions.count() - 2
    # The couple's eight weeks of back rubs are as before: started eight weeks before the talk's four.
    back_rub = Assignment.objects.get(couple=couple, exercise__builtin_key="back-rub")
    assert (talk.starts_on - back_rub.starts_on).days == 28
