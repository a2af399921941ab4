"""The admin's own log named user accounts by `str(user)`, their email address: a partner's address in
"Recent actions" tells staff who is a client. From now on users are named "user <id>" there
(accounts/admin.py); this rewrites the rows written before in the same way, and drops change messages
in Django's old free-text form (which may quote the address). Django's JSON change messages for users
name changed fields only, so they stay."""

import json

from django.db import migrations


def _json_or_empty(change_message: str) -> str:
    try:
        return change_message if isinstance(json.loads(change_message), list) else ""
    except ValueError:
        return ""


def name_users_by_id(apps, schema_editor):
    LogEntry = apps.get_model("admin", "LogEntry")
    ContentType = apps.get_model("contenttypes", "ContentType")
    users = ContentType.objects.filter(app_label="accounts", model="user")
    for entry in LogEntry.objects.filter(content_type__in=users).iterator():
        entry.object_repr = f"user {entry.object_id}"
        if entry.change_message:
            entry.change_message = _json_or_empty(entry.change_message)
        entry.save(update_fields=["object_repr", "change_message"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_user_alert_email"),
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(name_users_by_id, migrations.RunPython.noop)]
