"""The people side of the access gate (accounts/access.py): the couple helper's 404-before-403, and
a partner's consent before any partner page.

Every URL against every role and method, through the views, is tests/config/test_access_table.py.
"""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from accounts.access import get_couple_for_user
from accounts.models import User

pytestmark = pytest.mark.django_db


def test_the_couple_helper_answers_404_before_403(couple, therapist, partner_a, outsider, other_therapist):
    assert get_couple_for_user(therapist, couple.pk, role=User.Role.THERAPIST) == couple
    assert get_couple_for_user(partner_a.user, couple.pk) == couple
    with pytest.raises(PermissionDenied):
        get_couple_for_user(partner_a.user, couple.pk, role=User.Role.THERAPIST)
    for user, pk in ((outsider.user, couple.pk), (other_therapist, couple.pk), (therapist, 987654)):
        for role in (User.Role.THERAPIST, User.Role.PARTNER, None):
            with pytest.raises(Http404):
                get_couple_for_user(user, pk, role=role)


def test_partner_without_consent_is_sent_to_the_consent_page(client, partner_a, assignment):
    partner_a.consent_accepted_at = None
    partner_a.save()
    client.force_login(partner_a.user)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("consent")
