"""What every clinical model shares: no bulk writes, and views recorded in the audit trail.

The queryset base of every clinical model allows no bulk update() or delete().

A bulk `QuerySet.update()` or `.delete()` runs one SQL statement and sends no per-object signals, so
the audit trail (django-auditlog, see intimacy/audit.py) would never hear of it. Clinical rows are
changed with `save()` and removed with `Model.delete()`, one object at a time.

Django's own machinery is unaffected: `Model.save()` updates through the plain base manager, and
cascades and SET_NULL run through the deletion collector on that same base manager, which does not
use this class. Bulk *creation* stays allowed (the alert engine and test fixtures use it).
"""

from typing import NoReturn

from auditlog.signals import accessed
from django.contrib.admin.utils import unquote
from django.db import models
from django.http import HttpRequest


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


def record_access(request: HttpRequest, obj) -> None:
    """Record that a therapist or staff member viewed `obj`, a clinical record (one audit row).

    Function views send auditlog's `accessed` signal themselves (its mixin is for class-based views).
    It is the one write a GET may do. Partners reading their own couple's data are not recorded.
    """
    user = request.user
    if not user.is_authenticated or not (user.is_staff or user.role == user.Role.THERAPIST):
        return
    accessed.send(sender=obj.__class__, instance=obj)


class ClinicalAdminMixin:
    """For the admin of a clinical model: opening a record is recorded as an access, and the
    "delete selected" action deletes one object at a time so each deletion is in the trail."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            obj = self.get_object(request, unquote(object_id))
            if obj is not None and self.has_view_permission(request, obj):
                record_access(request, obj)
        return super().change_view(request, object_id, form_url, extra_context)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            obj.delete()
