"""Nobody learns who is a client from "Add couple" (issue 12, item 2).

A therapist learns nothing about addresses outside their own caseload: an address used elsewhere
(another therapist's client, invited or joined; a therapist; staff) gives the same page as any other,
and what differs goes by email to the address's owner only. Within their own caseload, they are told
plainly. No uniqueness rule of the database tells it either."""

import re
import threading
import time

import pytest
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from accounts import services
from accounts.models import Couple, Partner, User
from tests.factories import CoupleFactory, PartnerFactory

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "quiet-evening-lantern-7"
INVITE_LINK = re.compile(r"https?://[^/\s]+/invite/\S+/")


@pytest.fixture
def pending_elsewhere(other_therapist):
    """Another therapist's client who has been invited and has not joined: no account, only an invitation."""
    return PartnerFactory(
        couple=CoupleFactory(therapist=other_therapist, label="Robin & Jo"),
        slot=1,
        name="Robin",
        email="robin@example.org",
        user=None,
        accepted_at=None,
    )


def _emails_to(email: str) -> list:
    return [m for m in mail.outbox if m.to == [email]]


def add_couple(client, therapist, email: str, second: str = "kim@example.org"):
    client.force_login(therapist)
    data = {
        "label": "Robin & Kim",
        "time_zone": "Europe/Berlin",
        "partner1_name": "Robin",
        "partner1_email": email,
        "partner2_name": "Kim",
        "partner2_email": second,
    }
    return client.post(reverse("couple_add"), data, follow=True)


def _what_the_therapist_sees(response) -> str:
    """The page after "Add couple" with the parts that differ between any two couples taken out."""
    page = response.content.decode()
    page = re.sub(r"/(couples|partners)/\d+(?=/)", r"/\1/N", page)
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)
    # The note form's signed note of whom it was shown to carries the second it was signed (accounts/drafts.py).
    page = re.sub(r'name="tend_form_owner" value="[^"]+"', "", page)
    # Partners' ids, opaque like the couples' (the form recording a separate conversation names them).
    page = re.sub(r'<option value="\d+"', '<option value="N"', page)
    page = re.sub(r"\d{1,2} \w{3} \d{4}(, \d\d:\d\d)?", "DATE", page)
    return re.sub(r"[\w.+-]+@example\.org", "ADDRESS", page)


ELSEWHERE = {
    "another therapist's client, invited": lambda w: w["pending_elsewhere"].email,
    "another therapist's client, joined": lambda w: w["outsider"].email,
    "another therapist": lambda w: w["other_therapist"].email,
    "staff": lambda w: w["staff"].email,
}


@pytest.fixture
def elsewhere(pending_elsewhere, outsider, other_therapist, staff):
    return {
        "pending_elsewhere": pending_elsewhere,
        "outsider": outsider,
        "other_therapist": other_therapist,
        "staff": staff,
    }


class TestAddCoupleTellsNothing:
    @pytest.mark.parametrize("case", ELSEWHERE)
    def test_an_address_used_elsewhere_looks_like_any_other(self, client, therapist, elsewhere, case):
        baseline = _what_the_therapist_sees(add_couple(client, therapist, "fresh@example.org"))
        email = ELSEWHERE[case](elsewhere)
        response = add_couple(client, therapist, email.upper(), second="jo@example.org")
        assert response.redirect_chain[0][1] == 302
        assert _what_the_therapist_sees(response) == baseline
        assert "Both partners have been emailed an invitation" in response.content.decode()
        new = Couple.objects.filter(therapist=therapist, label="Robin & Kim").order_by("pk").last()
        assert new.partners.get(slot=1).email == email

    def test_an_address_with_an_account_gets_an_explanation_not_a_link(self, client, therapist, outsider):
        add_couple(client, therapist, outsider.email)
        (message,) = _emails_to(outsider.email)
        assert not INVITE_LINK.search(message.body)
        assert "already has a Tend account" in message.body
        # Nothing about the new couple or the therapist reaches the owner.
        for secret in ("Robin", "Kim", therapist.email, therapist.name):
            assert secret not in message.body + message.subject

    def test_another_therapists_invited_client_gets_the_invitation_too(self, client, therapist, pending_elsewhere):
        add_couple(client, therapist, pending_elsewhere.email)
        (message,) = _emails_to(pending_elsewhere.email)
        assert INVITE_LINK.search(message.body)

    def test_nobody_reserves_an_address_for_good(self, therapist, other_therapist):
        """The first therapist to invite an address does not keep everyone else from inviting it."""
        first = services.couple_create(
            therapist=other_therapist,
            label="A",
            time_zone="Europe/London",
            partners=[services.NewPartner("Robin", "robin@example.org"), services.NewPartner("Kim", "kim@example.org")],
        )
        second = services.couple_create(
            therapist=therapist,
            label="B",
            time_zone="Europe/London",
            partners=[services.NewPartner("Robin", "ROBIN@example.org"), services.NewPartner("Jo", "jo@example.org")],
        )
        assert {p.couple_id for p in Partner.objects.filter(email="robin@example.org")} == {first.pk, second.pk}


class TestAddCoupleWithinTheCaseload:
    def test_an_address_already_in_the_therapists_own_caseload_is_refused_with_the_couple_named(
        self, client, therapist, partner_a
    ):
        response = add_couple(client, therapist, "ALEX@example.org")
        page = response.content.decode()
        assert response.redirect_chain == []
        assert "already the address of a partner in your couple “Alex &amp; Sam”" in page
        assert not Couple.objects.filter(label="Robin & Kim").exists() and not mail.outbox

    def test_the_therapists_own_address_is_refused(self, client, therapist):
        response = add_couple(client, therapist, therapist.email)
        assert "This is your own address" in response.content.decode()
        assert not Couple.objects.filter(label="Robin & Kim").exists()

    def test_the_same_address_twice_is_still_refused_by_the_database(self, therapist):
        couple = CoupleFactory(therapist=therapist)
        Partner.objects.create(couple=couple, slot=1, name="Robin", email="robin@example.org")
        with pytest.raises(IntegrityError), transaction.atomic():
            Partner.objects.create(couple=couple, slot=2, name="Kim", email="Robin@example.org")


class TestAcceptingWhenTheAddressHasAnAccount:
    """Two therapists invited the same person: whichever invitation they accept first, the other cannot
    make a second account; its link says so to the one who opened it (the address's owner)."""

    @pytest.fixture
    def both_invited(self, client, therapist, pending_elsewhere):
        add_couple(client, therapist, pending_elsewhere.email)
        client.logout()
        ours = Partner.objects.get(couple__therapist=therapist, email=pending_elsewhere.email)
        (message,) = _emails_to(pending_elsewhere.email)
        return ours, INVITE_LINK.search(message.body).group(0)

    def test_the_second_link_explains_and_creates_nothing(self, client, both_invited, pending_elsewhere):
        ours, link = both_invited
        services.invite_accept(partner=pending_elsewhere, password=GOOD_PASSWORD)
        page = client.get(link)
        assert "already has a Tend account" in page.content.decode()
        response = client.post(link, {"password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD})
        assert "already has a Tend account" in response.content.decode()
        ours.refresh_from_db()
        assert ours.user is None and User.objects.filter(email__iexact=ours.email).count() == 1


ONLY_POSTGRES = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="Two acceptances at once need two connections that really overlap: SQLite serialises writers, "
    "so the race is tested on PostgreSQL (scripts/with-postgres).",
)


@ONLY_POSTGRES
@pytest.mark.django_db(transaction=True)
def test_two_invitations_to_one_address_accepted_at_once_make_one_account_and_no_error(therapist, other_therapist):
    """Both checks see no account yet; the database's unique address decides, and the loser is told
    "already has a Tend account" (AddressTaken), not a server error."""
    theirs, ours = (
        PartnerFactory(
            couple=CoupleFactory(therapist=t), slot=1, email="robin@example.org", user=None, accepted_at=None
        )
        for t in (other_therapist, therapist)
    )
    first_inserted = threading.Event()
    outcome, errors = {}, []

    def second_is_waiting_on_the_first() -> bool:
        with connection.cursor() as cursor:
            # Inside a transaction PostgreSQL answers from one cached statistics snapshot: drop it, or
            # the second acceptance's wait is never seen (and its insert runs into the statement timeout).
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            return cursor.fetchone()[0] > 0

    def first():
        # The first acceptance, held open between its insert and its commit until the second one has
        # passed its check and waits on the same address in the unique index.
        with transaction.atomic():
            services.invite_accept(partner=theirs, password=GOOD_PASSWORD)
            first_inserted.set()
            # Well inside the web statement timeout (TEND_DB_STATEMENT_TIMEOUT, 10 s) the second one waits under.
            deadline = time.monotonic() + 5
            while not second_is_waiting_on_the_first() and time.monotonic() < deadline:
                time.sleep(0.01)

    def second():
        first_inserted.wait(10)
        try:
            services.invite_accept(partner=ours, password=GOOD_PASSWORD)
        except services.AddressTaken:
            outcome["second"] = "address taken"

    def run(target):
        try:
            target()
        except BaseException as exc:  # reported in the test's own thread below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(t,)) for t in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert outcome == {"second": "address taken"}
    assert User.objects.filter(email__iexact="robin@example.org").count() == 1
    ours.refresh_from_db()
    assert ours.user is None and ours.accepted_at is None
