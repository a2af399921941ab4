#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # A checkout without a configured secret key is a developer's machine: let management commands
    # run in local mode there. Deployments set DJANGO_SECRET_KEY, and then DJANGO_DEBUG is theirs alone.
    if not os.environ.get("DJANGO_SECRET_KEY"):
        os.environ.setdefault("DJANGO_DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
