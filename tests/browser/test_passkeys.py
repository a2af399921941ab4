"""Passkeys in a real browser (issue 17), at 375 px, with Chromium's virtual authenticator (CDP
`WebAuthn.addVirtualAuthenticator`: a phone's built-in authenticator that keeps passkeys and verifies
its owner). A partner adds a passkey from "Your data", signs out, signs in with it alone and is offered
"Stay signed in on this phone"; a therapist adds one from "Two-step sign-in", signs out and signs in
with it alone (it counts as both factors), and with the password it is the second step. Every page
runs under the strict CSP: `new_page` fails the test on any console error, a CSP violation included.

The live server is http://localhost (a secure context, as WebAuthn requires): the passkey's relying
party is the host the page was opened on, as allauth takes it from the request."""

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, SCREENSHOTS
from tests.browser.helpers import confirm_password, sign_in, strict_csp
from tests.browser.test_accessibility import SMALL_TARGETS_JS, serious_findings
from tests.factories import PASSWORD, TOTP_SECRET

pytestmark = pytest.mark.browser


def phone_authenticator(page: Page) -> None:
    """This page's browser gets a phone's own authenticator: it keeps passkeys (resident keys) and
    its owner always passes its fingerprint check."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )


def looks_right(page: Page, name: str) -> None:
    """No serious axe finding, every target a thumb can hit at 375 px; a screenshot to look at."""
    page.wait_for_load_state("networkidle")
    assert serious_findings(page) == []
    assert page.evaluate(SMALL_TARGETS_JS) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"passkeys-{name}-375.png", full_page=True)


def add_passkey(page: Page, base: str) -> None:
    """From the passkeys page: confirm with the password, then let the phone make one."""
    page.get_by_role("link", name="Add a passkey").click()
    confirm_password(page, base, PASSWORD)
    expect(page).to_have_url(f"{base}{reverse('mfa_add_webauthn')}")
    expect(page.get_by_label("Sign in with it alone, without the password")).to_be_checked()
    looks_right(page, "add")
    page.get_by_label("A name for it").fill("My phone")
    page.get_by_role("button", name="Add a passkey").click()
    # allauth makes recovery codes with a first passkey, and shows them.
    expect(page).to_have_url(f"{base}{reverse('mfa_view_recovery_codes')}")


def sign_out(page: Page, base: str) -> None:
    page.wait_for_load_state()
    page.get_by_role("button", name="Menu").click()
    button = page.get_by_role("button", name="Sign out")
    expect(button).to_be_visible()
    button.click()
    # Longer than expect's 5 s: on a machine shared with other test runs, signing out once took longer.
    expect(page).to_have_url(f"{base}{reverse('account_login')}", timeout=15_000)


def sign_in_with_passkey(page: Page, base: str) -> None:
    page.goto(f"{base}{reverse('account_login')}")
    page.get_by_role("button", name="Sign in with a passkey").click()


def test_a_partner_signs_in_with_a_passkey_and_stays_signed_in(live_server, new_page, partner_a, partner_b):
    base = live_server.url.replace("127.0.0.1", "localhost")
    phone = new_page(PHONE, who="Alex")
    phone_authenticator(phone)
    sign_in(phone, base, partner_a.email, PASSWORD)
    phone.goto(f"{base}{reverse('my_data')}")
    phone.get_by_role("link", name="Passkeys and two-step sign-in").click()
    add_passkey(phone, base)
    assert Authenticator.objects.filter(user=partner_a.user, type=Authenticator.Type.WEBAUTHN).count() == 1
    phone.goto(f"{base}/")
    sign_out(phone, base)

    phone.goto(f"{base}{reverse('account_login')}")
    looks_right(phone, "sign-in")
    sign_in_with_passkey(phone, base)
    # Signed in with the passkey alone: the offer, before home.
    expect(phone.get_by_role("heading", name="Stay signed in on this phone?")).to_be_visible()
    looks_right(phone, "stay-offer")
    phone.get_by_role("button", name="Stay signed in").click()
    expect(phone).to_have_url(f"{base}/")
    expect(phone.get_by_text("This phone stays signed in.")).to_be_visible()
    cookie = next(c for c in phone.context.cookies() if c["name"] == "sessionid")
    # A lasting cookie now (30 days, renewed as Tend is used), where a password sign-in's ends with the browser.
    assert cookie["expires"] > 0

    # Next time on this phone: no offer again.
    sign_out(phone, base)
    sign_in_with_passkey(phone, base)
    expect(phone).to_have_url(f"{base}/")


def test_a_therapist_signs_in_with_a_passkey_as_both_factors(live_server, new_page, therapist, couple):
    base = live_server.url.replace("127.0.0.1", "localhost")
    phone = new_page(PHONE, who="therapist")
    phone_authenticator(phone)
    sign_in(phone, base, therapist.email, PASSWORD, TOTP_SECRET)
    response = phone.goto(f"{base}{reverse('mfa_index')}")
    assert response is not None and strict_csp(response.headers.get("content-security-policy", ""))
    add_passkey(phone, base)
    phone.goto(f"{base}/")
    sign_out(phone, base)

    # The passkey alone: no code asked, client data at once, and no offer to stay (therapists' limits stay).
    sign_in_with_passkey(phone, base)
    expect(phone).to_have_url(f"{base}/")
    phone.goto(f"{base}{reverse('couple_detail', args=[couple.pk])}")
    expect(phone).to_have_url(f"{base}{reverse('couple_detail', args=[couple.pk])}")
    sign_out(phone, base)

    # With the password, the passkey is the second step.
    phone.goto(f"{base}{reverse('account_login')}")
    phone.get_by_label("Email").fill(therapist.email)
    phone.get_by_label("Password", exact=True).fill(PASSWORD)
    phone.get_by_role("button", name="Sign in", exact=True).click()
    expect(phone).to_have_url(f"{base}{reverse('mfa_authenticate')}")
    code = phone.locator("input[name=code]")
    expect(code).to_have_attribute("inputmode", "numeric")
    expect(code).to_have_attribute("autocomplete", "one-time-code")
    looks_right(phone, "second-step")
    phone.get_by_role("button", name="Use a passkey").click()
    expect(phone).to_have_url(f"{base}/")
