from django.db import migrations


def refresh(apps, schema_editor):
    # Built-in rows only (by builtin_key): a therapist's customised copies keep their own wording.
    from intimacy.builtin import BACK_RUB_KEY, seed_builtin_exercises

    # The back rub only: the rest of the library arrives with the exercise shapes (seed_exercise_library).
    seed_builtin_exercises(apps.get_model("intimacy", "Exercise"), keys=[BACK_RUB_KEY])


class Migration(migrations.Migration):
    dependencies = [("intimacy", "0007_text_limits")]

    operations = [migrations.RunPython(refresh, migrations.RunPython.noop)]
