import uuid

import pytest
import time_machine
from django.urls import reverse

from intimacy.models import Assignment, Exercise, Reflection, Session
from tests.factories import AssignmentFactory, CoupleFactory, ExerciseFactory, PartnerFactory, SessionFactory, back_rub

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel("2026-11-25 12:00:00+00:00", tick=False):
        yield


def log_data(**overrides):
    return {
        "idempotency_key": str(uuid.uuid4()),
        "date": "2026-11-25",
        "minutes": "15",
        "role": "giver",
        "connection": "8",
        "comfort": "9",
        "safe": "9",
        "visibility": "shared",
        **overrides,
    }


class TestLogSession:
    def test_logs_and_thanks(self, client, partner_a, assignment):
        client.force_login(partner_a.user)
        response = client.post(reverse("session_log", args=[assignment.pk]), log_data(notes="Lovely"), follow=True)
        assert "Thank you. Your session is saved." in response.content.decode()
        reflection = Reflection.objects.get()
        assert (reflection.partner, reflection.role, reflection.notes) == (partner_a, "giver", "Lovely")

    def test_double_submit_stores_one_session(self, client, partner_a, assignment):
        client.force_login(partner_a.user)
        data = log_data()
        client.post(reverse("session_log", args=[assignment.pk]), data)
        client.post(reverse("session_log", args=[assignment.pk]), data)
        assert Session.objects.count() == 1

    def test_back_then_save_again_stores_one_session_and_says_so(self, client, partner_a, assignment):
        # Back brings a fresh form (a new key) that posts to ?new=1, past "Did you mean this one?".
        client.force_login(partner_a.user)
        url = reverse("session_log", args=[assignment.pk]) + "?new=1"
        client.post(url, log_data(notes="Lovely"))
        with time_machine.travel("2026-11-25 12:03:00+00:00", tick=False):
            response = client.post(url, log_data(notes="Lovely"), follow=True)
        assert response.redirect_chain == [(reverse("home"), 302)]
        assert "You had already saved this session, so it is kept once." in response.content.decode()
        assert Session.objects.count() == 1 and Reflection.objects.count() == 1

    def test_new_words_in_the_repeat_wait_in_the_edit_form(self, client, partner_a, assignment):
        client.force_login(partner_a.user)
        url = reverse("session_log", args=[assignment.pk]) + "?new=1"
        client.post(url, log_data(notes="Lovely"))
        reflection = Reflection.objects.get()
        with time_machine.travel("2026-11-25 12:03:00+00:00", tick=False):
            response = client.post(url, log_data(notes="Lovely, and slower next time", connection="9"))
        html = response.content.decode()
        assert response.status_code == 200
        assert "You had already saved this session, so it is kept once." in html
        assert "Edit your reflection" in html and "Lovely, and slower next time" in html
        assert f'action="{reverse("reflection_edit", args=[reflection.pk])}"' in html
        reflection.refresh_from_db()
        assert (reflection.notes, reflection.connection) == ("Lovely", 8)  # nothing saved until confirmed
        assert Session.objects.count() == 1

    def test_other_minutes_in_the_repeat_wait_in_the_session_edit_form(self, client, partner_a, assignment):
        # Log 20 minutes, Back, correct them to 30 and Save: a correction, neither dropped nor a second session.
        client.force_login(partner_a.user)
        url = reverse("session_log", args=[assignment.pk]) + "?new=1"
        client.post(url, log_data(minutes="20"))
        session = Session.objects.get()
        with time_machine.travel("2026-11-25 12:03:00+00:00", tick=False):
            response = client.post(url, log_data(minutes="30"))
        html = response.content.decode()
        assert response.status_code == 200
        assert "You had already saved this session: 20 minutes on Nov. 25, 2026." in html
        assert f'action="{reverse("session_edit", args=[session.pk])}"' in html
        assert 'name="minutes" value="30"' in html
        session.refresh_from_db()
        assert session.minutes == 20 and Session.objects.count() == 1  # nothing changed until confirmed
        with time_machine.travel("2026-11-25 12:04:00+00:00", tick=False):
            client.post(reverse("session_edit", args=[session.pk]), {"date": "2026-11-25", "minutes": "30"})
        session.refresh_from_db()
        assert session.minutes == 30 and Session.objects.count() == 1

    def test_the_other_role_the_same_day_is_a_second_session_and_says_so(self, client, partner_a, assignment):
        # A turn each on one evening is two back rubs; a wrong role is one too many: either way the
        # partner is told, and can delete the wrong one.
        client.force_login(partner_a.user)
        url = reverse("session_log", args=[assignment.pk]) + "?new=1"
        client.post(url, log_data(role="giver"))
        with time_machine.travel("2026-11-25 12:03:00+00:00", tick=False):
            response = client.post(url, log_data(role="receiver"), follow=True)
        html = response.content.decode()
        assert Session.objects.count() == 2
        assert "You also saved a session for the same day a few minutes ago, in the other role." in html

    def test_another_day_is_another_session(self, client, partner_a, assignment):
        client.force_login(partner_a.user)
        url = reverse("session_log", args=[assignment.pk]) + "?new=1"
        client.post(url, log_data(date="2026-11-25"))
        response = client.post(url, log_data(date="2026-11-24"), follow=True)
        assert Session.objects.count() == 2
        assert "Thank you. Your session is saved." in response.content.decode()
        assert "in the other role" not in response.content.decode()

    def test_bad_input_explains_and_keeps_what_was_typed(self, client, partner_a, assignment):
        client.force_login(partner_a.user)
        data = log_data(connection="", date="2026-11-26", notes="Keep these words", next_time="slower")
        response = client.post(reverse("session_log", args=[assignment.pk]), data)
        html = response.content.decode()
        assert response.status_code == 200
        assert "Please choose a number from 0 to 10." in html
        assert "Keep these words" in html and "slower" in html
        assert Session.objects.count() == 0

    def test_future_date_is_explained_next_to_the_field(self, client, partner_a, assignment):
        client.force_login(partner_a.user)
        response = client.post(reverse("session_log", args=[assignment.pk]), log_data(date="2026-11-26"))
        assert "That date is in the future." in response.content.decode()
        assert Session.objects.count() == 0

    def test_exercise_paused_while_typing_keeps_the_words(self, client, partner_a, assignment):
        client.force_login(partner_a.user)
        assignment.status = Assignment.Status.PAUSED
        assignment.save()
        response = client.post(reverse("session_log", args=[assignment.pk]), log_data(notes="Words to keep"))
        html = response.content.decode()
        assert response.status_code == 200
        assert "not active right now" in html and "Words to keep" in html
        assert Session.objects.count() == 0

    def test_get_changes_nothing(self, client, partner_a, assignment):
        client.force_login(partner_a.user)
        client.get(reverse("session_log", args=[assignment.pk]) + "?new=1")
        assert Session.objects.count() == 0

    def test_recent_unreflected_session_is_offered_first(self, client, partner_b, session):
        session.date = "2026-11-24"  # yesterday: within the last two days
        session.save()
        client.force_login(partner_b.user)
        response = client.get(reverse("session_log", args=[session.assignment_id]))
        html = response.content.decode()
        assert "Did you mean this one?" in html
        assert reverse("reflection_add", args=[session.pk]) in html

    def test_log_button_names_a_therapists_own_exercise(self, client, partner_a, assignment, therapist):
        own = Exercise.objects.create(
            owner=therapist, title="Foot rub", summary="s", guidance="g", suggested_minutes=10
        )
        assignment.exercise = own
        assignment.save()
        client.force_login(partner_a.user)
        assert "Log: Foot rub" in client.get(reverse("home")).content.decode()


class TestPartnerHome:
    def test_shows_this_week_and_awaiting_reflection(self, client, partner_b, session):
        # session is on Friday 20 Nov (last week); add one this week, logged by A.
        SessionFactory(
            assignment=session.assignment,
            giver=session.giver,
            receiver=session.receiver,
            logged_by=session.giver,
            date="2026-11-24",
        )
        client.force_login(partner_b.user)
        html = client.get(reverse("home")).content.decode()
        assert "This week: 1 of 2" in html
        assert html.count("Add your reflection") >= 2

    def test_a_session_of_an_ended_exercise_keeps_its_own_exercise_and_people(
        self, client, couple, partner_a, partner_b, session, django_assert_num_queries
    ):
        # issue 16, "Fast": the sessions' partners and exercise come from rows the home reads anyway (both
        # partners, all of the couple's assignments), not from joins. A talk exercise that has ended still
        # names its own roles: Alex "spoke" on Sat 21 Nov, where the back rub of Fri 20 Nov says "gave".
        talk = AssignmentFactory(
            couple=couple, exercise=ExerciseFactory(shape=Exercise.Shape.TALK), status=Assignment.Status.ENDED
        )
        SessionFactory(assignment=talk, giver=partner_a, receiver=partner_b, logged_by=partner_a, date="2026-11-21")
        client.force_login(partner_b.user)
        with django_assert_num_queries(11):  # as test_partner_home_query_count_is_fixed: nothing read lazily
            response = client.get(reverse("home"))
        home = response.context["home"]
        assert [s.date.isoformat() for s in home.recent] == ["2026-11-21", "2026-11-20"]
        assert [s.shape for s in home.recent] == ["talk", "touch"]
        assert [(s.giver.name, s.receiver.name, s.logged_by.name) for s in home.awaiting] == [
            ("Alex", "Sam", "Alex"),
            ("Alex", "Sam", "Alex"),
        ]
        html = response.content.decode()
        assert "Alex spoke" in html and "Alex gave" in html
        assert html.count("logged by Alex") == 2
        # Only the current exercise has a card; the ended one is history only.
        assert [p.assignment.pk for p in home.progress] == [session.assignment_id]

    def test_shows_the_latest_few_waiting_and_links_to_the_rest(self, client, partner_b, session):
        # issue 16, "Fast": the home shows the latest AWAITING_SHOWN (3) sessions waiting for B's reflection
        # and a link to the history for the rest, not up to 20 cards. `session` (Fri 20 Nov) waits for B;
        # four more, Mon 16 to Thu 19 Nov, make five: shown 20, 19, 18 Nov, newest first.
        for day in ("2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19"):
            giver = session.giver
            SessionFactory(assignment=session.assignment, giver=giver, receiver=partner_b, logged_by=giver, date=day)
        client.force_login(partner_b.user)
        response = client.get(reverse("home"))
        home = response.context["home"]
        assert [s.date.isoformat() for s in home.awaiting] == ["2026-11-20", "2026-11-19", "2026-11-18"]
        assert home.more_awaiting
        html = response.content.decode()
        assert "More sessions are waiting for your reflection" in html
        assert f'href="{reverse("history")}"' in html

    def test_no_link_to_more_when_all_waiting_are_shown(self, client, partner_b, session):
        client.force_login(partner_b.user)
        response = client.get(reverse("home"))
        assert response.context["home"].awaiting == [session] and not response.context["home"].more_awaiting
        assert "More sessions are waiting for your reflection" not in response.content.decode()

    def test_this_week_above_the_plan_has_no_of(self, client, partner_b, session):
        # Target 2 a week (factories); three sessions this week, Mon 23 to Wed 25 Nov (issue 16).
        for day in ("2026-11-23", "2026-11-24", "2026-11-25"):
            SessionFactory(
                assignment=session.assignment,
                giver=session.giver,
                receiver=session.receiver,
                logged_by=session.giver,
                date=day,
            )
        client.force_login(partner_b.user)
        html = client.get(reverse("home")).content.decode()
        assert "This week: 3 (2 planned)" in html and "3 of 2" not in html


class TestReflectionAdd:
    def test_receiver_adds_reflection(self, client, partner_b, session):
        client.force_login(partner_b.user)
        response = client.post(
            reverse("reflection_add", args=[session.pk]),
            {"connection": "6", "comfort": "7", "safe": "7", "pressure": "light", "visibility": "therapist"},
        )
        assert response.status_code == 302
        reflection = session.reflections.get(partner=partner_b)
        assert (reflection.role, reflection.pressure, reflection.visibility) == ("receiver", "light", "therapist")

    def test_a_second_submit_with_new_words_lands_in_the_edit_form(self, client, partner_b, session):
        client.force_login(partner_b.user)
        url = reverse("reflection_add", args=[session.pk])
        client.post(
            url, {"connection": "6", "comfort": "7", "safe": "7", "notes": "First words", "visibility": "shared"}
        )
        mine = session.reflections.get(partner=partner_b)
        response = client.post(
            url, {"connection": "6", "comfort": "8", "safe": "8", "notes": "Second words", "visibility": "shared"}
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert "You had already saved your reflection." in html
        assert "Edit your reflection" in html and "Second words" in html
        assert f'action="{reverse("reflection_edit", args=[mine.pk])}"' in html
        mine.refresh_from_db()
        assert (mine.notes, mine.comfort) == ("First words", 7)  # not saved silently
        # Confirming saves them.
        confirmed = client.post(
            reverse("reflection_edit", args=[mine.pk]),
            {"connection": "6", "comfort": "8", "safe": "8", "notes": "Second words", "visibility": "shared"},
        )
        assert confirmed.status_code == 302
        mine.refresh_from_db()
        assert (mine.notes, mine.comfort) == ("Second words", 8)

    def test_the_same_words_again_change_nothing_and_say_so(self, client, partner_b, session):
        client.force_login(partner_b.user)
        url = reverse("reflection_add", args=[session.pk])
        data = {"connection": "6", "comfort": "7", "safe": "7", "notes": "First words", "visibility": "shared"}
        client.post(url, data)
        response = client.post(url, data, follow=True)
        assert response.redirect_chain == [(reverse("home"), 302)]
        assert "You had already saved your reflection, so nothing changed." in response.content.decode()
        assert session.reflections.filter(partner=partner_b).count() == 1


class TestAssign:
    def test_assign(self, client, therapist, partner_a, partner_b, couple):
        client.force_login(therapist)
        data = {
            "exercise": back_rub().pk,
            "target_per_week": "3",
            "suggested_minutes": "20",
            "starts_on": "2026-11-25",
            "giver_plan": "turns",
            "note": "Gently does it",
        }
        page = client.get(reverse("assignment_create", args=[couple.pk])).content.decode()
        assert "never replaces" in page  # the private check beside the therapist's own interviews
        response = client.post(reverse("assignment_create", args=[couple.pk]), data)
        assert response.status_code == 302
        assignment = Assignment.objects.get()
        assert (assignment.target_per_week, assignment.suggested_minutes) == (3, 20)

    def test_target_out_of_range_is_refused(self, client, therapist, couple, partner_a, partner_b):
        client.force_login(therapist)
        data = {
            "exercise": back_rub().pk,
            "target_per_week": "8",
            "suggested_minutes": "20",
            "starts_on": "2026-11-25",
            "giver_plan": "turns",
        }
        response = client.post(reverse("assignment_create", args=[couple.pk]), data)
        assert response.status_code == 200
        assert not Assignment.objects.exists()

    def test_another_therapists_exercise_cannot_be_assigned(self, client, therapist, couple, other_therapist):
        theirs = Exercise.objects.create(
            owner=other_therapist, title="X", summary="s", guidance="g", suggested_minutes=10
        )
        client.force_login(therapist)
        data = {
            "exercise": theirs.pk,
            "target_per_week": "2",
            "suggested_minutes": "20",
            "starts_on": "2026-11-25",
            "giver_plan": "turns",
        }
        client.post(reverse("assignment_create", args=[couple.pk]), data)
        assert not Assignment.objects.exists()

    def test_pause_resume_end(self, client, therapist, assignment):
        client.force_login(therapist)
        url = reverse("assignment_status", args=[assignment.pk])
        for status in ["paused", "active", "ended"]:
            client.post(url, {"status": status})
            assignment.refresh_from_db()
            assert assignment.status == status


class TestExercises:
    def test_customize_copies_and_edit_changes_only_the_copy(self, client, therapist):
        # Issue 15: the copy is created when its form is saved (tests/intimacy/test_library.py has more).
        client.force_login(therapist)
        words = {"title": "Back rub, our way", "summary": "s", "guidance": "Our words", "suggested_minutes": "10"}
        response = client.post(reverse("exercise_customize", args=[back_rub().pk]), words)
        copy = Exercise.objects.get(owner=therapist)
        assert response["Location"] == reverse("exercise_detail", args=[copy.pk])
        client.post(reverse("exercise_edit", args=[copy.pk]), {**words, "title": "Ours, again", "shape": "touch"})
        copy.refresh_from_db()
        assert (copy.title, copy.guidance, copy.shape) == ("Ours, again", "Our words", "touch")
        assert back_rub().title == "Give a back rub"

    def test_built_in_cannot_be_edited(self, client, therapist):
        client.force_login(therapist)
        assert client.get(reverse("exercise_edit", args=[back_rub().pk])).status_code == 403


class TestCaseload:
    def test_lists_this_week_against_target_and_last_session(self, client, therapist, session):
        client.force_login(therapist)
        html = client.get(reverse("home")).content.decode()
        # The only session (Fri 20 Nov) is last week; the week of Wed 25 Nov has none.
        assert "0 of 2" in html
        assert "Fri 20 Nov" in html

    def test_query_count_does_not_grow_with_the_caseload(self, client, therapist, session, django_assert_num_queries):
        for _ in range(5):
            couple = CoupleFactory(therapist=therapist)
            a = PartnerFactory(couple=couple, slot=1)
            b = PartnerFactory(couple=couple, slot=2)
            assignment = Assignment.objects.create(
                couple=couple, exercise=back_rub(), target_per_week=2, suggested_minutes=15, starts_on="2026-01-01"
            )
            SessionFactory(assignment=assignment, giver=a, receiver=b, logged_by=a, date="2026-11-24")
        client.force_login(therapist)
        # session, user, couples with aggregates, this-week sessions
        with django_assert_num_queries(4):
            response = client.get(reverse("home"))
        assert response.content.decode().count("1 of 2") == 5


def _more_sessions(session, n):
    for day in range(n):
        SessionFactory(
            assignment=session.assignment,
            giver=session.receiver,
            receiver=session.giver,
            logged_by=session.receiver,
            date=f"2026-11-{10 + day}",
        )


def test_partner_home_query_count_is_fixed(client, partner_a, session, django_assert_num_queries):
    _more_sessions(session, 6)
    client.force_login(partner_a.user)
    # session, user, both partners + couple (the other partner read with this one, issue 16), the
    # couple's exercises, all the couple's assignments with this week's count (a prepared query,
    # intimacy/prepared.py, so their exercise is attached, here and to the sessions below, not
    # joined), sessions awaiting a reflection, recent sessions, their visible reflections; this week's
    # check-in and the couple's current program step in one query (issue 15: no step here, so none read);
    # whether touch work is open (intimacy/holds.py: the partners' checks and screenings and the couple's
    # open hold, one query since issue 16); both partners logging the same day in the same role (issue 14:
    # the pairs, one query)
    with django_assert_num_queries(11):
        response = client.get(reverse("home"))
    assert response.status_code == 200


class TestKeptWords:
    """Every form a partner writes in keeps its words across a sign-out (accounts/drafts.py): they come
    back, prefilled, when the same person opens it again (issue 12, item 12)."""

    WORDS = "Words I would hate to type twice"

    def forms(self, session, partner_a, partner_b):
        mine = session.reflections.get(partner=partner_a)
        return {
            "reflection_add": (partner_b, reverse("reflection_add", args=[session.pk]), "notes"),
            "reflection_edit": (partner_a, reverse("reflection_edit", args=[mine.pk]), "notes"),
        }

    # Not the private safety line: nothing sent there is ever shown again (tests/accounts/test_drafts.py).
    @pytest.mark.parametrize("name", ["reflection_add", "reflection_edit"])
    def test_the_words_come_back_in_the_same_form(self, client, session, partner_a, partner_b, name):
        from accounts.drafts import OWNER_FIELD, owner_token

        who, url, field = self.forms(session, partner_a, partner_b)[name]
        data = {"connection": "4", "comfort": "5", "safe": "5", "feeling": "pressured", field: self.WORDS}
        response = client.post(url, {**data, OWNER_FIELD: owner_token(who.user, name)})
        assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
        client.force_login(who.user)
        html = client.get(url).content.decode()
        assert self.WORDS in html and "We kept what you wrote." in html
        assert session.reflections.filter(notes=self.WORDS).count() == 0  # saved only when they press Save


def test_the_log_page_says_which_answers_are_needed_without_counting_them(client_for, assignment, partner_a):
    # It said "the first five" while seven answers were needed: the marks on the questions are the rule.
    page = client_for(partner_a).get(reverse("session_log", args=[assignment.pk]) + "?new=1").content.decode()
    assert "Only the answers marked “needed” must be filled in." in page
    # This time, connection, comfort, safe, who may read: the date and length come filled in.
    assert page.count("(needed)") == 5


def test_i_wont_reflect_on_this_one_from_the_card_and_the_form(client, partner_b, session):
    """ "I won't reflect on this one" (issue 14): offered on the waiting card and on the reflection form;
    once said, the session no longer waits, and the reflection can still be written."""
    client.force_login(partner_b.user)
    decline = reverse("reflection_decline", args=[session.pk])
    home = client.get(reverse("home")).content.decode()
    assert "Waiting for your reflection" in home and f'action="{decline}"' in home
    assert f'action="{decline}"' in client.get(reverse("reflection_add", args=[session.pk])).content.decode()
    response = client.post(decline, follow=True)
    assert response.redirect_chain == [(reverse("home"), 302)]
    html = response.content.decode()
    assert "Done. You can still add your reflection later" in html
    assert "Waiting for your reflection" not in html and f'action="{decline}"' not in html
    assert "You chose not to reflect on this one." in html
