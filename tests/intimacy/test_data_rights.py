"""The safety line, a partner's own data and consent, and the end of therapy: close, export, delete."""

import json
from datetime import date

import pytest
import time_machine
from django.urls import reverse
from django.utils.http import urlencode

from accounts.models import Couple, Partner, User
from intimacy.models import (
    Alert,
    Assignment,
    CoupleNote,
    PersonalPause,
    Reflection,
    SafetyCheck,
    SafetyMessage,
    Session,
    TouchHold,
)
from tests.factories import PASSWORD, ReflectionFactory, SessionFactory, totp_code
from tests.intimacy.test_views import log_data

REAUTHENTICATE = reverse("account_reauthenticate")
SAFETY_WORDS = "He kept going after I asked to stop SAFETY-7d1"


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel("2026-11-25 12:00:00+00:00", tick=False) as traveller:
        yield traveller


@pytest.fixture
def record(session, partner_a, partner_b, therapist):
    """On top of `session` (Alex gave, shared "A-shared-words"): Sam's reflection for the therapist only,
    and a second session with Sam's "Just me" journal and Alex's own private journal."""
    ReflectionFactory(
        session=session,
        partner=partner_b,
        role="receiver",
        connection=2,
        notes="B-THERAPIST-ONLY",
        visibility=Reflection.Visibility.THERAPIST,
    )
    other = SessionFactory(
        assignment=session.assignment, date=date(2026, 11, 22), giver=partner_b, receiver=partner_a, logged_by=partner_b
    )
    ReflectionFactory(
        session=other,
        partner=partner_b,
        role="giver",
        connection=4,
        notes="B-JUST-ME",
        visibility=Reflection.Visibility.PRIVATE,
    )
    ReflectionFactory(
        session=other,
        partner=partner_a,
        role="receiver",
        connection=9,
        notes="A-JUST-ME",
        visibility=Reflection.Visibility.PRIVATE,
    )
    CoupleNote.objects.create(
        couple=session.assignment.couple, author=therapist, date=date(2026, 11, 20), text="THERAPIST-NOTE"
    )
    return session


# The safety line ------------------------------------------------------------------------------------


class TestSafetyLine:
    def send(self, client_for, partner, words=SAFETY_WORDS):
        return client_for(partner).post(reverse("safety"), {"feeling": "pressured", "message": words})

    def test_its_address_title_and_landing_name_nothing(self, client_for, record, partner_b):
        # What a shared phone's history keeps: each page's address and title.
        assert reverse("safety") == "/note/"
        client = client_for(partner_b)
        assert "<title>Tend</title>" in client.get(reverse("safety")).content.decode()
        landing = client.post(reverse("safety"), {"feeling": "pressured", "message": SAFETY_WORDS}, follow=True)
        assert landing.redirect_chain == [(reverse("home"), 302)]
        html = landing.content.decode()
        assert "Thank you. It is sent." in html
        assert "Sent to your therapist" not in html and SAFETY_WORDS not in html

    def test_reaches_the_therapist_as_an_urgent_alert(self, client_for, record, partner_b, therapist):
        response = self.send(client_for, partner_b)
        # The partner's ordinary home, with a thank-you that names nothing (a shared phone's history).
        assert response.status_code == 302 and response["Location"] == reverse("home")
        message = SafetyMessage.objects.get()
        assert (message.partner, message.feeling, message.message) == (partner_b, "pressured", SAFETY_WORDS)
        alert = Alert.objects.get(kind="safety")
        assert (alert.partner, alert.urgent, alert.week) == (partner_b, True, date(2026, 11, 23))
        html = client_for(therapist).get(reverse("couple_detail", args=[record.assignment.couple_id])).content.decode()
        assert SAFETY_WORDS in html and "Tell my therapist privately" in html

    def test_never_reaches_the_other_partner_or_the_couples_views(
        self, client_for, record, partner_a, partner_b, therapist
    ):
        couple = record.assignment.couple
        couple.progress_page = True
        couple.save()
        self.send(client_for, partner_b)
        alex = client_for(partner_a)
        for url in (reverse("home"), reverse("history"), reverse("progress"), reverse("my_data_download")):
            assert "SAFETY-7d1" not in alex.get(url).content.decode(), url
        appointment = client_for(therapist).get(reverse("appointment", args=[couple.pk])).content.decode()
        assert "SAFETY-7d1" not in appointment and "privately" not in appointment

    def test_is_not_listed_again_even_for_the_sender(self, client_for, record, partner_b):
        sent = self.send(client_for, partner_b)
        sam = client_for(partner_b)
        for url in (
            sent["Location"],
            reverse("home"),
            reverse("history"),
            reverse("safety"),
            reverse("my_data"),
            reverse("my_data_download"),
        ):
            assert "SAFETY-7d1" not in sam.get(url).content.decode(), url

    def test_a_second_message_reopens_a_seen_alert(self, client_for, record, partner_b, therapist):
        self.send(client_for, partner_b)
        alert = Alert.objects.get(kind="safety")
        client_for(therapist).post(reverse("alert_acknowledge", args=[alert.pk]), {"note": "Called her"})
        alert.refresh_from_db()
        assert alert.acknowledged_at is not None
        self.send(client_for, partner_b, "Again")
        alert.refresh_from_db()
        assert alert.acknowledged_at is None and SafetyMessage.objects.count() == 2

    def test_the_page_says_it_is_not_watched_and_offers_a_quick_sign_out(self, client_for, partner_a):
        html = client_for(partner_a).get(reverse("safety")).content.decode()
        assert "not watched in real time" in html and "emergency number" in html
        assert reverse("quick_sign_out") in html

    def test_bad_input_keeps_the_words(self, client_for, partner_a):
        response = client_for(partner_a).post(reverse("safety"), {"feeling": "", "message": "Keep these words"})
        assert response.status_code == 200 and "Keep these words" in response.content.decode()
        assert not SafetyMessage.objects.exists()

    def test_only_for_partners(self, client, client_for, therapist):
        assert client.get(reverse("safety")).status_code == 302
        assert client_for(therapist).get(reverse("safety")).status_code == 403

    def test_quick_sign_out(self, client_for, partner_a):
        client = client_for(partner_a)
        assert client.get(reverse("quick_sign_out")).status_code == 405
        response = client.post(reverse("quick_sign_out"))
        assert response["Location"] == reverse("account_login")
        assert client.get(reverse("home")).status_code == 302


# A partner's own data -------------------------------------------------------------------------------


def test_partner_download_holds_their_own_and_only_what_was_shared(client_for, record, partner_a):
    response = client_for(partner_a).get(reverse("my_data_download"))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="tend-my-data-2026-11-25.json"'
    data = json.loads(response.content)
    body = response.content.decode()
    assert "A-shared-words" in body and "A-JUST-ME" in body  # Alex's own, private journal included
    for secret in ("B-THERAPIST-ONLY", "B-JUST-ME", "THERAPIST-NOTE"):
        assert secret not in body
    # Sam's unshared reflections are absent whole: not even their ratings (2 and 4) appear.
    reflections = [r for s in data["sessions"] for r in s["reflections"]]
    assert sorted((r["by"], r["connection"]) for r in reflections) == [("Alex", 7), ("Alex", 9)]
    # Both ratings of each of Alex's own, "safe" among them (the factory's comfort 8 and safe 9).
    assert [(r["comfort"], r["safe"]) for r in reflections] == [(8, 9), (8, 9)]
    assert data["you"]["email"] == "alex@example.org"


def test_partner_download_is_for_partners(client, client_for, therapist):
    assert client.get(reverse("my_data_download")).status_code == 302
    assert client_for(therapist).get(reverse("my_data_download")).status_code == 403


# The therapist's record, closing, deleting -------------------------------------------------------


def test_record_export_is_the_whole_file_without_private_words(client_for, record, therapist):
    couple = record.assignment.couple
    client = client_for(therapist, reauthenticated=True)
    assert client.get(reverse("couple_record", args=[couple.pk])).status_code == 405
    response = client.post(reverse("couple_record", args=[couple.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "B-THERAPIST-ONLY" in body and "THERAPIST-NOTE" in body and "A-shared-words" in body
    assert "B-JUST-ME" not in body and "A-JUST-ME" not in body
    data = json.loads(body)
    ratings = sorted(r["connection"] for s in data["sessions"] for r in s["reflections"])
    assert ratings == [2, 4, 7, 9]  # a private journal's ratings are the therapist's
    couple.refresh_from_db()
    assert couple.exported_at is not None


def test_record_export_access(client_for, record, partner_a, other_therapist):
    url = reverse("couple_record", args=[record.assignment.couple_id])
    assert client_for(partner_a).post(url).status_code == 403
    assert client_for(other_therapist).post(url).status_code == 404


class TestDeleteCouple:
    def test_refused_before_an_export(self, client_for, record, therapist):
        couple = record.assignment.couple
        response = client_for(therapist, reauthenticated=True).post(
            reverse("couple_delete", args=[couple.pk]), {"confirmation": couple.label}
        )
        assert response.status_code == 400 and "Export the record first" in response.content.decode()
        assert Couple.objects.filter(pk=couple.pk).exists()

    def test_needs_the_label_typed(self, client_for, record, therapist):
        couple = record.assignment.couple
        client = client_for(therapist, reauthenticated=True)
        client.post(reverse("couple_record", args=[couple.pk]))
        response = client.post(reverse("couple_delete", args=[couple.pk]), {"confirmation": "alex"})
        assert response.status_code == 400 and 'value="alex"' in response.content.decode()
        assert Couple.objects.filter(pk=couple.pk).exists()

    def test_removes_everything_clinical_for_good(self, client_for, record, therapist, outsider, partner_a):
        couple = record.assignment.couple
        client = client_for(therapist, reauthenticated=True)
        client.post(reverse("couple_record", args=[couple.pk]))
        SafetyMessage.objects.create(couple=couple, partner=partner_a, feeling="unsafe")
        alex_user = partner_a.user_id
        response = client.post(reverse("couple_delete", args=[couple.pk]), {"confirmation": "Alex & Sam"})
        assert response.status_code == 302
        assert not Couple.objects.filter(pk=couple.pk).exists()
        assert not Partner.objects.filter(couple_id=couple.pk).exists()
        assert not Assignment.objects.filter(couple_id=couple.pk).exists()
        assert not Reflection.objects.filter(partner__couple_id=couple.pk).exists()
        assert not Session.objects.filter(assignment__couple_id=couple.pk).exists()
        assert not SafetyMessage.objects.exists() and not CoupleNote.objects.exists()
        assert not User.objects.filter(pk=alex_user).exists()
        # Others are untouched.
        assert User.objects.filter(pk=therapist.pk).exists() and Partner.objects.filter(pk=outsider.pk).exists()

    def test_access(self, client_for, record, partner_a, other_therapist):
        url = reverse("couple_delete", args=[record.assignment.couple_id])
        assert client_for(partner_a).get(url).status_code == 403
        assert client_for(other_therapist).post(url, {"confirmation": "Alex & Sam"}).status_code == 404
        assert Couple.objects.filter(pk=record.assignment.couple_id).exists()


class TestClosedCase:
    @pytest.fixture
    def closed(self, record):
        couple = record.assignment.couple
        couple.status = Couple.Status.CLOSED
        couple.save()
        return record

    def test_partners_can_read_but_not_write(self, client_for, closed, partner_a):
        client = client_for(partner_a)
        assert "closed this case" in client.get(reverse("home")).content.decode()
        assert client.get(reverse("history")).status_code == 200
        before = Session.objects.count()
        client.post(reverse("session_log", args=[closed.assignment_id]), log_data(notes="new"))
        assert Session.objects.count() == before
        mine = Reflection.objects.get(session=closed, partner=partner_a)
        client.post(
            reverse("reflection_edit", args=[mine.pk]),
            {"connection": "1", "comfort": "1", "safe": "1", "visibility": "shared"},
        )
        mine.refresh_from_db()
        assert mine.connection == 7

    def test_privacy_is_never_closed(self, client_for, closed, partner_a):
        mine = Reflection.objects.get(session=closed, partner=partner_a)
        client_for(partner_a).post(reverse("reflection_visibility", args=[mine.pk]), {"visibility": "private"})
        mine.refresh_from_db()
        assert mine.visibility == "private"

    def test_the_therapist_cannot_assign_or_add_notes(self, client_for, closed, therapist):
        couple = closed.assignment.couple
        client = client_for(therapist)
        before = Assignment.objects.count()
        client.post(
            reverse("assignment_create", args=[couple.pk]),
            {
                "exercise": closed.assignment.exercise_id,
                "target_per_week": "2",
                "suggested_minutes": "15",
                "starts_on": "2026-11-25",
                "giver_plan": "turns",
            },
        )
        assert Assignment.objects.count() == before
        response = client.post(reverse("note_add", args=[couple.pk]), {"date": "2026-11-25", "text": "late note"})
        assert response.status_code == 400 and "closed" in response.content.decode()


# Consent -------------------------------------------------------------------------------------------


def test_withdrawing_consent_stops_logging_pauses_and_tells_the_therapist(client_for, record, partner_a):
    client = client_for(partner_a)
    response = client.post(reverse("consent_withdraw"), {})
    assert response.status_code == 200 and "Tick the box" in response.content.decode()
    response = client.post(reverse("consent_withdraw"), {"confirm": "yes"})
    assert response["Location"] == reverse("account_login")
    partner_a.refresh_from_db()
    assert partner_a.consent_withdrawn_at is not None and not partner_a.has_current_consent
    assert Assignment.objects.get(pk=record.assignment_id).status == "paused"
    alert = Alert.objects.get(kind="consent_withdrawn")
    assert alert.partner == partner_a
    assert alert.urgent  # issue 13: withdrawing may be the only safe way someone finds to step back
    # Signed out; signing in again meets the consent page before anything else.
    assert client.get(reverse("home")).status_code == 302
    again = client_for(partner_a)
    assert again.get(reverse("history"))["Location"] == reverse("consent")
    # What they wrote stays with the therapist.
    assert Reflection.objects.filter(partner=partner_a).count() == 2


class TestAfterWithdrawingConsent:
    """The exits stay open (issue 13): the private line, their data, more privacy, consent again."""

    @pytest.fixture
    def alex(self, client_for, record, partner_a):
        client_for(partner_a).post(reverse("consent_withdraw"), {"confirm": "yes"})
        return client_for(partner_a)

    def test_home_offers_the_four_ways_and_nothing_else(self, alex, partner_a):
        html = alex.get(reverse("home")).content.decode()
        for name in ("safety", "my_data", "consent"):
            assert f'href="{reverse(name)}"' in html
        shared = Reflection.objects.get(partner=partner_a, visibility=Reflection.Visibility.SHARED)
        assert reverse("reflection_visibility", args=[shared.pk]) in html
        # Alex's "Just me" journal is already as private as it gets: not offered.
        journal = Reflection.objects.get(partner=partner_a, visibility=Reflection.Visibility.PRIVATE)
        assert reverse("reflection_visibility", args=[journal.pk]) not in html
        assert reverse("log_start") not in html.split("<main", 1)[1]
        assert alex.get(reverse("log_start"))["Location"] == reverse("consent")

    def test_the_private_line_still_reaches_the_therapist(self, alex, partner_a):
        response = alex.post(reverse("safety"), {"feeling": "unsafe", "message": SAFETY_WORDS})
        assert response["Location"] == reverse("home")
        assert SafetyMessage.objects.get(partner=partner_a).message == SAFETY_WORDS

    def test_words_can_be_made_more_private_never_less(self, alex, partner_a):
        shared = Reflection.objects.get(partner=partner_a, visibility=Reflection.Visibility.SHARED)
        url = reverse("reflection_visibility", args=[shared.pk])
        response = alex.post(url, {"visibility": Reflection.Visibility.THERAPIST})
        assert response["Location"] == reverse("home")
        response = alex.post(url, {"visibility": Reflection.Visibility.SHARED})
        assert response.status_code == 200 and "consent is withdrawn" in response.content.decode()
        shared.refresh_from_db()
        assert shared.visibility == Reflection.Visibility.THERAPIST

    def test_the_data_download_and_consent_again(self, alex, partner_a):
        assert alex.get(reverse("my_data_download")).status_code == 200
        alex.post(reverse("consent"), {"agree": "on"})
        partner_a.refresh_from_db()
        assert partner_a.has_current_consent and not partner_a.withdrew_consent
        assert alex.get(reverse("history")).status_code == 200


class TestPasswordFirst:
    """A couple's record leaving Tend, or being deleted, asks for the password again (issue 12, item 4).

    Nothing happens on the way: the interrupted request is dropped, and after the password the
    therapist is back where they chose it, to choose it again. A sign-in a minute ago is not enough.
    """

    @staticmethod
    def asked(response, back: str) -> bool:
        return response.status_code == 302 and response["Location"] == f"{REAUTHENTICATE}?{urlencode({'next': back})}"

    @staticmethod
    def confirm(client, back: str):
        page = client.get(f"{REAUTHENTICATE}?{urlencode({'next': back})}")
        assert page.status_code == 200 and "confirm it" in page.content.decode()
        response = client.post(REAUTHENTICATE, {"password": PASSWORD, "next": back})
        assert response.status_code == 302 and response["Location"] == back

    def test_the_record_export_a_minute_after_signing_in(self, client, record, therapist, _frozen):
        couple = record.assignment.couple
        client.post(reverse("account_login"), {"login": therapist.email, "password": PASSWORD})
        assert client.post(reverse("mfa_authenticate"), {"code": totp_code()}).status_code == 302
        back = reverse("couple_exercises", args=[couple.pk]) + "#record"
        _frozen.shift(60)
        assert self.asked(client.post(reverse("couple_record", args=[couple.pk])), back)
        couple.refresh_from_db()
        assert couple.exported_at is None
        self.confirm(client, back)
        couple.refresh_from_db()
        assert couple.exported_at is None  # the interrupted export was not run by the password form
        response = client.post(reverse("couple_record", args=[couple.pk]))
        assert response.status_code == 200 and response["Content-Type"] == "application/json"

    def test_the_csv_download_comes_back_to_the_same_period(self, client_for, record, therapist):
        couple = record.assignment.couple
        client = client_for(therapist)
        url = reverse("couple_export", args=[couple.pk])
        back = reverse("couple_detail", args=[couple.pk]) + "?from=2026-10-01&to=2026-11-20"
        assert self.asked(client.get(url, {"from": "2026-10-01", "to": "2026-11-20"}), back)
        self.confirm(client, back)
        response = client.get(url, {"from": "2026-10-01", "to": "2026-11-20"})
        assert response.status_code == 200 and response["Content-Type"] == "text/csv"

    def test_deleting_asks_before_the_page_and_again_if_it_has_been_too_long(
        self, client_for, record, therapist, _frozen
    ):
        couple = record.assignment.couple
        client = client_for(therapist, reauthenticated=True)
        client.post(reverse("couple_record", args=[couple.pk]))
        url = reverse("couple_delete", args=[couple.pk])
        assert client.get(url).status_code == 200
        _frozen.shift(5 * 60 + 1)
        assert self.asked(client.get(url), url)
        # The page was open before, the typed label is sent now: nothing is deleted on the way.
        assert self.asked(client.post(url, {"confirmation": couple.label}), url)
        assert Couple.objects.filter(pk=couple.pk).exists()
        self.confirm(client, url)
        assert Couple.objects.filter(pk=couple.pk).exists()
        assert client.get(url).status_code == 200
        assert client.post(url, {"confirmation": couple.label}).status_code == 302
        assert not Couple.objects.filter(pk=couple.pk).exists()

    def test_the_access_gate_answers_first(self, client_for, record, partner_a, other_therapist):
        couple_id = record.assignment.couple_id
        assert client_for(other_therapist).post(reverse("couple_record", args=[couple_id])).status_code == 404
        assert client_for(other_therapist).get(reverse("couple_delete", args=[couple_id])).status_code == 404
        assert client_for(partner_a).get(reverse("couple_export", args=[couple_id])).status_code == 403


def test_the_couple_record_holds_the_safety_loop_not_the_old_checkbox(
    therapist, couple, partner_a, partner_b, assignment, session
):
    from intimacy import records, services

    services.safety_check_answer(partner=partner_b, answers={**SafetyCheck.FINE, "pressured": "unsure"})
    services.session_dispute(session=session, partner=partner_b)
    hold = TouchHold.objects.get()
    today = couple.today()
    services.hold_lift(
        couple=couple,
        by=therapist,
        note="Spoke with each.",
        screenings={p.pk: {"day": today, "how": "phone"} for p in (partner_a, partner_b)},
    )
    pause = PersonalPause.objects.create(couple=couple, partner=partner_a, kind="for_me")
    record = records.couple_record(couple, therapist)
    assert "screened_for_coercion_and_violence" not in record["couple"]
    # The factory's first screening of each partner, then the two the lift recorded.
    assert [(s["partner"], s["how"]) for s in record["screenings"]] == [
        ("Alex", "in_person"),
        ("Sam", "in_person"),
        ("Alex", "phone"),
        ("Sam", "phone"),
    ]
    worrying = record["private_checks"][-1]
    assert (worrying["partner"], worrying["flagged"], worrying["pressured"]) == ("Sam", True, "unsure")
    (held,) = record["holds"]
    assert (held["id"], held["reason"], held["lift_note"]) == (hold.pk, "safety_check", "Spoke with each.")
    assert held["placed_at"] == hold.placed_at and held["lifted_at"] is not None
    assert record["personal_pauses"] == [
        {"id": pause.pk, "partner": "Alex", "kind": "for_me", "from": pause.created_at, "until": None, "ended_at": None}
    ]
    (dispute,) = record["disputes"]
    assert (dispute["session_id"], dispute["session_date"], dispute["partner"]) == (session.pk, session.date, "Sam")
    assert [s["id"] for s in record["sessions"]] == [session.pk]


def test_a_partners_own_download_keeps_leaving_out_the_check_answers(couple, partner_a, partner_b, assignment):
    from intimacy import records, services

    services.safety_check_answer(partner=partner_b, answers=SafetyCheck.FINE)
    mine = records.partner_record(partner_b, partner_b.user)
    assert not {"private_checks", "holds", "disputes", "screenings"} & set(mine)
    assert "feel_safe" not in str(mine)
