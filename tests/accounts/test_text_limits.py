"""Limits on what people type about people: labels, names and addresses, held by the database
(SQLite and PostgreSQL alike) and by the "Add couple" form."""

import pytest
from django.apps import apps
from django.db import DataError, IntegrityError, transaction
from django.urls import reverse

from accounts.models import Couple

pytestmark = pytest.mark.django_db

# The limits chosen, in characters: worked out here, not read from the constants.
LIMITS = {
    ("accounts.User", "email"): 254,  # the longest address SMTP carries (RFC 5321)
    ("accounts.User", "name"): 80,
    ("accounts.User", "alert_email"): 254,  # where urgent emails go (issue 13), an address like the sign-in
    ("accounts.Couple", "label"): 80,
    ("accounts.Partner", "name"): 40,
    ("accounts.Partner", "email"): 254,
}
# Text nobody types: a password hash, a zone chosen from a list, a random nonce, a consent version and
# the reminder queue's key built from ids, a browser's push subscription.
NOT_TYPED = {
    ("accounts.User", "password"),
    ("accounts.Couple", "time_zone"),
    ("accounts.Partner", "invite_nonce"),
    ("accounts.Partner", "consent_version"),
    ("accounts.ReminderSend", "key"),
    # A browser's push subscription (issue 17), made by the browser: its limits are held by
    # pushsubscription_text_within_limits and the form (tests/accounts/test_push.py).
    ("accounts.PushSubscription", "endpoint"),
    ("accounts.PushSubscription", "p256dh"),
    ("accounts.PushSubscription", "auth"),
}


def test_every_typed_text_field_has_a_limit():
    typed = {
        (model._meta.label, field.name)
        for model in apps.get_app_config("accounts").get_models()
        for field in model._meta.concrete_fields
        if field.get_internal_type() in ("CharField", "TextField", "EmailField") and not field.choices
    }
    assert typed - NOT_TYPED == set(LIMITS)


@pytest.mark.parametrize(("label", "field"), list(LIMITS), ids=[f"{m}.{f}" for m, f in LIMITS])
def test_the_database_holds_each_limit(partner_a, label, field):
    limit = LIMITS[label, field]
    row = apps.get_model(label).objects.first()
    value = "x" * limit
    setattr(row, field, value)
    row.save(update_fields=[field])
    setattr(row, field, value + "x")
    # A CHECK constraint, which SQLite needs (it does not hold VARCHAR(n)); PostgreSQL's VARCHAR answers first.
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        row.save(update_fields=[field])


def couple_data(**changes) -> dict:
    data = {
        "label": "Robin & Kim",
        "time_zone": "Europe/London",
        "partner1_name": "Robin",
        "partner1_email": "robin@example.org",
        "partner2_name": "Kim",
        "partner2_email": "kim@example.org",
    }
    return {**data, **changes}


@pytest.mark.parametrize(
    "changes",
    [
        {"label": "L" * 81},
        {"partner1_name": "N" * 41},
        # Valid to Django's address check (which allows 320), one over what SMTP carries.
        {"partner2_email": "k" * 243 + "@example.org"},
    ],
    ids=["label", "name", "email"],
)
def test_add_couple_refuses_what_is_over_a_limit(client_for, therapist, changes):
    response = client_for(therapist).post(reverse("couple_add"), couple_data(**changes))
    assert response.status_code == 200
    assert "Ensure this value has at most" in response.content.decode()
    assert not Couple.objects.exists()
