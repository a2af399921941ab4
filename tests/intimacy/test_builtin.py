"""The built-in back rub's guidance and the migration that refreshes it."""

import importlib
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.db import IntegrityError, transaction

from intimacy import services
from intimacy.builtin import BACK_RUB
from intimacy.models import Exercise

# Found by its name rather than its number: parallel branches may renumber migrations when merged.
(_REFRESH_FILE,) = Path(__file__).resolve().parents[2].glob("intimacy/migrations/*_refresh_back_rub_guidance.py")
REFRESH = importlib.import_module(f"intimacy.migrations.{_REFRESH_FILE.stem}")

# The safety points the guidance must carry (issue 13), each as the couple reads it.
SAFETY_POINTS = (
    "keeps away from breasts and genitals",
    "non-verbal stop signal",
    "straight after an argument",
    "very tired",
    '"Tell my therapist privately" in Tend\'s menu',
)


def test_the_guidance_names_each_safety_point():
    for point in SAFETY_POINTS:
        assert point in BACK_RUB["guidance"], point


def test_the_migration_refreshes_the_built_in_and_leaves_a_therapists_copy_alone(therapist):
    builtin = Exercise.objects.back_rub()
    copy = services.exercise_customize(exercise=builtin, owner=therapist)
    Exercise.objects.filter(pk=builtin.pk).update(guidance="Old words.")
    Exercise.objects.filter(pk=copy.pk).update(guidance="My own words.")

    REFRESH.refresh(django_apps, None)

    builtin.refresh_from_db()
    copy.refresh_from_db()
    assert builtin.guidance == BACK_RUB["guidance"]
    assert copy.guidance == "My own words."


def test_the_back_rub_is_a_touch_exercise_and_a_shape_outside_the_list_is_refused():
    # Issue 15: every exercise has a shape; the back rub, and every exercise made before shapes, is touch.
    back_rub = Exercise.objects.back_rub()
    assert back_rub.shape == Exercise.Shape.TOUCH and back_rub.is_touch
    with pytest.raises(IntegrityError), transaction.atomic():
        Exercise.objects.filter(pk=back_rub.pk).update(shape="massage")
