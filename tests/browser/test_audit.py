"""The access history in a real browser: the therapist follows "Access history" from the dashboard and
finds their own viewing, with no console error or CSP violation (`new_page` fails the test on any)."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.conftest import LAPTOP, PHONE
from tests.browser.helpers import sign_in
from tests.factories import PASSWORD, TOTP_SECRET

pytestmark = pytest.mark.browser


def test_the_therapist_reads_who_viewed_the_couple(live_server, new_page, couple, therapist, partner_a, partner_b):
    dr = new_page(LAPTOP, who="therapist")
    sign_in(dr, live_server.url, therapist.email, PASSWORD, TOTP_SECRET)
    dr.goto(f"{live_server.url}{reverse('couple_exercises', args=[couple.pk])}")
    dr.locator("#details").get_by_role("link", name="Access history").click()
    expect(dr).to_have_url(f"{live_server.url}{reverse('couple_audit', args=[couple.pk])}")
    expect(dr.get_by_role("heading", name="Access history")).to_be_visible()
    viewing = dr.get_by_role("row").filter(has_text="Viewed")
    expect(viewing).to_have_count(1)
    expect(viewing).to_contain_text(therapist.email)
    expect(viewing).to_contain_text(f"Couple #{couple.pk}")
    expect(viewing).to_contain_text("127.0.0.1")
    # On a phone the table scrolls inside its own region; the page itself does not scroll sideways.
    dr.set_viewport_size({"width": PHONE, "height": 900})
    assert dr.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
