"""The audit trail: every write to a clinical record and every viewing by a therapist or staff member
is recorded (who, which record, what, when, from where), and no row holds clinical content."""

import csv
import io
import uuid
from datetime import date, timedelta

import pytest
import time_machine
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import models, transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.clinical import BulkWriteForbidden
from accounts.models import Couple, Partner
from intimacy.audit import FREE_TEXT, couple_key, couple_trail
from intimacy.models import Alert, CoupleNote, Reflection, Session
from intimacy.views.audit import ENTRIES_PER_PAGE
from tests.factories import AssignmentFactory, UserFactory

pytestmark = pytest.mark.django_db

ACCESS, CREATE, UPDATE, DELETE = (
    LogEntry.Action.ACCESS,
    LogEntry.Action.CREATE,
    LogEntry.Action.UPDATE,
    LogEntry.Action.DELETE,
)
# Distinctive words that must never reach the audit table.
NOTES = "audit-must-never-hold-this-q7z"
NEXT = "softer-on-the-shoulders-k2w"
REASON = "a-sore-neck-today-m4p"
EDITED = "changed-my-mind-words-x9v"


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel("2026-11-25 12:00:00+00:00", tick=False):
        yield


def whole_table() -> str:
    """Every column of every audit row (changes, object_repr, additional_data, cid…) as one string."""
    return str(list(LogEntry.objects.values()))


def entries(model, action=None):
    qs = LogEntry.objects.get_for_model(model)
    return qs.filter(action=action) if action is not None else qs


# What is registered, and with which fields ---------------------------------------------------------


# Derived from audited rows and rewritten by their writes (intimacy/trend_parts.py): auditing it would
# record each of those writes twice, the second time as sums nobody typed.
DERIVED = {"intimacy.TrendPartSessions", "intimacy.TrendPartReflections"}


def test_every_clinical_model_is_registered():
    # Anything that hangs off a couple is clinical: a new model must be added to FREE_TEXT.
    for model in apps.get_models():
        if model._meta.label in DERIVED:
            assert not auditlog.contains(model)
            continue
        if any(isinstance(f, models.ForeignKey) and f.related_model is Couple for f in model._meta.fields):
            assert auditlog.contains(model), f"{model.__name__} belongs to a couple but is not audited"
    for label in FREE_TEXT:
        assert auditlog.contains(apps.get_model(label))


# Fields that are text but not typed by anyone: an IANA zone name and a consent version string.
NOT_FREE_TEXT = {("accounts.Couple", "time_zone"), ("accounts.Partner", "consent_version")}


@pytest.mark.parametrize("label", list(FREE_TEXT))
def test_every_free_text_field_is_excluded(label):
    model = apps.get_model(label)
    excluded = set(auditlog.get_model_fields(model)["exclude_fields"])
    typed = [
        f.name
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField) and not f.choices and (label, f.name) not in NOT_FREE_TEXT
    ]
    for name in typed:
        assert name in excluded, f"{label}.{name} would be written into the audit trail"


# Writes through the real views, with the actor and the address ----------------------------------------


def test_a_reflection_written_changed_and_deleted_through_the_views_is_in_the_trail_without_its_words(
    client, partner_a, partner_b, assignment
):
    client.force_login(partner_a.user)
    logged = client.post(
        reverse("session_log", args=[assignment.pk]),
        {
            "idempotency_key": str(uuid.uuid4()),
            "date": "2026-11-25",
            "minutes": "15",
            "role": "giver",
            "connection": "8",
            "comfort": "9",
            "safe": "9",
            "paused": "on",
            "pause_reason": REASON,
            "next_time": NEXT,
            "notes": NOTES,
            "visibility": "shared",
            "confirm_share": "on",  # shared after a pause: asked once more (issue 13)
        },
        REMOTE_ADDR="203.0.113.9",
    )
    assert logged.status_code == 302
    reflection = Reflection.objects.get()
    session = reflection.session

    edited = client.post(
        reverse("reflection_edit", args=[reflection.pk]),
        {"connection": "6", "comfort": "9", "safe": "9", "notes": EDITED, "visibility": "therapist"},
    )
    assert edited.status_code == 302
    assert client.post(reverse("session_delete", args=[session.pk])).status_code == 302
    assert not Reflection.objects.exists() and not Session.objects.exists()

    created = entries(Reflection, CREATE).get()
    changed = entries(Reflection, UPDATE).get()
    deleted = entries(Reflection, DELETE).get()
    for entry in (created, changed, deleted):
        assert entry.actor == partner_a.user and entry.actor_email == partner_a.email
        assert entry.object_id == reflection.pk
        assert entry.object_repr == f"reflection {reflection.pk}"
        assert entry.cid == couple_key(assignment.couple_id)
    assert created.remote_addr == "203.0.113.9"
    assert changed.remote_addr == "127.0.0.1"
    # Ratings and visibility are traceable…
    assert changed.changes["connection"] == ["8", "6"]
    assert changed.changes["visibility"] == ["shared", "therapist"]
    # …the words are not, anywhere in the table.
    assert not {"notes", "next_time", "pause_reason"} & set(created.changes)
    table = whole_table()
    for words in (NOTES, NEXT, REASON, EDITED):
        assert words not in table
    assert entries(Session, CREATE).get().actor == partner_a.user
    assert entries(Session, DELETE).get().actor == partner_a.user


def test_names_labels_and_notes_never_enter_the_trail(client_for, therapist, partner_a, partner_b, session):
    client = client_for(therapist)
    couple = session.assignment.couple
    client.post(reverse("note_add", args=[couple.pk]), {"date": "2026-11-20", "text": "Therapist-words-j3k"})
    alert = Alert.objects.create(couple=couple, kind=Alert.Kind.LOW_COMFORT, partner=partner_b, week=date(2026, 11, 23))
    client.post(reverse("alert_acknowledge", args=[alert.pk]), {"note": "Called-them-r5t"})
    client.get(reverse("couple_detail", args=[couple.pk]))

    acknowledged = entries(Alert, UPDATE).get()
    assert acknowledged.actor == therapist
    assert set(acknowledged.changes) == {"acknowledged_at", "acknowledged_by"}
    assert entries(CoupleNote, CREATE).get().actor == therapist
    table = whole_table()
    for content in ("Therapist-words-j3k", "Called-them-r5t", "A-shared-words", "Alex", "Sam", couple.label):
        assert content not in table
    # Foreign keys are ids, never the name of whom they point to.
    assert entries(Session, CREATE).get().changes["giver"] == ["None", str(partner_a.pk)]


# Viewings --------------------------------------------------------------------------------------------


def test_the_therapist_viewing_the_dashboard_writes_one_access_row(client_for, therapist, session):
    couple = session.assignment.couple
    before = LogEntry.objects.count()
    client_for(therapist).get(reverse("couple_detail", args=[couple.pk]), REMOTE_ADDR="198.51.100.4")
    assert LogEntry.objects.count() == before + 1
    (row,) = entries(Couple, ACCESS)
    assert (row.actor, row.object_id, row.remote_addr) == (therapist, couple.pk, "198.51.100.4")
    assert row.object_repr == f"couple {couple.pk}" and row.cid == couple_key(couple.pk)


@pytest.mark.parametrize("view", ["appointment", "couple_summary", "couple_export"])
def test_the_other_views_of_a_couples_data_are_recorded_too(client_for, therapist, session, view):
    couple = session.assignment.couple
    response = client_for(therapist, reauthenticated=True).get(reverse(view, args=[couple.pk]))
    assert response.status_code == 200
    assert entries(Couple, ACCESS).get().actor == therapist


def test_a_download_stopped_to_ask_for_the_password_is_not_a_viewing(client_for, therapist, session):
    response = client_for(therapist).get(reverse("couple_export", args=[session.assignment.couple_id]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_reauthenticate"))
    assert not entries(Couple, ACCESS).exists()


def test_a_refused_viewing_is_not_a_viewing(client_for, other_therapist, session):
    client_for(other_therapist).get(reverse("couple_detail", args=[session.assignment.couple_id]))
    assert not entries(Couple, ACCESS).exists()


def test_a_partner_reading_their_own_home_writes_nothing(client_for, partner_a, session):
    before = LogEntry.objects.count()
    assert client_for(partner_a).get(reverse("home")).status_code == 200
    assert client_for(partner_a).get(reverse("history")).status_code == 200
    assert LogEntry.objects.count() == before


def test_a_client_cannot_choose_the_address_recorded(client_for, therapist, couple):
    client = client_for(therapist)
    url = reverse("couple_detail", args=[couple.pk])
    client.get(url, REMOTE_ADDR="198.51.100.4", HTTP_X_FORWARDED_FOR="10.6.6.6")
    assert entries(Couple, ACCESS).get().remote_addr == "198.51.100.4"
    # Behind a proxy: the address the proxy appended, not the one the client put first.
    with override_settings(TEND_BEHIND_PROXY=True):
        client.get(url, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="10.6.6.6, 203.0.113.50")
    assert entries(Couple, ACCESS).latest("pk").remote_addr == "203.0.113.50"


# The access history page --------------------------------------------------------------------------


def test_the_history_lists_who_viewed_and_changed_what(client_for, therapist, partner_a, session, other_couple):
    couple = session.assignment.couple
    reflection = session.reflections.get()
    reflection_pk = reflection.pk
    client = client_for(therapist)
    client.get(reverse("couple_detail", args=[couple.pk]), REMOTE_ADDR="198.51.100.4")
    reflection.delete()  # a deleted record stays in its couple's history
    Couple.objects.get(pk=other_couple.pk).save()  # another couple's row is not listed
    html = client.get(reverse("couple_audit", args=[couple.pk])).content.decode()
    assert therapist.email in html and "198.51.100.4" in html
    assert "Viewed" in html and f"Couple #{couple.pk}" in html
    assert "Deleted" in html and f"Reflection #{reflection_pk}" in html
    assert f"Couple #{other_couple.pk}" not in html
    assert "A-shared-words" not in html


def test_the_history_is_linked_from_the_dashboard(client_for, therapist, couple):
    html = client_for(therapist).get(reverse("couple_exercises", args=[couple.pk])).content.decode()
    assert reverse("couple_audit", args=[couple.pk]) in html


def test_the_history_of_a_missing_couple_is_404(client_for, therapist):
    # Anonymous, outsiders, partners and the wrong method: tests/config/test_access_table.py.
    assert client_for(therapist).get(reverse("couple_audit", args=[987654])).status_code == 404


def viewings(couple, actor, count: int) -> None:
    """`count` access rows of `actor` viewing `couple`, newest first a minute apart, made in bulk.

    For tests about the history page, not about viewing: that a viewing writes such a row is tested
    above, and `test_rows_made_in_bulk_are_those_a_viewing_writes` keeps the two alike. (bulk_create
    sends no pre_save, so the opaque description and the couple key that intimacy/audit.py adds are
    set here.)"""
    content_type = ContentType.objects.get_for_model(Couple)
    now = timezone.now()
    LogEntry.objects.bulk_create(
        LogEntry(
            content_type=content_type,
            object_pk=str(couple.pk),
            object_id=couple.pk,
            object_repr=f"couple {couple.pk}",
            action=ACCESS,
            actor=actor,
            actor_email=actor.email,
            remote_addr="198.51.100.4",
            additional_data={"couple": couple.pk},
            cid=couple_key(couple.pk),
            timestamp=now - timedelta(minutes=n),
        )
        for n in range(count)
    )


def test_rows_made_in_bulk_are_those_a_viewing_writes(client_for, therapist, couple):
    client_for(therapist).get(reverse("couple_detail", args=[couple.pk]), REMOTE_ADDR="198.51.100.4")
    viewings(couple, therapist, 1)
    real, made = (
        {k: v for k, v in row.items() if k not in ("id", "timestamp", "remote_port")}
        for row in LogEntry.objects.filter(action=ACCESS).order_by("pk").values()
    )
    assert made == real


@pytest.mark.parametrize("count", [3, ENTRIES_PER_PAGE * 3])
def test_the_history_query_count_does_not_grow_with_the_trail(
    client_for, therapist, couple, count, django_assert_num_queries
):
    viewings(couple, therapist, count)
    client = client_for(therapist)
    url = reverse("couple_audit", args=[couple.pk])
    # session, user, couple; the trail: count, one page of rows (with their content types)
    with django_assert_num_queries(5):
        response = client.get(url, {"page": "2"})
    assert response.status_code == 200
    html = response.content.decode()
    rows = couple_trail(couple.pk).count()  # the viewings, and the couple's own creation
    # The header and one page of rows: page 2, or the last page when there is only one.
    assert html.count("<tr>") == 1 + (ENTRIES_PER_PAGE if rows > ENTRIES_PER_PAGE else rows)
    assert "Viewed" in html and therapist.email in html


# Bulk writes bypass the trail, so they are refused -------------------------------------------------


def test_bulk_delete_and_update_raise(couple, session):
    with pytest.raises(BulkWriteForbidden):
        Reflection.objects.all().delete()
    with pytest.raises(BulkWriteForbidden):
        Session.objects.update(minutes=5)
    with pytest.raises(BulkWriteForbidden):
        couple.alerts.all().delete()
    # bulk_update() updates in a transaction of its own: keep the test's usable after it fails.
    with pytest.raises(BulkWriteForbidden), transaction.atomic():
        Session.objects.bulk_update([session], ["minutes"])
    for label in FREE_TEXT:
        model = apps.get_model(label)
        with pytest.raises(BulkWriteForbidden):
            model.objects.filter(pk=0).delete()
        with pytest.raises(BulkWriteForbidden):
            model.objects.filter(pk=0).update()
    assert Reflection.objects.count() == 1 and Session.objects.get().minutes == 15


def test_one_by_one_deletes_cascades_and_set_null_still_work(couple, partner_a, partner_b, session):
    reflection = session.reflections.get()
    session.delete()  # cascades to the reflection
    assert not Reflection.objects.exists()
    assert entries(Reflection, DELETE).get().object_id == reflection.pk
    assert entries(Session, DELETE).get().cid == couple_key(couple.pk)
    # SET_NULL on a clinical model, from deleting the user it points to.
    someone = UserFactory()
    alert = Alert.objects.create(couple=couple, kind=Alert.Kind.PAUSED, week=date(2026, 11, 23))
    alert.acknowledged_by = someone
    alert.save()
    someone.delete()
    alert.refresh_from_db()
    assert alert.acknowledged_by is None
    AssignmentFactory(couple=couple)
    assert Partner.objects.filter(couple=couple).count() == 2


# Staff: the export and the admin ----------------------------------------------------------------------


def test_export_audit_is_csv_without_labels_or_names(client_for, therapist, partner_a, partner_b, session):
    couple = session.assignment.couple
    client_for(therapist).get(reverse("couple_detail", args=[couple.pk]), REMOTE_ADDR="198.51.100.4")
    out = io.StringIO()
    call_command("export_audit", stdout=out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    viewing = next(r for r in rows if r["action"] == "viewed")
    assert viewing == {
        "timestamp": "2026-11-25T12:00:00+00:00",
        "actor_id": str(therapist.pk),
        "actor_email": therapist.email,
        "action": "viewed",
        "model": "accounts.couple",
        "object_id": str(couple.pk),
        "couple_id": str(couple.pk),
        "remote_addr": "198.51.100.4",
    }
    assert {r["model"] for r in rows} >= {"accounts.couple", "accounts.partner", "intimacy.reflection"}
    text = out.getvalue()
    for content in (couple.label, partner_a.name, partner_b.name, "A-shared-words"):
        assert content not in text


def test_the_admin_trail_is_read_only_and_searchable(client_for, staff, couple):
    client = client_for(staff)
    client.get(reverse("admin:accounts_couple_change", args=[couple.pk]))
    row = entries(Couple, ACCESS).get()
    assert row.actor == staff  # staff opening a clinical record is a viewing too
    changelist = reverse("admin:auditlog_logentry_changelist")
    assert client.get(changelist).status_code == 200
    assert client.get(changelist, {"q": staff.email}).status_code == 200
    change = reverse("admin:auditlog_logentry_change", args=[row.pk])
    assert client.get(change).status_code == 200
    assert client.post(change, {}).status_code == 403
    assert client.get(reverse("admin:auditlog_logentry_delete", args=[row.pk])).status_code == 403
    assert client.get(reverse("admin:auditlog_logentry_add")).status_code == 403


def test_the_admin_shows_no_free_text_of_notes_and_alerts(client_for, staff, therapist, couple, partner_a):
    note = CoupleNote.objects.create(couple=couple, author=therapist, date=date(2026, 11, 20), text="Note-words-p1q")
    alert = Alert.objects.create(
        couple=couple,
        kind=Alert.Kind.PAUSED,
        week=date(2026, 11, 23),
        acknowledgement="Ack-words-z8y",
        acknowledged_by=therapist,
    )
    client = client_for(staff)
    for url in (
        reverse("admin:intimacy_couplenote_changelist"),
        reverse("admin:intimacy_couplenote_change", args=[note.pk]),
        reverse("admin:intimacy_alert_changelist"),
        reverse("admin:intimacy_alert_change", args=[alert.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "Note-words-p1q" not in html and "Ack-words-z8y" not in html
