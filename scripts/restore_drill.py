#!/usr/bin/env python3
"""Restore drill: prove that Tend's database comes back from a backup (docs/DEPLOY.md, "Backups and
restore"). `make restore-drill`, or on a server:

    .venv/bin/python scripts/restore_drill.py                     # the database in DATABASE_URL
    .venv/bin/python scripts/restore_drill.py --server URL        # restore on another server
    .venv/bin/python scripts/restore_drill.py --dump FILE         # restore a backup already made

1. In one snapshot of the database in DATABASE_URL: count the rows of every table, then dump it with
   the documented backup command (`pg_dump --format=custom --exclude-table-data=tend_drafts`) from
   that same snapshot, so the counts match the dump exactly even while Tend is in use. The words kept
   from unsaved forms (`tend_drafts`) are left out of every backup: they count as 0 rows.
2. Create a throwaway database (`<name>_restore_drill_<random>`) on the same server, or on the server
   of `--server` (a URL whose role may create databases; its database part is only used to connect).
3. Restore with the documented restore command (`pg_restore --no-owner --no-privileges
   --exit-on-error --single-transaction`).
4. Count the restored rows and compare, table by table.
5. `manage.py migrate --check` against the restored database: every migration of this release is
   applied (migrate also runs Django's system checks on it).
6. Drop the throwaway database and the dump, whatever happened.

With `--dump FILE` steps 1 and 4 are skipped: the given backup is restored and checked, and its row
counts are printed. Only table names and counts are printed, never a row. Exits 0 when every step
passed, 1 when the drill failed, 2 when it could not start.

pg_dump and pg_restore come from PG_BIN if set, else the newest /usr/lib/postgresql/*/bin (Debian's
packages), else PATH; their major version must be the server's or newer. A password in the URL is
handed to them through PGPASSWORD, never on a command line that `ps` shows.
"""

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from glob import glob
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import psycopg2
import psycopg2.errors
from psycopg2 import sql

BASE_DIR = Path(__file__).resolve().parent.parent

TABLES = """
    SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg_toast%%' AND n.nspname NOT LIKE 'pg_temp%%'
    ORDER BY 1, 2
"""


class DrillError(Exception):
    """A step that failed; the message says which and why (never a row's content)."""


def version(folder: str) -> list[int]:
    """/usr/lib/postgresql/16/bin → [16], so 16 sorts after 9.6 (as `sort -V` does in with-postgres)."""
    return [int(part) for part in Path(folder).parent.name.split(".") if part.isdigit()]


def pg_tool(name: str) -> str:
    """The newest `name` binary: PG_BIN, then Debian's /usr/lib/postgresql/<version>/bin, then PATH."""
    folders = [os.environ["PG_BIN"]] if os.environ.get("PG_BIN") else []
    folders += sorted(glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    for folder in folders:
        if os.access(Path(folder) / name, os.X_OK):
            return str(Path(folder) / name)
    found = shutil.which(name)
    if not found:
        raise DrillError(f"{name} not found: install PostgreSQL's client programs or set PG_BIN")
    return found


def libpq_url(url: str) -> str:
    """DATABASE_URL as libpq reads it (dj-database-url also knows postgres:// and pgsql://)."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise DrillError("DATABASE_URL is not a PostgreSQL database: the drill needs PostgreSQL")
    return urlunsplit(parts._replace(scheme="postgresql"))


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def database_name(url: str) -> str:
    return unquote(urlsplit(url).path.lstrip("/"))


def tool_args(url: str) -> tuple[str, dict]:
    """The URL without its password, and an environment carrying it in PGPASSWORD."""
    parts = urlsplit(url)
    env = dict(os.environ)
    if parts.password is not None:
        env["PGPASSWORD"] = unquote(parts.password)
        userinfo = parts.netloc.rsplit("@", 1)[0].split(":", 1)[0]
        parts = parts._replace(netloc=f"{userinfo}@{parts.netloc.rsplit('@', 1)[1]}")
    return urlunsplit(parts), env


def run(args: list[str], env: dict, step: str) -> subprocess.CompletedProcess:
    done = subprocess.run(args, env=env, capture_output=True, text=True)  # noqa: S603 (fixed programs)
    if done.returncode != 0:
        raise DrillError(f"{step} failed (exit {done.returncode}):\n{done.stderr.strip() or done.stdout.strip()}")
    return done


# Tables whose rows never go into a backup (docs/DEPLOY.md): the table itself is dumped, empty.
EXCLUDED_DATA = ("tend_drafts",)
DUMP_ARGS = ["--format=custom", *(f"--exclude-table-data={table}" for table in EXCLUDED_DATA)]


def count_rows(cursor) -> dict[str, int]:
    cursor.execute(TABLES)
    counts = {}
    for schema, table in cursor.fetchall():
        cursor.execute(sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table)))
        counts[f"{schema}.{table}"] = cursor.fetchone()[0]
    return counts


def dump_with_counts(url: str, dump: Path) -> dict[str, int]:
    """Count every table and dump the database, both from one exported snapshot."""
    conn = psycopg2.connect(url)
    try:
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            counts = {
                name: 0 if name.split(".", 1)[1] in EXCLUDED_DATA else rows for name, rows in count_rows(cursor).items()
            }
            # The snapshot lives as long as this transaction: pg_dump runs while it is open.
            dsn, env = tool_args(url)
            run(
                [pg_tool("pg_dump"), *DUMP_ARGS, f"--snapshot={snapshot}", f"--file={dump}", f"--dbname={dsn}"],
                env,
                "pg_dump",
            )
        conn.rollback()
    finally:
        conn.close()
    return counts


def admin(server_url: str, statement: sql.Composable) -> None:
    conn = psycopg2.connect(server_url)
    try:
        conn.autocommit = True  # CREATE and DROP DATABASE cannot run inside a transaction
        with conn.cursor() as cursor:
            cursor.execute(statement)
    finally:
        conn.close()


def restore(dump: Path, target_url: str) -> None:
    dsn, env = tool_args(target_url)
    run(
        [
            pg_tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={dsn}",
            str(dump),
        ],
        env,
        "pg_restore",
    )


def restored_counts(target_url: str) -> dict[str, int]:
    conn = psycopg2.connect(target_url)
    try:
        with conn.cursor() as cursor:
            return count_rows(cursor)
    finally:
        conn.close()


def compare(source: dict[str, int], restored: dict[str, int]) -> list[str]:
    """One line per table whose rows differ, or that exists on one side only."""
    problems = []
    for table in sorted(source.keys() | restored.keys()):
        before, after = source.get(table), restored.get(table)
        if before != after:
            source_rows, restored_rows = ("no such table" if n is None else f"{n} rows" for n in (before, after))
            problems.append(f"{table}: source {source_rows}, restored {restored_rows}")
    return problems


def migrations_applied(target_url: str) -> None:
    env = dict(os.environ, DATABASE_URL=target_url)
    run([sys.executable, str(BASE_DIR / "manage.py"), "migrate", "--check"], env, "manage.py migrate --check")


def drill(source_url: str, server_url: str, given_dump: Path | None) -> list[str]:
    """The drill's steps; returns the report's lines, or raises DrillError at the first failure."""
    name = f"{database_name(source_url)[:40]}_restore_drill_{secrets.token_hex(4)}"
    target_url = with_database(server_url, name)
    workdir = Path(tempfile.mkdtemp(prefix="tend-restore-drill-"))  # 0700: the dump is the whole record
    created = False
    try:
        dump = given_dump or workdir / "tend.dump"
        source = None if given_dump else dump_with_counts(source_url, dump)
        try:
            admin(server_url, sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
        except psycopg2.errors.InsufficientPrivilege as exc:
            raise DrillError(f"{exc}".strip() + " (give --server a URL whose role may create databases)") from exc
        created = True
        restore(dump, target_url)
        restored = restored_counts(target_url)
        migrations_applied(target_url)
        report = [f"restored into {name}: {len(restored)} tables, {sum(restored.values())} rows"]
        if source is None:
            return report + [f"  {table}: {n}" for table, n in sorted(restored.items())]
        if problems := compare(source, restored):
            raise DrillError("row counts differ:\n  " + "\n  ".join(problems))
        return report + ["row counts: every table matches the source", "migrations: all applied"]
    finally:
        if created:
            admin(server_url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", help="a URL of the server to restore on (default: DATABASE_URL's server)")
    parser.add_argument("--dump", type=Path, help="restore this pg_dump --format=custom file instead of a new dump")
    args = parser.parse_args(argv)
    try:
        if not os.environ.get("DATABASE_URL") and not (args.dump and args.server):
            raise DrillError("DATABASE_URL is not set")
        source_url = libpq_url(os.environ.get("DATABASE_URL") or args.server)
        server_url = libpq_url(args.server) if args.server else source_url
        if args.dump and not args.dump.is_file():
            raise DrillError(f"{args.dump} is not a file")
    except DrillError as exc:
        print(f"restore drill: {exc}", file=sys.stderr)
        return 2
    try:
        lines = drill(source_url, server_url, args.dump)
    except (DrillError, psycopg2.Error) as exc:
        print(f"restore drill FAILED: {exc}", file=sys.stderr)
        return 1
    print("restore drill passed")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
