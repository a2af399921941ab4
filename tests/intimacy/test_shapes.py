"""Exercise shapes (issue 15): touch (giver / receiver), talk (speaker / listener) and together (no roles).

Every part of Tend works for every shape with the shape's role names and questions: logging and joining,
the reflection form, pairs, the reveal rule, the partner pages, the appointment view, the export and the
data download. The safety gates (holds, the private check, personal pauses) stop touch exercises only;
a low "safe" raises its urgent alert whatever the shape."""

import csv
import io
import json
import re
import uuid
from datetime import date

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from intimacy import holds, records, selectors, services
from intimacy.alerts import alerts_raise
from intimacy.models import Alert, Exercise, Reflection, Session, TouchHold
from intimacy.trends.aggregation import Scope, couple_trends
from intimacy.trends.period import period_from
from tests.factories import (
    AssignmentFactory,
    CoupleFactory,
    ExerciseFactory,
    PartnerFactory,
    ReflectionFactory,
    SessionFactory,
)

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 25)  # a Wednesday
LISTENER_PRIVATE = "Listener-private-words"


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel("2026-11-25 12:00:00+00:00", tick=False):
        yield


@pytest.fixture
def talk(couple, partner_a, partner_b):
    exercise = ExerciseFactory(title="Stress-reducing talk", shape=Exercise.Shape.TALK)
    return AssignmentFactory(couple=couple, exercise=exercise)


@pytest.fixture
def together(couple, partner_a, partner_b):
    exercise = ExerciseFactory(title="Breathing together", shape=Exercise.Shape.TOGETHER)
    return AssignmentFactory(couple=couple, exercise=exercise)


def log(assignment, partner, role, day=TODAY, **answers):
    return services.session_log(
        assignment=assignment,
        partner=partner,
        day=day,
        minutes=15,
        role=role,
        answers={"connection": 7, "comfort": 8, "safe": 9, "visibility": "shared", **answers},
        idempotency_key=uuid.uuid4(),
    )


LISTENER_ANSWERS = {"stayed_open": 6, "understood_what_mattered": 7}
SPEAKER_ANSWERS = {"felt_heard": 8, "felt_understood": 9, "safe_to_say": 10}


# Talk: a listener logs, the speaker reflects ------------------------------------------------------------


class TestTalkServices:
    def test_a_listener_logs_and_the_speaker_reflects(self, talk, partner_a, partner_b):
        # Sam (partner_b) listened and logs it; Alex (partner_a) spoke and reflects on Sam's log.
        session, created = log(talk, partner_b, "listener", **LISTENER_ANSWERS)
        assert created
        # The speaker is the session's first column, the listener its second.
        assert (session.giver, session.receiver, session.logged_by) == (partner_a, partner_b, partner_b)
        assert session.role_of(partner_a) == Reflection.Role.SPEAKER
        assert session.role_of(partner_b) == Reflection.Role.LISTENER
        # The speaker's form also carried a touch answer and a listener answer: only their own are kept.
        services.reflection_add(
            session=session,
            partner=partner_a,
            answers={"connection": 8, "comfort": 7, "safe": 9, "giving_felt": 5, "stayed_open": 1, **SPEAKER_ANSWERS},
        )
        listener, speaker = (session.reflections.get(partner=p) for p in (partner_b, partner_a))
        assert (listener.role, listener.stayed_open, listener.understood_what_mattered) == ("listener", 6, 7)
        assert (listener.felt_heard, listener.presence) == (None, None)
        assert (speaker.role, speaker.felt_heard, speaker.felt_understood, speaker.safe_to_say) == ("speaker", 8, 9, 10)
        assert (speaker.giving_felt, speaker.stayed_open) == (None, None)

    def test_the_speakers_log_joins_the_listeners_session(self, talk, partner_a, partner_b):
        first = log(talk, partner_b, "listener")
        second = log(talk, partner_a, "speaker", **SPEAKER_ANSWERS)
        assert (second.session, second.joined) == (first.session, True)
        assert Session.objects.filter(assignment=talk).count() == 1
        assert sorted(first.session.reflections.values_list("role", flat=True)) == ["listener", "speaker"]

    def test_both_speaking_the_same_day_is_a_conflict_not_a_join(self, talk, partner_a, partner_b):
        log(talk, partner_a, "speaker")
        log(talk, partner_b, "speaker")
        (pair,) = selectors.session_pairs(talk.couple, partner=partner_a)
        assert pair.kind == selectors.PAIR_SAME_ROLE

    @pytest.mark.parametrize("role", ["giver", "receiver", "together"])
    def test_a_role_of_another_shape_is_refused(self, talk, partner_a, role):
        with pytest.raises(ValidationError):
            log(talk, partner_a, role)
        assert not Session.objects.filter(assignment=talk).exists()


class TestConstraints:
    """Each role's answers stay empty for the other roles, in the database itself."""

    @pytest.mark.parametrize(
        ("role", "answers"),
        [
            ("listener", {"felt_heard": 5}),
            ("giver", {"safe_to_say": 5}),
            ("speaker", {"stayed_open": 5}),
            ("receiver", {"understood_what_mattered": 5}),
            ("speaker", {"presence": 5}),
            ("listener", {"tension_before": 5}),
            ("together", {"giving_felt": 5}),
            ("together", {"pace": "fast"}),
        ],
    )
    def test_another_roles_answer_is_refused(self, talk, partner_a, partner_b, role, answers):
        session = SessionFactory(assignment=talk, giver=partner_a, receiver=partner_b, logged_by=partner_a)
        with pytest.raises(IntegrityError), transaction.atomic():
            ReflectionFactory(session=session, partner=partner_a, role=role, **answers)

    def test_together_may_answer_how_present(self, together, partner_a, partner_b):
        session = SessionFactory(assignment=together, giver=partner_a, receiver=partner_b, logged_by=partner_a)
        ReflectionFactory(session=session, partner=partner_a, role="together", presence=6)
        ReflectionFactory(session=session, partner=partner_b, role="together", presence=4)
        assert session.reflections.count() == 2

    def test_one_role_once_per_session_outside_together(self, talk, partner_a, partner_b):
        session = SessionFactory(assignment=talk, giver=partner_a, receiver=partner_b, logged_by=partner_a)
        ReflectionFactory(session=session, partner=partner_a, role="speaker")
        with pytest.raises(IntegrityError), transaction.atomic():
            ReflectionFactory(session=session, partner=partner_b, role="speaker")

    def test_one_reflection_per_partner_in_together(self, together, partner_a, partner_b):
        session = SessionFactory(assignment=together, giver=partner_a, receiver=partner_b, logged_by=partner_a)
        ReflectionFactory(session=session, partner=partner_a, role="together")
        with pytest.raises(IntegrityError), transaction.atomic():
            ReflectionFactory(session=session, partner=partner_a, role="together")


# Together: both log, one session ------------------------------------------------------------------------


class TestTogether:
    def test_both_logging_the_same_day_is_one_session_with_two_reflections(self, together, partner_a, partner_b):
        first = log(together, partner_a, "together", presence=8)
        second = log(together, partner_b, "together", presence=5)
        assert (second.session, second.joined) == (first.session, True)
        session = first.session
        assert Session.objects.filter(assignment=together).count() == 1
        assert (session.role_of(partner_a), session.role_of(partner_b)) == ("together", "together")
        # Each partner's own "how present I was".
        assert dict(session.reflections.values_list("partner__name", "presence")) == {"Alex": 8, "Sam": 5}
        # No conflict to settle, no pair to offer.
        assert selectors.session_pairs(together.couple, partner=partner_a) == []

    def test_two_stored_logs_of_one_day_are_offered_as_one(self, together, partner_a, partner_b):
        # Logged before joining existed (or by a partner who had disputed the first): roles always fit.
        for partner, other in ((partner_a, partner_b), (partner_b, partner_a)):
            s = SessionFactory(assignment=together, date=TODAY, giver=partner, receiver=other, logged_by=partner)
            ReflectionFactory(session=s, partner=partner, role="together")
        (pair,) = selectors.session_pairs(together.couple, partner=partner_a)
        assert pair.kind == selectors.PAIR_SAME_BACK_RUB
        kept = services.session_merge(keep=pair.first, duplicate=pair.second, by=partner_a.user)
        assert sorted(kept.reflections.values_list("role", flat=True)) == ["together", "together"]

    def test_the_reveal_rule_holds(self, together, partner_a, partner_b):
        session = log(together, partner_a, "together").session
        assert selectors.partner_history(partner_b, partner_b.user)[0].theirs is None
        log(together, partner_b, "together")
        assert selectors.partner_history(partner_b, partner_b.user)[0].theirs.partner == partner_a
        assert session.reflections.count() == 2


# Safety gates: touch only ------------------------------------------------------------------------------


class TestTouchOnlySafety:
    def test_under_a_hold_talk_and_together_go_on_and_touch_stops(
        self, assignment, talk, together, partner_a, partner_b
    ):
        TouchHold.objects.create(couple=talk.couple, reason=Alert.Kind.SAFETY)
        assert holds.touch_paused(partner_a)
        assert log(talk, partner_a, "speaker").created
        assert log(together, partner_a, "together").created
        with pytest.raises(ValidationError):
            log(assignment, partner_a, "giver")

    def test_no_safety_check_is_needed_for_talk(self, therapist):
        # A couple who have done neither the private check nor the separate conversations yet.
        couple = CoupleFactory(therapist=therapist)
        alex = PartnerFactory(couple=couple, slot=1, name="Alex", cleared=False)
        sam = PartnerFactory(couple=couple, slot=2, name="Sam", cleared=False)
        talk = AssignmentFactory(couple=couple, exercise=ExerciseFactory(shape=Exercise.Shape.TALK))
        touch = AssignmentFactory(couple=couple)
        assert not holds.clearance(couple).open
        session = log(talk, alex, "speaker").session
        services.reflection_add(session=session, partner=sam, answers={"connection": 6, "comfort": 6, "safe": 8})
        services.reflection_decline(session=log(talk, sam, "speaker", day=date(2026, 11, 24)).session, partner=alex)
        with pytest.raises(ValidationError):
            log(touch, alex, "giver")

    def test_a_low_safe_in_a_talk_is_urgent_and_holds_touch_only(self, assignment, talk, partner_a, partner_b):
        log(talk, partner_b, "listener", safe=2)
        alert = Alert.objects.get(kind=Alert.Kind.LOW_SAFE)
        assert (alert.urgent, alert.partner) == (True, partner_b)
        assert TouchHold.objects.open().filter(couple=talk.couple).exists()
        with pytest.raises(ValidationError):
            log(assignment, partner_a, "giver")
        assert log(talk, partner_a, "speaker", day=date(2026, 11, 24)).created

    def test_the_home_under_a_hold_still_waits_for_a_talk_reflection(self, talk, assignment, partner_a, partner_b):
        log(talk, partner_b, "listener")
        log(assignment, partner_b, "receiver")
        TouchHold.objects.create(couple=talk.couple, reason=Alert.Kind.SAFETY)
        home = selectors.partner_home(partner_a, partner_a.user, TODAY)
        assert home.touch_paused
        assert [s.assignment for s in home.awaiting] == [talk]


# Alerts and trends --------------------------------------------------------------------------------------


class TestAlertsAndTrends:
    def test_touch_rules_read_touch_only(self, talk, partner_a, partner_b):
        # A talk where the listener felt everything went badly and the speaker well raises no touch rule
        # (perception gap, tension worse), and nothing fails on roles the rules do not know.
        for day in (date(2026, 11, 23), date(2026, 11, 24), TODAY):
            log(talk, partner_a, "speaker", day=day, connection=9, **SPEAKER_ANSWERS)
            log(talk, partner_b, "listener", day=day, connection=2, comfort=5, safe=8)
        alerts_raise(couple=talk.couple, today=TODAY)
        kinds = set(Alert.objects.values_list("kind", flat=True))
        assert not kinds & {Alert.Kind.PERCEPTION_GAP, Alert.Kind.TENSION_WORSE, Alert.Kind.ONE_SIDED}

    def test_trends_count_every_shape_and_who_gave_only_touch(self, assignment, talk, partner_a, partner_b):
        # This week: one back rub Alex gave (Alex connection 7, Sam 5) and one talk Alex spoke in
        # (Alex 9, Sam 3), each reflected on by both.
        log(assignment, partner_a, "giver", connection=7, comfort=8, safe=9)
        log(assignment, partner_b, "receiver", connection=5, comfort=6, safe=7)
        log(talk, partner_a, "speaker", connection=9, comfort=6, safe=9)
        log(talk, partner_b, "listener", connection=3, comfort=4, safe=5)
        period = period_from({"weeks": "1"}, TODAY)
        (row,) = [r for r in couple_trends(talk.couple, period, Scope.THERAPIST).rows if r.sessions]
        assert (row.sessions, row.both_reflected) == (2, 2)
        # Who gave: the back rub only.
        assert row.gave == {partner_a.pk: 1}
        # Connection per role: each shape's roles apart.
        assert row.connection[(partner_a.pk, "giver")] == 7
        assert row.connection[(partner_a.pk, "speaker")] == 9
        assert row.connection[(partner_b.pk, "listener")] == 3
        # Comfort and safe over every shape: Alex (8 + 6) / 2 = 7, Sam's safe (7 + 5) / 2 = 6.
        assert (row.comfort[partner_a.pk], row.safe[partner_b.pk]) == (7, 6)
        # The giver/receiver gap reads the back rub only: 7 and 5.
        assert (row.gap_giver, row.gap_receiver) == (7, 5)


# Pages ---------------------------------------------------------------------------------------------------


class TestTalkPages:
    def test_the_log_form_names_the_talk_roles_and_asks_their_questions(self, client_for, talk, partner_b):
        page = client_for(partner_b).get(reverse("session_log", args=[talk.pk]) + "?new=1").content.decode()
        for words in ("I spoke", "I listened", "If you spoke", "If you listened", "How heard did you feel?"):
            assert words in page
        for words in ("I gave", "I received", "How did it feel to give?", "The pressure was"):
            assert words not in page

    def test_the_listener_logs_and_the_speaker_reflects(self, client_for, talk, partner_a, partner_b):
        sam = client_for(partner_b)
        response = sam.post(
            reverse("session_log", args=[talk.pk]) + "?new=1",
            {
                "idempotency_key": str(uuid.uuid4()),
                "date": TODAY.isoformat(),
                "minutes": "15",
                "role": "listener",
                "connection": "7",
                "comfort": "8",
                "safe": "9",
                "stayed_open": "6",
                "visibility": "shared",
            },
        )
        assert response.status_code == 302
        session = Session.objects.get(assignment=talk)
        assert (session.giver, session.receiver) == (partner_a, partner_b)

        alex = client_for(partner_a)
        home = alex.get(reverse("home")).content.decode()
        assert "you spoke" in home
        form = alex.get(reverse("reflection_add", args=[session.pk])).content.decode()
        assert "you spoke, Sam listened" in form
        assert "How heard did you feel?" in form
        assert "How well could you stay with it without defending yourself?" not in form
        response = alex.post(
            reverse("reflection_add", args=[session.pk]),
            {"connection": "8", "comfort": "8", "safe": "9", "felt_heard": "9", "visibility": "shared"},
        )
        assert response.status_code == 302
        assert session.reflections.get(partner=partner_a).felt_heard == 9
        history = alex.get(reverse("history")).content.decode()
        assert "you spoke" in history and "you gave" not in history

    def test_a_joined_talk_says_the_exercises_own_words(self, client_for, talk, partner_a, partner_b):
        log(talk, partner_b, "listener")
        response = client_for(partner_a).post(
            reverse("session_log", args=[talk.pk]) + "?new=1",
            {
                "idempotency_key": str(uuid.uuid4()),
                "date": TODAY.isoformat(),
                "minutes": "15",
                "role": "speaker",
                "connection": "8",
                "comfort": "8",
                "safe": "9",
                "visibility": "shared",
            },
            follow=True,
        )
        page = response.content.decode()
        assert "Added to the session of “Stress-reducing talk” Sam logged." in page
        assert "back rub" not in page.split("Added to")[1][:60]

    def test_the_together_form_asks_no_role(self, client_for, together, partner_a):
        page = client_for(partner_a).get(reverse("session_log", args=[together.pk]) + "?new=1").content.decode()
        assert 'type="hidden" name="role" value="together"' in page
        assert "How present did you feel?" in page
        for words in ("I gave", "I spoke", "If you gave"):
            assert words not in page

    def test_a_talk_can_be_logged_under_a_hold(self, client_for, talk, partner_a):
        TouchHold.objects.create(couple=talk.couple, reason=Alert.Kind.SAFETY)
        client = client_for(partner_a)
        response = client.get(reverse("session_log", args=[talk.pk]) + "?new=1")
        assert response.status_code == 200
        assert b"I spoke" in response.content
        # Home offers the talk as ever, without the neutral pause or the private "Need a break?".
        home = client.get(reverse("home")).content.decode()
        assert "Log: Stress-reducing talk" in home
        assert "Your therapist has paused this exercise" not in home and "Need a break?" not in home

    def test_under_a_hold_the_back_rub_is_paused_beside_a_running_talk(self, client_for, talk, assignment, partner_a):
        TouchHold.objects.create(couple=talk.couple, reason=Alert.Kind.SAFETY)
        home = client_for(partner_a).get(reverse("home")).content.decode()
        assert "Log: Stress-reducing talk" in home
        assert "Your therapist has paused this exercise" in home and "Log a back rub" not in home

    def test_the_appointment_view_and_timeline_name_the_talk_roles(
        self, client_for, therapist, talk, partner_a, partner_b
    ):
        log(talk, partner_a, "speaker", **SPEAKER_ANSWERS)
        log(talk, partner_b, "listener", **LISTENER_ANSWERS)
        page = client_for(therapist).get(reverse("couple_reflections", args=[talk.couple.pk])).content.decode()
        assert "Alex spoke, Sam listened" in page
        assert "Felt heard" in page and "Stayed with it without defending" in page


# Privacy of the new answers -------------------------------------------------------------------------------


class TestTalkPrivacy:
    """A listener's "My therapist only" reflection reaches the speaker in no form; the therapist has its
    numbers; a "Just me" one the therapist has numbers of, never words."""

    @pytest.fixture
    def private_listening(self, talk, partner_a, partner_b):
        session = log(talk, partner_a, "speaker", **SPEAKER_ANSWERS).session
        services.reflection_add(
            session=session,
            partner=partner_b,
            answers={
                "connection": 3,
                "comfort": 4,
                "safe": 8,
                "stayed_open": 1,
                "understood_what_mattered": 2,
                "notes": LISTENER_PRIVATE,
                "visibility": Reflection.Visibility.THERAPIST,
            },
        )
        return session

    def test_not_for_the_speaker(self, client_for, private_listening, partner_a):
        alex = partner_a.user
        assert not Reflection.objects.visible_to(alex).filter(partner__name="Sam").exists()
        (shown,) = selectors.partner_history(partner_a, alex)
        assert shown.theirs is None
        # The partner's own data download: their own reflection, never Sam's.
        data = str(records.partner_record(partner_a, alex))
        assert "stayed_open" not in data and LISTENER_PRIVATE not in data
        assert "felt_heard" in data and "'speaker': 'Alex'" in data
        client = client_for(partner_a)
        for name in ("home", "history"):
            page = client.get(reverse(name)).content.decode()
            assert LISTENER_PRIVATE not in page
            assert "Stayed with it without defending" not in page
        download = client.get(reverse("my_data_download")).content.decode()
        assert LISTENER_PRIVATE not in download and "understood_what_mattered" not in download

    def test_for_the_therapist_in_the_export(self, client_for, therapist, private_listening):
        client = client_for(therapist, reauthenticated=True)
        url = reverse("couple_export", args=[private_listening.assignment.couple.pk])
        response = client.get(url, {"weeks": "4"})
        body = b"".join(response.streaming_content).decode()
        (row,) = csv.DictReader(io.StringIO(body))
        # Alex spoke (first column), Sam listened (second); the talk questions in their own columns.
        assert (row["shape"], row["giver_role"], row["receiver_role"]) == ("talk", "speaker", "listener")
        assert (row["giver"], row["receiver"]) == ("Alex", "Sam")
        assert (row["speaker_felt_heard"], row["listener_stayed_open"]) == ("8", "1")
        assert row["receiver_shared_with"] == "therapist only"
        assert LISTENER_PRIVATE not in body


# The privacy matrix for the talk answers ----------------------------------------------------------------

# Sam listens three times, once at each visibility, with listener ratings nobody else gives (Alex's
# speaker answers are all 10) and words found nowhere else. Days in three different weeks.
LEVEL_DAYS = {"shared": date(2026, 11, 24), "therapist": date(2026, 11, 17), "private": date(2026, 11, 10)}
LEVEL_LISTENING = {
    "shared": {"stayed_open": 1, "understood_what_mattered": 2},
    "therapist": {"stayed_open": 3, "understood_what_mattered": 4},
    "private": {"stayed_open": 5, "understood_what_mattered": 6},
}


def _words(level: str) -> str:
    return f"{level}-LISTENING-words-7z"


@pytest.fixture
def listening_world(talk, partner_a, partner_b):
    for level, day in LEVEL_DAYS.items():
        session = log(
            talk, partner_a, "speaker", day=day, connection=10, comfort=10, safe=10, felt_heard=10, safe_to_say=10
        ).session
        services.reflection_add(
            session=session,
            partner=partner_b,
            answers={
                "connection": 8,
                "comfort": 8,
                "safe": 8,
                **LEVEL_LISTENING[level],
                "notes": _words(level),
                "visibility": level,
            },
        )
    return talk


# What of Sam's listening reaches each reader, per surface (DESIGN.md "Data"): the other partner only
# what was shared; the therapist every number, and words of all but "Just me".
MATRIX = [
    ("partner_a", "home", {"shared"}, {"shared"}),
    ("partner_a", "history", {"shared"}, {"shared"}),
    ("partner_a", "my_data_download", {"shared"}, {"shared"}),
    ("partner_b", "my_data_download", {"shared", "therapist", "private"}, {"shared", "therapist", "private"}),
    ("therapist", "couple_reflections", {"shared", "therapist"}, {"shared", "therapist", "private"}),
]


@pytest.mark.parametrize(("reader", "surface", "words", "numbers"), MATRIX)
def test_the_listeners_answers_reach_only_whom_they_may(
    request, client_for, listening_world, reader, surface, words, numbers
):
    who = request.getfixturevalue(reader)
    args = [listening_world.couple.pk] if surface == "couple_reflections" else []
    query = {"weeks": "8"} if surface == "couple_reflections" else {}
    page = client_for(who).get(reverse(surface, args=args), query).content.decode()
    for level in LEVEL_DAYS:
        assert (_words(level) in page) == (level in words), (reader, surface, level)
    if surface == "my_data_download":
        entries = [r for s in json.loads(page)["sessions"] for r in s["reflections"] if r["role"] == "listener"]
        assert {r["stayed_open"] for r in entries} == {LEVEL_LISTENING[level]["stayed_open"] for level in numbers}
    if surface == "couple_reflections":
        # Each of Sam's cards shows its listener answers; "Just me" too (numbers, never words).
        for level in numbers:
            assert f"<dd>{LEVEL_LISTENING[level]['understood_what_mattered']}/10</dd>" in page


def test_the_appointment_view_has_the_shared_listening_only(client_for, therapist, listening_world):
    page = client_for(therapist).get(reverse("appointment", args=[listening_world.couple.pk]), {"confirm": "1"})
    html = page.content.decode()
    assert "Alex spoke, Sam listened" in html
    assert _words("shared") in html
    assert _words("therapist") not in html and _words("private") not in html
    # Sam's shared card carries its listener answer; no other of Sam's listener numbers is on the page.
    assert "<dd>2/10</dd>" in html
    assert "<dd>4/10</dd>" not in html and "<dd>6/10</dd>" not in html


# The giver plan, by shape (issue 15) ------------------------------------------------------------------


class TestPlanWords:
    """The plan for the first role is worded by the exercise's shape: who gives (touch), who speaks first
    (talk); a together exercise has no first role, so no plan is shown and "either" is stored."""

    def _form(self, client_for, therapist, couple, **query):
        return client_for(therapist).get(reverse("assignment_create", args=[couple.pk]), query)

    def test_the_form_words_the_plan_by_the_chosen_exercise(self, client_for, therapist, couple, partner_a):
        talk = ExerciseFactory(title="Stress-reducing talk", shape=Exercise.Shape.TALK)
        together = ExerciseFactory(title="Breathing together", shape=Exercise.Shape.TOGETHER)
        client = client_for(therapist)
        url = reverse("assignment_create", args=[couple.pk])
        # The default exercise is the back rub: the touch words.
        html = client.get(url).content.decode()
        assert "Giver plan" in html and "Take turns to give" in html and "Who gives" in html
        # Each exercise's option carries its shape, and the words of every shape ride along for the script.
        assert f'value="{talk.pk}" data-shape="talk"' in html
        assert f'value="{together.pk}" data-shape="together"' in html
        assert "data-plan-words=" in html and "Take turns to speak" in html
        # Sent back with an error, the form speaks of the chosen exercise: a talk's first speaker.
        response = client.post(url, {"exercise": talk.pk, "giver_plan": "one", "target_per_week": "2"})
        assert response.status_code == 200
        # What the page shows, without the words kept for the script.
        html = re.sub(r'data-plan-words="[^"]*"', "", response.content.decode())
        assert "Who speaks first" in html and "Choose which partner speaks first." in html
        assert "Take turns to speak" in html and "Which partner speaks first" in html
        assert "Giver plan" not in html and "Take turns to give" not in html and "Who gives" not in html
        # A together exercise shows no plan at all (hidden for the script to show again if the choice changes).
        html = client.post(url, {"exercise": together.pk, "target_per_week": "99"}).content.decode()
        assert re.search(r"<div data-plan-box [^>]*data-plan-words=[^>]* hidden>", html), html

    def test_a_together_exercise_is_stored_with_either_partner(self, client_for, therapist, couple, partner_a):
        together = ExerciseFactory(title="Breathing together", shape=Exercise.Shape.TOGETHER)
        post = {
            "exercise": together.pk,
            "target_per_week": "2",
            "suggested_minutes": "10",
            "starts_on": "2026-11-25",
            "giver_plan": "one",
            "planned_giver": partner_a.pk,
        }
        response = client_for(therapist).post(reverse("assignment_create", args=[couple.pk]), post)
        assert response.status_code == 302
        assignment = couple.assignments.get(exercise=together)
        assert (assignment.giver_plan, assignment.planned_giver) == ("either", None)
        # The service says the same, whoever calls it (a program's step too).
        other = services.assignment_create(
            couple=couple,
            exercise=together,
            target_per_week=2,
            suggested_minutes=10,
            starts_on=TODAY,
            giver_plan="turns",
        )
        assert other.giver_plan == "either"

    def test_the_couple_page_names_the_plan_by_shape(self, client_for, therapist, couple, partner_a, talk):
        talk.giver_plan, talk.planned_giver = "one", partner_a
        talk.save()
        html = client_for(therapist).get(reverse("couple_detail", args=[couple.pk])).content.decode()
        assert "Alex speaks first" in html and "One named partner gives" not in html

    def test_the_partner_home_words_a_talks_plan(self, client_for, talk, partner_a, partner_b):
        html = client_for(partner_a).get(reverse("home")).content.decode()
        assert "taking turns to speak" in html and "taking turns to give" not in html


def test_nothing_says_every_exercise_is_touch():
    """Issue 15: the code, the pages and the docs once said every exercise was partnered touch. Touch is one
    shape of three; only its safety rules are touch-only. A guard, so the old words do not come back."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    stale = re.compile(r"partnered[- ]touch|every exercise is|all exercises are touch", re.IGNORECASE)
    files = [root / "README.md", *(root / "docs").glob("*.md")]
    for folder in ("intimacy", "accounts", "templates"):
        files += [p for p in (root / folder).rglob("*") if p.suffix in {".py", ".html", ".txt"}]
    found = [
        f"{path.relative_to(root)}:{n}"
        for path in files
        if "migrations" not in path.parts
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if stale.search(line)
    ]
    assert found == []
