"""The demo's management commands: `seed_demo` refusing to run in production, and `demo_code`.

What `seed_demo` builds: tests/intimacy/test_seed_demo.py."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from accounts.models import User

pytestmark = pytest.mark.django_db


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
