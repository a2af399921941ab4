from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.services import email_in_use, therapist_create


class Command(BaseCommand):
    help = "Create a therapist account (public sign-up is closed unless TEND_OPEN_SIGNUP=1)."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--name", default="")

    def handle(self, *args, email: str, name: str, **options):
        if email_in_use(email):
            raise CommandError(f"{email} already has a Tend account or invitation.")
        try:
            therapist_create(email=email, name=name)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(
            f"Created therapist {email.lower()}. They set a password with “Forgot password” on the sign-in page."
        )
