from django.db import migrations

from intimacy.builtin import BACK_RUB_KEY, BUILTIN_EXERCISES

# Every built-in exercise but the back rub, which 0002 seeded and 0008 refreshed.
LIBRARY_KEYS = [spec["builtin_key"] for spec in BUILTIN_EXERCISES if spec["builtin_key"] != BACK_RUB_KEY]


def seed(apps, schema_editor):
    # Idempotent (by builtin_key): re-running refreshes the built-in rows and leaves a therapist's
    # customised copies, which have no builtin_key, as they are. The back rub is refreshed too: its
    # words are unchanged, and its shape (touch) is the default it already has.
    from intimacy.builtin import seed_builtin_exercises

    seed_builtin_exercises(apps.get_model("intimacy", "Exercise"))


def unseed(apps, schema_editor):
    # Only the exercises this migration added, and only those no couple was given: an assigned one
    # stays with its history.
    from intimacy.builtin import remove_unused_builtin_exercises

    remove_unused_builtin_exercises(apps.get_model("intimacy", "Exercise"), LIBRARY_KEYS)


class Migration(migrations.Migration):
    dependencies = [("intimacy", "0018_exercise_shape")]

    operations = [migrations.RunPython(seed, unseed)]
