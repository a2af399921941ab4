from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.audit import ClinicalAdminMixin, IdOnlyAdminLogMixin
from accounts.models import Couple, User


@admin.register(User)
class UserAdmin(IdOnlyAdminLogMixin, BaseUserAdmin):
    """A user's name in the admin's log is their id: their address would tell anyone reading "Recent
    actions" who is a client."""

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


@admin.register(Couple)
class CoupleAdmin(ClinicalAdminMixin, admin.ModelAdmin):
    list_display = ["label", "therapist", "status", "time_zone", "created_at"]
    list_filter = ["status"]
    search_fields = ["label", "therapist__email"]
    # The screening and the export are records of what the therapist did, made in Tend itself.
    readonly_fields = ["partners", "screened_at", "exported_at", "created_at"]

    def has_delete_permission(self, request, obj=None):
        # A couple is deleted in Tend, by their therapist: behind the password, with the export first.
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "therapist":
            # Only a therapist holds a caseload; and partners' addresses never fill the list.
            kwargs["queryset"] = User.objects.filter(role=User.Role.THERAPIST).order_by("email")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("partners"))
    def partners(self, couple: Couple) -> str:
        """The two partners as ids and dates. Who they are, their address and which account is theirs
        are changed in Tend (the invitation, consent), never here: there is no partner form at all."""
        return format_html_join(
            "",
            "<div>{} · {} · {} · {} · {} · {}</div>",
            (
                (
                    _("partner %(id)s, slot %(slot)s") % {"id": p.pk, "slot": p.slot},
                    _("account %(id)s") % {"id": p.user_id} if p.user_id else _("no account yet"),
                    _("invited %(when)s") % {"when": _when(p.invited_at)},
                    _("joined %(when)s") % {"when": _when(p.accepted_at)},
                    _("consent %(version)s %(when)s")
                    % {"version": p.consent_version or "–", "when": _when(p.consent_accepted_at)},
                    _("withdrawn %(when)s") % {"when": _when(p.consent_withdrawn_at)},
                )
                for p in couple.partners.all()
            ),
        )


def _when(moment) -> str:
    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT") if moment else "–"
