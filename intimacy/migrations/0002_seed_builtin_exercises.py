from django.db import migrations


def seed(apps, schema_editor):
    from intimacy.builtin import BACK_RUB_KEY, seed_builtin_exercises

    # The back rub only: the rest of the library arrives with the exercise shapes (seed_exercise_library).
    seed_builtin_exercises(apps.get_model("intimacy", "Exercise"), keys=[BACK_RUB_KEY])


class Migration(migrations.Migration):
    dependencies = [("intimacy", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
