"""The password again, in a real browser (issue 12, items 4 and 5): a therapist who signed in a minute
ago is asked for it before a couple's record is downloaded and before their authenticator app is
removed; afterwards they are back where they were and choose again; removing the app signs out
their other browser."""

import json
import re
from pathlib import Path

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.conftest import LAPTOP, PHONE
from tests.browser.helpers import confirm_password, sign_in
from tests.factories import PASSWORD, TOTP_SECRET

pytestmark = pytest.mark.browser


def forget_downloads(page_problems, *downloads) -> None:
    """Chromium reports a navigation that became a download as an aborted request: not a problem."""
    urls = {d.url for d in downloads}
    page_problems.lines[:] = [
        line for line in page_problems.lines if not ("net::ERR_ABORTED" in line and any(u in line for u in urls))
    ]


def test_the_record_is_downloaded_after_the_password_again(
    live_server, new_page, page_problems, couple, therapist, partner_a, partner_b, session
):
    base = live_server.url
    dr = new_page(LAPTOP, who="therapist")
    sign_in(dr, base, therapist.email, PASSWORD, TOTP_SECRET)
    detail = f"{base}{reverse('couple_exercises', args=[couple.pk])}"
    dr.goto(detail)
    record = dr.locator("#record")
    # Signed in moments ago, yet asked: the export does not happen on the way.
    record.get_by_role("button", name="Export the whole record (JSON)").click()
    expect(dr.get_by_text("To download a couple's record, first confirm it's you.")).to_be_visible()
    confirm_password(dr, base, PASSWORD)
    # Back where the download is, to choose it again.
    expect(dr).to_have_url(f"{detail}#record")
    expect(record.get_by_text("Last exported")).to_have_count(0)
    with dr.expect_download() as download:
        record.get_by_role("button", name="Export the whole record (JSON)").click()
    record_file = download.value
    assert json.loads(Path(record_file.path()).read_text())["couple"]["label"] == "Alex & Sam"
    # The confirmation lasts a few minutes: the CSV comes at once.
    with dr.expect_download() as download:
        record.get_by_role("link", name="Sessions and ratings of this period (CSV)").click()
    assert download.value.suggested_filename.startswith("tend-couple-")
    forget_downloads(page_problems, record_file, download.value)


def test_removing_the_authenticator_asks_and_signs_out_the_other_browser(live_server, new_page, therapist):
    base = live_server.url
    # The phone signs in with a recovery code: one authenticator code serves one sign-in only.
    code = RecoveryCodes.activate(therapist).get_unused_codes()[0]
    laptop, phone = new_page(LAPTOP, who="laptop"), new_page(PHONE, who="phone")
    sign_in(laptop, base, therapist.email, PASSWORD, TOTP_SECRET)
    phone.goto(f"{base}/accounts/login/")
    phone.get_by_label("Email").fill(therapist.email)
    phone.get_by_label("Password", exact=True).fill(PASSWORD)
    phone.get_by_role("button", name="Sign in", exact=True).click()
    phone.locator("input[name=code]").fill(code)
    phone.get_by_role("button", name="Sign in", exact=True).click()
    expect(phone).to_have_url(f"{base}/")

    laptop.goto(f"{base}{reverse('mfa_index')}")
    laptop.get_by_role("link", name="Deactivate").click()
    confirm_password(laptop, base, PASSWORD)
    expect(laptop).to_have_url(f"{base}{reverse('mfa_deactivate_totp')}")
    laptop.get_by_role("button", name="Deactivate").click()
    # This browser stays signed in, and is sent to set up an authenticator again before client data.
    laptop.goto(f"{base}/")
    expect(laptop).to_have_url(f"{base}{reverse('mfa_activate_totp')}")
    # The other one is signed out.
    phone.reload()
    expect(phone).to_have_url(re.compile(re.escape(f"{base}/accounts/login/")))
