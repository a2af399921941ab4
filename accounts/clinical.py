"""The queryset base of every clinical model: no bulk update() or delete().

A bulk `QuerySet.update()` or `.delete()` runs one SQL statement and sends no per-object signals, so
the audit trail (django-auditlog, see intimacy/audit.py) would never hear of it. Clinical rows are
changed with `save()` and removed with `Model.delete()`, one object at a time.

Django's own machinery is unaffected: `Model.save()` updates through the plain base manager, and
cascades and SET_NULL run through the deletion collector on that same base manager, which does not
use this class. Bulk *creation* stays allowed (the alert engine and test fixtures use it).
"""

from typing import NoReturn

from django.db import models


class BulkWriteForbidden(Exception):
    """A bulk update or delete was attempted on a clinical model; it would bypass the audit trail."""


class ClinicalQuerySet(models.QuerySet):
    def _forbid(self, what: str) -> NoReturn:
        name = self.model.__name__
        raise BulkWriteForbidden(
            f"{name}.objects…{what}() bypasses the audit trail. Change each {name} with save(), "
            f"or remove it with its own delete()."
        )

    def update(self, **kwargs):
        self._forbid("update")

    update.alters_data = True

    def delete(self):
        self._forbid("delete")

    # As on Django's QuerySet: a manager offers update() (which raises here) but no delete().
    delete.alters_data = True
    delete.queryset_only = True
