"""Passkeys and the second step, as the server renders them (issue 17): "Sign in with a passkey" on the
sign-in page, allauth's passkey scripts as files with their settings as inert JSON (the strict CSP
allows no inline script), the code fields as phones expect them, and "Sign in" in one wording. The
passkey ceremony itself runs in Chromium: tests/browser/test_passkeys.py."""

import re
from unittest import mock

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.webauthn import forms as webauthn_forms
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("account_login")
SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
CODE_ATTRS = ('inputmode="numeric"', 'autocomplete="one-time-code"', 'pattern="[0-9]*"', 'autocapitalize="off"')


def scripts_run_only_from_files(html: str) -> bool:
    """Every <script> either loads a file of Tend's own or is JSON data, which a browser never runs."""
    for attrs in SCRIPT.findall(html):
        if 'type="application/json"' in attrs:
            continue
        if not re.search(r'src="/static/', attrs):
            return False
    return True


def code_input(html: str) -> str:
    match = re.search(r'<input[^>]*name="code"[^>]*>', html)
    assert match, "no code field"
    return match.group(0)


def test_the_sign_in_page_offers_a_passkey_with_scripts_from_files_only(client):
    html = client.get(LOGIN).content.decode()
    assert ">Sign in with a passkey</button>" in html
    assert 'action="/accounts/2fa/webauthn/login/"' in html
    for script in ("mfa/js/webauthn-json.js", "mfa/js/webauthn.js", "tend/passkeys.js", "account/js/onload.js"):
        assert f'src="/static/{script}"' in html
    assert 'data-allauth-onload="allauth.webauthn.forms.loginForm" type="application/json"' in html
    assert scripts_run_only_from_files(html)
    assert "Sign In" not in html


class TestTheSecondStep:
    @pytest.fixture(autouse=True)
    def _still_clock(self):
        with time_machine.travel("2026-11-25 09:00:05+00:00", tick=False):
            yield

    def test_the_code_field_is_a_number_pad_with_the_phones_code_suggestion(self, client, therapist):
        client.post(LOGIN, {"login": therapist.email, "password": PASSWORD})
        html = client.get(reverse("mfa_authenticate")).content.decode()
        field = code_input(html)
        assert all(attr in field for attr in CODE_ATTRS), field
        # One wording: "Sign in", never allauth's "Sign In"; the passkey is offered as the other way.
        assert "Sign In" not in html and ">Sign in</button>" in html.replace("\n", "").replace("  ", "")
        assert "Use a passkey" in html
        assert scripts_run_only_from_files(html)

    def test_confirming_with_a_code_has_the_same_field(self, client, therapist):
        client.force_login(therapist)
        field = code_input(client.get(reverse("mfa_reauthenticate")).content.decode())
        assert all(attr in field for attr in CODE_ATTRS), field

    def test_setting_up_the_app_has_the_same_field_and_offers_a_passkey_instead(self, client):
        newcomer = UserFactory(email="new@example.org", second_factor=False)
        client.post(LOGIN, {"login": newcomer.email, "password": PASSWORD})
        assert client.get(reverse("home"))["Location"] == reverse("mfa_activate_totp")
        html = client.get(reverse("mfa_activate_totp")).content.decode()
        assert all(attr in code_input(html) for attr in CODE_ATTRS)
        assert f'href="{reverse("mfa_add_webauthn")}"' in html


def test_adding_a_passkey_makes_one_that_signs_in_alone_by_default(client, partner_a):
    client.force_login(partner_a.user)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    html = client.get(reverse("mfa_add_webauthn")).content.decode()
    box = re.search(r'<input[^>]*name="passwordless"[^>]*>', html).group(0)
    assert "checked" in box
    assert scripts_run_only_from_files(html)
    assert 'id="js_data" type="application/json"' in html


def test_partners_find_passkeys_under_your_data(client, partner_a):
    client.force_login(partner_a.user)
    html = client.get(reverse("my_data")).content.decode()
    assert f'<a href="{reverse("mfa_index")}">Passkeys and two-step sign-in</a>' in html
    page = client.get(reverse("mfa_index")).content.decode()
    assert f'href="{reverse("mfa_add_webauthn")}"' in page


def test_adding_one_tells_the_owner_by_email_in_tends_words(
    client, partner_a, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(partner_a.user)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    client.get(reverse("mfa_add_webauthn"))
    # The phone's answer and the server's check of it stood in for: the ceremony runs in Chromium.
    with (
        mock.patch.object(webauthn_forms.auth, "parse_registration_response"),
        mock.patch.object(webauthn_forms.auth, "complete_registration"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(
            reverse("mfa_add_webauthn"), {"name": "", "passwordless": "on", "credential": '{"id": "phone"}'}
        )
    assert response["Location"] == reverse("mfa_view_recovery_codes")
    key = Authenticator.objects.get(user=partner_a.user, type=Authenticator.Type.WEBAUTHN)
    assert key.wrap().name == "Passkey"  # an empty name: Tend's default, not allauth's "Master key"
    (email,) = mailoutbox
    assert email.subject == "Tend: A passkey was added"
    assert "A passkey was added: it can now sign in to your account." in email.body


def test_a_persons_passkeys_read_as_passkeys_on_every_page(client, partner_a):
    key = Authenticator.objects.create(
        user=partner_a.user, type=Authenticator.Type.WEBAUTHN, data={"name": "My phone", "credential": {}}
    )
    client.force_login(partner_a.user)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    for name, args in (
        ("mfa_index", []),
        ("mfa_list_webauthn", []),
        ("mfa_edit_webauthn", [key.pk]),
        ("mfa_remove_webauthn", [key.pk]),
    ):
        response = client.get(reverse(name, args=args))
        html = response.content.decode()
        assert response.status_code == 200, name
        assert "ecurity key" not in html.lower().replace("a security key: asked after your password", ""), name
        assert "Passkey" in html or "passkey" in html, name
    assert (
        f'action="{reverse("mfa_edit_webauthn", args=[key.pk])}"'
        in client.get(reverse("mfa_edit_webauthn", args=[key.pk])).content.decode()
    )


def test_confirming_with_a_passkey_asks_the_device_to_verify_its_owner(client_for, therapist, couple):
    """A passkey confirmation is how a therapist leaves the appointment view (intimacy/middleware.py), with
    the couple in the room. A security key left in the laptop answers a touch alone unless the page asks
    for its owner's fingerprint or PIN ("required": the server refuses an answer without it; "preferred",
    allauth's default, only hopes for it), so any hand could open the therapist-only pages with it."""
    Authenticator.objects.create(user=therapist, type=Authenticator.Type.WEBAUTHN, data={"name": "Key"})
    client = client_for(therapist)
    client.get(reverse("appointment", args=[couple.pk]))
    with mock.patch.object(webauthn_forms.auth, "get_credentials", lambda user: []):
        page = client.get(reverse("mfa_reauthenticate_webauthn"))
    assert page.status_code == 200
    options = page.context["js_data"]["request_options"]
    assert options["publicKey"]["userVerification"] == "required"
