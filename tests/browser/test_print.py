"""The printable summary fits on at most two A4 pages, for half a year week by week and for two years
month by month, as Chromium itself prints it (print stylesheet included)."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from intimacy import trend_parts
from intimacy.models import Reflection, Session
from intimacy.weeks import week_start
from tests.browser.conftest import LAPTOP
from tests.browser.helpers import sign_in
from tests.factories import PASSWORD, TOTP_SECRET, AssignmentFactory, weekly_checkins

pytestmark = pytest.mark.browser


def two_years_of_homework(couple, partner_a, partner_b):
    today = couple.today()
    assignment = AssignmentFactory(couple=couple, starts_on=today - timedelta(weeks=105))
    sessions = [
        Session(
            assignment=assignment,
            date=today - timedelta(days=days),
            minutes=15,
            giver=(partner_a, partner_b)[days % 2],
            receiver=(partner_b, partner_a)[days % 2],
            logged_by=(partner_a, partner_b)[days % 2],
        )
        for days in range(1, 730, 3)
    ]
    Session.objects.bulk_create(sessions)
    Reflection.objects.bulk_create(
        Reflection(session=s, partner_id=s.giver_id, role="giver", connection=7, comfort=8, safe=9)
        for s in Session.objects.filter(assignment=assignment)
    )
    # Both partners' weekly check-ins fill the summary's check-in columns too.
    weekly_checkins([partner_a, partner_b], week_start(today), 105)
    # bulk_create sends no signals: the therapist's trend parts are built as the scale seeding builds them.
    trend_parts.rebuild([couple.pk])


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def test_summary_prints_on_at_most_two_pages(live_server, new_page, couple, partner_a, partner_b, therapist):
    two_years_of_homework(couple, partner_a, partner_b)
    page = new_page(LAPTOP, who="therapist")
    sign_in(page, live_server.url, therapist.email, PASSWORD, TOTP_SECRET)
    url = live_server.url + reverse("couple_summary", args=[couple.pk])
    for weeks, rows in ((26, 26), (104, 24)):
        page.goto(f"{url}?weeks={weeks}")
        # One row a week up to 26 weeks, one a month beyond: 104 weeks back reaches into a 25th month
        # only when today is late in the month, so allow either.
        body_rows = page.locator("table.print-table tbody tr").count()
        assert body_rows in (rows, rows + 1)
        page.emulate_media(media="print")
        assert page.locator(".tend-header").is_hidden()  # the navigation is not printed
        page.emulate_media(media="screen")
        pages = pdf_pages(page.pdf(format="A4"))
        assert 1 <= pages <= 2, f"{weeks} weeks print on {pages} pages"
