"""`create_therapist`: how a practice gets its first account without open sign-up."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_create_therapist_makes_a_verified_therapist_without_a_password():
    call_command("create_therapist", "New.Person@Example.org", stdout=open("/dev/null", "w"))  # noqa: SIM115
    user = User.objects.get(email="new.person@example.org")
    assert user.is_therapist and not user.has_usable_password()
    assert user.emailaddress_set.get().verified
    with pytest.raises(CommandError):
        call_command("create_therapist", "new.person@example.org")
