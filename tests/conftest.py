"""The fixed cast: one couple (partner_a, partner_b) of `therapist`, an outsider from another couple
of `other_therapist`, and a staff member. Built with factory_boy."""

import pytest
from django.core.cache import cache

from accounts.models import User
from intimacy.builtin import seed_builtin_exercises
from intimacy.models import Exercise, Reflection
from tests.factories import (
    AssignmentFactory,
    CoupleFactory,
    PartnerFactory,
    ReflectionFactory,
    SessionFactory,
    UserFactory,
)


@pytest.fixture(autouse=True)
def _clean_shared_state(db):
    # Transactional and live-server tests flush the database, seeded rows included; the database
    # cache is not flushed, so allauth's rate limits would leak between tests without this.
    seed_builtin_exercises(Exercise)
    cache.clear()


@pytest.fixture
def therapist():
    return UserFactory(email="therapist@example.org", name="Dr Lee")


@pytest.fixture
def other_therapist():
    return UserFactory(email="other-therapist@example.org")


@pytest.fixture
def staff():
    return UserFactory(email="staff@example.org", is_staff=True, is_superuser=True)


@pytest.fixture
def couple(therapist):
    return CoupleFactory(therapist=therapist, label="Alex & Sam")


@pytest.fixture
def partner_a(couple):
    return PartnerFactory(couple=couple, slot=1, name="Alex", email="alex@example.org")


@pytest.fixture
def partner_b(couple):
    return PartnerFactory(couple=couple, slot=2, name="Sam", email="sam@example.org")


@pytest.fixture
def other_couple(other_therapist):
    return CoupleFactory(therapist=other_therapist, label="Casey & Drew")


@pytest.fixture
def outsider(other_couple):
    """A partner of another couple, of another therapist."""
    PartnerFactory(couple=other_couple, slot=2, name="Drew", email="drew@example.org")
    return PartnerFactory(couple=other_couple, slot=1, name="Casey", email="casey@example.org")


@pytest.fixture
def assignment(couple, partner_a, partner_b):
    return AssignmentFactory(couple=couple)


@pytest.fixture
def session(assignment, partner_a, partner_b):
    """A session partner_a logged as giver, with their shared reflection; partner_b hasn't reflected."""
    s = SessionFactory(assignment=assignment, giver=partner_a, receiver=partner_b, logged_by=partner_a)
    ReflectionFactory(session=s, partner=partner_a, role=Reflection.Role.GIVER, notes="A-shared-words")
    return s


@pytest.fixture
def client_for(client):
    """Sign the test client in as someone: `client_for(partner_a)` or `client_for(therapist)`."""

    def sign_in(who):
        user = who if isinstance(who, User) else who.user
        client.force_login(user)
        return client

    return sign_in
