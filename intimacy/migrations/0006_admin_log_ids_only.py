"""The admin's own log (django.contrib.admin's LogEntry) named clinical records by `str(obj)`: a couple's
label, a partner's name, an exercise's title. From now on it names them "<model> <id>"
(accounts/audit.py); this rewrites the rows written before in the same way. Nothing of the records
themselves changes: only the log's copies of their names go."""

import json

from django.db import migrations
from django.db.models import Q

# The clinical models as this migration knows them (intimacy/audit.py FREE_TEXT, at the time).
CLINICAL = {
    "accounts": ["couple", "partner"],
    "intimacy": ["assignment", "session", "reflection", "couplenote", "alert", "safetymessage", "checkin"],
}


def without_names(change_message: str) -> str:
    """Django's JSON change message with each inline object's name ("object") replaced by its kind;
    a message in an older free-text form is dropped, since it may quote a name."""
    try:
        entries = json.loads(change_message)
    except ValueError:
        return ""
    if not isinstance(entries, list):
        return ""
    for entry in entries:
        for detail in entry.values() if isinstance(entry, dict) else ():
            if isinstance(detail, dict) and "object" in detail:
                detail["object"] = detail.get("name", "")
    return json.dumps(entries)


def name_records_by_id(apps, schema_editor):
    LogEntry = apps.get_model("admin", "LogEntry")
    ContentType = apps.get_model("contenttypes", "ContentType")
    clinical = Q()
    for app_label, models in CLINICAL.items():
        clinical |= Q(app_label=app_label, model__in=models)
    entries = LogEntry.objects.filter(content_type__in=ContentType.objects.filter(clinical))
    for entry in entries.select_related("content_type").iterator():
        entry.object_repr = f"{entry.content_type.model} {entry.object_id}"
        if entry.change_message:
            entry.change_message = without_names(entry.change_message)
        entry.save(update_fields=["object_repr", "change_message"])


class Migration(migrations.Migration):
    dependencies = [
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("intimacy", "0005_checkin"),
    ]

    operations = [migrations.RunPython(name_records_by_id, migrations.RunPython.noop)]
