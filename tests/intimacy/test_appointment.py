"""Issue 13, the couple-facing screen: the appointment view warns before it opens over urgent things the
therapist has not seen, locks every other therapist page behind the password while it is open, shows
no flash messages, lets the therapist leave any session or reflection out, and speaks like the consent
page. Access for every new URL is in tests/config/test_access_table.py; the field-privacy matrix has
"appointment_curated"."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from intimacy import alerts, selectors, services
from intimacy.appointment_mode import SESSION_KEY
from intimacy.models import Alert, AppointmentExclusion, Reflection
from tests.factories import PASSWORD, AssignmentFactory, ReflectionFactory, SessionFactory

pytestmark = pytest.mark.django_db

# Not frozen: appointment mode compares the time of the password with the time the view opened.
TODAY = date(2026, 11, 25)
REAUTHENTICATE = reverse("account_reauthenticate")


@pytest.fixture
def shared_pair(assignment, partner_a, partner_b):
    """One session both partners shared on, Alex paused it; unique words and ratings on each side."""
    s = SessionFactory(
        assignment=assignment, date=assignment.couple.today(), giver=partner_a, receiver=partner_b, logged_by=partner_a
    )
    alex = ReflectionFactory(
        session=s,
        partner=partner_a,
        role=Reflection.Role.GIVER,
        connection=7,
        comfort=7,
        safe=8,
        notes="ALEX-WORDS",
        paused=True,
    )
    sam = ReflectionFactory(
        session=s, partner=partner_b, role=Reflection.Role.RECEIVER, connection=3, comfort=2, safe=4, notes="SAM-WORDS"
    )
    return s, alex, sam


def _url(couple, **query):
    return reverse("appointment", args=[couple.pk]) + (
        "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    )


# Before it opens ------------------------------------------------------------------------------------


def test_an_urgent_alert_unseen_asks_first_and_review_alone_is_the_default(client_for, therapist, couple, shared_pair):
    Alert.objects.create(couple=couple, kind=Alert.Kind.LOW_SAFE, week=date(2026, 11, 23), urgent=True)
    client = client_for(therapist)
    response = client.get(_url(couple))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Before you open the appointment view" in html and "SAM-WORDS" not in html
    # The primary action goes back to the dashboard; opening needs the explicit confirmation.
    assert f'class="btn btn-primary" href="{reverse("couple_detail", args=[couple.pk])}#attention"' in html
    assert 'name="confirm" value="1"' in html
    assert SESSION_KEY not in client.session  # nothing is locked by the warning itself
    opened = client.get(_url(couple, confirm=1))
    assert "SAM-WORDS" in opened.content.decode()
    assert client.session[SESSION_KEY]["couple"] == couple.pk
    # Open, its periods and pages do not ask again.
    assert "SAM-WORDS" in client.get(_url(couple, weeks=4)).content.decode()


def test_an_unseen_safety_message_asks_first_until_it_is_marked_as_seen(client_for, therapist, couple, partner_b):
    services.safety_message_send(partner=partner_b, feeling="pressured", message="private")
    client = client_for(therapist)
    assert "Open with the couple" in client.get(_url(couple)).content.decode()
    assert selectors.appointment_warnings(couple) == 1
    alerts.alert_acknowledge(alert=couple.alerts.get(), by=therapist, note="")
    assert selectors.appointment_warnings(couple) == 0
    assert "Back to therapist view" in client.get(_url(couple)).content.decode()


def test_an_ordinary_alert_opens_the_view_at_once(client_for, therapist, couple):
    Alert.objects.create(couple=couple, kind=Alert.Kind.NO_SESSION, week=date(2026, 11, 23), urgent=False)
    assert "Back to therapist view" in client_for(therapist).get(_url(couple)).content.decode()


# Appointment mode -----------------------------------------------------------------------------------


def test_leaving_for_any_therapist_page_asks_for_the_password_then_goes_on(client_for, therapist, couple, other_couple):
    client = client_for(therapist)
    client.get(_url(couple))
    dashboard = reverse("couple_detail", args=[couple.pk]) + "?weeks=12"
    for typed in (dashboard, reverse("home"), reverse("exercise_list"), _url(other_couple)):
        response = client.get(typed)
        assert response.status_code == 302, typed
        assert response["Location"].startswith(REAUTHENTICATE), typed
    # The appointment view, its keep-alive and its curation are still reachable without it.
    assert client.get(_url(couple)).status_code == 200
    assert client.post(reverse("keepalive")).status_code == 204
    # The link back goes through the password, then to the dashboard, and the lock is gone.
    asked = client.get(dashboard)
    confirmed = client.post(asked["Location"], {"password": PASSWORD})
    assert confirmed.status_code == 302 and confirmed["Location"] == dashboard
    assert client.get(dashboard).status_code == 200
    assert SESSION_KEY not in client.session
    assert client.get(reverse("exercise_list")).status_code == 200


def test_a_password_typed_before_the_view_opened_does_not_unlock_it(client_for, therapist, couple):
    client = client_for(therapist, reauthenticated=True)  # confirmed a minute ago, for an export say
    client.get(_url(couple))
    response = client.get(reverse("couple_detail", args=[couple.pk]))
    assert response.status_code == 302 and response["Location"].startswith(REAUTHENTICATE)


def test_a_post_elsewhere_is_refused_and_leads_back_to_the_view_after_the_password(client_for, therapist, couple):
    client = client_for(therapist)
    client.get(_url(couple))
    response = client.post(reverse("note_add", args=[couple.pk]), {"date": "2026-11-25", "text": "x"})
    assert response.status_code == 302
    assert response["Location"].startswith(REAUTHENTICATE) and "appointment" in response["Location"]
    assert not couple.notes.exists()


def test_no_flash_message_shows_in_the_view_nor_comes_back_after_it(client_for, therapist, couple):
    client = client_for(therapist)
    client.post(reverse("note_add", args=[couple.pk]), {"date": "2026-11-25", "text": "seen"})
    html = client.get(_url(couple)).content.decode()
    assert "Note added" not in html and 'class="messages"' not in html
    client.post(REAUTHENTICATE, {"password": PASSWORD})
    assert "Note added" not in client.get(reverse("couple_detail", args=[couple.pk])).content.decode()


# Curating ------------------------------------------------------------------------------------------


def test_a_reflection_left_out_takes_its_words_and_ratings_off_the_page(client_for, therapist, couple, shared_pair):
    _s, _alex, sam = shared_pair
    client = client_for(therapist)
    before = client.get(_url(couple, weeks=4)).content.decode()
    assert "SAM-WORDS" in before and "Leave this reflection out" in before
    response = client.post(reverse("appointment_leave_out_reflection", args=[sam.pk]), {"period": "weeks=4"})
    assert response["Location"] == _url(couple, weeks=4) + "#timeline"
    response = client.get(_url(couple, weeks=4))
    html = response.content.decode()
    assert "SAM-WORDS" not in html and "ALEX-WORDS" in html
    charts = {c["id"]: c for c in response.context["charts"]}
    # Sam's connection 3, comfort 2 and safe 4 are in no chart; the session still counts, Alex's 7 and 8 stay.
    assert charts["connection"]["columns"] == ["Alex, giving"]
    assert [s["label"] for s in charts["connection"]["series"]] == ["Alex"]
    assert [s["label"] for s in charts["comfort"]["series"]] == ["Alex, comfortable", "Alex, safe"]
    assert [s["values"][-1] for s in charts["comfort"]["series"]] == [7.0, 8.0]
    assert response.context["trends"].sessions == 1 and response.context["trends"].both_reflected == 0
    assert "1 item left out for today." in html


def test_a_session_left_out_is_gone_from_the_page_and_every_count(client_for, therapist, couple, shared_pair):
    s, _alex, _sam = shared_pair
    client = client_for(therapist)
    client.post(reverse("appointment_leave_out_session", args=[s.pk]))
    response = client.get(_url(couple, weeks=4))
    html = response.content.decode()
    assert "SAM-WORDS" not in html and "ALEX-WORDS" not in html
    assert response.context["trends"].sessions == 0
    assert [c["id"] for c in response.context["charts"]] == ["sessions"]  # the empty weeks, nothing else
    assert all(row[1:] == [0] for row in response.context["charts"][0]["rows"])
    # "Show everything again" brings it back.
    client.post(reverse("appointment_put_back", args=[couple.pk]))
    assert "SAM-WORDS" in client.get(_url(couple, weeks=4)).content.decode()


def test_left_out_belongs_to_the_day_of_the_appointment(couple, shared_pair):
    s, alex, _sam = shared_pair
    services.appointment_leave_out(couple=couple, day=TODAY, reflection=alex)
    services.appointment_leave_out(couple=couple, day=TODAY, reflection=alex)  # a double click: one row
    services.appointment_leave_out(couple=couple, day=TODAY, session=s)
    assert AppointmentExclusion.objects.count() == 2
    assert selectors.appointment_left_out(couple, TODAY) == selectors.LeftOut(frozenset({s.pk}), frozenset({alex.pk}))
    # The next appointment (another day) shows everything shared again.
    assert selectors.appointment_left_out(couple, date(2026, 11, 26)) == selectors.LeftOut()
    assert services.appointment_put_back(couple=couple, day=TODAY) == 2


def test_leaving_out_another_couples_session_is_refused(couple, other_couple, outsider):
    drew = other_couple.partners.exclude(pk=outsider.pk).get()
    other = SessionFactory(
        assignment=AssignmentFactory(couple=other_couple), giver=outsider, receiver=drew, logged_by=outsider
    )
    with pytest.raises(ValidationError):
        services.appointment_leave_out(couple=couple, day=TODAY, session=other)


# Wording -------------------------------------------------------------------------------------------


def test_the_view_speaks_like_the_consent_page(client_for, therapist, couple, shared_pair):
    response = client_for(therapist).get(_url(couple, weeks=4))
    html = response.content.decode()
    assert "against the target" not in html and "Paused ×" not in html
    assert response.context["chart_data"]["markers"] == []
    sessions = next(c for c in response.context["charts"] if c["id"] == "sessions")
    assert sessions["title"] == "Sessions together" and "Target" not in [s["label"] for s in sessions["series"]]
    assert "You paused or stopped early once. Stopping when either of you wants to is part of the exercise" in html
    # The therapist's dashboard keeps its wording.
    client = client_for(therapist, reauthenticated=True)
    dashboard = client.get(reverse("couple_detail", args=[couple.pk]), {"weeks": "4"})
    assert "Sessions against the target" in dashboard.content.decode()
