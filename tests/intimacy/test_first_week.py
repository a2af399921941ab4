"""A first week that teaches (issue 17): until a partner's first session of an exercise its "How to do
it" stands open above the "Log …" button, and a short "How Tend works" card sits on their home until
they dismiss it (a POST, stored on the partner) or their first session is logged."""

import pytest
from django.urls import reverse

from tests.factories import AssignmentFactory, SessionFactory

pytestmark = pytest.mark.django_db

HOW_TO = '<summary class="fw-semibold py-2">How to do it</summary>'
CARD = 'aria-labelledby="how-tend-works-h"'


def home(client):
    return client.get(reverse("home")).content.decode()


def test_before_the_first_session_the_guidance_is_open_above_the_log_button(client_for, partner_a, assignment):
    html = home(client_for(partner_a))
    guidance = html.index(HOW_TO)
    log = html.index(f'href="{reverse("session_log", args=[assignment.pk])}"')
    assert guidance < log
    assert '<details class="how-to mb-3" open>' in html


def test_after_the_first_session_the_guidance_is_folded_below_the_button(client_for, partner_b, session):
    # `session`: Alex gave Sam a back rub. Sam took part, though Alex logged it: Sam's first is done.
    html = home(client_for(partner_b))
    assert html.index(HOW_TO) > html.index(f'href="{reverse("session_log", args=[session.assignment.pk])}"')
    assert '<details class="how-to mb-2">' in html and " open>" not in html.split(HOW_TO)[0][-60:]


def test_a_new_exercise_opens_its_own_guidance_until_its_first_session(client_for, partner_a, session):
    newer = AssignmentFactory(couple=partner_a.couple, starts_on=session.assignment.starts_on)
    html = home(client_for(partner_a))
    assert html.count('<details class="how-to mb-3" open>') == 1
    assert html.index(HOW_TO) < html.index(f'href="{reverse("session_log", args=[newer.pk])}"')


def test_a_withdrawn_session_does_not_count_as_the_first(client_for, partner_a, partner_b, assignment):
    from django.utils import timezone

    SessionFactory(
        assignment=assignment, giver=partner_a, receiver=partner_b, logged_by=partner_a, withdrawn_at=timezone.now()
    )
    assert '<details class="how-to mb-3" open>' in home(client_for(partner_a))


class TestHowTendWorks:
    def test_the_card_says_who_sees_what_that_stopping_is_fine_and_where_the_private_line_is(
        self, client_for, partner_a, assignment
    ):
        html = home(client_for(partner_a))
        assert CARD in html
        card = html[html.index(CARD) : html.index("</section>", html.index(CARD))]
        assert "My therapist only" in card and "Just me" in card
        assert "after a week" in card  # models.REVEAL_AFTER, 7 days
        assert "Stopping is always fine" in card
        assert f'href="{reverse("safety")}"' in card
        assert f'action="{reverse("intro_dismiss")}"' in card

    def test_dismissing_is_a_post_stored_on_the_partner(self, client_for, partner_a, assignment):
        client = client_for(partner_a)
        assert client.get(reverse("intro_dismiss")).status_code == 405
        partner_a.refresh_from_db()
        assert partner_a.intro_dismissed_at is None
        response = client.post(reverse("intro_dismiss"))
        assert (response.status_code, response["Location"]) == (302, reverse("home"))
        partner_a.refresh_from_db()
        assert partner_a.intro_dismissed_at is not None
        assert CARD not in home(client)

    def test_dismissing_is_each_partners_own(self, client_for, partner_a, partner_b, assignment):
        client_for(partner_a).post(reverse("intro_dismiss"))
        assert CARD in home(client_for(partner_b))

    def test_it_goes_by_itself_once_a_first_session_is_logged(self, client_for, partner_b, session):
        assert CARD not in home(client_for(partner_b))

    def test_only_partners_dismiss_it(self, client_for, client, therapist, partner_a):
        assert client.post(reverse("intro_dismiss")).status_code == 302  # to the sign-in page
        assert client_for(therapist).post(reverse("intro_dismiss")).status_code == 403
