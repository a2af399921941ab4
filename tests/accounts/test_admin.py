"""The Django admin on clinical models: its own log (django.contrib.admin's LogEntry: "Recent actions"
and each object's history) names records by id only; sessions, reflections and partners' links to
their accounts are read-only there; and a list of clinical records on screen is recorded in the audit
trail, one viewing per record listed, like opening each one."""

import json
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
import time_machine
from auditlog.models import LogEntry as AuditEntry
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.models import ADDITION, CHANGE
from django.contrib.admin.models import LogEntry as AdminEntry
from django.urls import reverse

from accounts.models import Couple, Partner
from intimacy.audit import couple_key
from intimacy.models import Assignment, Reflection, Session
from tests.factories import CoupleFactory, PartnerFactory, ReflectionFactory, SessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel("2026-11-25 12:00:00+00:00", tick=False):
        yield


class _FormReader(HTMLParser):
    """The values a browser would post from the admin's change form, as it shows them."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.data[name] = a.get("value") or ("on" if a.get("type") == "checkbox" else "")
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data.removeprefix("\n")


def form_data(html: str) -> dict[str, str]:
    reader = _FormReader()
    reader.feed(html)
    return reader.data


def admin_log() -> str:
    """Every column of every row of the admin's own log, as one string."""
    return str(list(AdminEntry.objects.values()))


# The admin's own log: ids, never names -----------------------------------------------------------------


def test_changing_a_couple_logs_its_id_and_the_changed_fields_names(client_for, staff, couple, partner_a, partner_b):
    client = client_for(staff)
    url = reverse("admin:accounts_couple_change", args=[couple.pk])
    data = form_data(client.get(url).content.decode())
    data["label"] = "Robin & Kim"
    assert client.post(url, data).status_code == 302
    couple.refresh_from_db()
    assert couple.label == "Robin & Kim"

    entry = AdminEntry.objects.get()
    assert (entry.action_flag, entry.object_id, entry.object_repr) == (CHANGE, str(couple.pk), f"couple {couple.pk}")
    assert json.loads(entry.change_message) == [{"changed": {"fields": ["Label"]}}]
    for words in ("Alex & Sam", "Robin & Kim", "Alex", "Sam"):
        assert words not in admin_log()
    # What "Recent actions" shows (once the one-off "was changed successfully" has been shown).
    client.get(reverse("admin:index"))
    index = client.get(reverse("admin:index")).content.decode()
    assert f"couple {couple.pk}" in index and "Robin &amp; Kim" not in index


def test_assignments_are_read_only_and_name_no_other_couple(
    client_for, staff, couple, partner_a, partner_b, assignment, other_couple
):
    """Assignments change in Tend, by their therapist. In the admin they are ids and dates: nothing to
    add, change (no moving one to another couple) or delete, and no list of every couple's label or
    every partner's name to choose from."""
    client = client_for(staff)
    assert client.get(reverse("admin:intimacy_assignment_add")).status_code == 403
    page = client.get(reverse("admin:intimacy_assignment_change", args=[assignment.pk])).content.decode()
    assert "<select" not in page and 'name="couple"' not in page
    for words in (couple.label, other_couple.label, partner_a.name, partner_b.name):
        assert words not in page
    before = assignment.target_per_week
    moved = {"couple": str(other_couple.pk), "target_per_week": str(before + 1)}
    client.post(reverse("admin:intimacy_assignment_change", args=[assignment.pk]), moved)
    assignment.refresh_from_db()
    assert (assignment.couple_id, assignment.target_per_week) == (couple.pk, before)
    delete = reverse("admin:intimacy_assignment_delete", args=[assignment.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    selected = {"action": "delete_selected", "_selected_action": [str(assignment.pk)], "post": "yes"}
    client.post(reverse("admin:intimacy_assignment_changelist"), selected)
    assert Assignment.objects.filter(pk=assignment.pk).exists()
    assert not AdminEntry.objects.exists()


def test_a_couple_is_not_deleted_in_the_admin(client_for, staff, couple, partner_a, partner_b):
    # Tend's own deletion asks for the password and offers the export first.
    client = client_for(staff)
    assert client.post(reverse("admin:accounts_couple_delete", args=[couple.pk]), {"post": "yes"}).status_code == 403
    selected = {"action": "delete_selected", "_selected_action": [str(couple.pk)], "post": "yes"}
    client.post(reverse("admin:accounts_couple_changelist"), selected)
    assert Couple.objects.filter(pk=couple.pk).exists()


def test_changing_a_partners_account_logs_its_id_not_the_address(client_for, staff, partner_a):
    client = client_for(staff)
    user = partner_a.user
    url = reverse("admin:accounts_user_change", args=[user.pk])
    data = form_data(client.get(url).content.decode())
    data.pop("is_active")  # unticked: the account is switched off
    for empty_multiple_choice in ("groups", "user_permissions"):
        data.pop(empty_multiple_choice)
    assert client.post(url, data).status_code == 302
    entry = AdminEntry.objects.get()
    assert (entry.object_id, entry.object_repr) == (str(user.pk), f"user {user.pk}")
    assert user.email not in admin_log() and partner_a.name not in admin_log()


def test_users_logged_before_are_rewritten_with_ids(staff, partner_a, migration):
    AdminEntry.objects.log_actions(staff.pk, [partner_a.user], CHANGE, [{"changed": {"fields": ["Active"]}}])
    AdminEntry.objects.log_actions(staff.pk, [partner_a.user], CHANGE, f"Changed {partner_a.user.email}.")
    assert partner_a.user.email in admin_log()
    (rewrite,) = migration("accounts", "admin_log_users_by_id").operations
    rewrite.code(apps, None)
    logged = list(AdminEntry.objects.order_by("pk").values_list("object_repr", "change_message"))
    user = f"user {partner_a.user.pk}"
    assert logged == [(user, '[{"changed": {"fields": ["Active"]}}]'), (user, "")]


def test_inline_records_in_a_change_message_are_named_by_id():
    """Django names an inline's added, changed and deleted objects with str(obj): here by id."""
    couple_admin = admin.site._registry[Couple]
    added, changed, deleted = Partner(pk=31, name="Alex"), Partner(pk=32, name="Sam"), Partner(pk=None, name="Kim")
    field = SimpleNamespace(label="Name")
    formset = SimpleNamespace(
        new_objects=[added],
        changed_objects=[(changed, ["name"])],
        deleted_objects=[deleted],
        forms=[SimpleNamespace(fields={"name": field}, changed_data=["name"])],
    )
    form = SimpleNamespace(changed_data=["label"], fields={"label": SimpleNamespace(label="Label")})
    message = couple_admin.construct_change_message(None, form, [formset])
    assert message == [
        {"changed": {"fields": ["Label"]}},
        {"added": {"name": "partner", "object": "partner 31"}},
        {"changed": {"name": "partner", "object": "partner 32", "fields": ["Name"]}},
        {"deleted": {"name": "partner", "object": "partner"}},  # deleted: its id is gone with it
    ]


def test_the_rows_logged_before_are_rewritten_with_ids(staff, couple, partner_a, assignment, migration):
    """What Django wrote before this change (its own `log_actions`, names and all) loses the names."""
    AdminEntry.objects.log_actions(staff.pk, [couple], CHANGE, [{"added": {"name": "partner", "object": "Alex"}}])
    AdminEntry.objects.log_actions(staff.pk, [assignment], ADDITION, [{"added": {}}])
    AdminEntry.objects.log_actions(staff.pk, [partner_a], CHANGE, "Changed name for Alex.")  # Django < 1.10's form
    AdminEntry.objects.log_actions(staff.pk, [staff], CHANGE, [{"changed": {"fields": ["Name"]}}])  # not clinical
    assert "Alex & Sam" in admin_log() and "back rub" in admin_log()

    (rewrite,) = migration("intimacy", "admin_log_ids_only").operations
    rewrite.code(apps, None)

    logged = list(AdminEntry.objects.order_by("pk").values_list("object_repr", "change_message"))
    assert logged == [
        (f"couple {couple.pk}", '[{"added": {"name": "partner", "object": "partner"}}]'),
        (f"assignment {assignment.pk}", '[{"added": {}}]'),
        (f"partner {partner_a.pk}", ""),
        (staff.email, '[{"changed": {"fields": ["Name"]}}]'),
    ]


# Read-only: sessions, reflections, partners' links ---------------------------------------------------------


@pytest.mark.parametrize("model", [Session, Reflection])
def test_sessions_and_reflections_cannot_be_added_changed_or_deleted(client_for, staff, session, model):
    obj = model.objects.first()
    name = f"admin:intimacy_{model._meta.model_name}"
    client = client_for(staff)
    page = client.get(reverse(f"{name}_change", args=[obj.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert form_data(html).keys() <= {"csrfmiddlewaretoken"}  # nothing to change on the page
    for partner in Partner.objects.all():
        assert partner.name not in html and partner.email not in html  # ids, not names
    assert client.post(reverse(f"{name}_change", args=[obj.pk]), {"minutes": "5"}).status_code == 403
    assert client.get(reverse(f"{name}_add")).status_code == 403
    assert client.post(reverse(f"{name}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
    selected = {"action": "delete_selected", "_selected_action": [str(obj.pk)], "post": "yes"}
    client.post(reverse(f"{name}_changelist"), selected)
    assert model.objects.filter(pk=obj.pk).exists()
    assert not AdminEntry.objects.exists()


def test_the_couple_page_shows_partners_as_ids_and_dates_and_cannot_relink_them(
    client_for, staff, couple, partner_a, partner_b
):
    client = client_for(staff)
    url = reverse("admin:accounts_couple_change", args=[couple.pk])
    html = client.get(url).content.decode()
    data = form_data(html)
    assert not [name for name in data if name.startswith("partners-")]  # no partner form at all
    for words in ("alex@example.org", "sam@example.org", ">Alex<", ">Sam<"):
        assert words not in html
    assert f"partner {partner_a.pk}" in html and f"account {partner_a.user_id}" in html
    # A partner's account cannot be swapped by posting one anyway.
    someone = PartnerFactory(couple=CoupleFactory(), slot=1)
    data.update({"partners-TOTAL_FORMS": "1", "partners-INITIAL_FORMS": "1", "partners-0-id": str(partner_a.pk)})
    data["partners-0-user"] = str(someone.user_id)
    client.post(url, data)
    partner_a.refresh_from_db()
    assert partner_a.user_id != someone.user_id


# Lists of clinical records are viewings ------------------------------------------------------------------


def viewed(model) -> list[tuple]:
    return sorted(
        AuditEntry.objects.get_for_model(model)
        .filter(action=AuditEntry.Action.ACCESS)
        .values_list("object_id", "cid", "actor__email")
    )


def test_a_list_of_couples_records_one_viewing_per_couple_listed(client_for, staff, couple, other_couple):
    assert client_for(staff).get(reverse("admin:accounts_couple_changelist")).status_code == 200
    assert viewed(Couple) == sorted(
        [(couple.pk, couple_key(couple.pk), staff.email), (other_couple.pk, couple_key(other_couple.pk), staff.email)]
    )


def test_only_the_records_on_the_page_shown_are_recorded(client_for, staff, couple, other_couple, monkeypatch):
    monkeypatch.setattr(admin.site._registry[Couple], "list_per_page", 1)
    client = client_for(staff)
    client.get(reverse("admin:accounts_couple_changelist"))  # ordered by label: "Alex & Sam" first
    assert [pk for pk, *_ in viewed(Couple)] == [couple.pk]
    client.get(reverse("admin:accounts_couple_changelist"), {"p": "2"})
    assert sorted(pk for pk, *_ in viewed(Couple)) == sorted([couple.pk, other_couple.pk])


@pytest.mark.parametrize("rows", [1, 4])
def test_a_list_of_reflections_records_each_one_under_its_couple(
    client_for, staff, assignment, partner_a, partner_b, rows, django_assert_num_queries
):
    reflections = [
        ReflectionFactory(
            session=SessionFactory(assignment=assignment, giver=partner_a, receiver=partner_b, logged_by=partner_a),
            partner=partner_a,
            role=Reflection.Role.GIVER,
        )
        for _ in range(rows)
    ]
    client = client_for(staff)
    # session, user; the count of all reflections and of those filtered (the admin makes both), the
    # page of reflections with their sessions and assignments (so each row's couple costs no query);
    # then one audit row written per reflection listed
    with django_assert_num_queries(5 + rows):
        assert client.get(reverse("admin:intimacy_reflection_changelist")).status_code == 200
    couple = assignment.couple
    assert viewed(Reflection) == [(r.pk, couple_key(couple.pk), staff.email) for r in reflections]


def test_a_refused_list_and_the_non_clinical_lists_record_nothing(client_for, staff, therapist, couple):
    client_for(therapist).get(reverse("admin:accounts_couple_changelist"))  # not staff: the admin's sign-in
    client = client_for(staff)
    client.get(reverse("admin:accounts_user_changelist"))
    client.get(reverse("admin:intimacy_exercise_changelist"))
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.ACCESS).exists()
