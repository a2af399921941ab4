"""Operations view of the homework. No free text of a clinical record is shown here (reflections,
notes to the couple, therapist notes, alert notes): support needs ids and dates, not words.
Opening a clinical record here is recorded in the audit trail, like a therapist's viewing."""

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django.contrib import admin

from accounts.audit import ClinicalAdminMixin
from intimacy.models import Alert, Assignment, CoupleNote, Exercise, Reflection, Session


@admin.register(Exercise)
class ExerciseAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "builtin_key", "archived_at"]
    search_fields = ["title"]

    def get_readonly_fields(self, request, obj=None):
        # A shape decides the roles and questions of every session logged under it, and the therapist's
        # trend parts are kept by it: once assigned, as in Tend itself (services.exercise_update), it stays.
        if obj is not None and obj.assignments.exists():
            return ["shape"]
        return []


class ReadOnlyAdmin(ClinicalAdminMixin, admin.ModelAdmin):
    """Seen by support, changed only by the therapist in Tend itself."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RecordAdmin(ReadOnlyAdmin):
    """What partners wrote down happened: seen by support as ids and dates, never added, changed or
    deleted here (a partner corrects or deletes their own in Tend, and the trail records it)."""

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Assignment)
class AssignmentAdmin(RecordAdmin):
    """Ids and dates. An assignment is set, changed and ended by its therapist in Tend; here staff
    could otherwise move it to another couple, and its form would list every couple's label and
    every partner's name across therapists."""

    list_display = ["pk", "couple_id", "exercise_id", "status", "target_per_week", "starts_on", "ends_on"]
    list_filter = ["status"]
    # never `note`: the therapist's words to the couple; the exercise by id (its title can be clinical)
    fields = [
        "couple_id",
        "exercise_id",
        "status",
        "target_per_week",
        "suggested_minutes",
        "giver_plan",
        "planned_giver_id",
        "starts_on",
        "ends_on",
        "created_at",
    ]
    readonly_fields = fields


@admin.register(Session)
class SessionAdmin(RecordAdmin):
    list_display = ["pk", "assignment_id", "date", "minutes", "withdrawn_at"]
    # The audit row of each session listed names its couple (`get_additional_data`): read with the page.
    list_select_related = ["assignment"]
    fields = [
        "assignment_id",
        "date",
        "minutes",
        "giver_id",
        "receiver_id",
        "logged_by_id",
        "withdrawn_at",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields


@admin.register(Reflection)
class ReflectionAdmin(RecordAdmin):
    list_display = ["pk", "session_id", "role", "visibility", "created_at"]
    list_filter = ["role", "visibility"]
    list_select_related = ["session__assignment"]
    fields = ["session_id", "partner_id", "role", "visibility", "created_at", "updated_at"]
    readonly_fields = fields


@admin.register(CoupleNote)
class CoupleNoteAdmin(ReadOnlyAdmin):
    list_display = ["pk", "couple", "author", "date", "created_at"]
    fields = ["couple", "author", "date", "created_at"]  # never `text`: the therapist's own words
    readonly_fields = fields


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["pk", "couple", "kind", "week", "urgent", "acknowledged_at"]
    list_filter = ["kind", "urgent"]
    fields = ["couple", "kind", "partner_id", "week", "urgent", "raised_at", "acknowledged_at", "acknowledged_by"]
    readonly_fields = fields  # never `acknowledgement`: the therapist's note


# The audit trail: auditlog's own admin is read-only already (no add, change or delete); this keeps it
# and makes its search use what Tend's rows hold (Tend's users have no first or last name fields).
admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class AuditEntryAdmin(LogEntryAdmin):
    search_fields = ["object_repr", "actor_email", "cid"]
