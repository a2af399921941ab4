"""Operations view of the homework. Reflection text is never shown here: support needs ids and dates, not words."""

from django.contrib import admin

from intimacy.models import Assignment, Exercise, Reflection, Session


@admin.register(Exercise)
class ExerciseAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "builtin_key", "archived_at"]
    search_fields = ["title"]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["pk", "couple", "exercise", "status", "target_per_week", "starts_on", "ends_on"]
    list_filter = ["status"]
    exclude = ["note"]


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = ["pk", "assignment", "date", "minutes", "withdrawn_at"]
    readonly_fields = ["idempotency_key"]


@admin.register(Reflection)
class ReflectionAdmin(admin.ModelAdmin):
    list_display = ["pk", "session", "role", "visibility", "created_at"]
    list_filter = ["role", "visibility"]
    fields = ["session", "partner", "role", "visibility", "created_at", "updated_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
