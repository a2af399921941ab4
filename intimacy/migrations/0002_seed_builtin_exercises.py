from django.db import migrations


def seed(apps, schema_editor):
    from intimacy.builtin import seed_builtin_exercises

    seed_builtin_exercises(apps.get_model("intimacy", "Exercise"))


class Migration(migrations.Migration):
    dependencies = [("intimacy", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
