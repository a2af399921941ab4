"""Viewing a clinical record is recorded in the audit trail (django-auditlog; what it records, and how
rows are keyed by couple, is in intimacy/audit.py): from a therapist's page, or from the admin."""

from auditlog.signals import accessed
from django.contrib.admin.utils import unquote
from django.http import HttpRequest


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
