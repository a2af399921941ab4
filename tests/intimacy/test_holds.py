"""A hold that acts (issue 13): a safety signal puts the couple's touch exercises on hold at once.

While it is on nothing can be logged or reflected on, no touch reminder goes out, both partners see
only the neutral "Your therapist has paused this exercise", and only the therapist lifts it, after a
new separate conversation with each partner and with a note.
"""

import re
import uuid
from datetime import UTC, date, datetime, time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.services import reminders_set
from intimacy import holds, services
from intimacy.alerts import alerts_raise
from intimacy.models import Alert, Reflection, ScreeningRecord, TouchHold
from intimacy.reminders import reminders_due
from tests.factories import ReflectionFactory, SessionFactory

pytestmark = pytest.mark.django_db

NEUTRAL = "Your therapist has paused this exercise for now."
ANSWERS = {"connection": 7, "comfort": 8}


def _log(assignment, partner):
    return services.session_log(
        assignment=assignment,
        partner=partner,
        day=assignment.couple.today(),
        minutes=15,
        role=Reflection.Role.GIVER,
        answers=ANSWERS,
        idempotency_key=uuid.uuid4(),
    )


def _tell(partner):
    return services.safety_message_send(partner=partner, feeling="pressured", message="Sam pushes for more")


# Placing ---------------------------------------------------------------------------------------------


def test_a_safety_message_places_a_hold_at_once(couple, partner_a, partner_b, assignment):
    _tell(partner_a)
    hold = TouchHold.objects.get(couple=couple)
    assert hold.lifted_at is None
    assert hold.reason == Alert.Kind.SAFETY
    assert hold.placed_by_alert == Alert.objects.get(kind=Alert.Kind.SAFETY)


def test_a_low_comfort_rating_places_a_hold_through_the_alert_engine(couple, partner_a, partner_b, assignment):
    session = SessionFactory(
        assignment=assignment, date=couple.today(), giver=partner_a, receiver=partner_b, logged_by=partner_a
    )
    ReflectionFactory(session=session, partner=partner_b, role=Reflection.Role.RECEIVER, comfort=3)
    alerts_raise(couple=couple)
    hold = TouchHold.objects.open().get(couple=couple)
    assert hold.reason == Alert.Kind.LOW_COMFORT


def test_an_ordinary_alert_places_no_hold(couple, partner_a, partner_b, assignment):
    session = SessionFactory(
        assignment=assignment, date=couple.today(), giver=partner_a, receiver=partner_b, logged_by=partner_a
    )
    ReflectionFactory(session=session, partner=partner_b, role=Reflection.Role.RECEIVER, comfort=4, paused=True)
    alerts_raise(couple=couple)
    assert Alert.objects.filter(kind=Alert.Kind.PAUSED).exists()
    assert not TouchHold.objects.exists()


def test_two_signals_make_one_open_hold_with_the_first_reason(couple, partner_a, partner_b, assignment):
    _tell(partner_a)
    _tell(partner_b)
    assert TouchHold.objects.open().get(couple=couple).reason == Alert.Kind.SAFETY
    assert TouchHold.objects.count() == 1


def test_hold_kinds_are_urgent_safety_signals_only():
    assert holds.places_hold(Alert.Kind.SAFETY, urgent=True)
    assert holds.places_hold(Alert.Kind.LOW_COMFORT, urgent=True)
    assert not holds.places_hold(Alert.Kind.PAUSED, urgent=False)
    # Withdrawn consent pauses the exercises itself, and is not a hold the therapist must lift.
    assert not holds.places_hold(Alert.Kind.CONSENT_WITHDRAWN, urgent=True)


# While it is on --------------------------------------------------------------------------------------


def test_nothing_can_be_logged_or_reflected_on_while_held(couple, partner_a, partner_b, assignment, session):
    _tell(partner_a)
    for partner in (partner_a, partner_b):
        with pytest.raises(ValidationError) as caught:
            _log(assignment, partner)
        assert caught.value.messages == [NEUTRAL]
    with pytest.raises(ValidationError) as caught:
        services.reflection_add(session=session, partner=partner_b, answers=ANSWERS)
    assert caught.value.messages == [NEUTRAL]


def _midweek_and_checkin_keys(partner):
    due = {d.key.split(":")[0] for d in reminders_due(datetime(2026, 11, 26, 19, tzinfo=UTC))}
    due |= {d.key.split(":")[0] for d in reminders_due(datetime(2026, 11, 29, 19, tzinfo=UTC))}
    return due


def test_no_touch_reminders_while_held_but_the_checkin_still_comes(couple, partner_a, partner_b, assignment):
    for partner in (partner_a, partner_b):
        reminders_set(partner=partner, on=True, weekdays=list(range(7)), at=time(19, 0))
    # Thursday 26 November: planned and midweek; Sunday 29: planned and the check-in.
    assert _midweek_and_checkin_keys(partner_a) == {"planned", "midweek", "checkin"}
    holds.hold_place(couple=couple, reason=Alert.Kind.SAFETY)
    assert _midweek_and_checkin_keys(partner_a) == {"checkin"}


def test_no_reflection_nudge_while_held(couple, partner_a, partner_b, assignment, time_machine):
    for partner in (partner_a, partner_b):
        reminders_set(partner=partner, on=True, weekdays=[], at=time(19, 0))
    time_machine.move_to(datetime(2026, 11, 24, 21, 10, tzinfo=UTC), tick=False)
    SessionFactory(
        assignment=assignment, date=date(2026, 11, 24), giver=partner_a, receiver=partner_b, logged_by=partner_a
    )
    day_later = datetime(2026, 11, 25, 21, 10, tzinfo=UTC)
    assert [d.kind for d in reminders_due(day_later)] == ["reflection"]
    holds.hold_place(couple=couple, reason=Alert.Kind.SAFETY)
    assert reminders_due(day_later) == []


# What each partner sees --------------------------------------------------------------------------------


def _page(client, user, url="home"):
    client.force_login(user)
    html = client.get(reverse(url)).content.decode()
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def _without_the_exercise_card(html: str) -> str:
    return re.sub(r'<section class="card mb-4".*?</section>', "", html, flags=re.S)


def test_the_other_partner_sees_only_the_neutral_pause(client, couple, partner_a, partner_b, assignment):
    pages = ["home", "history", "progress"]
    couple.progress_page = True
    couple.save()
    before = {url: _page(client, partner_b.user, url) for url in pages}
    assert NEUTRAL not in before["home"]
    _tell(partner_a)
    after = {url: _page(client, partner_b.user, url) for url in pages}
    # The exercise card is exactly the one a therapist's plain pause has always shown ...
    hold = TouchHold.objects.get()
    hold.lifted_at, hold.lift_note = hold.placed_at, "test"
    hold.save()
    services.assignment_set_status(assignment=assignment, status="paused")
    assert after["home"] == _page(client, partner_b.user)
    assert NEUTRAL in after["home"]
    # ... and nothing else on Sam's pages changed: not why, not who.
    assert _without_the_exercise_card(after["home"]) == _without_the_exercise_card(before["home"])
    assert after["history"] == before["history"]
    assert after["progress"] == before["progress"]


def test_the_partner_who_told_sees_the_same_pause(client, couple, partner_a, partner_b, assignment):
    _tell(partner_a)
    mine, theirs = _page(client, partner_a.user), _page(client, partner_b.user)
    assert NEUTRAL in mine and NEUTRAL in theirs
    assert "hold" not in mine.lower()


def test_logging_pages_send_home_with_the_neutral_words(client, couple, partner_a, partner_b, assignment, session):
    _tell(partner_a)
    client.force_login(partner_b.user)
    for url in (reverse("session_log", args=[assignment.pk]), reverse("reflection_add", args=[session.pk])):
        response = client.get(url, follow=True)
        assert response.redirect_chain[-1][0] == reverse("home")
        assert NEUTRAL in response.content.decode()


# Lifting ---------------------------------------------------------------------------------------------


def _lift_data(couple, partner_a, partner_b, note="Spoke with each; safe to resume."):
    today = couple.today().isoformat()
    return {
        f"day_{partner_a.pk}": today,
        f"how_{partner_a.pk}": "in_person",
        f"day_{partner_b.pk}": today,
        f"how_{partner_b.pk}": "phone",
        "note": note,
    }


def test_the_therapist_sees_the_hold_and_lifts_it(client, therapist, couple, partner_a, partner_b, assignment):
    _tell(partner_a)
    client.force_login(therapist)
    page = client.get(reverse("couple_detail", args=[couple.pk])).content.decode()
    assert "Lift the hold" in page and "never replaces" in page
    response = client.post(reverse("hold_lift", args=[couple.pk]), _lift_data(couple, partner_a, partner_b))
    assert response.status_code == 302
    hold = TouchHold.objects.get(couple=couple)
    assert hold.lifted_at is not None and hold.lifted_by == therapist
    assert hold.lift_note == "Spoke with each; safe to resume."
    assert sorted(ScreeningRecord.objects.values_list("partner__name", "how")) == [
        ("Alex", "in_person"),
        ("Sam", "phone"),
    ]
    assert not holds.is_held(couple)


def test_lifting_needs_a_note_and_both_conversations(client, therapist, couple, partner_a, partner_b, assignment):
    _tell(partner_a)
    client.force_login(therapist)
    no_note = _lift_data(couple, partner_a, partner_b, note="")
    assert client.post(reverse("hold_lift", args=[couple.pk]), no_note).status_code == 400
    one_only = _lift_data(couple, partner_a, partner_b)
    del one_only[f"day_{partner_b.pk}"]
    assert client.post(reverse("hold_lift", args=[couple.pk]), one_only).status_code == 400
    assert holds.is_held(couple) and not ScreeningRecord.objects.exists()


def test_only_the_couples_therapist_lifts(couple, partner_a, partner_b, assignment, other_therapist):
    _tell(partner_a)
    with pytest.raises(PermissionDenied):
        services.hold_lift(couple=couple, by=other_therapist, note="x", screenings={})
    with pytest.raises(PermissionDenied):
        services.hold_lift(couple=couple, by=partner_a.user, note="x", screenings={})


def test_a_partner_cannot_lift_and_learns_nothing(client, couple, partner_a, partner_b, assignment):
    url = reverse("hold_lift", args=[couple.pk])
    client.force_login(partner_b.user)
    # The same answer with and without a hold: nothing to learn from it.
    assert client.post(url, {}).status_code == 403
    _tell(partner_a)
    assert client.post(url, _lift_data(couple, partner_a, partner_b)).status_code == 403
    assert holds.is_held(couple)


def test_the_old_screening_checkbox_becomes_a_record_per_partner(couple, partner_a, partner_b, other_couple, migration):
    from django.apps import apps

    couple.screened_at = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)  # 2 March in Europe/Berlin
    couple.time_zone = "Europe/Berlin"
    couple.save()
    (move,) = [op for op in migration("intimacy", "touch_hold_and_screening_record").operations if hasattr(op, "code")]
    move.code(apps, None)
    records = sorted(ScreeningRecord.objects.values_list("couple", "partner__name", "date", "how"))
    # Both partners, that day where the couple lives; how was never asked; the unscreened couple has none.
    assert records == [
        (couple.pk, "Alex", date(2026, 3, 2), "unrecorded"),
        (couple.pk, "Sam", date(2026, 3, 2), "unrecorded"),
    ]
