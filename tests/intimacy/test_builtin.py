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
    copy = services.exercise_customize(
        exercise=builtin, owner=therapist, title="Ours", summary="s", guidance="g", suggested_minutes=15
    )
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


# The library (issue 15) ------------------------------------------------------------------------------

(_LIBRARY_FILE,) = Path(__file__).resolve().parents[2].glob("intimacy/migrations/*_seed_exercise_library.py")
LIBRARY = importlib.import_module(f"intimacy.migrations.{_LIBRARY_FILE.stem}")

# Written out from the list, not read from builtin.py: the ten exercises and their shapes.
LIBRARY_SHAPES = {
    "back-rub": "touch",
    "hand-massage": "touch",
    "foot-rub": "touch",
    "hair-and-scalp": "touch",
    "relaxing-hug": "touch",
    "curious-touch": "touch",
    "breathing-together": "together",
    "stress-of-the-day": "talk",
    "appreciation-exchange": "together",
    "speaker-listener": "talk",
}
SECTIONS = ("How to do it", "What it is for", "How long and how often", "When not to do it")


def _builtins() -> dict[str, Exercise]:
    return {e.builtin_key: e for e in Exercise.objects.filter(owner__isnull=True)}


def test_the_migration_seeds_all_ten_once_and_running_it_again_changes_nothing():
    LIBRARY.seed(django_apps, None)
    LIBRARY.seed(django_apps, None)

    builtins = _builtins()
    assert {key: e.shape for key, e in builtins.items()} == LIBRARY_SHAPES
    assert Exercise.objects.count() == 10


def test_the_back_rub_keeps_its_words():
    LIBRARY.seed(django_apps, None)
    assert Exercise.objects.back_rub().guidance == BACK_RUB["guidance"]


def test_every_new_exercise_has_each_section_and_every_touch_one_the_safety_points():
    LIBRARY.seed(django_apps, None)
    for key, exercise in _builtins().items():
        if key == "back-rub":
            continue
        for heading in SECTIONS:
            assert f"\n{heading}\n" in exercise.guidance, (key, heading)
        if exercise.shape == "touch":
            for point in SAFETY_POINTS:
                assert point in exercise.guidance, (key, point)
        else:  # the screening rules cover touch exercises only: the others ask for no touch at all
            assert "stop signal" not in exercise.guidance and "breasts" not in exercise.guidance, key
        exercise.full_clean()  # within every text limit and the minutes' range


def test_the_curious_touch_exercise_has_no_goal_and_excludes_breasts_and_genitals():
    LIBRARY.seed(django_apps, None)
    guidance = _builtins()["curious-touch"].guidance
    assert "not trying to relax or please" in guidance
    assert "keeps away from breasts and genitals" in guidance


def test_the_reverse_removes_only_the_added_exercises_no_couple_was_given(therapist):
    from tests.factories import AssignmentFactory

    assigned = Exercise.objects.get(builtin_key="foot-rub")
    AssignmentFactory(exercise=assigned)
    copy = services.exercise_customize(
        exercise=Exercise.objects.get(builtin_key="hand-massage"),
        owner=therapist,
        title="Hands, our way",
        summary="s",
        guidance="g",
        suggested_minutes=10,
    )

    # Migrations reverse in order: the example program's stages (a later migration) go first.
    from intimacy.models import Program

    for program in Program.objects.filter(owner__isnull=True):
        program.stages.all().delete()
        program.delete()
    LIBRARY.unseed(django_apps, None)

    assert set(_builtins()) == {"back-rub", "foot-rub"}
    copy.refresh_from_db()
    assert copy.copied_from is None and copy.title == "Hands, our way"


# Transactional and live-server tests flush the database; conftest's autouse fixture re-seeds the
# built-ins before each test. Two in a row: the second starts after the first one's flush.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("run", ["first", "after a flush"])
def test_a_test_that_flushes_the_database_still_finds_the_whole_library(run):
    assert {e.builtin_key: e.shape for e in Exercise.objects.filter(owner__isnull=True)} == LIBRARY_SHAPES
