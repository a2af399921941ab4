"""The Django admin in Chromium: staff reach it through Tend's sign-in and second factor, and its pages
answer with the strict Content-Security-Policy and raise no violation (`new_page` fails the test on any
console error). Tend's own pages are walked the same way in test_accessibility.py."""

import pytest
from django.urls import reverse

from tests.browser.conftest import LAPTOP
from tests.browser.helpers import sign_in, strict_csp
from tests.factories import PASSWORD, TOTP_SECRET

pytestmark = pytest.mark.browser


def test_admin_pages(live_server, new_page, staff, session):
    admin = new_page(LAPTOP, who="staff")
    sign_in(admin, live_server.url, staff.email, PASSWORD, TOTP_SECRET)
    couple = session.assignment.couple
    for path in (
        reverse("admin:index"),
        reverse("admin:intimacy_reflection_changelist"),
        # Read-only records and the couple's partners as ids and dates.
        reverse("admin:intimacy_session_change", args=[session.pk]),
        reverse("admin:accounts_couple_change", args=[couple.pk]),
    ):
        response = admin.goto(live_server.url + path)
        admin.wait_for_load_state("networkidle")
        assert response is not None and response.status == 200, path
        assert strict_csp(response.headers.get("content-security-policy", "")), path
