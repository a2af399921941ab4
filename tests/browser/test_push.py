"""Push reminders in a browser (issue 17): the Reminders page's switch at 375 px, and the service worker
registering for the whole site under the strict CSP. Headless Chromium has no push service to subscribe
with, so the subscription itself is tested from the server's side (tests/accounts/test_push.py)."""

import pytest
from playwright.sync_api import expect

from accounts.models import PushSubscription
from tests.accounts.test_push import key_pair
from tests.browser.conftest import PHONE
from tests.browser.helpers import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def vapid(settings):
    _, private, public = key_pair()
    settings.TEND_VAPID_PUBLIC_KEY, settings.TEND_VAPID_PRIVATE_KEY = public, private
    settings.TEND_VAPID_SUBJECT = "mailto:practice@example.org"
    settings.TEND_PUSH_ENABLED = True


def test_turning_on_registers_the_worker_for_the_whole_site(live_server, new_page, page_problems, partner_a, vapid):
    base = live_server.url
    alex = new_page(PHONE, who="Alex")
    alex.context.grant_permissions(["notifications"], origin=base)
    sign_in(alex, base, partner_a.email, PASSWORD)
    alex.goto(f"{base}/reminders/")
    status = alex.locator("[data-push-status]")
    expect(status).to_have_text("Notifications are off in this browser.")
    turn_on = alex.get_by_role("button", name="Turn on notifications")
    expect(turn_on).to_be_visible()
    box = turn_on.bounding_box()
    assert box["height"] >= 44  # a phone's target
    turn_on.click()
    # Permission granted, the worker registered at the root; the subscription needs a real push
    # service, which headless Chromium lacks: then the page says so calmly and stores nothing.
    expect(status).not_to_have_text("Notifications are off in this browser.")
    scope = alex.evaluate("navigator.serviceWorker.getRegistration('/').then((r) => r && r.scope)")
    assert scope == f"{base}/"
    if PushSubscription.objects.exists():  # a Chromium that could subscribe
        expect(status).to_have_text("Notifications are on in this browser.")
    else:
        expect(status).to_have_text("That did not work this time. Emails still come; you can try again later.")
    # Chromium's own line for a Playwright context (incognito: no Push API, by design not detectable);
    # any other console error still fails the test.
    page_problems.lines[:] = [line for line in page_problems.lines if "Push API in incognito mode" not in line]


def test_without_keys_the_page_says_emails_only_and_loads_no_script(live_server, new_page, partner_a):
    base = live_server.url
    alex = new_page(PHONE, who="Alex")
    sign_in(alex, base, partner_a.email, PASSWORD)
    alex.goto(f"{base}/reminders/")
    expect(
        alex.get_by_text("Notifications are not set up for this Tend, so reminders come by email only.")
    ).to_be_visible()
    expect(alex.get_by_role("button", name="Turn on notifications")).to_have_count(0)
