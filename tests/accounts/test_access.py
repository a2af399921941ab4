"""The people side of the access gate (accounts/access.py): the couple helper's 404-before-403, and
a partner's consent before any partner page.

Every URL against every role and method, through the views, is tests/config/test_access_table.py.
"""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from accounts.access import get_couple_for_user, partner_of
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


def test_the_partner_gate_reads_the_other_partner_with_this_one(
    partner_a, partner_b, outsider, django_assert_num_queries
):
    # issue 16, "Fast": both partners of the couple in one read, so naming the other costs no query.
    with django_assert_num_queries(1):
        own = partner_of(partner_a.user)
        other = own.other_partner()
        assert (own, other, other.name) == (partner_a, partner_b, "Sam")
        assert other.couple is own.couple
    # From the other side, and never someone of another couple.
    assert partner_of(partner_b.user).other_partner() == partner_a
    assert partner_of(outsider.user).other_partner().name == "Drew"


def test_a_partner_alone_in_their_couple_has_no_other_partner(couple, partner_a, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert partner_of(partner_a.user).other_partner() is None
