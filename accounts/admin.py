from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.audit import ClinicalAdminMixin
from accounts.models import Couple, Partner, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "role", "is_active", "is_staff", "last_login"]
    list_filter = ["role", "is_active", "is_staff"]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "password", "name", "role", "alert_emails"]}),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "role", "password1", "password2"]})]


class PartnerInline(admin.TabularInline):
    model = Partner
    extra = 0
    fields = ["slot", "name", "email", "user", "invited_at", "accepted_at", "consent_version"]
    readonly_fields = ["invited_at", "accepted_at", "consent_version"]


@admin.register(Couple)
class CoupleAdmin(ClinicalAdminMixin, admin.ModelAdmin):
    list_display = ["label", "therapist", "status", "time_zone", "created_at"]
    list_filter = ["status"]
    search_fields = ["label", "therapist__email"]
    inlines = [PartnerInline]
