#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # A checkout without a configured secret key is a developer's machine: let management commands
    # run in local mode there. Deployments set DJANGO_SECRET_KEY, and then DJANGO_DEBUG is theirs alone.
    if not os.environ.get("DJANGO_SECRET_KEY"):
        os.environ.setdefault("DJANGO_DEBUG", "1")
    # Commands (migrations, seeding the scale data, clearsessions over a big table) may run statements
    # far longer than a web request should: they take TEND_DB_COMMAND_STATEMENT_TIMEOUT (seconds, none
    # by default) in place of the web's TEND_DB_STATEMENT_TIMEOUT (config/settings.py).
    os.environ["TEND_DB_STATEMENT_TIMEOUT"] = os.environ.get("TEND_DB_COMMAND_STATEMENT_TIMEOUT") or "0"
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
