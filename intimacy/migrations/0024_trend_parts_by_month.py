from django.db import migrations


def forget_month_parts(apps, schema_editor):
    """Back to 0023: its code reads week parts, which these are not. The parts are emptied; run
    `manage.py rebuild_trend_parts` with that code (docs/DEPLOY.md, "Trend parts")."""
    apps.get_model("intimacy", "TrendPartSessions").objects.all().delete()
    apps.get_model("intimacy", "TrendPartReflections").objects.all().delete()


def rebuild_by_month(apps, schema_editor):
    """A part is now a calendar month, no longer a week cut where a month starts (issue 16): every part is
    written again. As in 0023, with the app's own rebuild, which reads today's models: should a much later
    schema ever stop it, the migration fails loudly (docs/DEPLOY.md, "Trend parts")."""
    if not apps.get_model("intimacy", "Session").objects.exists():
        forget_month_parts(apps, schema_editor)
        return
    from intimacy import trend_parts

    trend_parts.rebuild(lock=False)


class Migration(migrations.Migration):
    dependencies = [("intimacy", "0023_trend_parts")]

    operations = [migrations.RunPython(rebuild_by_month, forget_month_parts)]
