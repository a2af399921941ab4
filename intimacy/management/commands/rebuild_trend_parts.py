"""Rebuild the therapist's trend parts (models.TrendPart) from the sessions, or check them (`--check`).

Parts are kept exact by every write (intimacy/trend_parts.py); this is for data written without
signals (a bulk import, a restore from before parts existed) and for checking. Prints counts and couple
ids only: never anything a partner wrote.
"""

from django.core.management.base import BaseCommand, CommandError

from intimacy import trend_parts


class Command(BaseCommand):
    help = "Rebuild the trend parts from the sessions, or with --check report the couples whose parts differ."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Only compare; exit 1 if any part differs.")
        parser.add_argument(
            "--couple", type=int, action="append", dest="couples", help="Only this couple (repeatable)."
        )

    def handle(self, *args, check: bool, couples: list[int] | None, **options):
        if check:
            differing = trend_parts.differences(couples)
            if differing:
                raise CommandError(
                    f"Trend parts differ from the sessions for couple(s): {', '.join(map(str, differing))}"
                )
            self.stdout.write("Trend parts: every one equals the sessions it sums.")
            return
        written = trend_parts.rebuild(couples)
        self.stdout.write(f"Trend parts: {written} written.")
