"""Where a reflection's words and ratings appear, for each of the three visibility levels."""

import pytest
from django.core import mail
from django.urls import reverse

from intimacy.models import Reflection, Session
from tests.factories import ReflectionFactory

pytestmark = pytest.mark.django_db

WORDS = "the-words-B-wrote-zx81"
NEXT = "next-time-B-asked-qq42"
# A connection rating nobody else in the fixtures uses, so its presence on a page is attributable.
RATING = 3


@pytest.fixture
def b_reflection(session, partner_b):
    def make(visibility):
        return ReflectionFactory(
            session=session,
            partner=partner_b,
            role=Reflection.Role.RECEIVER,
            visibility=visibility,
            notes=WORDS,
            next_time=NEXT,
            connection=RATING,
            comfort=RATING,
            safe=RATING,
        )

    return make


def pages_for(client, user, urls):
    client.force_login(user)
    return "".join(client.get(url).content.decode() for url in urls)


def partner_a_pages(session):
    return [reverse("home"), reverse("history"), reverse("log_start"), reverse("reflection_add", args=[session.pk])]


@pytest.mark.parametrize("visibility", ["shared", "therapist", "private"])
def test_author_always_reads_their_own_words(client, session, partner_b, b_reflection, visibility):
    b_reflection(visibility)
    html = pages_for(client, partner_b.user, [reverse("home"), reverse("history")])
    assert WORDS in html


def test_shared_reaches_the_other_partner_and_the_therapist(client, session, partner_a, therapist, b_reflection):
    b_reflection("shared")
    assert WORDS in pages_for(client, partner_a.user, [reverse("history")])
    assert f"Sam: connection {RATING}/10" in pages_for(client, partner_a.user, [reverse("history")])
    assert WORDS in pages_for(client, therapist, [reverse("couple_reflections", args=[session.assignment.couple_id])])


def test_therapist_only_never_reaches_the_other_partner_not_even_ratings(
    client, session, partner_a, therapist, b_reflection
):
    reflection = b_reflection("therapist")
    html = pages_for(client, partner_a.user, partner_a_pages(session))
    assert WORDS not in html and NEXT not in html
    assert f"Sam: connection {RATING}" not in html
    assert client.get(reverse("reflection_edit", args=[reflection.pk])).status_code == 404
    therapist_html = pages_for(client, therapist, [reverse("couple_reflections", args=[session.assignment.couple_id])])
    assert WORDS in therapist_html and NEXT in therapist_html


def test_just_me_shows_the_therapist_ratings_but_never_words(client, session, partner_a, therapist, b_reflection):
    b_reflection("private")
    html = pages_for(client, partner_a.user, partner_a_pages(session))
    assert WORDS not in html and NEXT not in html and f"Sam: connection {RATING}" not in html
    therapist_html = pages_for(client, therapist, [reverse("couple_reflections", args=[session.assignment.couple_id])])
    assert WORDS not in therapist_html and NEXT not in therapist_html
    assert "Private journal: only Sam can read the words." in therapist_html
    assert f"{RATING}/10" in therapist_html


def test_making_a_reflection_more_private_hides_it_from_the_partner_at_once(
    client, session, partner_a, partner_b, b_reflection
):
    reflection = b_reflection("shared")
    client.force_login(partner_b.user)
    client.post(reverse("reflection_visibility", args=[reflection.pk]), {"visibility": "private"})
    assert WORDS not in pages_for(client, partner_a.user, [reverse("history"), reverse("home")])


def test_no_email_carries_reflection_words(client, session, partner_a, partner_b, b_reflection):
    b_reflection("private")
    client.force_login(partner_a.user)
    client.get(reverse("history"))
    assert all(WORDS not in m.body for m in mail.outbox)


def test_withdrawn_session_disappears_for_both_partners_but_stays_with_the_therapist(
    client, session, partner_a, partner_b, therapist, b_reflection
):
    b_reflection("private")
    client.force_login(partner_a.user)
    client.post(reverse("session_delete", args=[session.pk]))
    # Partner A is not told that B had written anything.
    assert "Session deleted." in client.get(reverse("history")).content.decode()
    assert client.get(reverse("session_edit", args=[session.pk])).status_code == 404
    html = pages_for(client, therapist, [reverse("couple_reflections", args=[session.assignment.couple_id])])
    assert "Withdrawn by Alex" in html


def test_replaying_a_deleted_sessions_form_does_not_reveal_the_other_partners_reflection(
    session, partner_a, partner_b, b_reflection
):
    from intimacy import services

    b_reflection("private")
    original_key = session.idempotency_key
    services.session_delete(session=session, partner=partner_a)
    replayed, created = services.session_log(
        assignment=session.assignment,
        partner=partner_a,
        day=session.date,
        minutes=15,
        role="giver",
        answers={"connection": 7, "comfort": 8, "safe": 8},
        idempotency_key=original_key,
    )
    # Exactly what happens after a plain delete: a new session, visible to A.
    assert created and replayed.pk != session.pk


def test_the_visibility_rule_by_a_partners_own_row_is_the_rule_by_their_user(
    session, assignment, partner_a, partner_b, outsider
):
    """issue 16, "Fast": `Reflection.objects.visible_to(user, partner=…)` names the partner by ids instead
    of joins; it must pick exactly the rows the plain rule picks, worked out here by hand."""
    from django.utils import timezone

    from tests.factories import AssignmentFactory, SessionFactory

    def reflect(s, who, role, visibility):
        return ReflectionFactory(session=s, partner=who, role=role, visibility=visibility)

    a1 = session.reflections.get()  # Alex's shared account; Sam has written nothing: not revealed to Sam
    s2 = SessionFactory(assignment=assignment, giver=partner_a, receiver=partner_b, logged_by=partner_a)
    a2 = reflect(s2, partner_a, "giver", "shared")
    b2 = reflect(s2, partner_b, "receiver", "therapist")  # Sam wrote theirs: Alex's is revealed to Sam
    s3 = SessionFactory(assignment=assignment, giver=partner_a, receiver=partner_b, logged_by=partner_a)
    a3 = reflect(s3, partner_a, "giver", "private")
    b3 = reflect(s3, partner_b, "receiver", "shared")
    s4 = SessionFactory(
        assignment=assignment, giver=partner_a, receiver=partner_b, logged_by=partner_a, withdrawn_at=timezone.now()
    )
    reflect(s4, partner_a, "giver", "shared")
    reflect(s4, partner_b, "receiver", "shared")
    drew = outsider.other_partner()
    elsewhere = SessionFactory(
        assignment=AssignmentFactory(couple=outsider.couple), giver=outsider, receiver=drew, logged_by=outsider
    )
    reflect(elsewhere, outsider, "giver", "shared")
    reflect(elsewhere, drew, "receiver", "shared")

    expected = {partner_a: {a1, a2, a3, b3}, partner_b: {a2, b2, b3}}
    for partner, rows in expected.items():
        assert set(Reflection.objects.visible_to(partner.user)) == rows
        assert set(Reflection.objects.visible_to(partner.user, partner=partner)) == rows
    # Someone else's row is never taken for the viewer's own.
    with pytest.raises(ValueError):
        Reflection.objects.visible_to(partner_a.user, partner=partner_b)


def test_the_sessions_rule_by_a_partners_own_row_is_the_rule_by_their_user(
    session, assignment, partner_a, partner_b, outsider
):
    """issue 16, "Fast": `Session.objects.visible_to(user, partner=…)` names the couple by id; it picks
    exactly the sessions the plain rule picks: the couple's own, not a withdrawn one, none of another
    couple's (worked out by hand)."""
    from django.utils import timezone

    from tests.factories import AssignmentFactory, SessionFactory

    s2 = SessionFactory(assignment=assignment, giver=partner_b, receiver=partner_a, logged_by=partner_b)
    SessionFactory(
        assignment=assignment, giver=partner_a, receiver=partner_b, logged_by=partner_a, withdrawn_at=timezone.now()
    )
    drew = outsider.other_partner()
    SessionFactory(assignment=AssignmentFactory(couple=outsider.couple), giver=outsider, receiver=drew, logged_by=drew)
    for partner in (partner_a, partner_b):
        assert set(Session.objects.visible_to(partner.user)) == {session, s2}
        assert set(Session.objects.visible_to(partner.user, partner=partner)) == {session, s2}
    with pytest.raises(ValueError):
        Session.objects.visible_to(partner_a.user, partner=outsider)
