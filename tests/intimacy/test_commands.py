"""The demo's management commands: `seed_demo` (the documented practice) and `demo_code`."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from accounts.models import Couple, Partner, User
from intimacy.models import Reflection, Session

pytestmark = pytest.mark.django_db


@override_settings(DEBUG=True)
def test_seed_demo_builds_the_documented_practice_once():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    counts = (User.objects.count(), Couple.objects.count(), Session.objects.count(), Reflection.objects.count())
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert (User.objects.count(), Couple.objects.count(), Session.objects.count(), Reflection.objects.count()) == counts
    assert counts[:2] == (8, 3)  # 2 therapists + 6 partners; 3 couples
    therapist = User.objects.get(email="therapist@example.com")
    assert therapist.check_password("tend-demo-2026") and therapist.is_therapist
    assert sorted(c.label for c in Couple.objects.filter(therapist=therapist)) == ["Alex & Sam", "Jordan & Riley"]
    assert Couple.objects.get(label="Casey & Drew").therapist.email == "therapist2@example.com"
    assert Partner.objects.get(email="alex@example.com").user.check_password("tend-demo-2026")
    # Eight weeks of sessions, with private text of both kinds for the therapist to see handled.
    assert Session.objects.count() >= 3 * 8
    assert Reflection.objects.filter(visibility="private").exclude(notes="").exists()
    assert Reflection.objects.filter(visibility="therapist").exclude(notes="").exists()
    # Demo therapists sign in with the documented authenticator secret; partners have none.
    from allauth.mfa.totp.internal.auth import TOTP

    from tests.factories import totp_code

    assert TOTP(therapist.authenticator_set.get(type="totp")).validate_code(totp_code("JBSWY3DPEHPK3PXP"))
    assert not Partner.objects.get(email="alex@example.com").user.authenticator_set.exists()


def test_seed_demo_refuses_without_debug_unless_forced():
    with pytest.raises(CommandError, match="public"):
        call_command("seed_demo")
    assert not User.objects.exists()


@override_settings(DEBUG=True)
def test_demo_code_prints_the_current_code():
    import io

    import time_machine
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    out = io.StringIO()
    with time_machine.travel("2026-11-25 12:00:10+00:00", tick=False):
        call_command("demo_code", stdout=out)
        # 12:00:10 is 10 s into a 30 s step: the code of that step, valid 20 s more.
        expected = format_hotp_value(hotp_value("JBSWY3DPEHPK3PXP", 1795608000 // 30))
    assert out.getvalue().startswith(f"{expected}  (valid for about 20 more seconds")


def test_demo_code_refuses_without_debug():
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("demo_code")
