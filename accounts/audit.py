"""Viewing a clinical record is recorded in the audit trail (django-auditlog; what it records, and how
rows are keyed by couple, is in intimacy/audit.py): from a therapist's page, or from the admin.

The admin keeps a log of its own besides (django.contrib.admin's LogEntry: "Recent actions" and each
object's history). For clinical models it names records as the audit trail does, "<model> <id>", and
its change messages name changed fields, never their values."""

import json

from auditlog.signals import accessed
from django.contrib.admin.utils import unquote
from django.contrib.contenttypes.models import ContentType
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


def opaque_name(obj) -> str:
    """A clinical record as logs name it: "couple 12", never its label, a name or an exercise title."""
    return f"{obj._meta.model_name} {obj.pk}"


def _admin_log(request: HttpRequest, objects, action_flag: int, message="") -> list:
    """django.contrib.admin's log rows for `objects`, as `LogEntry.objects.log_actions` writes them
    except for the description (Django's is `str(obj)`, a couple's label or a partner's name)."""
    from django.contrib.admin.models import LogEntry

    if isinstance(message, list):
        message = json.dumps(message)
    return LogEntry.objects.bulk_create(
        LogEntry(
            user_id=request.user.pk,
            content_type_id=ContentType.objects.get_for_model(obj, for_concrete_model=False).pk,
            object_id=str(obj.pk),
            object_repr=opaque_name(obj),
            action_flag=action_flag,
            change_message=message,
        )
        for obj in objects
    )


class IdOnlyAdminLogMixin:
    """The admin's own log names objects by id ("user 7"), and its change messages name no values:
    for any model whose `str()` is personal (a user's is their address, a partner's for a client)."""

    def log_addition(self, request, obj, message):
        from django.contrib.admin.models import ADDITION

        return _admin_log(request, [obj], ADDITION, message)[0]

    def log_change(self, request, obj, message):
        from django.contrib.admin.models import CHANGE

        return _admin_log(request, [obj], CHANGE, message)[0]

    def log_deletions(self, request, queryset):
        from django.contrib.admin.models import DELETION

        return _admin_log(request, queryset, DELETION)


class ClinicalAdminMixin(IdOnlyAdminLogMixin):
    """For the admin of a clinical model.

    - Opening a record, or a list of records, is recorded as a viewing of each record shown. One row
      per record (not one naming the list) so that each couple's access history (intimacy/audit.py)
      shows that their records were on a staff member's screen.
    - The admin's own log names records by id, and its change messages name no values.
    - "Delete selected" deletes one object at a time so each deletion is in the audit trail.
    """

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            obj = self.get_object(request, unquote(object_id))
            if obj is not None and self.has_view_permission(request, obj):
                record_access(request, obj)
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if request.method == "GET" and changelist is not None:
            # The page's rows, read once here and reused by the template when it renders.
            for obj in changelist.result_list:
                record_access(request, obj)
        return response

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            obj.delete()

    def construct_change_message(self, request, form, formsets, add=False):
        """Django's message (which fields changed, by label), with an inline's objects named by id."""
        message = super().construct_change_message(request, form, formsets, add)
        inline_objects = [
            obj
            for formset in formsets or []
            for obj in (*formset.new_objects, *(o for o, _ in formset.changed_objects), *formset.deleted_objects)
        ]
        # Django appends one entry per inline object, in this order, after the form's own.
        for entry, obj in zip(message[len(message) - len(inline_objects) :], inline_objects, strict=True):
            for detail in entry.values():
                # A deleted object's id is gone with it (Django clears it): the kind of record remains.
                detail["object"] = opaque_name(obj) if obj.pk is not None else obj._meta.model_name
        return message
