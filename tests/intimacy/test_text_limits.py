"""Limits on what people type into the homework: each free-text field has one, held by the database
(SQLite and PostgreSQL alike) and by the form, which names it and, when it is passed, gives every
word back with the message. Line breaks count once, as the person sees them."""

import re
from contextlib import contextmanager
from datetime import date

import pytest
import time_machine
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, connection, transaction
from django.urls import reverse

from accounts.text_limits import TextOverLimit
from intimacy import services
from intimacy.models import (
    Alert,
    Assignment,
    CoupleNote,
    Exercise,
    Reflection,
    SafetyMessage,
    ScreeningRecord,
    TouchHold,
)
from tests.factories import back_rub

pytestmark = pytest.mark.django_db

# The limits chosen, in characters (see the model constants): worked out here, not read from them.
LIMITS = {
    ("intimacy.Exercise", "title"): 80,
    ("intimacy.Exercise", "summary"): 200,
    ("intimacy.Exercise", "guidance"): 10_000,
    ("intimacy.Assignment", "note"): 2_000,
    ("intimacy.Reflection", "pause_reason"): 5_000,
    ("intimacy.Reflection", "next_time"): 5_000,
    ("intimacy.Reflection", "notes"): 5_000,
    ("intimacy.CoupleNote", "text"): 200,
    ("intimacy.Alert", "acknowledgement"): 300,
    ("intimacy.SafetyMessage", "message"): 5_000,
    ("intimacy.TouchHold", "lift_note"): 300,
    ("intimacy.ScreeningRecord", "note"): 200,
    # Staged programs (issue 15): a title like an exercise's, a description and a step's note like an
    # assignment's note to the couple.
    ("intimacy.Program", "title"): 80,
    ("intimacy.Program", "description"): 2_000,
    ("intimacy.ProgramStage", "guidance"): 2_000,
}
# Text nobody types: a slug the seeding migration chooses.
NOT_TYPED = {("intimacy.Exercise", "builtin_key"), ("intimacy.Program", "builtin_key")}


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel("2026-11-25 12:00:00+00:00", tick=False):
        yield


@pytest.fixture
def world(session, therapist, partner_b):
    """One row of every model with free text."""
    couple = session.assignment.couple
    CoupleNote.objects.create(couple=couple, author=therapist, date=date(2026, 11, 20), text="holiday")
    Alert.objects.create(couple=couple, kind=Alert.Kind.PAUSED, week=date(2026, 11, 23))
    SafetyMessage.objects.create(couple=couple, partner=partner_b, feeling=SafetyMessage.Feeling.OTHER)
    TouchHold.objects.create(couple=couple, reason=Alert.Kind.SAFETY)
    ScreeningRecord.objects.create(couple=couple, partner=partner_b, date=date(2026, 11, 20), how="video")
    # The built-in example program is seeded; `.first()` finds it (and its first stage) for each limit.
    return session


def test_every_typed_text_field_has_a_limit():
    typed = {
        (model._meta.label, field.name)
        for model in apps.get_app_config("intimacy").get_models()
        for field in model._meta.concrete_fields
        if field.get_internal_type() in ("CharField", "TextField") and not field.choices
    }
    assert typed - NOT_TYPED == set(LIMITS)


@pytest.mark.parametrize(("label", "field"), list(LIMITS), ids=[f"{m}.{f}" for m, f in LIMITS])
def test_the_database_holds_each_limit(world, label, field):
    limit = LIMITS[label, field]
    row = apps.get_model(label).objects.first()
    setattr(row, field, "x" * limit)
    row.save(update_fields=[field])
    setattr(row, field, "x" * (limit + 1))
    # A CHECK constraint on both databases (PostgreSQL's VARCHAR(n) answers first for CharFields).
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        row.save(update_fields=[field])


def test_a_service_refuses_text_over_the_limit_beside_its_field(session, partner_b):
    with pytest.raises(ValidationError) as caught:
        services.reflection_add(
            session=session, partner=partner_b, answers={"connection": 5, "comfort": 5, "safe": 5, "notes": "y" * 5_001}
        )
    assert set(caught.value.error_dict) == {"notes"}
    assert not Reflection.objects.filter(partner=partner_b).exists()


# The partner's forms ----------------------------------------------------------------------------------


def textareas(html: str) -> dict[str, str]:
    """Each textarea's name and its opening tag."""
    return {m.group(1): m.group(0) for m in re.finditer(r'<textarea[^>]*name="([^"]+)"[^>]*>', html)}


def test_the_reflection_form_says_the_limit_and_lets_the_browser_cut_nothing(client_for, session, partner_b):
    html = client_for(partner_b).get(reverse("reflection_add", args=[session.pk])).content.decode()
    assert html.count("Up to 5,000 characters.") == 3
    assert 'aria-describedby="id_notes_helptext"' in html and 'id="id_notes_helptext"' in html  # read out with it
    tags = textareas(html)
    assert set(tags) == {"pause_reason", "next_time", "notes"}
    # A browser's maxlength would cut a pasted text short without a word: the server checks instead.
    assert not [tag for tag in tags.values() if "maxlength" in tag]


def test_a_reflection_over_the_limit_comes_back_whole_with_a_calm_message(client_for, session, partner_b):
    words = ("I felt held. " * 390).strip()  # 5,069 characters (trailing spaces go, as ever)
    data = {"connection": "6", "comfort": "7", "safe": "7", "notes": words, "visibility": "shared"}
    response = client_for(partner_b).post(reverse("reflection_add", args=[session.pk]), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Please keep this to 5,000 characters; it has 5,069 now. Everything you wrote is still here." in html
    assert words in html
    assert not Reflection.objects.filter(partner=partner_b).exists()


def test_line_breaks_count_once_as_the_person_sees_them(client_for, session, partner_b):
    # Browsers send each line break as two characters (CR LF): 6,000 sent, 4,500 as typed.
    words = "ok\r\n" * 1_500
    data = {"connection": "6", "comfort": "7", "safe": "7", "notes": words, "visibility": "shared"}
    assert client_for(partner_b).post(reverse("reflection_add", args=[session.pk]), data).status_code == 302
    assert Reflection.objects.get(partner=partner_b).notes == "ok\n" * 1_499 + "ok"  # the last one trimmed


def test_the_safety_message_says_its_limit_and_keeps_words_over_it(client_for, session, partner_b):
    client = client_for(partner_b)
    assert "Up to 5,000 characters." in client.get(reverse("safety")).content.decode()
    words = "w" * 5_001
    response = client.post(reverse("safety"), {"feeling": "unsafe", "message": words})
    assert response.status_code == 200
    assert words in response.content.decode()
    assert not SafetyMessage.objects.exists()
    assert client.post(reverse("safety"), {"feeling": "unsafe", "message": words[:5_000]}).status_code == 302


def test_a_two_megabyte_reflection_is_refused_before_it_is_read(client_for, session, partner_b):
    data = {"connection": "6", "comfort": "7", "safe": "7", "notes": "z" * 2_000_000, "visibility": "shared"}
    response = client_for(partner_b).post(reverse("reflection_add", args=[session.pk]), data)
    assert response.status_code == 400
    assert "Nothing was saved" in response.content.decode()
    assert not Reflection.objects.filter(partner=partner_b).exists()


# The therapist's forms ----------------------------------------------------------------------------------


def assignment_data(**changes) -> dict:
    data = {
        "exercise": back_rub().pk,
        "target_per_week": "2",
        "suggested_minutes": "15",
        "starts_on": "2026-11-25",
        "giver_plan": "turns",
    }
    return {**data, **changes}


def test_the_note_to_the_couple_has_a_limit(client_for, therapist, couple, partner_a, partner_b):
    client = client_for(therapist)
    url = reverse("assignment_create", args=[couple.pk])
    assert "The couple both see this. Up to 2,000 characters." in client.get(url).content.decode()
    response = client.post(url, assignment_data(note="n" * 2_001))
    assert response.status_code == 200
    assert "Please keep this to 2,000 characters; it has 2,001 now." in response.content.decode()
    assert not Assignment.objects.exists()
    assert client.post(url, assignment_data(note="n" * 2_000)).status_code == 302


def test_an_exercises_guidance_has_a_limit(client_for, therapist):
    client = client_for(therapist)
    data = {"title": "Hands", "summary": "s", "guidance": "g" * 10_001, "suggested_minutes": "10"}
    response = client.post(reverse("exercise_create"), data)
    assert response.status_code == 200
    assert "Please keep this to 10,000 characters; it has 10,001 now." in response.content.decode()
    assert not Exercise.objects.filter(owner=therapist).exists()


def test_a_chart_note_has_a_limit(client_for, therapist, couple):
    response = client_for(therapist).post(
        reverse("note_add", args=[couple.pk]), {"date": "2026-11-20", "text": "t" * 201}
    )
    assert response.status_code == 400
    assert not CoupleNote.objects.exists()


# Rows already longer than a new limit stop the migration, which names counts, not words -----------------------


@contextmanager
def check_constraint_lifted(model, name: str):
    """Rows as an older Tend could have written them, before its limits existed."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA ignore_check_constraints = 1")
        else:  # dropped inside the test's transaction, so it comes back when the test rolls back
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # PostgreSQL alters no table with checks pending
            cursor.execute(f'ALTER TABLE "{model._meta.db_table}" DROP CONSTRAINT "{name}"')
        try:
            yield
        finally:
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA ignore_check_constraints = 0")


def test_the_limits_migration_stops_with_counts_when_rows_are_longer(world, migration):
    check = migration("intimacy", "text_limits").operations[0]
    check.code(apps, None)  # every row fits: nothing to say
    with check_constraint_lifted(Reflection, "reflection_text_within_limits"):
        for reflection in Reflection.objects.all():  # one here
            reflection.notes = "my-own-words " * 400  # 5,200 characters
            reflection.save(update_fields=["notes"])
    with pytest.raises(TextOverLimit) as caught:
        check.code(apps, None)
    message = str(caught.value)
    assert "intimacy.reflection: 1 row longer than reflection_text_within_limits allows" in message
    assert "Nothing was changed" in message and "my-own-words" not in message
