"""Print the demo therapists' current sign-in code, for a local demo without an authenticator app."""

import time

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from intimacy.demo import DEMO_TOTP_SECRET

PERIOD = 30


class Command(BaseCommand):
    help = "Print the current authenticator code of the demo therapists (DEBUG only)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("demo_code works only with DEBUG on: the demo secret is public.")
        now = time.time()
        code = format_hotp_value(hotp_value(DEMO_TOTP_SECRET, int(now) // PERIOD))
        left = PERIOD - int(now) % PERIOD
        self.stdout.write(f"{code}  (valid for about {left} more seconds; each code signs in once)")
