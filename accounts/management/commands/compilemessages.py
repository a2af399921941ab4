"""Django's `compilemessages`, made safe to run from the project root: `manage.py compilemessages`.

Django's walks the whole tree for locale folders, .venv and node_modules included, and would compile
(or fail on) third-party catalogues there. This version compiles Tend's own: see `makemessages`.
"""

from django.core.management.commands import compilemessages

from accounts.management.commands.makemessages import NOT_TENDS_TEXT


class Command(compilemessages.Command):
    help = f"{compilemessages.Command.help} Tend's version skips dot-folders and {', '.join(NOT_TENDS_TEXT)}."

    def handle(self, **options):
        options["ignore_patterns"] = [*(options.get("ignore_patterns") or []), ".*", *NOT_TENDS_TEXT]
        super().handle(**options)
