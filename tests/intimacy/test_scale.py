"""The scale data of `seed_demo --therapists T --couples-per-therapist C --weeks W` (intimacy/scale.py).

The command line itself: tests/intimacy/test_seed_demo.py."""

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.utils import timezone

from accounts.models import Couple, Partner, User
from intimacy import scale
from intimacy.models import Alert, Assignment, CheckIn, Reflection, Session


@pytest.fixture
def seeded(db):
    return scale.seed_scale(therapists=2, couples_per_therapist=3, weeks=6)


def test_people_sign_in_like_the_demo_cast(seeded):
    therapist = User.objects.get(email="scale-therapist-2@example.com")
    assert therapist.is_therapist and therapist.check_password("tend-demo-2026")
    assert Authenticator.objects.filter(user=therapist, type=Authenticator.Type.TOTP).exists()
    partner = Partner.objects.select_related("user", "couple").get(email="scale-t2-c3-b@example.com")
    assert partner.couple.therapist == therapist and partner.user.check_password("tend-demo-2026")
    assert partner.has_accepted and partner.has_current_consent
    assert partner.consent_version == settings.TEND_CONSENT_VERSION
    for user in (therapist, partner.user):
        assert EmailAddress.objects.filter(user=user, email=user.email, verified=True, primary=True).exists()


def test_weeks_of_homework_with_both_reflections_on_most(seeded):
    assert (seeded.therapists, seeded.couples) == (2, 6)
    assert Session.objects.count() == seeded.sessions
    # 2–4 sessions a week; the current week may be partly in the future.
    assert 6 * 2 * 5 <= seeded.sessions <= 6 * 4 * 6
    assert Reflection.objects.count() == seeded.reflections > 1.5 * seeded.sessions
    assert Assignment.objects.count() == 6 and Couple.objects.count() == 6
    today = timezone.localdate()
    assert not Session.objects.filter(date__gt=today).exists()
    assert not Reflection.objects.filter(created_at__gt=timezone.now() + timedelta(seconds=1)).exists()
    # Generated history carries its own dates, not the moment it was inserted.
    assert Session.objects.order_by("date").first().created_at.date() < today - timedelta(weeks=4)
    assert CheckIn.objects.count() == seeded.checkins and Alert.objects.count() == seeded.alerts


def test_running_twice_adds_nothing(seeded):
    counts = [m.objects.count() for m in (User, Couple, Session, Reflection, Alert, CheckIn)]
    again = scale.seed_scale(therapists=2, couples_per_therapist=3, weeks=6)
    assert (again.therapists, again.couples, again.sessions) == (0, 0, 0)
    assert [m.objects.count() for m in (User, Couple, Session, Reflection, Alert, CheckIn)] == counts


def test_more_couples_later_adds_only_those(seeded):
    added = scale.seed_scale(therapists=2, couples_per_therapist=4, weeks=6)
    assert (added.therapists, added.couples) == (0, 2)
    assert Partner.objects.filter(email="scale-t1-c4-a@example.com").exists()


def test_touch_work_is_open_for_every_generated_couple(seeded):
    # Screened and privately checked, so the benchmark's partners can log (intimacy/holds.py): 6 couples.
    from intimacy.holds import clearance

    couples = list(Couple.objects.filter(partners__email__startswith="scale-").distinct())
    assert len(couples) == 6
    assert all(clearance(couple).open for couple in couples)
