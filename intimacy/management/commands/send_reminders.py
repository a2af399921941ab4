"""Send the reminder emails that are due; run it from cron every few minutes."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from intimacy.reminders import reminders_run


class Command(BaseCommand):
    help = (
        "Send the reminder and urgent-alert emails that are due, each once; retry failed sends. "
        "Safe to run every few minutes, and two at once."
    )

    def handle(self, *args, **options):
        if not settings.TEND_SITE_URL:
            raise CommandError("Set TEND_SITE_URL (e.g. https://tend.example.org): emails link to it.")
        result = reminders_run()
        # Counts only: cron mail and logs carry nothing about anyone.
        self.stdout.write(
            f"sent {result.sent}, notifications {result.pushed}, failed {result.failed}, given up {result.given_up}"
        )
