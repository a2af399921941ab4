import pytest
from django.contrib.auth.hashers import check_password, make_password
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


def test_create_therapist_makes_a_verified_therapist_without_a_password():
    call_command("create_therapist", "New.Person@Example.org", stdout=open("/dev/null", "w"))  # noqa: SIM115
    user = User.objects.get(email="new.person@example.org")
    assert user.is_therapist and not user.has_usable_password()
    assert user.emailaddress_set.get().verified
    with pytest.raises(CommandError):
        call_command("create_therapist", "new.person@example.org")


@override_settings(TEND_OPEN_SIGNUP=False)
def test_closed_signup_refuses_new_accounts(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "x@example.org", "password1": "quiet-evening-lantern-7", "password2": "quiet-evening-lantern-7"},
    )
    assert not User.objects.filter(email="x@example.org").exists()
    assert response.status_code in (200, 302)


def test_open_signup_creates_a_therapist(client):
    client.post(
        "/accounts/signup/",
        {"email": "x@example.org", "password1": "quiet-evening-lantern-7", "password2": "quiet-evening-lantern-7"},
    )
    assert User.objects.get(email="x@example.org").role == User.Role.THERAPIST


def test_production_hasher_is_argon2():
    from django.conf import settings

    with override_settings(PASSWORD_HASHERS=settings.PASSWORD_HASHERS[1:]):
        encoded = make_password("quiet-evening-lantern-7")
        assert encoded.startswith("argon2$")
        assert check_password("quiet-evening-lantern-7", encoded)


def test_collectstatic_with_the_production_storage(tmp_path):
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=storages):
        call_command("collectstatic", "--noinput", verbosity=0)
    assert (tmp_path / "staticfiles.json").exists()
    assert list(tmp_path.glob("vendor/bootstrap/css/bootstrap.min.*.css"))
    assert list(tmp_path.glob("tend/tend.*.js"))
    # Only the dist folder of each npm package is published.
    assert not list(tmp_path.glob("**/package.json"))


def test_security_headers(client):
    response = client.get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
