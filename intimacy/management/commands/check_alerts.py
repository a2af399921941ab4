"""Raise the "Needs attention" alerts for every active couple; run it from cron, as often as you like."""

from django.core.management.base import BaseCommand

from accounts.models import Couple
from intimacy.alerts import alerts_raise


class Command(BaseCommand):
    help = "Raise 'Needs attention' alerts for every active couple and print how many are new. Safe to rerun."

    def handle(self, *args, **options):
        raised = 0
        for couple in Couple.objects.filter(status=Couple.Status.ACTIVE).order_by("pk").iterator():
            raised += len(alerts_raise(couple=couple))
        # A bare number: cron mail and logs must carry nothing clinical, not even which kind or who.
        self.stdout.write(str(raised))
