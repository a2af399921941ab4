from django.db import migrations


def refresh(apps, schema_editor):
    # Built-in rows only (by builtin_key): a therapist's customised copies keep their own wording.
    from intimacy.builtin import seed_builtin_exercises

    seed_builtin_exercises(apps.get_model("intimacy", "Exercise"))


class Migration(migrations.Migration):
    dependencies = [("intimacy", "0007_text_limits")]

    operations = [migrations.RunPython(refresh, migrations.RunPython.noop)]
