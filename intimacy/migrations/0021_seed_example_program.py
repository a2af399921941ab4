from django.db import migrations


def seed(apps, schema_editor):
    from intimacy.programs_builtin import seed_builtin_programs

    seed_builtin_programs(
        apps.get_model("intimacy", "Program"),
        apps.get_model("intimacy", "ProgramStage"),
        apps.get_model("intimacy", "Exercise"),
    )


class Migration(migrations.Migration):
    # Stages whose exercise is not seeded yet are skipped: this must come after the library's data
    # migration to get all of them (the lead orders it so when merging), and re-running is harmless.
    dependencies = [("intimacy", "0020_staged_programs")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
