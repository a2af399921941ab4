"""The restore drill (scripts/restore_drill.py, `make restore-drill`): a backup made with the documented
command comes back whole into a throwaway database, and the drill notices when it does not.

The drill needs a PostgreSQL server and its client programs, so it runs in the PostgreSQL pass of the
suite (`make test-postgres`, scripts/with-postgres; under CI=true a missing PostgreSQL fails there).
On SQLite it is skipped; with PostgreSQL but without pg_dump, it is skipped locally and fails under CI.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.cache import caches
from django.db import connection

from accounts.models import ReminderSend

BASE_DIR = Path(__file__).resolve().parents[2]
SCRIPT = BASE_DIR / "scripts" / "restore_drill.py"

_spec = importlib.util.spec_from_file_location("restore_drill", SCRIPT)
restore_drill = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(restore_drill)

POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
ONLY_POSTGRES = pytest.mark.skipif(
    not POSTGRES,
    reason="The restore drill dumps and restores a PostgreSQL database: it runs in the PostgreSQL pass "
    "(scripts/with-postgres).",
)


@pytest.fixture
def database_url() -> str:
    """The test database, as a deployment's DATABASE_URL would name it; skipped (or, under CI, failed)
    without PostgreSQL's client programs."""
    try:
        restore_drill.pg_tool("pg_dump")
        restore_drill.pg_tool("pg_restore")
    except restore_drill.DrillError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true: {exc}")
        pytest.skip(str(exc))
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    return f"postgresql://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def drill(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, DATABASE_URL=database_url)
    return subprocess.run(  # noqa: S603 (this repository's own script)
        [sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=120
    )


def drill_databases() -> list[str]:
    """The drill databases made from this test database (each pytest-xdist worker has its own)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s",
            [f"{connection.settings_dict['NAME']}_restore_drill%"],
        )
        return [row[0] for row in cursor.fetchall()]


@ONLY_POSTGRES
@pytest.mark.django_db(transaction=True)
def test_the_drill_restores_every_row_and_finds_every_migration_applied(database_url, session):
    at = session.created_at
    ReminderSend.objects.create(recipient=session.giver.user, kind="planned", key="k", due_at=at, next_attempt_at=at)
    # Words kept from an unsaved form are left out of backups: the restore has the table, empty.
    caches["drafts"].set("tend-draft:1", {"fields": {"notes": ["Kept-draft-words"]}}, 600)
    done = drill(database_url)
    assert done.returncode == 0, done.stderr
    assert "row counts: every table matches the source" in done.stdout
    assert "migrations: all applied" in done.stdout
    # Names and counts only: nothing anyone wrote reaches the drill's report.
    assert "A-shared-words" not in done.stdout + done.stderr
    assert "public.tend_drafts: source" not in done.stderr
    assert drill_databases() == []  # the throwaway database is gone


@ONLY_POSTGRES
@pytest.mark.django_db(transaction=True)
def test_the_drill_fails_when_the_restored_database_lacks_a_migration(database_url, couple):
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM django_migrations WHERE id = (SELECT max(id) FROM django_migrations WHERE app = 'accounts')"
            " RETURNING app, name, applied"
        )
        removed = cursor.fetchone()
    try:
        done = drill(database_url)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO django_migrations (app, name, applied) VALUES (%s, %s, %s)", removed)
    assert done.returncode == 1
    assert "manage.py migrate --check failed" in done.stderr
    assert drill_databases() == []


@ONLY_POSTGRES
@pytest.mark.django_db(transaction=True)
def test_the_drill_restores_a_backup_made_with_the_documented_command(database_url, session, tmp_path):
    caches["drafts"].set("tend-draft:1", {"fields": {"notes": ["Kept-draft-words"]}}, 600)
    backup = tmp_path / "tend.dump"
    # docs/DEPLOY.md, "Backups and restore": the nightly backup.
    subprocess.run(  # noqa: S603 (PostgreSQL's own program)
        [restore_drill.pg_tool("pg_dump"), *restore_drill.DUMP_ARGS, f"--file={backup}", f"--dbname={database_url}"],
        check=True,
    )
    done = drill(database_url, "--dump", str(backup))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "  public.intimacy_session: 1" in lines
    assert "  public.intimacy_reflection: 1" in lines
    assert "  public.accounts_partner: 2" in lines
    assert "  public.tend_drafts: 0" in lines  # kept words never reach a backup
    assert drill_databases() == []


def test_the_drill_names_every_table_that_differs():
    source = {"public.accounts_couple": 3, "public.intimacy_reflection": 10, "public.intimacy_session": 7}
    restored = {"public.accounts_couple": 3, "public.intimacy_reflection": 9, "public.extra": 0}
    assert restore_drill.compare(source, restored) == [
        "public.extra: source no such table, restored 0 rows",
        "public.intimacy_reflection: source 10 rows, restored 9 rows",
        "public.intimacy_session: source 7 rows, restored no such table",
    ]
    assert restore_drill.compare(source, dict(source)) == []


def test_the_drill_refuses_a_database_that_is_not_postgresql(capsys, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:///db.sqlite3")
    assert restore_drill.main([]) == 2
    assert "not a PostgreSQL database" in capsys.readouterr().err


def test_a_password_reaches_the_tools_through_the_environment_not_the_command_line():
    dsn, env = restore_drill.tool_args("postgresql://tend:s%40cret@db.example.org:5432/tend?sslmode=require")
    assert dsn == "postgresql://tend@db.example.org:5432/tend?sslmode=require"
    assert env["PGPASSWORD"] == "s@cret"
