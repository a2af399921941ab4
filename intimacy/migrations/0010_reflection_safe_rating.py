"""Two ratings, not one (issue 13): "how safe I felt" beside "how comfortable I felt".

Until now one required rating asked "how comfortable and safe" a partner felt. Existing answers
migrate to both: every reflection's `comfort` is copied into the new `safe`, so no history is lost
and an old low answer stays visible as a low "safe" (the cautious reading of an answer that meant
both). The column is added nullable, filled, then made required. Going back drops `safe`.

The alert kinds gain `low_safe` (urgent), so the CHECK constraint built from them is rebuilt.
"""

import django.core.validators
from django.db import migrations, models
from django.db.models import F


def copy_comfort_to_safe(apps, schema_editor):
    """Existing answers migrate to both ratings: one UPDATE, whatever the number of reflections."""
    Reflection = apps.get_model("intimacy", "Reflection")
    Reflection.objects.update(safe=F("comfort"))


class Migration(migrations.Migration):
    dependencies = [
        ("intimacy", "0009_appointment_exclusion"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="alert",
            name="alert_kind_valid",
        ),
        migrations.AddField(
            model_name="reflection",
            name="safe",
            field=models.PositiveSmallIntegerField(
                null=True,
                validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(10)],
                verbose_name="how safe I felt",
            ),
        ),
        migrations.RunPython(copy_comfort_to_safe, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="reflection",
            name="safe",
            field=models.PositiveSmallIntegerField(
                validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(10)],
                verbose_name="how safe I felt",
            ),
        ),
        migrations.AlterField(
            model_name="alert",
            name="kind",
            field=models.CharField(
                choices=[
                    ("no_session", "No session for 14 days"),
                    ("connection_down", "Connection down"),
                    ("paused", "A session was paused or stopped"),
                    ("low_comfort", "Low comfort"),
                    ("low_safe", "Low safety rating"),
                    ("one_sided", "One partner does most of the giving"),
                    ("awaiting", "Reflections waiting"),
                    ("safety", "Safety line"),
                    ("consent_withdrawn", "Consent withdrawn"),
                ],
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="reflection",
            name="comfort",
            field=models.PositiveSmallIntegerField(
                validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(10)],
                verbose_name="how comfortable I felt",
            ),
        ),
        migrations.AddConstraint(
            model_name="alert",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "kind__in",
                        [
                            "no_session",
                            "connection_down",
                            "paused",
                            "low_comfort",
                            "low_safe",
                            "one_sided",
                            "awaiting",
                            "safety",
                            "consent_withdrawn",
                        ],
                    )
                ),
                name="alert_kind_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="reflection",
            constraint=models.CheckConstraint(
                condition=models.Q(("safe__gte", 0), ("safe__lte", 10)), name="reflection_safe_range"
            ),
        ),
    ]
