"""Export the whole audit trail as CSV on stdout, for staff (compliance, a data-protection request).

The rows carry no clinical content (see intimacy/audit.py): who (sign-in address and user id), what,
which record (model and opaque id), which couple (id), when and from where.
"""

import csv

from auditlog.models import LogEntry
from django.core.management.base import BaseCommand

from intimacy.audit import ACTION_WORDS

COLUMNS = ["timestamp", "actor_id", "actor_email", "action", "model", "object_id", "couple_id", "remote_addr"]


def _cell(value) -> str:
    """A cell a spreadsheet will not run as a formula (a sign-in address may start with "=")."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class Command(BaseCommand):
    help = "Write the whole audit trail as CSV to stdout, oldest first."

    def handle(self, *args, **options):
        writer = csv.writer(self.stdout, lineterminator="\n")
        writer.writerow(COLUMNS)
        entries = (
            LogEntry.objects.order_by("timestamp", "pk")
            .values_list(
                "timestamp",
                "actor_id",
                "actor_email",
                "action",
                "content_type__app_label",
                "content_type__model",
                "object_pk",
                "cid",
                "remote_addr",
            )
            .iterator(chunk_size=2000)
        )
        for when, actor_id, email, action, app_label, model, object_pk, cid, address in entries:
            couple = cid.removeprefix("couple-") if cid and cid.startswith("couple-") else ""
            row = [when.isoformat(), actor_id, email, ACTION_WORDS.get(action, action), f"{app_label}.{model}"]
            writer.writerow([_cell(v) for v in [*row, object_pk, couple, address]])
