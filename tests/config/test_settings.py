"""Settings that only show in behaviour: open or closed sign-up, the production password hasher, and
collectstatic with the production storage."""

import re
from pathlib import Path

import pytest
from django.contrib.auth.hashers import check_password, make_password
from django.core.management import call_command
from django.test import override_settings

from accounts.models import User
from tests.config.test_deployment import production_settings

pytestmark = pytest.mark.django_db
BASE_DIR = Path(__file__).resolve().parents[2]


@override_settings(TEND_OPEN_SIGNUP=False)
def test_closed_signup_refuses_new_accounts(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "x@example.org", "password1": "quiet-evening-lantern-7", "password2": "quiet-evening-lantern-7"},
    )
    assert not User.objects.filter(email="x@example.org").exists()
    assert response.status_code in (200, 302)


def test_public_sign_up_is_closed_unless_a_practice_opens_it(monkeypatch):
    # Anyone who could sign up could probe sign-up for addresses and act as a therapist; a practice
    # adds its therapists with `create_therapist`, or opens sign-up on purpose.
    assert production_settings(monkeypatch)["TEND_OPEN_SIGNUP"] is False
    assert production_settings(monkeypatch, TEND_OPEN_SIGNUP="1")["TEND_OPEN_SIGNUP"] is True


def test_the_demo_opens_it():
    """`make run` serves the demo with sign-up open, so a visitor can try a therapist's first steps."""
    makefile = (BASE_DIR / "Makefile").read_text()
    recipe = re.search(r"^run:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE).group(1)
    (serve,) = [line for line in recipe.splitlines() if "runserver" in line]
    assert "TEND_OPEN_SIGNUP=1 " in serve


@override_settings(TEND_OPEN_SIGNUP=True)
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
