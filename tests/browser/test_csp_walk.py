"""Walk Tend's main pages in Chromium as a partner, a therapist and staff: each answers with the strict
Content-Security-Policy, and the browser reports no violation of it (`new_page` fails the test at
teardown on any console error, which is how Chromium reports one)."""

import pytest
from django.urls import reverse

from tests.browser.conftest import LAPTOP, PHONE
from tests.browser.helpers import sign_in
from tests.factories import PASSWORD, TOTP_SECRET, ReflectionFactory

pytestmark = pytest.mark.browser


def visit_all(page, base: str, paths: list[str]) -> None:
    for path in paths:
        response = page.goto(base + path)
        assert response is not None and response.status == 200, f"{path}: {response and response.status}"
        policy = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy, path
        assert "frame-ancestors 'none'" in policy, path
        page.wait_for_load_state("networkidle")


def test_partner_pages(live_server, new_page, couple, partner_a, partner_b, session):
    couple.progress_page = True
    couple.save()
    ReflectionFactory(session=session, partner=partner_b, role="receiver")
    page = new_page(PHONE, who="partner")
    sign_in(page, live_server.url, partner_a.email, PASSWORD)
    visit_all(
        page,
        live_server.url,
        [
            reverse("home"),
            reverse("session_log", args=[session.assignment_id]) + "?new=1",
            reverse("history"),
            reverse("progress"),
            reverse("safety"),
            reverse("my_data"),
            reverse("consent_withdraw"),
            reverse("mfa_index"),
            reverse("usersessions_list"),
            reverse("account_change_password"),
        ],
    )


def test_therapist_and_staff_pages(live_server, new_page, couple, therapist, staff, session, partner_b):
    ReflectionFactory(session=session, partner=partner_b, role="receiver")
    page = new_page(LAPTOP, who="therapist")
    sign_in(page, live_server.url, therapist.email, PASSWORD, TOTP_SECRET)
    pk = couple.pk
    visit_all(
        page,
        live_server.url,
        [
            reverse("home"),
            reverse("couple_detail", args=[pk]),
            reverse("appointment", args=[pk]),
            reverse("couple_summary", args=[pk]),
            reverse("couple_audit", args=[pk]),
            reverse("couple_delete", args=[pk]),
            reverse("assignment_create", args=[pk]),
            reverse("couple_add"),
            reverse("exercise_list"),
            reverse("exercise_create"),
            reverse("mfa_index"),
            reverse("usersessions_list"),
        ],
    )
    # Staff reach the admin through the same sign-in and second factor (codes are remembered per person,
    # so the same current code works for them).
    admin = new_page(LAPTOP, who="staff")
    sign_in(admin, live_server.url, staff.email, PASSWORD, TOTP_SECRET)
    visit_all(admin, live_server.url, [reverse("admin:index"), reverse("admin:intimacy_reflection_changelist")])
