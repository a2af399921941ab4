"""Private by default (issue 13): who may read a reflection is the partner's own choice, asked once
more before words written after a pause or a low safe rating are shared, and changed in one tap."""

import re
import uuid

import pytest
from django.urls import reverse

from intimacy import selectors
from intimacy.alerts import LOW_SAFE_MAX
from intimacy.models import Reflection, Session
from tests.factories import ReflectionFactory, SessionFactory

SHARED, THERAPIST, JUST_ME = (
    Reflection.Visibility.SHARED,
    Reflection.Visibility.THERAPIST,
    Reflection.Visibility.PRIVATE,
)
WORDS = "We stopped when my shoulder hurt"


def checked_visibility(html: str) -> list[str]:
    """The values of the visibility radios that come checked."""
    return re.findall(r'<input type="radio" name="visibility" value="(\w+)"[^>]*\bchecked\b', html)


def log_data(assignment, **extra) -> dict:
    data = {
        "idempotency_key": str(uuid.uuid4()),
        "date": assignment.couple.today().isoformat(),
        "minutes": "15",
        "role": "giver",
        "connection": "6",
        "comfort": "8",
        "safe": "8",
        "notes": WORDS,
    }
    return {**data, **extra}


# The first time: nothing preselected, a choice needed ---------------------------------------------------


def test_the_first_log_form_preselects_no_one(client_for, assignment, partner_a):
    html = client_for(partner_a).get(reverse("session_log", args=[assignment.pk]) + "?new=1").content.decode()
    assert 'name="visibility"' in html
    assert checked_visibility(html) == []


def test_the_first_reflection_form_preselects_no_one(client_for, session, partner_b):
    html = client_for(partner_b).get(reverse("reflection_add", args=[session.pk])).content.decode()
    assert 'name="visibility"' in html
    assert checked_visibility(html) == []


def test_the_choice_sits_before_the_text_boxes(client_for, session, partner_b):
    html = client_for(partner_b).get(reverse("reflection_add", args=[session.pk])).content.decode()
    assert html.index('name="visibility"') < html.index('name="next_time"') < html.index('name="notes"')


def test_logging_without_a_choice_saves_nothing_and_keeps_the_words(client_for, assignment, partner_a):
    response = client_for(partner_a).post(reverse("session_log", args=[assignment.pk]), log_data(assignment))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Please choose who may read what you wrote." in html
    assert WORDS in html
    assert not Session.objects.exists()


def test_a_reflection_without_a_choice_is_not_saved(client_for, session, partner_b):
    data = {"connection": "6", "comfort": "8", "safe": "8", "notes": WORDS}
    response = client_for(partner_b).post(reverse("reflection_add", args=[session.pk]), data)
    assert response.status_code == 200 and "Please choose who may read what you wrote." in response.content.decode()
    assert not session.reflections.filter(partner=partner_b).exists()


# Later: the partner's last choice is offered -------------------------------------------------------------


def test_the_last_choice_is_offered_next_time(client_for, assignment, partner_a, partner_b):
    older = SessionFactory(assignment=assignment, giver=partner_a, receiver=partner_b, logged_by=partner_a)
    ReflectionFactory(session=older, partner=partner_a, role=Reflection.Role.GIVER, visibility=SHARED)
    newer = SessionFactory(assignment=assignment, giver=partner_b, receiver=partner_a, logged_by=partner_a)
    ReflectionFactory(session=newer, partner=partner_a, role=Reflection.Role.RECEIVER, visibility=THERAPIST)
    # partner_b's own choice is no business of partner_a's form.
    ReflectionFactory(session=newer, partner=partner_b, role=Reflection.Role.GIVER, visibility=JUST_ME)
    assert selectors.last_visibility(partner_a) == THERAPIST
    html = client_for(partner_a).get(reverse("session_log", args=[assignment.pk]) + "?new=1").content.decode()
    assert checked_visibility(html) == [THERAPIST]


def test_no_reflection_yet_means_no_last_choice(partner_a):
    assert selectors.last_visibility(partner_a) is None


# Asked once more -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answers",
    [{"paused": "on"}, {"safe": str(LOW_SAFE_MAX)}],
    ids=["paused", "low-safe"],
)
def test_sharing_after_a_pause_or_low_safe_rating_asks_once_more(client_for, assignment, partner_a, answers):
    client = client_for(partner_a)
    url = reverse("session_log", args=[assignment.pk])
    data = log_data(assignment, visibility=SHARED, **answers)
    response = client.post(url, data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Before it is shared" in html and "Yes, share it with my partner" in html
    # Everything typed is kept, the other options are offered, and nothing is saved yet.
    assert WORDS in html and checked_visibility(html) == [SHARED]
    assert f'value="{JUST_ME}"' in html and f'value="{THERAPIST}"' in html
    assert "Please check the highlighted answers" not in html
    assert not Session.objects.exists()

    response = client.post(url, {**data, "confirm_share": "on"})
    assert response.status_code == 302
    assert Reflection.objects.get(partner=partner_a).visibility == SHARED


def test_choosing_a_more_private_option_needs_no_confirmation(client_for, assignment, partner_a):
    data = log_data(assignment, visibility=THERAPIST, paused="on")
    assert client_for(partner_a).post(reverse("session_log", args=[assignment.pk]), data).status_code == 302
    assert Reflection.objects.get(partner=partner_a).visibility == THERAPIST


def test_safe_above_the_threshold_shared_is_not_asked(client_for, assignment, partner_a):
    data = log_data(assignment, visibility=SHARED, safe=str(LOW_SAFE_MAX + 1))
    assert client_for(partner_a).post(reverse("session_log", args=[assignment.pk]), data).status_code == 302


def test_adding_a_reflection_asks_once_more(client_for, session, partner_b):
    client = client_for(partner_b)
    url = reverse("reflection_add", args=[session.pk])
    data = {"connection": "6", "comfort": "8", "safe": "8", "paused": "on", "notes": WORDS, "visibility": SHARED}
    html = client.post(url, data).content.decode()
    assert "Yes, share it with my partner" in html
    assert not session.reflections.filter(partner=partner_b).exists()
    assert client.post(url, {**data, "confirm_share": "on"}).status_code == 302
    assert session.reflections.get(partner=partner_b).visibility == SHARED


def test_editing_into_a_pause_asks_once_more_but_not_again_after(client_for, session, partner_a):
    client = client_for(partner_a)
    mine = session.reflections.get(partner=partner_a)
    url = reverse("reflection_edit", args=[mine.pk])
    data = {"connection": "6", "comfort": "8", "safe": "8", "paused": "on", "notes": WORDS, "visibility": SHARED}
    html = client.post(url, data).content.decode()
    assert "Yes, share it with my partner" in html
    mine.refresh_from_db()
    assert not mine.paused
    assert client.post(url, {**data, "confirm_share": "on"}).status_code == 302
    # Already shared after the question: a later correction is not asked about again.
    assert client.post(url, {**data, "notes": "Corrected words"}).status_code == 302
    mine.refresh_from_db()
    assert (mine.paused, mine.notes, mine.visibility) == (True, "Corrected words", SHARED)


# One tap from the card, and the visibility page ----------------------------------------------------------


def test_history_card_offers_one_tap_more_private_options(client_for, session, partner_a):
    mine = session.reflections.get(partner=partner_a)
    html = client_for(partner_a).get(reverse("history")).content.decode()
    form = re.search(
        rf'<form method="post" action="{reverse("reflection_visibility", args=[mine.pk])}".*?</form>', html, re.S
    )
    assert form, "no one-tap form on the card"
    assert re.findall(r'name="visibility" value="(\w+)"', form.group(0)) == [THERAPIST, JUST_ME]


def test_the_other_partners_card_has_no_buttons_for_their_reflection(client_for, session, partner_b):
    theirs = session.reflections.get()
    ReflectionFactory(session=session, partner=partner_b, role=Reflection.Role.RECEIVER)
    html = client_for(partner_b).get(reverse("history")).content.decode()
    assert reverse("reflection_visibility", args=[theirs.pk]) not in html


def test_one_tap_just_me_from_home_returns_home_and_says_it_may_have_been_read(client_for, session, partner_a):
    client = client_for(partner_a)
    mine = session.reflections.get(partner=partner_a)
    response = client.post(
        reverse("reflection_visibility", args=[mine.pk]), {"visibility": JUST_ME, "back": "home"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("home")
    assert "Your partner may already have read it." in response.content.decode()
    mine.refresh_from_db()
    assert mine.visibility == JUST_ME


def test_an_unknown_back_goes_to_history(client_for, session, partner_a):
    mine = session.reflections.get(partner=partner_a)
    response = client_for(partner_a).post(
        reverse("reflection_visibility", args=[mine.pk]), {"visibility": THERAPIST, "back": "https://evil.example"}
    )
    assert response["Location"] == reverse("history")


def test_the_visibility_page_says_which_reflection_and_that_it_may_have_been_read(client_for, session, partner_a):
    mine = session.reflections.get(partner=partner_a)
    html = client_for(partner_a).get(reverse("reflection_visibility", args=[mine.pk])).content.decode()
    day = f"{session.date.day} {session.date:%B %Y}"
    assert f"The session on {day}, when you gave" in html
    assert "they may already have read it" in html


def test_a_therapist_only_reflection_does_not_say_it_may_have_been_read(client_for, session, partner_a):
    mine = session.reflections.get(partner=partner_a)
    mine.visibility = THERAPIST
    mine.save()
    html = client_for(partner_a).get(reverse("reflection_visibility", args=[mine.pk])).content.decode()
    assert "may already have read it" not in html


def test_after_withdrawing_consent_the_one_tap_buttons_stay_and_work(client_for, session, partner_a):
    client_for(partner_a).post(reverse("consent_withdraw"), {"confirm": "yes"})
    client = client_for(partner_a)  # withdrawing signs them out; they sign in again
    mine = session.reflections.get(partner=partner_a)
    html = client.get(reverse("home")).content.decode()
    assert f'action="{reverse("reflection_visibility", args=[mine.pk])}"' in html
    response = client.post(reverse("reflection_visibility", args=[mine.pk]), {"visibility": JUST_ME, "back": "history"})
    assert response["Location"] == reverse("home")  # the only page open to them
    mine.refresh_from_db()
    assert mine.visibility == JUST_ME
