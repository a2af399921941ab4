"""One back rub, one session (issue 14): the second partner's log joins the first partner's session;
the same role claimed twice is a conflict both partners are asked about; sessions already logged twice
can be made one. Services and selectors first, then the pages, then two posts at once on PostgreSQL."""

import threading
import time as clock
import uuid
from datetime import date, timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.urls import reverse

from intimacy import holds, selectors, services
from intimacy.models import (
    Alert,
    AppointmentExclusion,
    Reflection,
    Session,
    SessionDispute,
    SessionPairDismissal,
    TouchHold,
)
from tests.factories import AssignmentFactory, PartnerFactory, ReflectionFactory, SessionFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 25)  # a Wednesday
SAM_PRIVATE = "Sam-private-words"


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel("2026-11-25 12:00:00+00:00", tick=False):
        yield


def log(assignment, partner, role, key=None, day=TODAY, minutes=15, **answers):
    return services.session_log(
        assignment=assignment,
        partner=partner,
        day=day,
        minutes=minutes,
        role=role,
        answers={"connection": 7, "comfort": 8, "safe": 9, **answers},
        idempotency_key=key or uuid.uuid4(),
    )


def logged_twice(assignment, a, b, *, a_role="giver", b_role="receiver", day=TODAY, b_visibility="shared"):
    """Two sessions as they were stored before logs joined: Alex's (first) and Sam's (a minute later),
    each with its logger's reflection only. Roles as each of them claimed."""
    sessions = []
    for partner, other, role, visibility in ((a, b, a_role, "shared"), (b, a, b_role, b_visibility)):
        giver, receiver = (partner, other) if role == "giver" else (other, partner)
        s = SessionFactory(assignment=assignment, date=day, giver=giver, receiver=receiver, logged_by=partner)
        ReflectionFactory(
            session=s,
            partner=partner,
            role=role,
            notes=SAM_PRIVATE if partner == b else "Alex-words",
            visibility=visibility,
            **({"presence": 6} if role == "giver" else {"tension_before": 6, "tension_after": 2}),
        )
        sessions.append(s)
    return sessions


# Joining on save --------------------------------------------------------------------------------------


class TestJoinOnSave:
    def test_the_receivers_log_joins_the_givers_session(self, assignment, partner_a, partner_b):
        first = log(assignment, partner_a, "giver", minutes=15)
        second = log(assignment, partner_b, "receiver", minutes=30, tension_before=7, tension_after=3)
        assert (first.created, first.joined) == (True, False)
        assert (second.created, second.joined) == (True, True)
        assert second.session.pk == first.session.pk
        assert Session.objects.count() == 1
        session = Session.objects.get()
        # The logger's minutes stand; Sam's 30 are not written over them.
        assert (session.minutes, session.logged_by) == (15, partner_a)
        sams = session.reflections.get(partner=partner_b)
        assert (sams.role, sams.tension_before, sams.tension_after) == ("receiver", 7, 3)

    def test_the_giver_joins_the_receivers_session_too(self, assignment, partner_a, partner_b):
        first = log(assignment, partner_a, "receiver")
        second = log(assignment, partner_b, "giver", presence=8)
        assert second.joined and second.session.pk == first.session.pk
        assert second.session.reflections.get(partner=partner_b).presence == 8

    def test_it_unpacks_as_session_and_created_as_before(self, assignment, partner_a, partner_b):
        log(assignment, partner_a, "giver")
        result = log(assignment, partner_b, "receiver")
        session, created = result
        assert created and session.logged_by == partner_a
        assert (result[0], result[1], len(result)) == (session, True, 2)

    def test_the_same_form_twice_stores_one_reflection(self, assignment, partner_a, partner_b):
        log(assignment, partner_a, "giver")
        key = uuid.uuid4()
        joined = log(assignment, partner_b, "receiver", key=key)
        # Well past the repeat window: only the key can tell it is the same form.
        with time_machine.travel("2026-11-25 18:00:00+00:00", tick=False):
            again = log(assignment, partner_b, "receiver", key=key)
        assert (again.created, again.joined) == (False, False)
        assert again.session.pk == joined.session.pk
        assert Session.objects.count() == 1 and Reflection.objects.count() == 2

    def test_another_partners_key_is_refused(self, assignment, partner_a, partner_b):
        log(assignment, partner_a, "giver")
        key = uuid.uuid4()
        log(assignment, partner_b, "receiver", key=key)
        with pytest.raises(PermissionDenied):
            log(assignment, partner_a, "giver", key=key)

    @pytest.mark.parametrize("change", [{"day": TODAY - timedelta(days=1)}], ids=["another day"])
    def test_another_day_is_another_session(self, assignment, partner_a, partner_b, change):
        log(assignment, partner_a, "giver")
        assert not log(assignment, partner_b, "receiver", **change).joined
        assert Session.objects.count() == 2

    def test_another_assignment_is_another_session(self, assignment, partner_a, partner_b):
        log(assignment, partner_a, "giver")
        other = AssignmentFactory(couple=assignment.couple)
        assert not log(other, partner_b, "receiver").joined

    def test_a_session_already_reflected_on_is_not_joined(self, assignment, partner_a, partner_b):
        # Two back rubs that day, Alex giving both: Sam's second log is the second back rub.
        log(assignment, partner_a, "giver")
        log(assignment, partner_b, "receiver")
        with time_machine.travel("2026-11-25 19:00:00+00:00", tick=False):
            second = log(assignment, partner_b, "receiver", notes="The evening one")
        assert second.created and not second.joined
        assert Session.objects.count() == 2

    def test_back_and_save_again_after_joining_is_kept_once(self, assignment, partner_a, partner_b):
        # Back brings a fresh form and key: only the repeat rule knows Sam's account is already saved.
        log(assignment, partner_a, "giver")
        joined = log(assignment, partner_b, "receiver")
        with time_machine.travel("2026-11-25 12:05:00+00:00", tick=False):
            again = log(assignment, partner_b, "receiver")
        assert (again.created, again.session.pk) == (False, joined.session.pk)
        assert Session.objects.count() == 1 and Reflection.objects.count() == 2

    def test_a_withdrawn_session_is_not_joined(self, assignment, partner_a, partner_b):
        first = log(assignment, partner_a, "giver").session
        first.withdrawn_at = first.created_at
        first.save()
        assert not log(assignment, partner_b, "receiver").joined

    def test_a_session_i_disputed_is_not_joined(self, assignment, partner_a, partner_b):
        # Stored directly: through the service the dispute would also put touch work on hold.
        first = log(assignment, partner_a, "giver").session
        SessionDispute.objects.create(session=first, partner=partner_b, couple=assignment.couple)
        assert not log(assignment, partner_b, "receiver").joined

    def test_the_same_role_is_not_joined(self, assignment, partner_a, partner_b):
        log(assignment, partner_a, "giver")
        second = log(assignment, partner_b, "giver")
        assert second.created and not second.joined
        assert Session.objects.count() == 2

    def test_a_held_couple_cannot_log_or_join(self, assignment, partner_a, partner_b):
        log(assignment, partner_a, "giver")
        TouchHold.objects.create(couple=assignment.couple, reason=Alert.Kind.SAFETY)
        with pytest.raises(ValidationError) as exc:
            log(assignment, partner_b, "receiver")
        assert exc.value.messages == [str(holds.PAUSED_MESSAGE)]
        assert Reflection.objects.filter(partner=partner_b).count() == 0

    def test_the_joined_reflection_raises_alerts_as_a_reflection_does(self, assignment, partner_a, partner_b):
        log(assignment, partner_a, "giver")
        log(assignment, partner_b, "receiver", safe=1)
        assert Alert.objects.filter(kind=Alert.Kind.LOW_SAFE, partner=partner_b, urgent=True).exists()

    def test_a_just_me_reflection_joined_reaches_the_other_partner_in_no_form(self, assignment, partner_a, partner_b):
        log(assignment, partner_a, "giver")
        log(assignment, partner_b, "receiver", notes=SAM_PRIVATE, visibility="private")
        assert not Reflection.objects.visible_to(partner_a.user).filter(partner=partner_b).exists()


# Same role twice: a conflict both partners are asked about ---------------------------------------------


class TestSameRoleConflict:
    def test_both_partners_see_the_pair(self, assignment, partner_a, partner_b):
        alexs = log(assignment, partner_a, "giver").session
        sams = log(assignment, partner_b, "giver").session
        for partner, mine, theirs in ((partner_a, alexs, sams), (partner_b, sams, alexs)):
            (pair,) = selectors.session_pairs(partner.couple, kind=selectors.PAIR_SAME_ROLE, partner=partner)
            assert (pair.mine, pair.theirs) == (mine, theirs)

    def test_two_different_back_rubs_dismisses_the_pair_for_both(self, assignment, partner_a, partner_b):
        alexs = log(assignment, partner_a, "giver").session
        sams = log(assignment, partner_b, "giver").session
        services.session_pair_dismiss(mine=sams, theirs=alexs, partner=partner_b)
        services.session_pair_dismiss(mine=sams, theirs=alexs, partner=partner_b)  # twice: kept once
        assert SessionPairDismissal.objects.count() == 1
        for partner in (partner_a, partner_b):
            assert selectors.session_pairs(partner.couple, kind=selectors.PAIR_SAME_ROLE, partner=partner) == []
        assert Session.objects.count() == 2

    def test_one_back_rub_i_received_moves_my_account_onto_theirs(self, assignment, partner_a, partner_b):
        alexs, sams = logged_twice(assignment, partner_a, partner_b, b_role="giver", b_visibility="private")
        kept = services.session_conflict_join(mine=sams, theirs=alexs, partner=partner_b)
        assert kept.pk == alexs.pk
        assert list(Session.objects.values_list("pk", flat=True)) == [alexs.pk]
        moved = Reflection.objects.get(partner=partner_b)
        # Sam received after all: the answers both roles share stay (words and who may read them), the
        # giver's "present" is dropped (Sam adds the receiver's answers by editing).
        assert (moved.session_id, moved.role, moved.notes, moved.visibility) == (
            alexs.pk,
            "receiver",
            SAM_PRIVATE,
            "private",
        )
        assert (moved.presence, moved.giving_felt, moved.connection) == (None, None, 7)

    def test_a_dispute_of_the_claim_given_up_stays_with_that_claim(self, client_for, assignment, partner_a, partner_b):
        """Hostile review (issue 14). Sam logged "I gave Alex a back rub", Alex said it didn't happen or
        he didn't agree, and Alex logged that he gave one that day. Sam's "It was one back rub: I
        received" moved Alex's dispute onto *his own* session ("Alex gave"), so the therapist read a
        dispute about Sam giving as one about Alex giving, and trends lost Alex's session. The claim Sam
        gave up stays, withdrawn, with the dispute on it: for the partners it is gone, as if deleted."""
        alexs, sams = logged_twice(assignment, partner_a, partner_b, b_role="giver")
        couple = assignment.couple
        SessionDispute.objects.create(session=sams, partner=partner_a, couple=couple)
        kept = services.session_conflict_join(mine=sams, theirs=alexs, partner=partner_b)
        assert kept.pk == alexs.pk
        assert list(SessionDispute.objects.values_list("session", "partner")) == [(sams.pk, partner_a.pk)]
        sams.refresh_from_db()
        assert sams.withdrawn_at is not None and not sams.reflections.exists()
        assert Reflection.objects.get(partner=partner_b).session_id == alexs.pk
        for partner in (partner_a, partner_b):
            page = client_for(partner).get(reverse("history")).content.decode()
            assert f"sessions/{sams.pk}/" not in page
        assert not SessionDispute.objects.filter(session=alexs).exists()

    def test_only_my_own_session_can_be_moved(self, assignment, partner_a, partner_b):
        alexs, sams = logged_twice(assignment, partner_a, partner_b, b_role="giver")
        with pytest.raises(PermissionDenied):
            services.session_conflict_join(mine=alexs, theirs=sams, partner=partner_b)

    def test_a_pair_whose_roles_fit_is_not_a_conflict(self, assignment, partner_a, partner_b):
        alexs, sams = logged_twice(assignment, partner_a, partner_b)
        with pytest.raises(ValidationError):
            services.session_conflict_join(mine=sams, theirs=alexs, partner=partner_b)

    def test_a_pair_whose_roles_fit_may_be_said_to_be_two_back_rubs(self, assignment, partner_a, partner_b):
        alexs, sams = logged_twice(assignment, partner_a, partner_b)
        # Either session first: the "make it one" card names the earlier one, whoever taps.
        services.session_pair_dismiss(mine=alexs, theirs=sams, partner=partner_b)
        for partner in (partner_a, partner_b):
            assert selectors.session_pairs(partner.couple, partner=partner) == []
        # Nor is it offered to the therapist ("Make one session" would undo the partners' answer; before
        # this rule changed on purpose, the therapist's list kept it), and a merge is refused.
        assert selectors.session_pairs(assignment.couple) == []
        with pytest.raises(ValidationError, match="said these were two different sessions"):
            services.session_merge(keep=alexs, duplicate=sams, by=assignment.couple.therapist)
        assert Session.objects.count() == 2

    def test_only_a_partner_who_logged_one_may_say_two(self, assignment, partner_a, partner_b):
        alexs, sams = logged_twice(assignment, partner_a, partner_b)
        with pytest.raises(PermissionDenied):
            services.session_pair_dismiss(mine=alexs, theirs=sams, partner=PartnerFactory())
        assert SessionPairDismissal.objects.count() == 0


# Merging sessions already logged twice ----------------------------------------------------------------


class TestSessionMerge:
    def test_the_later_account_moves_onto_the_earlier_session(self, assignment, partner_a, partner_b):
        alexs, sams = logged_twice(assignment, partner_a, partner_b, b_visibility="private")
        # Whichever is named `keep`, the session logged first is kept.
        kept = services.session_merge(keep=sams, duplicate=alexs, by=partner_b.user)
        assert kept.pk == alexs.pk
        assert list(Session.objects.values_list("pk", flat=True)) == [alexs.pk]
        moved = Reflection.objects.get(partner=partner_b)
        assert (moved.session_id, moved.role, moved.visibility, moved.tension_after) == (
            alexs.pk,
            "receiver",
            "private",
            2,
        )
        assert Reflection.objects.filter(session=alexs).count() == 2

    def test_the_therapist_may_merge(self, assignment, partner_a, partner_b, therapist):
        alexs, sams = logged_twice(assignment, partner_a, partner_b)
        services.session_merge(keep=alexs, duplicate=sams, by=therapist)
        assert Session.objects.count() == 1

    def test_no_one_else_may(self, assignment, partner_a, partner_b, other_therapist, outsider):
        alexs, sams = logged_twice(assignment, partner_a, partner_b)
        for someone in (other_therapist, outsider.user):
            with pytest.raises(PermissionDenied):
                services.session_merge(keep=alexs, duplicate=sams, by=someone)
        assert Session.objects.count() == 2

    @pytest.mark.parametrize(
        "spoil",
        ["another day", "the same logger", "already reflected", "withdrawn", "the same role", "itself"],
    )
    def test_anything_but_a_pair_is_refused_in_a_sentence(self, assignment, partner_a, partner_b, spoil):
        alexs, sams = logged_twice(
            assignment, partner_a, partner_b, b_role="giver" if spoil == "the same role" else "receiver"
        )
        if spoil == "another day":
            sams.date = TODAY - timedelta(days=1)
            sams.save()
        elif spoil == "the same logger":
            sams.logged_by = partner_a
            sams.save()
        elif spoil == "already reflected":
            ReflectionFactory(session=alexs, partner=partner_b, role="receiver")
        elif spoil == "withdrawn":
            sams.withdrawn_at = sams.created_at
            sams.save()
        elif spoil == "itself":
            sams = alexs
        with pytest.raises(ValidationError) as exc:
            services.session_merge(keep=alexs, duplicate=sams, by=partner_a.user)
        assert "cannot be made one" in exc.value.messages[0]
        assert Session.objects.count() == 2

    def test_disputes_and_exclusions_follow_the_session(self, assignment, partner_a, partner_b):
        alexs, sams = logged_twice(assignment, partner_a, partner_b)
        couple = assignment.couple
        SessionDispute.objects.create(session=sams, partner=partner_a, couple=couple)
        AppointmentExclusion.objects.create(couple=couple, day=TODAY, session=sams)
        AppointmentExclusion.objects.create(couple=couple, day=TODAY - timedelta(days=1), session=sams)
        AppointmentExclusion.objects.create(couple=couple, day=TODAY, session=alexs)
        services.session_merge(keep=alexs, duplicate=sams, by=couple.therapist)
        assert list(SessionDispute.objects.values_list("session", "partner")) == [(alexs.pk, partner_a.pk)]
        # The same day's exclusion was already there for the kept session: one row, not two.
        assert sorted(AppointmentExclusion.objects.values_list("session", "day")) == [
            (alexs.pk, TODAY - timedelta(days=1)),
            (alexs.pk, TODAY),
        ]

    def test_an_alert_about_the_duplicate_leads_to_the_session_kept(self, assignment, partner_a, partner_b):
        # Hostile review (issue 14): the urgent "did not happen" alert lost its "Open the session" link
        # when the session it was about was merged away (its foreign key set to null with the row).
        alexs, sams = logged_twice(assignment, partner_a, partner_b)
        services.session_dispute(session=sams, partner=partner_a)
        services.session_merge(keep=alexs, duplicate=sams, by=assignment.couple.therapist)
        alert = Alert.objects.get(kind=Alert.Kind.DISPUTED)
        assert alert.session_id == alexs.pk

    def test_alerts_are_raised_again(self, assignment, partner_a, partner_b):
        alexs, sams = logged_twice(assignment, partner_a, partner_b)
        sams_words = Reflection.objects.get(partner=partner_b)
        sams_words.safe = 1
        sams_words.save()
        services.session_merge(keep=alexs, duplicate=sams, by=assignment.couple.therapist)
        assert Alert.objects.filter(kind=Alert.Kind.LOW_SAFE, partner=partner_b).exists()

    def test_a_partner_waits_while_touch_is_paused(self, assignment, partner_a, partner_b):
        alexs, sams = logged_twice(assignment, partner_a, partner_b)
        TouchHold.objects.create(couple=assignment.couple, reason=Alert.Kind.SAFETY)
        with pytest.raises(ValidationError):
            services.session_merge(keep=alexs, duplicate=sams, by=partner_a.user)
        assert Session.objects.count() == 2

    def test_the_therapists_merge_leaves_the_hold_on(self, assignment, partner_a, partner_b):
        alexs, sams = logged_twice(assignment, partner_a, partner_b)
        TouchHold.objects.create(couple=assignment.couple, reason=Alert.Kind.SAFETY)
        services.session_merge(keep=alexs, duplicate=sams, by=assignment.couple.therapist)
        assert TouchHold.objects.open().count() == 1
        assert holds.touch_paused(partner_a)

    def test_pairs_for_a_partner_leave_out_the_sessions_they_disputed(self, assignment, partner_a, partner_b):
        alexs, sams = logged_twice(assignment, partner_a, partner_b)
        SessionDispute.objects.create(session=sams, partner=partner_a, couple=assignment.couple)
        # Alex said Sam's session didn't happen: it is not offered to him as the same back rub as his own.
        assert selectors.session_pairs(assignment.couple, partner=partner_a) == []
        (pair,) = selectors.session_pairs(assignment.couple)  # the therapist's list keeps it
        assert (pair.first, pair.second, pair.kind) == (alexs, sams, selectors.PAIR_SAME_BACK_RUB)

    @pytest.mark.parametrize("kind", [selectors.PAIR_SAME_BACK_RUB, selectors.PAIR_SAME_ROLE])
    def test_the_other_partners_dispute_changes_nothing_for_the_logger(self, assignment, partner_a, partner_b, kind):
        """Hostile review (issue 14): Sam's "Make it one" offer (or "One back rub or two?" card) vanishing
        when Alex disputed Sam's session told Sam who said what about which session, which the dispute
        promises Sam never learns ("Your therapist will see this; your partner will not")."""
        b_role = "receiver" if kind == selectors.PAIR_SAME_BACK_RUB else "giver"
        alexs, sams = logged_twice(assignment, partner_a, partner_b, b_role=b_role)
        before = selectors.session_pairs(assignment.couple, kind=kind, partner=partner_b)
        SessionDispute.objects.create(session=sams, partner=partner_a, couple=assignment.couple)
        after = selectors.session_pairs(assignment.couple, kind=kind, partner=partner_b)
        assert [(p.mine, p.theirs) for p in after] == [(p.mine, p.theirs) for p in before] == [(sams, alexs)]


# The pages --------------------------------------------------------------------------------------------


def _form(**answers) -> dict:
    return {
        "date": TODAY.isoformat(),
        "minutes": 20,
        "connection": 7,
        "comfort": 8,
        "safe": 9,
        "visibility": "shared",
        "idempotency_key": str(uuid.uuid4()),
        **answers,
    }


class TestPages:
    def test_the_second_log_is_told_it_joined(self, client_for, assignment, partner_a, partner_b):
        log(assignment, partner_a, "giver")
        client = client_for(partner_b)
        response = client.post(
            reverse("session_log", args=[assignment.pk]) + "?new=1", _form(role="receiver"), follow=True
        )
        assert "Added to the back rub Alex logged." in response.content.decode()
        assert Session.objects.count() == 1

    def test_both_homes_show_the_conflict_card(self, client_for, assignment, partner_a, partner_b):
        log(assignment, partner_a, "giver")
        log(assignment, partner_b, "giver")
        for partner, name in ((partner_a, "Sam"), (partner_b, "Alex")):
            page = client_for(partner).get(reverse("home")).content.decode()
            assert f"You and {name} each said you were the one giving, on Wed 25 Nov." in page
            assert "If it was one back rub, one of you received it." in page
            assert "It was one back rub: I received" in page
            assert "These were two different back rubs" in page

    def test_the_same_form_sent_twice_after_joining_is_kept_once(self, client_for, assignment, partner_a, partner_b):
        log(assignment, partner_a, "giver")
        client = client_for(partner_b)
        url = reverse("session_log", args=[assignment.pk]) + "?new=1"
        form = _form(role="receiver")
        client.post(url, form)
        response = client.post(url, form, follow=True)
        assert "You had already saved this session, so it is kept once." in response.content.decode()
        assert Session.objects.count() == 1 and Reflection.objects.count() == 2

    def test_the_conflict_card_actions(self, client_for, assignment, partner_a, partner_b):
        alexs = log(assignment, partner_a, "giver").session
        sams = log(assignment, partner_b, "giver", notes="Mine").session
        client = client_for(partner_b)
        response = client.post(reverse("session_conflict_join", args=[sams.pk]), {"other": alexs.pk}, follow=True)
        page = response.content.decode()
        assert "You can add the answers for your role by editing your reflection." in page
        assert "each said you were the one" not in page
        assert list(Session.objects.values_list("pk", flat=True)) == [alexs.pk]

    def test_two_back_rubs_from_the_card(self, client_for, assignment, partner_a, partner_b):
        alexs = log(assignment, partner_a, "giver").session
        sams = log(assignment, partner_b, "giver").session
        client_for(partner_a).post(reverse("session_pair_dismiss", args=[alexs.pk]), {"other": sams.pk})
        assert "each said you were the one" not in client_for(partner_b).get(reverse("home")).content.decode()

    def test_history_offers_to_make_one_and_does(self, client_for, assignment, partner_a, partner_b):
        alexs, sams = logged_twice(assignment, partner_a, partner_b)
        client = client_for(partner_a)
        page = client.get(reverse("history")).content.decode()
        assert "Wed 25 Nov: you and Sam each logged this back rub. Make it one?" in page
        assert "These were two different back rubs" in page
        response = client.post(
            reverse("session_merge", args=[alexs.pk]), {"other": sams.pk, "back": "history"}, follow=True
        )
        assert "Done: one back rub, with both of your reflections." in response.content.decode()
        assert Session.objects.count() == 1

    def test_the_therapist_makes_one_from_the_couples_page(
        self, client_for, assignment, partner_a, partner_b, therapist
    ):
        alexs, sams = logged_twice(assignment, partner_a, partner_b)
        client = client_for(therapist)
        page = client.get(reverse("couple_reflections", args=[assignment.couple.pk])).content.decode()
        assert "Probably one back rub." in page
        response = client.post(reverse("session_merge_by_therapist", args=[alexs.pk]), {"other": sams.pk})
        assert response.status_code == 302 and response["Location"].endswith("#timeline")
        assert Session.objects.count() == 1

    def test_a_session_of_another_couple_is_untouched_and_not_told_apart(
        self, client_for, assignment, partner_a, partner_b, outsider
    ):
        alexs, _sams = logged_twice(assignment, partner_a, partner_b)
        theirs = SessionFactory(
            assignment=AssignmentFactory(couple=outsider.couple),
            giver=outsider,
            receiver=outsider.other_partner(),
            logged_by=outsider,
        )
        client = client_for(partner_a)
        # The same answer as for an id that never existed (no leak): see TestStaleCards.
        response = client.post(reverse("session_merge", args=[alexs.pk]), {"other": theirs.pk}, follow=True)
        assert "Already sorted: it&#x27;s one back rub now." in response.content.decode()
        assert Session.objects.filter(pk=theirs.pk).exists() and Session.objects.count() == 3
        # Their session named as the tapper's own still goes through the gate.
        response = client.post(reverse("session_merge", args=[theirs.pk]), {"other": alexs.pk})
        assert response.status_code == 404

    @pytest.mark.parametrize("how", ["joined", "merged"])
    def test_just_me_never_reaches_the_other_partners_pages(self, client_for, assignment, partner_a, partner_b, how):
        if how == "joined":
            log(assignment, partner_a, "giver")
            log(assignment, partner_b, "receiver", notes=SAM_PRIVATE, visibility="private", connection=3)
        else:
            alexs, sams = logged_twice(assignment, partner_a, partner_b, b_visibility="private")
            services.session_merge(keep=alexs, duplicate=sams, by=partner_a.user)
        client = client_for(partner_a)
        for url in (reverse("home"), reverse("history")):
            page = client.get(url).content.decode()
            assert SAM_PRIVATE not in page
            assert "Sam: connection" not in page


# The duplicate trap: the other partner's account of a back rub I logged too is not "waiting" --------------


def _pks(sessions) -> set[int]:
    return {s.pk for s in sessions}


class TestDuplicateTrap:
    @pytest.mark.parametrize("b_role", ["receiver", "giver"])
    def test_the_other_partners_account_does_not_wait_for_my_reflection(self, assignment, partner_a, partner_b, b_role):
        alexs, sams = logged_twice(assignment, partner_a, partner_b, b_role=b_role)
        # Each logged their own account, so nothing else waits for either of them.
        for partner in (partner_a, partner_b):
            assert _pks(selectors.awaiting_my_reflection(partner)) == set()
            assert selectors.recent_unreflected(partner, assignment, TODAY) == []

    @pytest.mark.parametrize("b_role", ["receiver", "giver"])
    def test_said_to_be_two_back_rubs_they_wait_again(self, assignment, partner_a, partner_b, b_role):
        alexs, sams = logged_twice(assignment, partner_a, partner_b, b_role=b_role)
        services.session_pair_dismiss(mine=sams, theirs=alexs, partner=partner_b)
        assert _pks(selectors.awaiting_my_reflection(partner_a)) == {sams.pk}
        assert _pks(selectors.awaiting_my_reflection(partner_b)) == {alexs.pk}

    def test_a_turn_each_still_waits(self, assignment, partner_a, partner_b):
        # Alex logged both turns (Alex gave; Sam gave); Sam logged only the first (Sam received). The
        # first two are one back rub (the same giver); Alex's second log pairs with nothing left, so
        # it waits for Sam's reflection. By hand: Sam's awaiting = {Alex's "Sam gave"}.
        alexs, _sams = logged_twice(assignment, partner_a, partner_b)
        sam_gave = SessionFactory(
            assignment=assignment, date=TODAY, giver=partner_b, receiver=partner_a, logged_by=partner_a
        )
        ReflectionFactory(session=sam_gave, partner=partner_a, role="receiver")
        assert _pks(selectors.awaiting_my_reflection(partner_b)) == {sam_gave.pk}
        assert _pks(selectors.awaiting_my_reflection(partner_a)) == set()

    def test_a_session_reflected_on_by_both_waits_as_before(self, assignment, partner_a, partner_b):
        # Alex's own account already has Sam's reflection: no pair, Sam's account waits for Alex.
        alexs, sams = logged_twice(assignment, partner_a, partner_b)
        ReflectionFactory(session=alexs, partner=partner_b, role="receiver")
        assert _pks(selectors.awaiting_my_reflection(partner_a)) == {sams.pk}


class TestPairCards:
    def test_home_offers_to_make_one_instead_of_a_reflection(self, client_for, assignment, partner_a, partner_b):
        alexs, sams = logged_twice(assignment, partner_a, partner_b)
        response = client_for(partner_a).get(reverse("home"))
        page = response.content.decode()
        assert "You and Sam both logged the back rub of Wed 25 Nov. Make it one?" in page
        assert "These were two different back rubs" in page
        assert response.context["home"].awaiting == []
        assert "Waiting for your reflection" not in page

    def test_make_it_one_from_home_goes_home(self, client_for, assignment, partner_a, partner_b):
        alexs, sams = logged_twice(assignment, partner_a, partner_b)
        response = client_for(partner_b).post(
            reverse("session_merge", args=[alexs.pk]), {"other": sams.pk, "back": "home"}
        )
        assert response.status_code == 302 and response["Location"] == reverse("home")
        assert list(Session.objects.values_list("pk", flat=True)) == [alexs.pk]

    def test_two_back_rubs_from_home(self, client_for, assignment, partner_a, partner_b):
        alexs, sams = logged_twice(assignment, partner_a, partner_b)
        client = client_for(partner_b)
        response = client.post(reverse("session_pair_dismiss", args=[alexs.pk]), {"other": sams.pk, "back": "home"})
        assert response.status_code == 302 and response["Location"] == reverse("home")
        response = client_for(partner_a).get(reverse("home"))
        assert "Make it one?" not in response.content.decode()
        assert response.context["home"].awaiting == [sams]

    def test_two_back_rubs_from_history(self, client_for, assignment, partner_a, partner_b):
        alexs, sams = logged_twice(assignment, partner_a, partner_b)
        client = client_for(partner_a)
        response = client.post(
            reverse("session_pair_dismiss", args=[alexs.pk]), {"other": sams.pk, "back": "history"}, follow=True
        )
        assert response.redirect_chain[-1][0] == reverse("history")
        assert "Make it one?" not in response.content.decode()

    def test_two_back_rubs_by_a_partner_who_logged_neither_is_refused(
        self, client_for, assignment, partner_a, partner_b
    ):
        first = log(assignment, partner_a, "giver").session
        second = log(assignment, partner_a, "receiver").session
        response = client_for(partner_b).post(reverse("session_pair_dismiss", args=[first.pk]), {"other": second.pk})
        assert response.status_code == 403
        assert SessionPairDismissal.objects.count() == 0

    def test_the_reflection_form_offers_to_make_one(self, client_for, assignment, partner_a, partner_b):
        alexs, sams = logged_twice(assignment, partner_a, partner_b)
        page = client_for(partner_a).get(reverse("reflection_add", args=[sams.pk])).content.decode()
        assert "You logged this back rub too: make it one instead?" in page
        assert reverse("session_merge", args=[alexs.pk]) in page
        assert 'name="connection"' in page  # the form is still there

    def test_the_reflection_form_shows_the_conflict_for_the_same_role(
        self, client_for, assignment, partner_a, partner_b
    ):
        alexs, sams = logged_twice(assignment, partner_a, partner_b, b_role="giver")
        page = client_for(partner_a).get(reverse("reflection_add", args=[sams.pk])).content.decode()
        assert "You and Sam each said you were the one giving, on Wed 25 Nov." in page
        assert "It was one back rub: I received" in page

    def test_a_lone_session_has_no_offer(self, client_for, assignment, partner_a, partner_b):
        sams = log(assignment, partner_b, "giver").session
        page = client_for(partner_a).get(reverse("reflection_add", args=[sams.pk])).content.decode()
        assert "One back rub or two?" not in page

    def test_the_receivers_conflict_card_wording(self, client_for, assignment, partner_a, partner_b):
        logged_twice(assignment, partner_a, partner_b, a_role="receiver", b_role="receiver")
        page = client_for(partner_b).get(reverse("home")).content.decode()
        assert "You and Alex each said you were the one receiving, on Wed 25 Nov." in page
        assert "If it was one back rub, one of you gave it." in page


# A card left open while the other partner answered theirs --------------------------------------------------

SORTED = "Already sorted: it&#x27;s one back rub now."


class TestStaleCards:
    def test_it_was_one_back_rub_tapped_by_both(self, client_for, assignment, partner_a, partner_b):
        alexs, sams = logged_twice(assignment, partner_a, partner_b, b_role="giver")
        client_for(partner_b).post(reverse("session_conflict_join", args=[sams.pk]), {"other": alexs.pk})
        response = client_for(partner_a).post(
            reverse("session_conflict_join", args=[alexs.pk]), {"other": sams.pk}, follow=True
        )
        assert response.redirect_chain[-1][0] == reverse("home")
        assert SORTED in response.content.decode()
        assert list(Session.objects.values_list("pk", flat=True)) == [alexs.pk]

    def test_two_back_rubs_after_the_other_made_one(self, client_for, assignment, partner_a, partner_b):
        alexs, sams = logged_twice(assignment, partner_a, partner_b, b_role="giver")
        client_for(partner_a).post(reverse("session_conflict_join", args=[alexs.pk]), {"other": sams.pk})
        response = client_for(partner_b).post(
            reverse("session_pair_dismiss", args=[sams.pk]), {"other": alexs.pk}, follow=True
        )
        assert SORTED in response.content.decode()
        assert SessionPairDismissal.objects.count() == 0

    @pytest.mark.parametrize("back", ["home", "history"])
    def test_make_it_one_tapped_by_both(self, client_for, assignment, partner_a, partner_b, back):
        alexs, sams = logged_twice(assignment, partner_a, partner_b)
        form = {"other": sams.pk, "back": back}
        client_for(partner_b).post(reverse("session_merge", args=[alexs.pk]), form)
        response = client_for(partner_a).post(reverse("session_merge", args=[alexs.pk]), form, follow=True)
        assert response.redirect_chain[-1][0] == reverse(back)
        assert SORTED in response.content.decode()
        assert Session.objects.count() == 1

    def test_gone_never_there_or_another_couples_is_one_answer(
        self, client_for, assignment, partner_a, partner_b, outsider
    ):
        alexs, sams = logged_twice(assignment, partner_a, partner_b)
        elsewhere = SessionFactory(
            assignment=AssignmentFactory(couple=outsider.couple),
            giver=outsider,
            receiver=outsider.other_partner(),
            logged_by=outsider,
        )
        gone = SessionFactory(assignment=assignment, giver=partner_b, receiver=partner_a, logged_by=partner_b)
        gone_pk = gone.pk
        gone.delete()
        client = client_for(partner_a)
        answers = set()
        for other in (gone_pk, 999_999, elsewhere.pk):
            response = client.post(reverse("session_merge", args=[alexs.pk]), {"other": other, "back": "home"})
            answers.add((response.status_code, response["Location"], _messages_of(response)[-1]))
        assert answers == {(302, reverse("home"), "Already sorted: it's one back rub now.")}
        assert Session.objects.count() == 3

    def test_my_own_session_still_goes_through_the_gate(self, client_for, assignment, partner_a, partner_b, outsider):
        alexs, sams = logged_twice(assignment, partner_a, partner_b, b_role="giver")
        elsewhere = SessionFactory(
            assignment=AssignmentFactory(couple=outsider.couple),
            giver=outsider,
            receiver=outsider.other_partner(),
            logged_by=outsider,
        )
        client = client_for(partner_a)
        for name in ("session_merge", "session_conflict_join", "session_pair_dismiss"):
            assert client.post(reverse(name, args=[elsewhere.pk]), {"other": sams.pk}).status_code == 404

    def test_the_therapists_make_one_session_after_a_partner_did(
        self, client_for, assignment, partner_a, partner_b, therapist
    ):
        alexs, sams = logged_twice(assignment, partner_a, partner_b)
        services.session_merge(keep=alexs, duplicate=sams, by=partner_a.user)
        client = client_for(therapist)
        response = client.post(reverse("session_merge_by_therapist", args=[alexs.pk]), {"other": sams.pk})
        assert response.status_code == 302 and response["Location"].endswith("#timeline")
        assert _messages_of(response) == ("Nothing to do: the other session is no longer there.",)


def _messages_of(response) -> tuple[str, ...]:
    """The messages a (not followed) redirect leaves for the next page."""
    return tuple(str(m) for m in get_messages(response.wsgi_request))


# Two phones saving at once, on PostgreSQL ----------------------------------------------------------------

POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
pg_only = pytest.mark.skipif(
    not POSTGRES,
    reason="Two saves at once need two connections that really overlap: SQLite serialises writers, so this "
    "is tested on PostgreSQL (scripts/with-postgres).",
)


def _run_together(bodies: dict) -> dict:
    results, errors, start = {}, [], threading.Barrier(len(bodies))

    def run(name, body):
        try:
            start.wait(10)
            results[name] = body()
        except BaseException as exc:  # reported in the test's own thread below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item, name=item[0]) for item in bodies.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not errors, errors
    return results


@pg_only
@pytest.mark.django_db(transaction=True)
def test_two_partners_saving_at_once_make_one_session(assignment, partner_a, partner_b):
    """Alex (gave) and Sam (received) press Save at the same moment: one session, both reflections."""
    today = TODAY
    for _round in range(5):  # a race shows itself only sometimes: give it several chances
        for earlier in Session.objects.all():  # one by one: clinical rows have no bulk delete
            earlier.delete()
        results = _run_together(
            {
                "alex": lambda: log(assignment, partner_a, "giver", day=today),
                "sam": lambda: log(assignment, partner_b, "receiver", day=today),
            }
        )
        assert Session.objects.count() == 1
        session = Session.objects.get()
        assert sorted(session.reflections.values_list("partner", "role")) == sorted(
            [(partner_a.pk, "giver"), (partner_b.pk, "receiver")]
        )
        assert sorted(r.joined for r in results.values()) == [False, True]


@pg_only
@pytest.mark.django_db(transaction=True)
def test_the_second_save_waits_for_the_first_and_joins_it(assignment, partner_a, partner_b):
    """Sam's save arrives while Alex's transaction is still open: it waits for the assignment's lock,
    then sees Alex's session and joins it (without the lock it would make a second one)."""
    today = TODAY
    alex_saved, release, results, errors = threading.Event(), threading.Event(), {}, []

    def alex():
        with transaction.atomic():  # holds the transaction open until Sam's save is waiting
            results["alex"] = log(assignment, partner_a, "giver", day=today)
            alex_saved.set()
            release.wait(10)

    def sam():
        results["sam"] = log(assignment, partner_b, "receiver", day=today)

    def in_thread(body):
        def run():
            try:
                body()
            except BaseException as exc:
                errors.append(exc)
            finally:
                alex_saved.set()
                connection.close()

        return threading.Thread(target=run)

    first, second = in_thread(alex), in_thread(sam)
    first.start()
    alex_saved.wait(10)
    second.start()
    deadline = clock.monotonic() + 10
    while second.is_alive() and not _someone_waits_for_a_lock() and clock.monotonic() < deadline:
        second.join(0.02)
    release.set()
    first.join(10)
    second.join(10)
    assert not errors, errors
    assert results["sam"].joined and results["sam"].session.pk == results["alex"].session.pk
    assert Session.objects.count() == 1 and Reflection.objects.count() == 2


@pg_only
@pytest.mark.django_db(transaction=True)
def test_both_partners_making_one_at_once_make_one(assignment, partner_a, partner_b):
    """Alex and Sam both press "Make it one" on the same pair: one merge happens, the other is told
    calmly that there is nothing left to merge; nothing is lost or doubled."""
    alexs, sams = logged_twice(assignment, partner_a, partner_b)

    def merge_by(who):
        return lambda: _outcome(lambda: services.session_merge(keep=alexs, duplicate=sams, by=who.user))

    outcomes = _run_together({who.name: merge_by(who) for who in (partner_a, partner_b)})
    assert sorted(outcomes.values()) == ["merged", "refused"]
    assert list(Session.objects.values_list("pk", flat=True)) == [alexs.pk]
    assert sorted(Reflection.objects.values_list("session", "partner")) == [
        (alexs.pk, partner_a.pk),
        (alexs.pk, partner_b.pk),
    ]


def _outcome(merge) -> str:
    try:
        merge()
    except ValidationError:
        return "refused"
    return "merged"


def _someone_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0] > 0


# Hostile review (issue 14) ------------------------------------------------------------------------------


class TestHostileReview:
    @pytest.mark.parametrize("other", ["\u00b2", "\u2460", "9" * 30, "-1", " 1", ""])
    @pytest.mark.parametrize("url_name", ["session_merge", "session_conflict_join", "session_pair_dismiss"])
    def test_an_odd_other_session_is_a_sentence_or_404_never_500(
        self, client_for, assignment, partner_a, partner_b, url_name, other
    ):
        # "²" and "①" pass str.isdigit() but not int(): they made a 500; thirty nines are no one's session.
        alexs, _sams = logged_twice(assignment, partner_a, partner_b)
        client = client_for(partner_a)
        response = client.post(reverse(url_name, args=[alexs.pk]), {"other": other})
        assert response.status_code in (302, 404)
        assert Session.objects.count() == 2

    @pytest.mark.parametrize("other", ["\u00b2", "9" * 30])
    def test_an_odd_other_session_for_the_therapist_too(self, client_for, assignment, partner_a, partner_b, other):
        alexs, _sams = logged_twice(assignment, partner_a, partner_b)
        response = client_for(assignment.couple.therapist).post(
            reverse("session_merge_by_therapist", args=[alexs.pk]), {"other": other}
        )
        assert response.status_code in (302, 404)
        assert Session.objects.count() == 2

    def test_two_back_rubs_is_not_written_to_a_closed_case(self, assignment, partner_a, partner_b):
        alexs, sams = logged_twice(assignment, partner_a, partner_b, b_role="giver")
        couple = assignment.couple
        couple.status = couple.Status.CLOSED
        couple.save()
        with pytest.raises(ValidationError):
            services.session_pair_dismiss(mine=sams, theirs=alexs, partner=partner_b)
        assert not SessionPairDismissal.objects.exists()

    def test_no_reflection_on_the_others_account_while_the_pair_is_open(
        self, client_for, assignment, partner_a, partner_b
    ):
        """Hostile review (issue 14): Sam's reflection, private, on Alex's account of a back rub she logged
        too would have taken Alex's "make it one" offer away, telling him something was written. So the
        pair is settled first: the reflection is refused, with her words kept on the page."""
        alexs, sams = logged_twice(assignment, partner_a, partner_b)
        answers = {"connection": 6, "comfort": 7, "safe": 8, "notes": "Sam-private-words", "visibility": "private"}
        with pytest.raises(ValidationError, match="You logged this back rub too"):
            services.reflection_add(session=alexs, partner=partner_b, answers=answers)
        response = client_for(partner_b).post(
            reverse("reflection_add", args=[alexs.pk]),
            {"connection": "6", "comfort": "7", "safe": "8", "notes": "Sam-private-words", "visibility": "private"},
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert "You logged this back rub too." in html and "Sam-private-words" in html
        assert not alexs.reflections.filter(partner=partner_b).exists()
        # Once Sam says they were two back rubs, she may reflect on Alex's: the pair is no longer offered.
        services.session_pair_dismiss(mine=sams, theirs=alexs, partner=partner_b)
        services.reflection_add(session=alexs, partner=partner_b, answers=answers)
        assert alexs.reflections.filter(partner=partner_b).exists()
