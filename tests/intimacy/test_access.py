"""The homework's access helpers (intimacy/access.py) on their own: an outsider and a missing object
get the same Http404, before any role check; only an insider of the wrong role gets PermissionDenied.

Every URL against every role and method, through the views, is tests/config/test_access_table.py.
"""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.models import User
from intimacy.access import (
    get_alert_for_user,
    get_assignment_for_user,
    get_note_for_user,
    get_reflection_for_user,
    get_session_for_user,
)
from intimacy.models import Alert, CoupleNote, Reflection
from tests.factories import ReflectionFactory

pytestmark = pytest.mark.django_db

MISSING = 987654
THERAPIST, PARTNER = User.Role.THERAPIST, User.Role.PARTNER


@pytest.fixture
def objects(session):
    """One object of each kind a helper fetches, all of `couple`: what partner_a and the therapist may see."""
    couple = session.assignment.couple
    return {
        get_assignment_for_user: session.assignment,
        get_session_for_user: session,
        get_reflection_for_user: session.reflections.get(),
        get_note_for_user: CoupleNote.objects.create(
            couple=couple, author=couple.therapist, date=session.date, text="n"
        ),
        get_alert_for_user: Alert.objects.create(couple=couple, kind=Alert.Kind.NO_SESSION, week=session.date),
    }


WITH_ROLE = [get_assignment_for_user, get_session_for_user, get_reflection_for_user]
THERAPIST_ONLY = [get_note_for_user, get_alert_for_user]
ALL = WITH_ROLE + THERAPIST_ONLY


@pytest.mark.parametrize("helper", ALL, ids=lambda h: h.__name__)
def test_the_therapist_gets_the_object(objects, therapist, helper):
    obj = objects[helper]
    kwargs = {"role": THERAPIST} if helper in WITH_ROLE else {}
    assert helper(therapist, obj.pk, **kwargs) == obj


@pytest.mark.parametrize("helper", WITH_ROLE, ids=lambda h: h.__name__)
def test_a_partner_of_the_couple_gets_the_object_and_403_for_the_therapists_role(objects, partner_a, helper):
    obj = objects[helper]
    assert helper(partner_a.user, obj.pk, role=PARTNER) == obj
    with pytest.raises(PermissionDenied):
        helper(partner_a.user, obj.pk, role=THERAPIST)


@pytest.mark.parametrize("helper", ALL, ids=lambda h: h.__name__)
def test_outsiders_and_the_missing_get_the_same_404_whatever_the_role(
    objects, outsider, other_therapist, therapist, helper
):
    obj = objects[helper]
    roles = [{"role": THERAPIST}, {"role": PARTNER}, {}] if helper in WITH_ROLE else [{}]
    for kwargs in roles:
        for user, pk in ((outsider.user, obj.pk), (other_therapist, obj.pk), (therapist, MISSING)):
            with pytest.raises(Http404):
                helper(user, pk, **kwargs)


@pytest.mark.parametrize("helper", THERAPIST_ONLY, ids=lambda h: h.__name__)
def test_notes_and_alerts_do_not_exist_for_the_couples_partners(objects, partner_a, partner_b, helper):
    for partner in (partner_a, partner_b):
        with pytest.raises(Http404):
            helper(partner.user, objects[helper].pk)


@pytest.mark.parametrize("visibility", [Reflection.Visibility.THERAPIST, Reflection.Visibility.PRIVATE])
def test_an_unshared_reflection_is_a_404_for_the_other_partner_like_a_missing_one(
    session, partner_a, partner_b, therapist, visibility
):
    theirs = ReflectionFactory(session=session, partner=partner_b, role="receiver", visibility=visibility)
    with pytest.raises(Http404):
        get_reflection_for_user(partner_a.user, theirs.pk, role=PARTNER)
    assert get_reflection_for_user(partner_b.user, theirs.pk, role=PARTNER) == theirs
    assert get_reflection_for_user(therapist, theirs.pk, role=THERAPIST) == theirs
