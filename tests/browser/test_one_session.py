"""One back rub, one session (issue 14), on two phones: Alex (gave) and Sam (received) both open the
log form before either saves, fill it in and save. One session comes of it, with both reflections, and
the second to save is told their words joined the back rub the other logged."""

import pytest
from playwright.sync_api import expect

from intimacy.models import Session
from tests.browser.conftest import PHONE
from tests.browser.helpers import choose, choose_readers, rate, sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def fill_in(page, role: str, connection: int) -> None:
    choose(page, "This time", role)
    rate(page, "How connected did you feel?", connection)
    rate(page, "How comfortable did you feel?", 8)
    rate(page, "How safe did you feel?", 9)
    choose_readers(page, "My partner and my therapist")


def test_two_phones_saving_the_same_back_rub_make_one_session(live_server, new_page, assignment, partner_a, partner_b):
    base = live_server.url
    phones = {}
    for partner in (partner_a, partner_b):
        phone = new_page(PHONE, who=partner.name)
        sign_in(phone, base, partner.email, PASSWORD)
        phone.get_by_role("link", name="Log a back rub").click()
        expect(phone.get_by_role("heading", name="Log a back rub")).to_be_visible()
        phones[partner.name] = phone
    alex, sam = phones["Alex"], phones["Sam"]

    # Both forms are open before either is saved: "Did you mean this one?" had nothing to offer either.
    fill_in(alex, "I gave", 8)
    fill_in(sam, "I received", 7)
    alex.get_by_role("button", name="Save").click()
    sam.get_by_role("button", name="Save").click()

    expect(alex.get_by_text("Thank you. Your session is saved.")).to_be_visible()
    expect(sam.get_by_text("Added to the back rub Alex logged.")).to_be_visible()
    session = Session.objects.get()
    assert sorted(session.reflections.values_list("partner__name", "role", "connection")) == [
        ("Alex", "giver", 8),
        ("Sam", "receiver", 7),
    ]
    # Counted once toward the week, on both phones; nothing waits for either reflection.
    for phone in (alex, sam):
        phone.reload()
        expect(phone.get_by_text("This week: 1 of 2")).to_be_visible()
        expect(phone.get_by_role("region", name="Waiting for your reflection")).to_have_count(0)
