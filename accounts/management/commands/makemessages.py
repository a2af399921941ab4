"""Django's `makemessages`, made safe to run from the project root: `manage.py makemessages -l en`.

Django would otherwise walk node_modules (thousands of files that are not Tend's) and the test
suite, and write line numbers into the catalogue, so that every edit anywhere reshuffled it. This
version skips what holds no user-facing Tend text and names each string's file without its line.
"""

from django.core.management.commands import makemessages

# Folders under the project root that hold no user-facing Tend text: third-party code, the tests,
# generated output and operators' scripts. (.venv and other dot-folders Django skips itself.)
NOT_TENDS_TEXT = ["node_modules", "tests", "test-artifacts", "staticfiles", "scripts", "docs", "var"]


class Command(makemessages.Command):
    help = (
        f"{makemessages.Command.help} Tend's version skips {', '.join(NOT_TENDS_TEXT)}, and notes each "
        "string's file without line numbers unless --add-location says otherwise."
    )

    def handle(self, *args, **options):
        options["ignore_patterns"] = [*(options.get("ignore_patterns") or []), *NOT_TENDS_TEXT]
        options["add_location"] = options.get("add_location") or "file"
        super().handle(*args, **options)
