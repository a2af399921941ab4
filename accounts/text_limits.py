"""Limits on what people type, held by the database as well as by the forms.

Each model with free text gets one CHECK constraint, `text_within_limits`, holding every such field to
its limit in characters (Python, SQLite and PostgreSQL all count characters, not bytes). A CharField's
VARCHAR(n) is no limit on SQLite, so the CharFields are in it too. One constraint per model rather than
per field: `Model.full_clean()` validates each constraint with a query of its own.

The limits are constants beside the models (accounts/models.py, intimacy/models.py); the forms take
their `max_length` from the same constants, and so does the migration that adds the constraints.
"""

from django.db import migrations, models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual


def text_within_limits(name: str, limits: dict[str, int]) -> models.CheckConstraint:
    """One CHECK constraint: each field named in `limits` holds at most that many characters."""
    return models.CheckConstraint(
        condition=Q(*(LessThanOrEqual(Length(field), limit) for field, limit in limits.items())), name=name
    )


class TextOverLimit(Exception):
    """Rows already in the database are longer than a limit the migration is about to add."""


def rows_must_fit(app_label: str, operations: list) -> migrations.RunPython:
    """A first step for a migration that adds length limits (`AddConstraint` operations among
    `operations`): it counts the rows already longer than each limit and, if there are any, stops the
    migration before anything is changed.

    Tend never shortens what someone wrote to make it fit, and the message names tables, constraints
    and counts, never content: it is printed to a deployer's terminal and logs. docs/DEPLOY.md ("Text
    limits") says how to find the rows by id and what to do.
    """
    checks = [(op.model_name, op.constraint) for op in operations if isinstance(op, migrations.AddConstraint)]

    def check(apps, schema_editor) -> None:
        over = []
        for model_name, constraint in checks:
            model = apps.get_model(app_label, model_name)
            count = model._base_manager.exclude(constraint.condition).count()
            if count:
                rows = "row" if count == 1 else "rows"
                over.append(f"{app_label}.{model_name}: {count} {rows} longer than {constraint.name} allows")
        if over:
            raise TextOverLimit(
                "Tend's limits on text cannot be added: some rows already hold longer text. Nothing was "
                "changed, and Tend will not shorten anyone's words. "
                + "; ".join(over)
                + '. See docs/DEPLOY.md, "Text limits", to find these rows by id and decide what to do.'
            )

    # Elidable: a squashed history starts from an empty database, where every row fits.
    return migrations.RunPython(check, migrations.RunPython.noop, elidable=True)
