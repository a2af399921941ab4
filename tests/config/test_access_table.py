"""Access, proven everywhere: one table of every Tend URL, for every role and every method it accepts.

The table is checked against the URL resolver both ways, so a new URL without an entry (or an entry
for a URL that no longer exists) fails the suite. The expected answers come from the access rules
(design notes, "Access — one gate, tested everywhere"; issue 5), not from what the code returns:

- anonymous → the sign-in page (302 with ?next=), except the public pages;
- an outsider (someone with no business with the object) → 404, before any role check;
- an insider whose role may not take the action → 403;
- a therapist's notes and alerts do not exist for partners, even of that couple → 404;
- staff are therapists with an empty caseload in Tend itself (conftest's default role): they reach
  the therapist pages of no object and get 404 for every couple; their tools are in the admin;
- a couple's record leaving Tend or being deleted asks the therapist for their password first
  (issue 12): the table's sessions are signed in without confirming it, so the therapist is sent to
  confirm (tests/intimacy/test_data_rights.py, TestPasswordFirst, has what follows).

Every GET must leave Tend's tables and the outbox as they were (the audit trail's "accessed" rows live
in auditlog's own table and are the one write a GET may do, besides the first opening of an
invitation link, recorded for the therapist's "opened").

Sample objects (see `world`): `couple` of `therapist` with partner_a "Alex" and partner_b "Sam" and its
progress page switched on; `session` (Alex gave, Alex's shared reflection, Sam's "My therapist only"
reflection); `fresh`, a session Sam logged with no reflection yet; a note and an alert on the couple;
an exercise of `therapist`'s own; `pending`, a second couple of `therapist` whose partner has not
accepted the invite yet; outsider Casey in `other_therapist`'s couple.
"""

import copy
from datetime import date
from typing import NamedTuple

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.tokens import alert_address_token, invite_token_generator, unsubscribe_token
from intimacy.models import Alert, CoupleNote, Exercise, Program, ProgramRun, ProgramStage, ProgramStep, Reflection
from intimacy.programs_builtin import EXAMPLE_PROGRAM_KEY
from tests.factories import (
    AssignmentFactory,
    CoupleFactory,
    PartnerFactory,
    ReflectionFactory,
    SessionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "partner_a", "partner_b", "outsider", "therapist", "other_therapist", "staff")
LOGIN = "login"  # 302 to the sign-in page (also where a sign-out lands)
ADMIN_LOGIN = "admin-login"  # 302 to the admin's sign-in, which hands over to allauth's
REAUTH = "reauth"  # 302 to "confirm it's you" (the password again), then back to the page
SESSIONS = "sessions"  # 302 back to allauth's "Sign out everywhere" page, where its message shows


class Entry(NamedTuple):
    name: str
    sample: str  # key of SAMPLES: the URL's kwargs from the world's objects
    expected: dict  # method -> one answer per role, in ROLES order
    # (method, role) -> "what the code does instead": a known bug, run as a strict xfail until fixed.
    bugs: dict = {}


def r(*answers):
    assert len(answers) == len(ROLES)
    return answers


# Answers shared by many rows (anonymous, partner_a, partner_b, outsider, therapist, other_therapist, staff).
THERAPIST_OF_COUPLE = {"get": r(LOGIN, 403, 403, 404, 200, 404, 404)}
# The access gate answers first; the therapist of the couple is then asked for their password.
THERAPIST_OF_COUPLE_CONFIRMS = r(LOGIN, 403, 403, 404, REAUTH, 404, 404)
PARTNER_ONLY_PAGE = r(LOGIN, 200, 200, 200, 403, 403, 403)

TABLE = [
    # Anyone -------------------------------------------------------------------------------------------
    Entry("home", "none", {"get": r(LOGIN, 200, 200, 200, 200, 200, 200)}),
    Entry("healthz", "none", {"get": r(200, 200, 200, 200, 200, 200, 200)}),
    # Tend's icon for whoever asks /favicon.ico (issue 17): a redirect to the static icon, public.
    Entry("favicon", "none", {"get": r(*[302] * 7)}),
    Entry("keepalive", "none", {"post": r(LOGIN, 204, 204, 204, 204, 204, 204)}),
    Entry("quick_sign_out", "none", {"post": r(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN)}),
    Entry("account_email", "none", {"get": r(LOGIN, 200, 200, 200, 200, 200, 200)}),
    # This device's colours (issue 17): anyone signed in; an empty POST names no theme (400). A cookie,
    # no row: tests/accounts/test_theme.py.
    Entry("theme_set", "none", {"post": r(LOGIN, 400, 400, 400, 400, 400, 400)}),
    # A made-up token: the "This link no longer works" page, whoever asks (400: the link is bad).
    Entry("invite_accept", "bad_invite", {"get": r(*[400] * 7), "post": r(*[400] * 7)}),
    Entry("invite_accept", "unknown_invitee", {"get": r(*[400] * 7), "post": r(*[400] * 7)}),
    # A good link: the set-password form for the signed-out; someone signed in as another person is told
    # to sign out first. An empty POST is the form with its errors.
    Entry(
        "invite_accept",
        "good_invite",
        {"get": r(200, 400, 400, 400, 400, 400, 400), "post": r(200, 400, 400, 400, 400, 400, 400)},
    ),
    # Therapist, no particular object --------------------------------------------------------------------
    Entry(
        "couple_add",
        "none",
        {"get": r(LOGIN, 403, 403, 403, 200, 200, 200), "post": r(LOGIN, 403, 403, 403, 200, 200, 200)},
    ),
    # An empty POST is the form again with its errors (400): where urgent emails go is a choice.
    Entry(
        "alert_settings",
        "none",
        {"get": r(LOGIN, 403, 403, 403, 200, 200, 200), "post": r(LOGIN, 403, 403, 403, 400, 400, 400)},
    ),
    # The name a therapist's invitations carry (issue 17); an empty POST is the form with its error.
    Entry(
        "display_name",
        "none",
        {"get": r(LOGIN, 403, 403, 403, 200, 200, 200), "post": r(LOGIN, 403, 403, 403, 400, 400, 400)},
    ),
    # From an email to the new address, no sign-in: the signed link is the authority (GET changes
    # nothing; a POST confirms that address for that therapist). A tampered link: 400.
    Entry("alert_address_confirm", "alert_address", {"get": r(*[200] * 7), "post": r(*[200] * 7)}),
    Entry("alert_address_confirm", "bad_alert_address", {"get": r(*[400] * 7), "post": r(*[400] * 7)}),
    Entry("exercise_list", "none", {"get": r(LOGIN, 403, 403, 403, 200, 200, 200)}),
    Entry(
        "exercise_create",
        "none",
        {"get": r(LOGIN, 403, 403, 403, 200, 200, 200), "post": r(LOGIN, 403, 403, 403, 200, 200, 200)},
    ),
    # Exercises are not clinical: a partner is refused the exercise pages outright (403), and a
    # therapist's own exercise is a 404 for other therapists, like a missing one.
    Entry("exercise_detail", "own_exercise", {"get": r(LOGIN, 403, 403, 403, 200, 404, 404)}),
    Entry("exercise_detail", "builtin_exercise", {"get": r(LOGIN, 403, 403, 403, 200, 200, 200)}),
    Entry(
        "exercise_edit",
        "own_exercise",
        {"get": r(LOGIN, 403, 403, 403, 200, 404, 404), "post": r(LOGIN, 403, 403, 403, 200, 404, 404)},
    ),
    # Customize (issue 15): the form starts from the original's words and an empty POST is the form
    # again with its errors; the copy exists only once a valid form is saved (tests/intimacy/test_library.py).
    Entry(
        "exercise_customize",
        "own_exercise",
        {"get": r(LOGIN, 403, 403, 403, 200, 404, 404), "post": r(LOGIN, 403, 403, 403, 200, 404, 404)},
    ),
    # The built-in exercise is every therapist's to copy.
    Entry(
        "exercise_customize",
        "builtin_exercise",
        {"get": r(LOGIN, 403, 403, 403, 200, 200, 200), "post": r(LOGIN, 403, 403, 403, 200, 200, 200)},
    ),
    Entry("exercise_archive", "own_exercise", {"post": r(LOGIN, 403, 403, 403, 302, 404, 404)}),
    # Programs (issue 15) are not clinical either, like exercises: partners are refused outright, a
    # therapist's own program is a 404 for other therapists; the built-in one is every therapist's to read.
    Entry("program_list", "none", {"get": r(LOGIN, 403, 403, 403, 200, 200, 200)}),
    Entry(
        "program_create",
        "none",
        {"get": r(LOGIN, 403, 403, 403, 200, 200, 200), "post": r(LOGIN, 403, 403, 403, 200, 200, 200)},
    ),
    Entry("program_detail", "own_program", {"get": r(LOGIN, 403, 403, 403, 200, 404, 404)}),
    Entry("program_detail", "builtin_program", {"get": r(LOGIN, 403, 403, 403, 200, 200, 200)}),
    # An empty POST: the program page again with the step form's errors (400).
    Entry("program_stage_add", "own_program", {"post": r(LOGIN, 403, 403, 403, 400, 404, 404)}),
    # (The built-in program is read-only, 403 for every therapist: tests/intimacy/test_programs.py.)
    Entry("program_stage_move", "own_stage", {"post": r(LOGIN, 403, 403, 403, 302, 404, 404)}),
    # Therapist, one couple ----------------------------------------------------------------------------
    Entry("couple_detail", "couple", THERAPIST_OF_COUPLE),
    # The couple page's other tabs (issue 16): each its own page, gated like the overview.
    Entry("couple_trends", "couple", THERAPIST_OF_COUPLE),
    Entry("couple_reflections", "couple", THERAPIST_OF_COUPLE),
    Entry("couple_notes", "couple", THERAPIST_OF_COUPLE),
    Entry("couple_exercises", "couple", THERAPIST_OF_COUPLE),
    Entry("appointment", "couple", THERAPIST_OF_COUPLE),
    # Curating the appointment view (issue 13): the therapist's one click, back to the view.
    Entry("appointment_put_back", "couple", {"post": r(LOGIN, 403, 403, 404, 302, 404, 404)}),
    Entry("appointment_leave_out_session", "session", {"post": r(LOGIN, 403, 403, 404, 302, 404, 404)}),
    # Alex's shared reflection, which Sam may read: still the therapist's alone to leave out (403).
    Entry("appointment_leave_out_reflection", "reflection_a", {"post": r(LOGIN, 403, 403, 404, 302, 404, 404)}),
    # Sam's own: Alex is not shown it at all (404), Sam may not curate the therapist's screen (403).
    Entry("appointment_leave_out_reflection", "reflection_b", {"post": r(LOGIN, 404, 403, 404, 302, 404, 404)}),
    Entry("couple_summary", "couple", THERAPIST_OF_COUPLE),
    Entry("couple_export", "couple", {"get": THERAPIST_OF_COUPLE_CONFIRMS}),
    Entry("couple_audit", "couple", THERAPIST_OF_COUPLE),
    # An empty note: the dashboard again with the form's errors.
    Entry("note_add", "couple", {"post": r(LOGIN, 403, 403, 404, 400, 404, 404)}),
    Entry("progress_page_switch", "couple", {"post": r(LOGIN, 403, 403, 404, 302, 404, 404)}),
    # A POST because it records that the export was made. Confirmed, the answer is the JSON record.
    Entry("couple_record", "couple", {"post": THERAPIST_OF_COUPLE_CONFIRMS}),
    # Confirmed: the page; an empty POST is the page again with the reason (no typed label), 400.
    Entry("couple_delete", "couple", {"get": THERAPIST_OF_COUPLE_CONFIRMS, "post": THERAPIST_OF_COUPLE_CONFIRMS}),
    Entry("couple_status", "couple", {"post": r(LOGIN, 403, 403, 404, 302, 404, 404)}),
    Entry(
        "assignment_create",
        "couple",
        {"get": r(LOGIN, 403, 403, 404, 200, 404, 404), "post": r(LOGIN, 403, 403, 404, 200, 404, 404)},
    ),
    # Starting a program: an empty POST is the form again (as for assignment_create), nothing started.
    Entry(
        "program_assign",
        "couple",
        {"get": r(LOGIN, 403, 403, 404, 200, 404, 404), "post": r(LOGIN, 403, 403, 404, 200, 404, 404)},
    ),
    # Neither partner has said "ready" on `step`: refused with a message, back to the dashboard.
    Entry("program_approve", "step", {"post": r(LOGIN, 403, 403, 404, 302, 404, 404)}),
    # The therapist's own step back (`step` is the first: refused with a message, back to the dashboard).
    Entry("program_return", "step", {"post": r(LOGIN, 403, 403, 404, 302, 404, 404)}),
    # partner_b has joined: a warning and back to the dashboard.
    Entry("invite_resend", "couple_partner_b", {"post": r(LOGIN, 403, 403, 404, 302, 404, 404)}),
    # A partner who has not joined yet, in another couple of the same therapist: a new link is sent.
    Entry("invite_resend", "pending_partner", {"post": r(LOGIN, 404, 404, 404, 302, 404, 404)}),
    # A partner of another couple through this couple's URL: 404 for the therapist too, nothing sent.
    Entry("invite_resend", "couple_outsider", {"post": r(LOGIN, 403, 403, 404, 404, 404, 404)}),
    # Correcting a pending partner's address (issue 12): partner_b has joined, so a warning and back to
    # the dashboard; for a pending partner an empty POST is the form again with its errors (400).
    Entry("partner_change_email", "couple_partner_b", {"post": r(LOGIN, 403, 403, 404, 302, 404, 404)}),
    Entry("partner_change_email", "pending_partner", {"post": r(LOGIN, 404, 404, 404, 400, 404, 404)}),
    Entry("partner_change_email", "couple_outsider", {"post": r(LOGIN, 403, 403, 404, 404, 404, 404)}),
    Entry("assignment_status", "assignment", {"post": r(LOGIN, 403, 403, 404, 302, 404, 404)}),
    # Notes and alerts are the therapist's alone: to partners, even of that couple, they do not exist.
    Entry("note_delete", "note", {"post": r(LOGIN, 404, 404, 404, 302, 404, 404)}),
    Entry("alert_acknowledge", "alert", {"post": r(LOGIN, 404, 404, 404, 302, 404, 404)}),
    # Lifting a hold is keyed by the couple, so a partner gets 403 whether or not there is one; the
    # therapist's empty POST is the dashboard again with the form's errors (nothing lifted).
    Entry("hold_lift", "couple", {"post": r(LOGIN, 403, 403, 404, 400, 404, 404)}),
    # A separate conversation with one partner, on its own page: an empty POST is the form again with
    # its errors.
    Entry(
        "screening_add",
        "couple",
        {"get": r(LOGIN, 403, 403, 404, 200, 404, 404), "post": r(LOGIN, 403, 403, 404, 400, 404, 404)},
    ),
    # Partner, no particular object ----------------------------------------------------------------------
    # The consent page shows again to a partner who already agreed; an empty POST is the form again.
    Entry("consent", "none", {"get": PARTNER_ONLY_PAGE, "post": PARTNER_ONLY_PAGE}),
    # One active assignment: straight to its form. The outsider's couple has none: the list page.
    Entry("log_start", "none", {"get": r(LOGIN, 302, 302, 200, 403, 403, 403)}),
    Entry("history", "none", {"get": PARTNER_ONLY_PAGE}),
    # The couple's progress page is on in `world`; the outsider's couple's is off (its default).
    Entry("progress", "none", {"get": r(LOGIN, 200, 200, 403, 403, 403, 403)}),
    Entry("safety", "none", {"get": PARTNER_ONLY_PAGE, "post": PARTNER_ONLY_PAGE}),
    # A partner's own "not this week" / "pause for me" (an empty POST: a message, back home), and resuming.
    Entry("touch_pause", "none", {"post": r(LOGIN, 302, 302, 302, 403, 403, 403)}),
    Entry("touch_resume", "none", {"post": r(LOGIN, 302, 302, 302, 403, 403, 403)}),
    # Hiding the "How Tend works" card on one's own home (issue 17): back home.
    Entry("intro_dismiss", "none", {"post": r(LOGIN, 302, 302, 302, 403, 403, 403)}),
    # The private check before touch work: an empty POST is the form again with its errors, nothing stored.
    Entry("safety_check", "none", {"get": PARTNER_ONLY_PAGE, "post": PARTNER_ONLY_PAGE}),
    # Each partner's own weekly check-in; an empty POST is the form again with its errors, nothing stored.
    Entry("checkin", "none", {"get": PARTNER_ONLY_PAGE, "post": PARTNER_ONLY_PAGE}),
    Entry("my_data", "none", {"get": PARTNER_ONLY_PAGE}),
    Entry("my_data_download", "none", {"get": PARTNER_ONLY_PAGE}),
    Entry("my_data_page", "none", {"get": PARTNER_ONLY_PAGE}),
    # "Stay signed in on this phone" (issue 17) is offered only to a session signed in with a passkey;
    # the table's sessions signed in otherwise, so a partner is sent on home, nothing changed (the
    # offer itself: tests/accounts/test_staying.py).
    Entry(
        "stay_signed_in",
        "none",
        {"get": r(LOGIN, 302, 302, 302, 403, 403, 403), "post": r(LOGIN, 302, 302, 302, 403, 403, 403)},
    ),
    # An empty POST is a valid choice (reminders off): saved, and back to the page.
    Entry("reminder_settings", "none", {"get": PARTNER_ONLY_PAGE, "post": r(LOGIN, 302, 302, 302, 403, 403, 403)}),
    # From an email, no sign-in: whoever opens a genuine link sees the button (GET changes nothing) and
    # a POST turns that person's emails off; a tampered link is "This link no longer works" (400).
    Entry("reminders_off", "unsubscribe", {"get": r(*[200] * 7), "post": r(*[200] * 7)}),
    Entry("reminders_off", "bad_unsubscribe", {"get": r(*[400] * 7), "post": r(*[400] * 7)}),
    # Push reminders (issue 17). A partner's own browsers, JSON only: an empty POST is not JSON (400,
    # nothing stored), whether or not push is set up; therapists and staff have no reminders (403).
    Entry("push_subscribe", "none", {"post": r(LOGIN, 400, 400, 400, 403, 403, 403)}),
    Entry("push_unsubscribe", "none", {"post": r(LOGIN, 400, 400, 400, 403, 403, 403)}),
    # The service worker: one static file, the same for everyone (browsers fetch it again on their own).
    Entry("service_worker", "none", {"get": r(*[200] * 7)}),
    # allauth's "Sign out everywhere", which also removes every browser's notifications: everyone's own.
    Entry(
        "sign_out_everywhere",
        "none",
        {"get": r(LOGIN, 200, 200, 200, 200, 200, 200), "post": r(LOGIN, *[SESSIONS] * 6)},
    ),
    # Without the confirmation box: the page again with a message; nothing withdrawn.
    Entry("consent_withdraw", "none", {"get": PARTNER_ONLY_PAGE, "post": PARTNER_ONLY_PAGE}),
    # Partner, one object --------------------------------------------------------------------------------
    # "This didn't happen / I didn't agree": Sam, named in the session Alex logged, alone; Alex, who
    # logged it, may not (403).
    Entry(
        "session_dispute",
        "session",
        {"get": r(LOGIN, 403, 200, 404, 403, 404, 404), "post": r(LOGIN, 403, 302, 404, 403, 404, 404)},
    ),
    Entry(
        "session_log",
        "assignment",
        {"get": r(LOGIN, 200, 200, 404, 403, 404, 404), "post": r(LOGIN, 200, 200, 404, 403, 404, 404)},
    ),
    # Both partners already reflected on `session`: each is sent to edit their own reflection; a POST
    # (the form sent again) gets that edit form filled with what it carried, saving nothing.
    Entry(
        "reflection_add",
        "session",
        {"get": r(LOGIN, 302, 302, 404, 403, 404, 404), "post": r(LOGIN, 200, 200, 404, 403, 404, 404)},
    ),
    Entry(
        "reflection_add",
        "fresh_session",
        {"get": r(LOGIN, 200, 200, 404, 403, 404, 404), "post": r(LOGIN, 200, 200, 404, 403, 404, 404)},
    ),
    # One back rub, one session (issue 14): two accounts of the same back rub made one. An empty POST
    # names no second session: a message, back to the page. Either partner may (a pair always holds
    # one session of each), from their history; the therapist from the couple's page.
    Entry("session_merge", "session", {"post": r(LOGIN, 302, 302, 404, 403, 404, 404)}),
    Entry("session_merge_by_therapist", "session", {"post": r(LOGIN, 403, 403, 404, 302, 404, 404)}),
    # Both said "I gave": only the partner who logged `session` answers for it (Sam: 403).
    Entry("session_conflict_join", "session", {"post": r(LOGIN, 302, 403, 404, 403, 404, 404)}),
    # "These were two different back rubs": either partner, naming either session of the pair (the "make
    # it one" card names the earlier one, which a merge keeps, so a stale card finds it); the service
    # refuses (403) a partner who logged neither. An empty POST: a message, as for session_merge.
    Entry("session_pair_dismiss", "session", {"post": r(LOGIN, 302, 302, 404, 403, 404, 404)}),
    # "I won't reflect on this one" (issue 14): either partner of the session, a POST that lands on home;
    # on `session`, where both have reflected, it is refused calmly (a message), still a redirect.
    Entry("reflection_decline", "fresh_session", {"post": r(LOGIN, 302, 302, 404, 403, 404, 404)}),
    Entry("reflection_decline", "session", {"post": r(LOGIN, 302, 302, 404, 403, 404, 404)}),
    # A step of the couple's program (issue 15): each partner's private answer (an empty POST is no answer:
    # a message, back home), and "go back a step" (`step` is the first: a calm message, back home).
    Entry("step_readiness", "step", {"post": r(LOGIN, 302, 302, 404, 403, 404, 404)}),
    Entry("step_back", "step", {"post": r(LOGIN, 302, 302, 404, 403, 404, 404)}),
    # Only the partner who logged a session changes or deletes it.
    Entry(
        "session_edit",
        "session",
        {"get": r(LOGIN, 200, 403, 404, 403, 404, 404), "post": r(LOGIN, 200, 403, 404, 403, 404, 404)},
    ),
    Entry("session_delete", "session", {"post": r(LOGIN, 302, 403, 404, 403, 404, 404)}),
    # Alex's shared reflection: Sam may read it, not change it (403).
    Entry(
        "reflection_edit",
        "reflection_a",
        {"get": r(LOGIN, 200, 403, 404, 403, 404, 404), "post": r(LOGIN, 200, 403, 404, 403, 404, 404)},
    ),
    # Sam's "My therapist only" reflection does not exist for Alex (404), like a missing one.
    Entry(
        "reflection_edit",
        "reflection_b",
        {"get": r(LOGIN, 404, 200, 404, 403, 404, 404), "post": r(LOGIN, 404, 200, 404, 403, 404, 404)},
    ),
    Entry(
        "reflection_visibility",
        "reflection_a",
        {"get": r(LOGIN, 200, 403, 404, 403, 404, 404), "post": r(LOGIN, 200, 403, 404, 403, 404, 404)},
    ),
    Entry(
        "reflection_visibility",
        "reflection_b",
        {"get": r(LOGIN, 404, 200, 404, 403, 404, 404), "post": r(LOGIN, 404, 200, 404, 403, 404, 404)},
    ),
]

SAMPLES = {
    "none": lambda w: {},
    "couple": lambda w: {"pk": w["couple"].pk},
    "couple_partner_b": lambda w: {"pk": w["couple"].pk, "partner_pk": w["partner_b"].pk},
    "couple_outsider": lambda w: {"pk": w["couple"].pk, "partner_pk": w["outsider"].pk},
    "pending_partner": lambda w: {"pk": w["pending"].couple_id, "partner_pk": w["pending"].pk},
    "assignment": lambda w: {"pk": w["assignment"].pk},
    "session": lambda w: {"pk": w["session"].pk},
    "fresh_session": lambda w: {"pk": w["fresh"].pk},
    "reflection_a": lambda w: {"pk": w["reflection_a"].pk},
    "reflection_b": lambda w: {"pk": w["reflection_b"].pk},
    "note": lambda w: {"pk": w["note"].pk},
    "alert": lambda w: {"pk": w["alert"].pk},
    "own_exercise": lambda w: {"pk": w["own_exercise"].pk},
    "builtin_exercise": lambda w: {"pk": Exercise.objects.back_rub().pk},
    "own_program": lambda w: {"pk": w["own_program"].pk},
    "builtin_program": lambda w: {"pk": Program.objects.get(builtin_key=EXAMPLE_PROGRAM_KEY).pk},
    "own_stage": lambda w: {"pk": w["own_stage"].pk},
    "step": lambda w: {"pk": w["step"].pk},
    "bad_invite": lambda w: {"uidb64": _uid(w["pending"]), "token": "cq1x2y-0123456789abcdef0123456789abcdef"},
    "unknown_invitee": lambda w: {"uidb64": urlsafe_base64_encode(b"987654"), "token": "cq1x2y-0123456789abcdef"},
    "good_invite": lambda w: {"uidb64": _uid(w["pending"]), "token": invite_token_generator.make_token(w["pending"])},
    "alert_address": lambda w: {"token": alert_address_token(w["users"]["therapist"], "on-call@example.org")},
    "bad_alert_address": lambda w: {
        "token": alert_address_token(w["users"]["therapist"], "x@example.org")[:-3] + "abc"
    },
    "unsubscribe": lambda w: {"token": unsubscribe_token(w["users"]["partner_a"])},
    "bad_unsubscribe": lambda w: {"token": unsubscribe_token(w["users"]["partner_a"]).rsplit(":", 1)[0] + ":forged"},
}


def _uid(partner) -> str:
    return urlsafe_base64_encode(force_bytes(partner.pk))


def _build_world() -> dict:
    """The conftest cast and the sample objects above, built once for the whole module (`module_db`)."""
    therapist = UserFactory(email="therapist@example.org", name="Dr Lee")
    other_therapist = UserFactory(email="other-therapist@example.org")
    staff = UserFactory(email="staff@example.org", is_staff=True, is_superuser=True)
    couple = CoupleFactory(therapist=therapist, label="Alex & Sam", progress_page=True)
    partner_a = PartnerFactory(couple=couple, slot=1, name="Alex", email="alex@example.org")
    partner_b = PartnerFactory(couple=couple, slot=2, name="Sam", email="sam@example.org")
    other_couple = CoupleFactory(therapist=other_therapist, label="Casey & Drew")
    PartnerFactory(couple=other_couple, slot=2, name="Drew", email="drew@example.org")
    outsider = PartnerFactory(couple=other_couple, slot=1, name="Casey", email="casey@example.org")
    assignment = AssignmentFactory(couple=couple)
    session = SessionFactory(assignment=assignment, giver=partner_a, receiver=partner_b, logged_by=partner_a)
    reflection_a = ReflectionFactory(session=session, partner=partner_a, role=Reflection.Role.GIVER)
    reflection_b = ReflectionFactory(
        session=session, partner=partner_b, role=Reflection.Role.RECEIVER, visibility=Reflection.Visibility.THERAPIST
    )
    fresh = SessionFactory(
        assignment=assignment, date=date(2026, 11, 18), giver=partner_b, receiver=partner_a, logged_by=partner_b
    )
    pending = PartnerFactory(
        couple=CoupleFactory(therapist=therapist, label="Robin & Kim"),
        name="Robin",
        email="robin@example.org",
        user=None,
        accepted_at=None,
        # Robin has opened the invitation before: its first opening is the one write a GET may do
        # (tests/accounts/test_invites.py), so here too a GET leaves the tables as they were.
        invite_opened_at=timezone.now(),
        consent_accepted_at=None,
        consent_version="",
    )
    # The couple's program, at its first step, realised by `assignment` (made by hand so that the couple
    # keeps one active assignment, as the rows above expect).
    own_program = Program.objects.create(owner=therapist, title="Steps")
    own_stage = ProgramStage.objects.create(
        program=own_program, position=1, exercise=Exercise.objects.back_rub(), target_per_week=2, suggested_minutes=15
    )
    ProgramStage.objects.create(
        program=own_program, position=2, exercise=Exercise.objects.back_rub(), target_per_week=3, suggested_minutes=15
    )
    run = ProgramRun.objects.create(couple=couple, program=own_program, started_on=date(2026, 11, 16))
    step = ProgramStep.objects.create(
        run=run, stage=own_stage, assignment=assignment, reason=ProgramStep.Reason.START, started_on=date(2026, 11, 16)
    )
    return {
        "own_program": own_program,
        "own_stage": own_stage,
        "step": step,
        "users": {
            "partner_a": partner_a.user,
            "partner_b": partner_b.user,
            "outsider": outsider.user,
            "therapist": therapist,
            "other_therapist": other_therapist,
            "staff": staff,
        },
        "couple": couple,
        "partner_b": partner_b,
        "outsider": outsider,
        "assignment": assignment,
        "session": session,
        "fresh": fresh,
        "reflection_a": reflection_a,
        "reflection_b": reflection_b,
        "note": CoupleNote.objects.create(couple=couple, author=therapist, date=date(2026, 11, 19), text="note"),
        "alert": Alert.objects.create(couple=couple, kind=Alert.Kind.NO_SESSION, week=date(2026, 11, 16)),
        "own_exercise": Exercise.objects.create(
            owner=therapist, title="Hand massage", summary="s", guidance="g", suggested_minutes=10
        ),
        "pending": pending,
    }


@pytest.fixture(scope="module")
def built_world(module_db):
    with module_db.unblock():
        world = _build_world()
        # One signed-in session per role for the whole module: a test sends its cookie rather than
        # signing in again (what a test does to its session is rolled back with the rest).
        world["sessions"] = {}
        for role, user in world["users"].items():
            client = Client()
            client.force_login(user)
            world["sessions"][role] = client.cookies[settings.SESSION_COOKIE_NAME].value
        return world


@pytest.fixture
def world(built_world):
    """The module's world, each object a copy: a test may change its rows (rolled back) and its objects."""
    return {
        key: {role: copy.copy(item) for role, item in value.items()} if isinstance(value, dict) else copy.copy(value)
        for key, value in built_world.items()
    }


def _sign_in(client, world, role: str) -> None:
    if role != "anonymous":
        client.cookies[settings.SESSION_COOKIE_NAME] = world["sessions"][role]


def _assert_answer(response, expected) -> None:
    location = response.get("Location", "")
    if expected == LOGIN:
        assert (response.status_code, location.split("?")[0]) == (302, reverse("account_login"))
    elif expected == ADMIN_LOGIN:
        assert (response.status_code, location.split("?")[0]) == (302, reverse("admin:login"))
    elif expected == REAUTH:
        assert (response.status_code, location.split("?")[0]) == (302, reverse("account_reauthenticate"))
    elif expected == SESSIONS:
        assert (response.status_code, location) == (302, reverse("usersessions_list"))
    else:
        assert response.status_code == expected, location
        if expected == 302:  # a redirect of the app, not a sign-out or a detour to the second factor
            assert not location.startswith(("/accounts/", "/admin/")), location


# Tend's URL patterns, from the resolver ---------------------------------------------------------------


def _foreign(resolver: URLResolver) -> bool:
    """allauth's include ("accounts/") and the admin: covered by their own short list below."""
    module = getattr(resolver.urlconf_module, "__name__", "")
    return resolver.namespace == "admin" or module.startswith("allauth")


def tend_patterns(resolver: URLResolver | None = None, route: str = ""):
    """(name, route) of every pattern whose view is Tend's own (accounts.* or intimacy.*)."""
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            if not _foreign(pattern):
                yield from tend_patterns(pattern, route + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            module = getattr(pattern.callback, "__module__", "") or ""
            if module.startswith(("accounts.", "intimacy.")):
                yield pattern.name or f"<unnamed {route}{pattern.pattern}>", route + str(pattern.pattern)


def test_every_tend_url_has_an_entry():
    missing = {name: route for name, route in tend_patterns() if name not in {e.name for e in TABLE}}
    assert not missing, f"Add these URLs to TABLE in {__name__}: {missing}"


def test_every_entry_names_a_tend_url():
    stale = {e.name for e in TABLE} - {name for name, _ in tend_patterns()}
    assert not stale, f"TABLE names URLs that no longer exist: {sorted(stale)}"


def test_the_walk_sees_tend_and_leaves_out_allauth_and_the_admin():
    names = {name for name, _ in tend_patterns()}
    assert {"home", "couple_detail", "invite_accept", "account_email", "keepalive"} <= names
    assert not {n for n in names if n.startswith(("admin:", "mfa_", "usersessions_"))}
    assert "account_login" not in names


# One case per (url, role, method) --------------------------------------------------------------------


def _cases():
    for index, entry in enumerate(TABLE):
        for method, answers in entry.expected.items():
            for role, expected in zip(ROLES, answers, strict=True):
                marks = []
                if (method, role) in entry.bugs:
                    marks = [pytest.mark.xfail(strict=True, reason=f"BUG: {entry.bugs[(method, role)]}")]
                yield pytest.param(
                    index, method, role, expected, marks=marks, id=f"{entry.name}[{entry.sample}]-{method}-{role}"
                )


@pytest.mark.parametrize("index,method,role,expected", list(_cases()))
def test_access(client, world, tend_rows, index, method, role, expected):
    entry = TABLE[index]
    url = reverse(entry.name, kwargs=SAMPLES[entry.sample](world))
    _sign_in(client, world, role)
    before = tend_rows() if method == "get" else None
    response = getattr(client, method)(url)  # an empty POST: the gate is the point, not the form
    _assert_answer(response, expected)
    if method == "get":
        assert tend_rows() == before, "a GET changed Tend's data"
        assert mail.outbox == [], "a GET sent an email"


def _wrong_method_cases():
    """Per URL, the method it does not accept, by a role that may use it (PUT where GET and POST are both fine)."""
    seen = set()
    for index, entry in enumerate(TABLE):
        if entry.name in seen:
            continue
        seen.add(entry.name)
        accepted = set(entry.expected)
        wrong = "put" if accepted == {"get", "post"} else ({"get", "post"} - accepted).pop()
        method = sorted(accepted)[0]
        allowed = [
            role
            for role, answer in zip(ROLES, entry.expected[method], strict=True)
            if answer not in (403, 404) and (answer, role) != (LOGIN, "anonymous") and (method, role) not in entry.bugs
        ]
        yield pytest.param(index, wrong, allowed[0], id=f"{entry.name}-{wrong}-{allowed[0]}")


@pytest.mark.parametrize("index,wrong,role", list(_wrong_method_cases()))
def test_wrong_method_is_405(client, world, index, wrong, role):
    entry = TABLE[index]
    _sign_in(client, world, role)
    response = getattr(client, wrong)(reverse(entry.name, kwargs=SAMPLES[entry.sample](world)))
    assert response.status_code == 405


def test_progress_page_is_403_for_a_partner_while_their_therapist_keeps_it_off(client, world):
    couple = world["couple"]
    couple.progress_page = False
    couple.save(update_fields=["progress_page"])
    client.force_login(world["users"]["partner_a"])
    assert client.get(reverse("progress")).status_code == 403


# allauth and the admin: a short explicit list ---------------------------------------------------------

FOREIGN = [
    ("account_login", "anonymous", 200),
    ("account_login", "partner_a", 302),  # already signed in: on to their home
    ("account_signup", "anonymous", 200),
    ("account_change_password", "anonymous", LOGIN),
    ("account_change_password", "partner_a", 200),
    ("mfa_index", "anonymous", LOGIN),
    ("mfa_index", "partner_a", 200),
    ("mfa_index", "therapist", 200),
    # Passkeys (issue 17): adding one asks for the password first (a signed-in session is not enough).
    ("mfa_list_webauthn", "anonymous", LOGIN),
    ("mfa_list_webauthn", "partner_a", 200),
    ("mfa_list_webauthn", "therapist", 200),
    ("mfa_add_webauthn", "anonymous", LOGIN),
    ("mfa_add_webauthn", "partner_a", REAUTH),
    ("mfa_add_webauthn", "therapist", REAUTH),
    # The passkey sign-in answers a page's script (JSON); a plain GET is sent to the sign-in page.
    ("mfa_login_webauthn", "anonymous", LOGIN),
    ("usersessions_list", "anonymous", LOGIN),
    ("usersessions_list", "partner_a", 200),
    ("usersessions_list", "therapist", 200),
    ("admin:index", "anonymous", ADMIN_LOGIN),
    ("admin:index", "partner_a", ADMIN_LOGIN),
    ("admin:index", "therapist", ADMIN_LOGIN),
    ("admin:index", "staff", 200),
    # The admin's sign-in hands the signed-out to allauth's; signed-in non-staff are refused there.
    ("admin:login", "anonymous", LOGIN),
    ("admin:login", "partner_a", 403),
    ("admin:login", "therapist", 403),
    ("admin:auditlog_logentry_changelist", "anonymous", ADMIN_LOGIN),
    ("admin:auditlog_logentry_changelist", "therapist", ADMIN_LOGIN),
    ("admin:auditlog_logentry_changelist", "staff", 200),
]


@pytest.mark.parametrize("name,role,expected", FOREIGN, ids=[f"{n}-{r}" for n, r, _ in FOREIGN])
def test_allauth_and_admin(client, world, name, role, expected):
    _sign_in(client, world, role)
    _assert_answer(client.get(reverse(name)), expected)


def test_admin_shows_a_clinical_record_to_staff_only(client, world):
    url = reverse("admin:intimacy_reflection_change", args=[world["reflection_a"].pk])
    client.force_login(world["users"]["therapist"])
    _assert_answer(client.get(url), ADMIN_LOGIN)
    client.force_login(world["users"]["staff"])
    assert client.get(url).status_code == 200


# A partner who withdrew consent (issue 13) -----------------------------------------------------------
# A deliberate change of the rule "no current consent: the consent page, whatever was asked": after
# withdrawing, Alex can still reach the private line, their data, making their words more private and
# giving consent again (a calm home lists those), and nothing else. CONSENT: 302 to the consent page.
CONSENT = "consent"
# Pages that never asked for consent: the same answer as a consenting Alex's.
NOT_BEHIND_CONSENT = {"healthz", "keepalive", "quick_sign_out", "account_email", "invite_accept", "reminders_off"}
NOT_BEHIND_CONSENT |= {"favicon"}
NOT_BEHIND_CONSENT |= {"consent"}
# The service worker file, and "Sign out everywhere" (allauth's page, for every role).
NOT_BEHIND_CONSENT |= {"service_worker", "sign_out_everywhere"}
NOT_BEHIND_CONSENT |= {"consent", "theme_set"}
# The ways that stay open after withdrawing: the same answer as a consenting Alex's.
OPEN_AFTER_WITHDRAWAL = {"home", "safety", "my_data", "my_data_download", "my_data_page", "reflection_visibility"}
# How this phone stays signed in is about the session, not the homework (issue 17).
OPEN_AFTER_WITHDRAWAL |= {"stay_signed_in"}


def _withdrawn_expected(entry: Entry, method: str):
    answer = entry.expected[method][ROLES.index("partner_a")]
    if entry.name in NOT_BEHIND_CONSENT | OPEN_AFTER_WITHDRAWAL:
        return answer
    # A page for therapists answers Alex by role (403/404), before consent is looked at; every partner
    # page sends Alex to the consent page before looking anything up.
    for_therapists = entry.expected[method][ROLES.index("therapist")] != 403
    return answer if for_therapists else CONSENT


def _withdrawn_cases():
    for index, entry in enumerate(TABLE):
        for method in entry.expected:
            yield pytest.param(
                index, method, _withdrawn_expected(entry, method), id=f"{entry.name}[{entry.sample}]-{method}"
            )


@pytest.mark.parametrize("index,method,expected", list(_withdrawn_cases()))
def test_access_after_withdrawing_consent(client, world, index, method, expected):
    entry = TABLE[index]
    alex = world["users"]["partner_a"].partner
    alex.consent_version, alex.consent_accepted_at, alex.consent_withdrawn_at = "", None, timezone.now()
    alex.save(update_fields=["consent_version", "consent_accepted_at", "consent_withdrawn_at"])
    _sign_in(client, world, "partner_a")
    response = getattr(client, method)(reverse(entry.name, kwargs=SAMPLES[entry.sample](world)))
    if expected == CONSENT:
        assert (response.status_code, response.get("Location")) == (302, reverse("consent"))
    else:
        _assert_answer(response, expected)
