"""A hold that acts (issue 13): a safety signal puts the couple's touch exercises on hold at once.

While it is on nothing can be logged or reflected on, no touch reminder goes out, both partners see
only the neutral "Your therapist has paused this exercise", and only the therapist lifts it, after a
new separate conversation with each partner and with a note.
"""

import re
import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.models import ReminderSend
from accounts.services import reminders_set
from intimacy import holds, services
from intimacy.alerts import alert_acknowledge, alerts_raise
from intimacy.models import Alert, Exercise, PersonalPause, Reflection, SafetyCheck, ScreeningRecord, TouchHold
from intimacy.reminders import reminders_due
from tests.factories import AssignmentFactory, ExerciseFactory, ReflectionFactory, SessionFactory

pytestmark = pytest.mark.django_db

NEUTRAL = "Your therapist has paused this exercise for now."
ANSWERS = {"connection": 7, "comfort": 8, "safe": 8}


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


def test_a_low_safe_rating_places_a_hold_through_the_alert_engine(couple, partner_a, partner_b, assignment):
    session = SessionFactory(
        assignment=assignment, date=couple.today(), giver=partner_a, receiver=partner_b, logged_by=partner_a
    )
    ReflectionFactory(session=session, partner=partner_b, role=Reflection.Role.RECEIVER, comfort=8, safe=3)
    alerts_raise(couple=couple)
    hold = TouchHold.objects.open().get(couple=couple)
    assert hold.reason == Alert.Kind.LOW_SAFE


def test_low_comfort_alone_is_an_ordinary_alert_and_places_no_hold(couple, partner_a, partner_b, assignment):
    session = SessionFactory(
        assignment=assignment, date=couple.today(), giver=partner_a, receiver=partner_b, logged_by=partner_a
    )
    ReflectionFactory(session=session, partner=partner_b, role=Reflection.Role.RECEIVER, comfort=2, safe=8)
    alerts_raise(couple=couple)
    assert Alert.objects.get(kind=Alert.Kind.LOW_COMFORT).urgent is False
    assert not TouchHold.objects.exists()


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
    assert holds.places_hold(Alert.Kind.LOW_SAFE, urgent=True)
    assert not holds.places_hold(Alert.Kind.LOW_COMFORT, urgent=False)
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


def test_the_log_page_says_paused_not_that_there_is_no_exercise(client, couple, partner_a, partner_b, assignment):
    _tell(partner_a)
    client.force_login(partner_b.user)
    html = client.get(reverse("log_start")).content.decode()
    assert NEUTRAL in html
    assert "no active exercise" not in html


def test_the_log_page_asks_for_ones_own_private_check_first(client, couple, partner_a, partner_b, assignment):
    """As the home page does: the partner whose private check is due is offered it, not told "paused";
    their partner, whose check is done, reads only the neutral pause (found on the walk-through)."""
    for check in SafetyCheck.objects.filter(partner=partner_a):  # the factories' partners start checked
        check.delete()
    client.force_login(partner_a.user)
    html = client.get(reverse("log_start")).content.decode()
    assert "Answer privately (1 minute)" in html and reverse("safety_check") in html
    assert NEUTRAL not in html
    client.force_login(partner_b.user)
    html = client.get(reverse("log_start")).content.decode()
    assert NEUTRAL in html and "Answer privately" not in html


# Lifting ---------------------------------------------------------------------------------------------


def _lift_data(couple, partner_a, partner_b, note="Spoke with each; safe to resume."):
    today = couple.today().isoformat()
    return {
        f"lift-day_{partner_a.pk}": today,
        f"lift-how_{partner_a.pk}": "in_person",
        f"lift-day_{partner_b.pk}": today,
        f"lift-how_{partner_b.pk}": "phone",
        "lift-note": note,
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
    assert sorted(ScreeningRecord.objects.filter(recorded_by=therapist).values_list("partner__name", "how")) == [
        ("Alex", "in_person"),
        ("Sam", "phone"),
    ]
    assert holds.open_hold(couple) is None


def test_lifting_needs_a_note_and_both_conversations(client, therapist, couple, partner_a, partner_b, assignment):
    _tell(partner_a)
    client.force_login(therapist)
    no_note = _lift_data(couple, partner_a, partner_b, note="")
    assert client.post(reverse("hold_lift", args=[couple.pk]), no_note).status_code == 400
    one_only = _lift_data(couple, partner_a, partner_b)
    del one_only[f"lift-day_{partner_b.pk}"]
    assert client.post(reverse("hold_lift", args=[couple.pk]), one_only).status_code == 400
    assert holds.open_hold(couple) is not None and not ScreeningRecord.objects.filter(recorded_by=therapist).exists()


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
    assert holds.open_hold(couple) is not None


def test_the_old_screening_checkbox_becomes_a_record_per_partner(couple, partner_a, partner_b, other_couple, migration):
    from django.apps import apps

    for record in ScreeningRecord.objects.all():  # the factories' own (one by one: the audit trail)
        record.delete()
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


# The private check and the separate screenings (item 2) -------------------------------------------------

FINE = {"feel_safe": "yes", "hurt": "no", "pressured": "no", "free_to_say_no": "yes"}


@pytest.fixture
def new_couple(therapist):
    """A couple whose therapist has not yet spoken with either partner alone, nor have they answered."""
    from tests.factories import AssignmentFactory, CoupleFactory, PartnerFactory

    couple = CoupleFactory(therapist=therapist, label="Kim & Lou", screened_at=None)
    kim = PartnerFactory(couple=couple, slot=1, name="Kim", cleared=False)
    lou = PartnerFactory(couple=couple, slot=2, name="Lou", cleared=False)
    assignment = AssignmentFactory(couple=couple)
    return couple, kim, lou, assignment


def _screen(couple, partner, therapist):
    services.screening_record(couple=couple, partner=partner, by=therapist, day=couple.today(), how="video")


def test_touch_opens_only_after_both_screenings_and_both_clean_checks(therapist, new_couple):
    couple, kim, lou, assignment = new_couple
    steps = [
        lambda: _screen(couple, kim, therapist),
        lambda: _screen(couple, lou, therapist),
        lambda: services.safety_check_answer(partner=kim, answers=FINE),
    ]
    for step in steps:
        with pytest.raises(ValidationError) as caught:
            _log(assignment, kim)
        assert caught.value.messages == [NEUTRAL]
        step()
    with pytest.raises(ValidationError):
        _log(assignment, kim)  # Lou has not answered yet
    services.safety_check_answer(partner=lou, answers=FINE)
    session, created = _log(assignment, kim)
    assert created


@pytest.mark.parametrize("question", ["feel_safe", "hurt", "pressured", "free_to_say_no"])
@pytest.mark.parametrize("answer", ["worrying", "unsure"])
def test_a_worrying_answer_raises_an_urgent_alert_and_a_hold(therapist, new_couple, question, answer):
    couple, kim, lou, assignment = new_couple
    worrying = {"yes": "no", "no": "yes"}[FINE[question]] if answer == "worrying" else "unsure"
    check = services.safety_check_answer(partner=lou, answers={**FINE, question: worrying})
    assert check.flagged
    alert = Alert.objects.get(kind=Alert.Kind.SAFETY_CHECK)
    assert alert.urgent and alert.partner == lou
    assert TouchHold.objects.open().get(couple=couple).reason == Alert.Kind.SAFETY_CHECK


def test_clean_answers_raise_nothing(therapist, new_couple):
    couple, kim, lou, assignment = new_couple
    assert not services.safety_check_answer(partner=lou, answers=FINE).flagged
    assert not Alert.objects.exists() and not TouchHold.objects.exists()


def test_the_other_partner_cannot_tell_a_flag_from_no_answer_yet(client, therapist, new_couple):
    couple, kim, lou, assignment = new_couple
    for partner in (kim, lou):
        _screen(couple, partner, therapist)
    services.safety_check_answer(partner=kim, answers=FINE)
    not_yet = _page(client, kim.user)
    assert NEUTRAL in not_yet
    # Lou is asked on their own home page; Kim is not told so.
    lou_home = _page(client, lou.user)
    assert reverse("safety_check") in lou_home and reverse("safety_check") not in not_yet
    services.safety_check_answer(partner=lou, answers={**FINE, "hurt": "yes"})
    assert _page(client, kim.user) == not_yet
    # Lou, having answered, sees the same pause and is not asked again while the hold is on.
    assert NEUTRAL in _page(client, lou.user) and reverse("safety_check") not in _page(client, lou.user)


def test_after_a_lift_each_partner_answers_the_check_again(client, therapist, couple, partner_a, partner_b, assignment):
    _tell(partner_a)
    client.force_login(therapist)
    client.post(reverse("hold_lift", args=[couple.pk]), _lift_data(couple, partner_a, partner_b))
    assert holds.open_hold(couple) is None
    assert holds.clearance(couple).to_answer == {partner_a.pk, partner_b.pk}
    with pytest.raises(ValidationError):
        _log(assignment, partner_b)
    for partner in (partner_a, partner_b):
        services.safety_check_answer(partner=partner, answers=FINE)
    assert _log(assignment, partner_b)[1]


def test_the_check_page_stores_the_answers_and_thanks_the_same_way(client, new_couple):
    couple, kim, lou, assignment = new_couple
    client.force_login(lou.user)
    page = client.get(reverse("safety_check"))
    assert page.status_code == 200 and "<title>Tend</title>" in page.content.decode()
    thanks = []
    for answers in (FINE, {**FINE, "pressured": "yes"}):
        response = client.post(reverse("safety_check"), answers, follow=True)
        assert response.redirect_chain[-1][0] == reverse("home")
        thanks.append([str(m) for m in response.context["messages"]])
    assert thanks[0] == thanks[1] == ["Thank you. Your answers go to your therapist only."]
    stored = SafetyCheck.objects.filter(couple=couple).order_by("pk").values_list("partner__name", "flagged")
    assert list(stored) == [("Lou", False), ("Lou", True)]


SCREENING_PAGE_QUERIES = 4


def test_the_therapist_records_a_separate_conversation_and_sees_the_answers(
    client, therapist, new_couple, django_assert_num_queries
):
    couple, kim, lou, assignment = new_couple
    services.safety_check_answer(partner=lou, answers={**FINE, "pressured": "unsure"})
    client.force_login(therapist)
    url = reverse("screening_add", args=[couple.pk])
    # The overview's touch-work panel links to the page of its own; the form is not on the overview.
    overview = client.get(reverse("couple_detail", args=[couple.pk])).content.decode()
    assert f'href="{url}"' in overview and 'name="screening-how"' not in overview
    with django_assert_num_queries(SCREENING_PAGE_QUERIES):  # pinned: the session, the user, the gate, the partners
        form_page = client.get(url)
    assert form_page.status_code == 200 and not ScreeningRecord.objects.exists()
    html = form_page.content.decode()
    assert f'<option value="{kim.pk}">Kim</option>' in html and f'<option value="{lou.pk}">Lou</option>' in html
    # Without "How", nothing is recorded and what was typed is still there.
    typed = {
        "screening-partner": kim.pk,
        "screening-date": couple.today().isoformat(),
        "screening-note": "Calm, by phone",
    }
    refused = client.post(url, typed)
    assert refused.status_code == 400 and not ScreeningRecord.objects.exists()
    assert (
        'value="Calm, by phone"' in refused.content.decode() and "This field is required." in refused.content.decode()
    )
    data = {**typed, "screening-how": "phone"}
    response = client.post(url, data)
    assert (
        response.status_code == 302
        and response["Location"] == reverse("couple_detail", args=[couple.pk]) + "#clearance"
    )
    assert list(ScreeningRecord.objects.values_list("partner__name", "how", "note")) == [
        ("Kim", "phone", "Calm, by phone")
    ]
    page = client.get(reverse("couple_detail", args=[couple.pk])).content.decode()
    assert "pressured into touch or sex: I&#x27;m not sure" in page
    assert "never replaces" in page


# "Not this week" and "pause for me" (item 3) ----------------------------------------------------------


def test_pause_for_me_stops_touch_until_resumed_and_the_other_sees_the_neutral_pause(
    client, therapist, couple, partner_a, partner_b, assignment
):
    before = _page(client, partner_b.user)
    client.force_login(partner_a.user)
    # (follow: the thank-you is shown, and so no longer waiting in the test client's cookies)
    assert client.post(reverse("touch_pause"), {"kind": "for_me"}, follow=True).redirect_chain[0][1] == 302
    with pytest.raises(ValidationError) as caught:
        _log(assignment, partner_b)
    assert caught.value.messages == [NEUTRAL]
    # Sam's page is the one a hold gives: the neutral pause, nothing else changed.
    after = _page(client, partner_b.user)
    assert NEUTRAL in after and _without_the_exercise_card(after) == _without_the_exercise_card(before)
    # Alex sees their own pause and the way back; the therapist sees it.
    mine = _page(client, partner_a.user)
    assert "You have paused touch exercises for yourself" in mine
    client.force_login(therapist)
    assert "Paused for me" in client.get(reverse("couple_detail", args=[couple.pk])).content.decode()
    client.force_login(partner_a.user)
    client.post(reverse("touch_resume"))
    assert _log(assignment, partner_b)[1]
    assert not TouchHold.objects.exists()  # a partner's own pause is no hold for the therapist to lift


def test_not_this_week_ends_with_the_iso_week_in_the_couples_time_zone(couple, partner_a, partner_b, assignment):
    couple.time_zone = "America/New_York"
    couple.save()
    # Sunday 29 November 2026, 23:00 in New York (04:00 Monday in UTC): still that week there.
    with time_machine.travel(datetime(2026, 11, 30, 4, 0, tzinfo=UTC), tick=False):
        pause = services.pause_for_me(partner=partner_a, kind="week")
        assert holds.touch_paused(partner_b)
    assert pause.until == datetime(2026, 11, 30, 5, 0, tzinfo=UTC)  # Monday 00:00 in New York
    with time_machine.travel(datetime(2026, 11, 30, 5, 0, tzinfo=UTC), tick=False):
        assert not holds.touch_paused(partner_b)


def test_clearance_counts_only_the_pauses_in_force_now(couple, partner_a, partner_b):
    # issue 16, "Fast": `clearance` reads each partner's latest pause end and compares it with now itself.
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    # Alex: a week that ended an hour ago, and a "pause for me" resumed yesterday: neither in force.
    PersonalPause.objects.create(couple=couple, partner=partner_a, kind="week", until=now - timedelta(hours=1))
    PersonalPause.objects.create(couple=couple, partner=partner_a, kind="for_me", ended_at=now - timedelta(days=1))
    # Sam: an old week over, and this week's, running for one more hour.
    PersonalPause.objects.create(couple=couple, partner=partner_b, kind="week", until=now - timedelta(days=7))
    PersonalPause.objects.create(couple=couple, partner=partner_b, kind="week", until=now + timedelta(hours=1))
    with time_machine.travel(now, tick=False):
        assert holds.clearance(couple).paused_by == {partner_b.pk}
    with time_machine.travel(now + timedelta(hours=1), tick=False):
        assert holds.clearance(couple).paused_by == frozenset()
    PersonalPause.objects.create(couple=couple, partner=partner_a, kind="for_me")  # until resumed
    with time_machine.travel(now + timedelta(days=30), tick=False):
        assert holds.clearance(couple).paused_by == {partner_a.pk}


def test_clearance_and_partners_is_clearance_with_the_couples_partners(couple, partner_a, partner_b):
    # issue 16, "Fast": the overview reads both at once. Sam has paused for themselves.
    PersonalPause.objects.create(couple=couple, partner=partner_b, kind="for_me")
    got, partners = holds.clearance_and_partners(couple)
    assert got == holds.clearance(couple) and got.paused_by == {partner_b.pk} and not got.open
    assert partners == list(couple.partners.all()) == [partner_a, partner_b]


def test_clearance_reads_each_couples_own_rows_in_turn(couple, partner_a, partner_b, outsider):
    # issue 16, "Fast": the read is compiled once per process (intimacy/prepared.py) and run with each
    # couple's id. Alex and Sam: Sam paused for herself, a hold is on. Casey and Drew: neither.
    PersonalPause.objects.create(couple=couple, partner=partner_b, kind="for_me")
    TouchHold.objects.create(couple=couple, reason="test")
    others = outsider.couple
    casey_drew = set(others.partners.values_list("pk", flat=True))
    for _ in range(2):
        ours = holds.clearance(couple)
        assert (ours.held, ours.paused_by, ours.open) == (True, {partner_b.pk}, False)
        theirs, partners = holds.clearance_and_partners(others)
        assert (theirs.held, theirs.paused_by, theirs.open) == (False, frozenset(), True)
        assert {p.pk for p in partners} == casey_drew


def test_no_touch_reminder_to_either_partner_while_one_has_paused(couple, partner_a, partner_b, assignment):
    for partner in (partner_a, partner_b):
        reminders_set(partner=partner, on=True, weekdays=list(range(7)), at=time(19, 0))
    with time_machine.travel(datetime(2026, 11, 23, 12, 0, tzinfo=UTC), tick=False):
        services.pause_for_me(partner=partner_b, kind="week")
    # Thursday and Sunday of that week: only the check-ins.
    assert _midweek_and_checkin_keys(partner_a) == {"checkin"}
    # The week after, the reminders come back.
    due = {d.kind for d in reminders_due(datetime(2026, 12, 3, 19, tzinfo=UTC))}
    assert due == {"planned", "midweek"}


# "This didn't happen / I didn't agree" (item 4) ----------------------------------------------------------


def test_a_dispute_stops_the_session_waiting_alerts_urgently_and_holds(
    client, therapist, couple, partner_a, partner_b, assignment, session
):
    alex_before = _page(client, partner_a.user, "history")
    client.force_login(partner_b.user)
    home = client.get(reverse("home")).content.decode()
    assert reverse("reflection_add", args=[session.pk]) in home
    response = client.post(reverse("session_dispute", args=[session.pk]), follow=True)
    assert response.redirect_chain == [(reverse("home"), 302)]
    alert = Alert.objects.get(kind=Alert.Kind.DISPUTED)
    assert alert.urgent and alert.partner == partner_b
    assert TouchHold.objects.open().get(couple=couple).reason == Alert.Kind.DISPUTED
    from intimacy.selectors import awaiting_my_reflection

    assert list(awaiting_my_reflection(partner_b)) == []
    # Alex, who logged it, is told nothing: the history reads as before.
    assert _page(client, partner_a.user, "history") == alex_before


def test_after_a_dispute_the_card_no_longer_asks_for_a_reflection_or_a_second_dispute(
    client, partner_a, partner_b, assignment, session
):
    add, dispute = reverse("reflection_add", args=[session.pk]), reverse("session_dispute", args=[session.pk])
    client.force_login(partner_b.user)
    before = client.get(reverse("history")).content.decode()
    assert add in before and dispute in before
    services.session_dispute(session=session, partner=partner_b)
    for page in ("history", "home"):
        after = client.get(reverse(page)).content.decode()
        assert add not in after and dispute not in after
    assert "You told your therapist this didn" in client.get(reverse("history")).content.decode()
    # Alex, who logged it, reads nothing of it.
    client.force_login(partner_a.user)
    assert "You told your therapist this didn" not in client.get(reverse("history")).content.decode()


def test_only_the_partner_who_did_not_log_it_can_dispute(couple, partner_a, partner_b, assignment, session):
    with pytest.raises(PermissionDenied):
        services.session_dispute(session=session, partner=partner_a)


# No touch reminder before touch work opens (gap 2) ----------------------------------------------------


def test_no_touch_reminders_until_touch_work_opens_but_the_checkin_still_comes(therapist, new_couple):
    couple, kim, lou, assignment = new_couple
    for partner in (kim, lou):
        reminders_set(partner=partner, on=True, weekdays=list(range(7)), at=time(19, 0))
    # Nobody has been screened or answered the private check yet: Thursday and Sunday bring only the check-in.
    assert _midweek_and_checkin_keys(kim) == {"checkin"}
    for partner in (kim, lou):
        _screen(couple, partner, therapist)
    services.safety_check_answer(partner=kim, answers=FINE)
    assert _midweek_and_checkin_keys(kim) == {"checkin"}  # Lou has not answered yet
    services.safety_check_answer(partner=lou, answers=FINE)
    assert _midweek_and_checkin_keys(kim) == {"planned", "midweek", "checkin"}


def test_no_reflection_nudge_after_a_lift_until_both_answer_the_check_again(
    couple, therapist, partner_a, partner_b, assignment
):
    for partner in (partner_a, partner_b):
        reminders_set(partner=partner, on=True, weekdays=[], at=time(19, 0))
    # (Real time, not moved back: the partners' first checks must come before the lift.)
    session = SessionFactory(
        assignment=assignment, date=couple.today(), giver=partner_a, receiver=partner_b, logged_by=partner_a
    )
    _tell(partner_a)
    screenings = {p.pk: {"day": couple.today(), "how": "phone"} for p in (partner_a, partner_b)}
    services.hold_lift(couple=couple, by=therapist, note="Spoke with each.", screenings=screenings)
    day_later = session.created_at + timedelta(hours=24)
    # The hold is off, but touch work is not open again until both have answered the check again
    # (the therapist's urgent-alert email is another matter).
    assert [d.kind for d in reminders_due(day_later) if d.kind != "urgent_alert"] == []
    for partner in (partner_a, partner_b):
        services.safety_check_answer(partner=partner, answers=FINE)
    assert [d.kind for d in reminders_due(day_later) if d.kind != "urgent_alert"] == ["reflection"]


# A signal after a lift (gap 1) -------------------------------------------------------------------------


def _low_safe_log(assignment, partner, role=Reflection.Role.GIVER):
    return services.session_log(
        assignment=assignment,
        partner=partner,
        day=assignment.couple.today(),
        minutes=15,
        role=role,
        answers={**ANSWERS, "safe": 2},
        idempotency_key=uuid.uuid4(),
    )


def _lift_and_recheck(couple, therapist, partners):
    today = couple.today()
    screenings = {p.pk: {"day": today, "how": "phone"} for p in partners}
    services.hold_lift(couple=couple, by=therapist, note="Spoke with each.", screenings=screenings)
    for partner in partners:
        services.safety_check_answer(partner=partner, answers=FINE)


def test_a_second_low_safe_rating_in_the_same_week_after_a_lift_places_a_new_hold(
    couple, therapist, partner_a, partner_b, assignment
):
    _low_safe_log(assignment, partner_a)
    first = TouchHold.objects.open().get(couple=couple)
    alert = Alert.objects.get(kind=Alert.Kind.LOW_SAFE)
    alert_acknowledge(alert=alert, by=therapist, note="Talked it through.")
    _lift_and_recheck(couple, therapist, (partner_a, partner_b))
    assert holds.open_hold(couple) is None

    def reopen_emails():
        return ReminderSend.objects.filter(kind="urgent_alert", key__startswith=f"urgent_alert:{alert.pk}:").count()

    # Same partner, same ISO week (a new back rub the other way round, so not a repeat of the first).
    _low_safe_log(assignment, partner_a, Reflection.Role.RECEIVER)
    second = TouchHold.objects.open().get(couple=couple)
    assert second.pk != first.pk and second.reason == Alert.Kind.LOW_SAFE
    # The week's alert is open again, one row still, and the therapist is emailed again.
    alert.refresh_from_db()
    assert Alert.objects.filter(kind=Alert.Kind.LOW_SAFE).count() == 1
    assert alert.acknowledged_at is None and second.placed_by_alert == alert
    assert reopen_emails() == 1
    # Raising again changes nothing more: no third hold, no second reopening email.
    alerts_raise(couple=couple)
    assert TouchHold.objects.count() == 2 and reopen_emails() == 1


def test_an_old_low_safe_rating_places_no_new_hold_after_the_lift(couple, therapist, partner_a, partner_b, assignment):
    _low_safe_log(assignment, partner_a)
    _lift_and_recheck(couple, therapist, (partner_a, partner_b))
    # A fine session afterwards runs the rules again: the low rating before the lift was already dealt with.
    _log(assignment, partner_b)
    assert holds.open_hold(couple) is None and TouchHold.objects.count() == 1


# Issue 15: holds stop touch exercises only ---------------------------------------------------------------


def test_talk_reminders_go_on_while_held(couple, partner_a, partner_b):
    AssignmentFactory(couple=couple, exercise=ExerciseFactory(shape=Exercise.Shape.TALK))
    for partner in (partner_a, partner_b):
        reminders_set(partner=partner, on=True, weekdays=list(range(7)), at=time(19, 0))
    holds.hold_place(couple=couple, reason=Alert.Kind.SAFETY)
    # The talk exercise still runs: planned and midweek reminders, as without a hold.
    assert _midweek_and_checkin_keys(partner_a) == {"planned", "midweek", "checkin"}


def test_a_talk_reflection_nudge_goes_on_while_held(couple, partner_a, partner_b, time_machine):
    talk = AssignmentFactory(couple=couple, exercise=ExerciseFactory(shape=Exercise.Shape.TALK))
    for partner in (partner_a, partner_b):
        reminders_set(partner=partner, on=True, weekdays=[], at=time(19, 0))
    time_machine.move_to(datetime(2026, 11, 24, 21, 10, tzinfo=UTC), tick=False)
    SessionFactory(assignment=talk, date=date(2026, 11, 24), giver=partner_a, receiver=partner_b, logged_by=partner_a)
    holds.hold_place(couple=couple, reason=Alert.Kind.SAFETY)
    assert [d.kind for d in reminders_due(datetime(2026, 11, 25, 21, 10, tzinfo=UTC))] == ["reflection"]
