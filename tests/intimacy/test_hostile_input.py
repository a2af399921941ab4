"""Hostile input: markup, very long and odd Unicode text is stored as typed and shown escaped on every
page; CSRF is enforced; a GET changes nothing."""

import re
import uuid

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.models import Couple
from intimacy.models import Alert, CoupleNote, Exercise, Reflection, SafetyMessage, Session

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
LONG = (SCRIPT * 200)[:5000]
# Right-to-left override, zero-width joiner (inside a family emoji), an emoji, combining marks.
ODD = "\u202eevil\u202c \U0001f469\u200d\U0001f469\u200d\U0001f467 \U0001f525 Zo\u0308e\u0301\u0327 \u200b"
PAYLOADS = {"script": SCRIPT, "img": IMG, "long": LONG, "unicode": ODD}

# What must never appear raw in any page, and what its escaped form looks like.
RAW = ["<script>alert(1)", "onerror=alert(1)>", "<img src=x"]
ESCAPED = {SCRIPT: "&lt;script&gt;alert(1)&lt;/script&gt;", IMG: "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"}


@pytest.fixture(autouse=True)
def _frozen():
    # The session fixture is dated 20 November 2026: keep it inside every page's default period.
    with time_machine.travel("2026-11-25 12:00:00+00:00", tick=False):
        yield


def assert_safe(html: str, payload: str, *, shown: bool = True) -> None:
    """`payload` appears only escaped (and, when the page shows it, does appear)."""
    for raw in RAW:
        assert raw not in html
    if not shown:
        return
    if payload in ESCAPED:
        assert ESCAPED[payload] in html
    elif payload == LONG:
        assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 199
    else:
        assert payload in html  # nothing to escape: stored and shown exactly as typed


def post_reflection(client, session, payload):
    data = {
        "connection": "6",
        "comfort": "7",
        "safe": "7",
        "paused": "on",
        "pause_reason": payload,
        "next_time": payload,
        "notes": payload,
        "visibility": "shared",
        "confirm_share": "on",  # shared after a pause: asked once more (issue 13)
    }
    return client.post(reverse("reflection_add", args=[session.pk]), data)


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_reflection_text_is_stored_as_typed_and_shown_escaped(
    client, client_for, session, partner_a, partner_b, therapist, payload
):
    response = post_reflection(client_for(partner_b), session, payload)
    assert response.status_code == 302
    reflection = Reflection.objects.get(partner=partner_b)
    assert reflection.notes == reflection.next_time == reflection.pause_reason == payload

    couple = session.assignment.couple
    pages = [
        (partner_b, reverse("history")),  # the author
        (partner_b, reverse("home")),
        (partner_a, reverse("history")),  # the other partner: shared with them
        (partner_a, reverse("home")),
        (therapist, reverse("couple_reflections", args=[couple.pk])),  # the timeline's tab (issue 16)
        (therapist, reverse("appointment", args=[couple.pk])),
    ]
    # The printable summary shows tables of numbers, never anyone's words. (Before the appointment view:
    # once that is open, any other therapist page asks for the password first, issue 13.)
    summary = client_for(therapist).get(reverse("couple_summary", args=[couple.pk]))
    assert summary.status_code == 200
    assert_safe(summary.content.decode(), payload, shown=False)
    for who, url in pages:
        response = client_for(who).get(url)
        assert response.status_code == 200, url
        assert_safe(response.content.decode(), payload)


@pytest.mark.parametrize("payload", [SCRIPT, IMG, ODD], ids=["script", "img", "unicode"])
def test_therapist_note_and_couple_label_are_shown_escaped(client_for, session, partner_a, therapist, payload):
    couple = session.assignment.couple
    client = client_for(therapist)
    response = client.post(reverse("note_add", args=[couple.pk]), {"date": "2026-11-20", "text": payload})
    assert response.status_code == 302
    assert CoupleNote.objects.get().text == payload
    couple.label = payload  # saved one by one: clinical models allow no bulk update (audit trail)
    couple.save(update_fields=["label"])
    # The note also reaches the charts, as JSON inside <script type="application/json">: escaped there too.
    html = client.get(reverse("couple_detail", args=[couple.pk])).content.decode()
    chart_data = re.search(r'<script id="chart-data" type="application/json">(.*?)</script>', html, re.S)
    assert chart_data is not None and "<" not in chart_data.group(1)

    for url in (
        reverse("home"),
        reverse("couple_detail", args=[couple.pk]),
        reverse("couple_notes", args=[couple.pk]),
        reverse("couple_summary", args=[couple.pk]),
        # Last: once open, any other therapist page asks for the password first (issue 13).
        reverse("appointment", args=[couple.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_safe(response.content.decode(), payload)
    for url in (reverse("home"), reverse("history")):
        assert_safe(client_for(partner_a).get(url).content.decode(), payload, shown=False)


@pytest.mark.parametrize("payload", [SCRIPT, IMG, ODD], ids=["script", "img", "unicode"])
def test_safety_message_is_shown_escaped_to_the_therapist(client_for, session, partner_b, therapist, payload):
    response = client_for(partner_b).post(reverse("safety"), {"feeling": "unsafe", "message": payload})
    assert response.status_code == 302
    assert SafetyMessage.objects.get().message == payload
    html = client_for(therapist).get(reverse("couple_detail", args=[session.assignment.couple_id])).content.decode()
    assert_safe(html, payload)


def test_couple_label_typed_into_the_add_couple_form_is_shown_escaped(client_for, therapist):
    client = client_for(therapist)
    data = {
        "label": IMG,
        "time_zone": "Europe/London",
        "partner1_name": SCRIPT[:40],
        "partner1_email": "p1@example.org",
        "partner2_name": "Robin",
        "partner2_email": "p2@example.org",
    }
    response = client.post(reverse("couple_add"), data, follow=True)
    assert response.status_code == 200
    assert Couple.objects.get().label == IMG
    html = response.content.decode()
    assert_safe(html, IMG)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the partner's name, on the dashboard
    assert_safe(client.get(reverse("home")).content.decode(), IMG)


# CSRF ------------------------------------------------------------------------------------------


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "the form carries no CSRF token"
    return match.group(1)


def log_data():
    return {
        "idempotency_key": str(uuid.uuid4()),
        "date": "2026-11-25",
        "minutes": "15",
        "role": "giver",
        "connection": "8",
        "comfort": "9",
        "safe": "9",
        "visibility": "shared",
        "notes": "csrf-test-words",
    }


def test_logging_a_session_needs_the_csrf_token(partner_a, assignment):
    client = Client(enforce_csrf_checks=True)
    client.force_login(partner_a.user)
    url = reverse("session_log", args=[assignment.pk])
    assert client.post(url, log_data()).status_code == 403
    assert Session.objects.count() == 0 and Reflection.objects.count() == 0

    token = csrf_token_from(client.get(url + "?new=1").content.decode())
    assert client.post(url, {**log_data(), "csrfmiddlewaretoken": token}).status_code == 302
    assert Reflection.objects.get().notes == "csrf-test-words"


def test_adding_a_reflection_needs_the_csrf_token(session, partner_b):
    client = Client(enforce_csrf_checks=True)
    client.force_login(partner_b.user)
    url = reverse("reflection_add", args=[session.pk])
    data = {"connection": "6", "comfort": "7", "safe": "7", "visibility": "shared", "notes": "csrf-test-words"}
    assert client.post(url, data).status_code == 403
    assert not session.reflections.filter(partner=partner_b).exists()

    token = csrf_token_from(client.get(url).content.decode())
    assert client.post(url, {**data, "csrfmiddlewaretoken": token}).status_code == 302
    assert session.reflections.get(partner=partner_b).notes == "csrf-test-words"


def test_a_therapists_post_needs_the_csrf_token_too(couple, therapist, partner_a, partner_b):
    client = Client(enforce_csrf_checks=True)
    client.force_login(therapist)
    url = reverse("note_add", args=[couple.pk])
    assert client.post(url, {"date": "2026-11-20", "text": "csrf note"}).status_code == 403
    assert not CoupleNote.objects.exists()


# No state change on GET ------------------------------------------------------------------------


@pytest.fixture
def everything(session, partner_a, partner_b, therapist):
    """One of each object the POST views act on, and who may act on it."""
    couple = session.assignment.couple
    note = CoupleNote.objects.create(couple=couple, author=therapist, date=session.date, text="a note")
    b_reflection = Reflection.objects.create(
        session=session, partner=partner_b, role=Reflection.Role.RECEIVER, connection=5, comfort=5, safe=5
    )
    own = Exercise.objects.create(owner=therapist, title="Own", summary="s", guidance="g", suggested_minutes=10)
    alert = Alert.objects.create(couple=couple, kind=Alert.Kind.LOW_COMFORT, partner=partner_b, week=session.date)
    return {
        "alert": alert,
        "couple": couple,
        "session": session,
        "note": note,
        "b_reflection": b_reflection,
        "own": own,
        "partner_a": partner_a,
        "partner_b": partner_b,
        "therapist": therapist,
    }


# (URL name, who asks, the URL's arguments): every view in accounts/urls.py and intimacy/urls.py
# that changes something.
POST_VIEWS = [
    ("couple_status", "therapist", lambda e: [e["couple"].pk]),
    ("note_add", "therapist", lambda e: [e["couple"].pk]),
    ("note_delete", "therapist", lambda e: [e["note"].pk]),
    ("alert_acknowledge", "therapist", lambda e: [e["alert"].pk]),
    ("couple_record", "therapist", lambda e: [e["couple"].pk]),
    ("couple_delete", "therapist", lambda e: [e["couple"].pk]),
    ("progress_page_switch", "therapist", lambda e: [e["couple"].pk]),
    ("assignment_create", "therapist", lambda e: [e["couple"].pk]),
    ("assignment_status", "therapist", lambda e: [e["session"].assignment_id]),
    ("invite_resend", "therapist", lambda e: [e["couple"].pk, e["partner_a"].pk]),
    ("partner_change_email", "therapist", lambda e: [e["couple"].pk, e["partner_a"].pk]),
    ("exercise_customize", "therapist", lambda e: [e["own"].pk]),
    ("exercise_archive", "therapist", lambda e: [e["own"].pk]),
    ("exercise_create", "therapist", lambda e: []),
    ("exercise_edit", "therapist", lambda e: [e["own"].pk]),
    ("couple_add", "therapist", lambda e: []),
    ("session_log", "partner_a", lambda e: [e["session"].assignment_id]),
    ("session_edit", "partner_a", lambda e: [e["session"].pk]),
    ("session_delete", "partner_a", lambda e: [e["session"].pk]),
    ("reflection_add", "partner_b", lambda e: [e["session"].pk]),
    ("reflection_edit", "partner_b", lambda e: [e["b_reflection"].pk]),
    ("reflection_visibility", "partner_b", lambda e: [e["b_reflection"].pk]),
    ("consent", "partner_a", lambda e: []),
    ("consent_withdraw", "partner_a", lambda e: []),
    ("safety", "partner_b", lambda e: []),
    ("quick_sign_out", "partner_a", lambda e: []),
    ("keepalive", "therapist", lambda e: []),
]


@pytest.mark.parametrize("name, who, args", POST_VIEWS, ids=[v[0] for v in POST_VIEWS])
def test_get_on_a_view_that_changes_things_changes_nothing(
    client_for, everything, tend_rows, name, who, args, mailoutbox
):
    client = client_for(everything[who])
    before = tend_rows()  # audit rows aside: viewing writes those
    # With the query string a careless view might read as its form.
    query = {"status": "closed", "enabled": "1", "confirm": "yes", "confirmation": "delete", "feeling": "unsafe"}
    response = client.get(reverse(name, args=args(everything)), query)
    assert response.status_code in (200, 302, 405)
    assert tend_rows() == before
    assert not mailoutbox
    # Nobody was signed out either: a page for the signed-in only still answers (the lightest one).
    assert client.get(reverse("account_email")).status_code == 200
