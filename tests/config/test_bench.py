"""The benchmark (`make bench`, scripts/bench.py and scripts/locustfile.py) runs end to end.

A smoke test, not a measurement: `BENCH_MODE=pages` on tiny data (1 therapist × 3 couples), two Locust
users, two seconds per page, one round. It asserts the run completes, every page answered 200 every
time, and the report has every page's row with its ratio to the baseline; no timing is asserted (the
budgets are for a full run, docs/PERFORMANCE.md). Most of its time is migrating a fresh database,
seeding the demo cast and waiting (up to 30 s) for a fresh authenticator code for the appointment
view's own sign-in; the 14 s of load are the least of it.

It needs PostgreSQL (gunicorn and the bench run against a database of their own on the test run's
server), so it runs in the PostgreSQL pass of the suite (`make test-postgres`, scripts/with-postgres)
and is skipped on SQLite.
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import psycopg2
import pytest
from django.conf import settings
from django.db import connection

BASE_DIR = Path(__file__).resolve().parents[2]
SCRIPT = BASE_DIR / "scripts" / "bench.py"
PAGES = ["baseline", "dashboard_4w", "dashboard_12w", "dashboard_104w", "appointment", "caseload", "partner_home"]
SMOKE_DB = "tend_bench_smoke"

ONLY_POSTGRES = pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="The benchmark runs gunicorn against PostgreSQL: it runs in the PostgreSQL pass (scripts/with-postgres).",
)


def server_url(name: str) -> str:
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    return f"postgresql://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def drop_database(name: str) -> None:
    conn = psycopg2.connect(server_url("postgres"))
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
    conn.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smoke_database():
    drop_database(SMOKE_DB)
    yield server_url(SMOKE_DB)
    drop_database(SMOKE_DB)


@ONLY_POSTGRES
def test_pages_mode_runs_end_to_end(smoke_database, tmp_path):
    env = dict(
        os.environ,
        DATABASE_URL=smoke_database,
        BENCH_MODE="pages",
        BENCH_THERAPISTS="1",
        BENCH_COUPLES="3",
        BENCH_WEEKS="104",
        BENCH_CLIENTS="2",
        BENCH_WORKERS="2",
        BENCH_WARMUP="1",
        BENCH_SLOT="4",  # long enough for a loaded CI machine to finish a request of every page
        BENCH_SETTLE="0.5",
        BENCH_ROUNDS="1",
        BENCH_PORT=str(free_port()),
        BENCH_OUT=str(tmp_path),
        BENCH_EXPLAIN="0",  # the in-process query listing: `make bench` runs it; not needed to smoke-test
    )
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(  # noqa: S603 (this repository's own script)
        [sys.executable, str(SCRIPT)], env=env, cwd=BASE_DIR, capture_output=True, text=True, timeout=600
    )
    output = result.stdout + result.stderr
    # 0: every budget met; 1: a budget missed, which on tiny data with two clients says nothing.
    assert result.returncode in (0, 1), output
    [report_file] = tmp_path.glob("*-pages-1x3x104-1inst.json")
    report = json.loads(report_file.read_text())

    assert report["total_errors"] == 0, report["error_samples"]
    assert list(report["endpoints"]) == PAGES
    for page in PAGES:
        row = report["endpoints"][page]
        assert row["requests"] > 0, page
        assert row["errors"] == 0, page
        assert row["p95_vs_baseline"] is not None, page
        assert report["in_server"][page]["requests"] > 0, page
        assert report["in_server"][page]["p95_vs_baseline"] is not None, page
    budgets = {b["budget"]: b for b in report["budgets"]}
    assert budgets["no failed requests"]["ok"]
    assert "no errors in gunicorn's log" not in budgets, output
    for page in PAGES[1:]:
        assert any(name.startswith(f"{page} p95 ≤") for name in budgets), page
    assert "dashboard_104w p95 ≤ 1.2 × dashboard_4w p95" in budgets
    markdown = report_file.with_suffix(".md").read_text()
    for page in PAGES:
        assert f"| {page} |" in markdown
    # Locust's own statistics are kept beside the report.
    assert (tmp_path / report["locust_csv"]).exists()


def test_no_page_fetches_data_after_loading():
    """The bench counts each page's HTML: everything the first screen needs is in it. Static files are
    hashed and cached for good, and the only request a script makes is the appointment view's keep-alive,
    every 4 minutes. theme.js and push.js send only when the person acts (a colour chosen, notifications
    turned on or off), never on load. A script that fetches data for the first screen must be added to
    the bench's page (scripts/locustfile.py) and to this list."""
    fetching = {
        path.name
        for path in (BASE_DIR / "static" / "tend").glob("*.js")
        if any(call in path.read_text() for call in ("fetch(", "XMLHttpRequest", "EventSource", "sendBeacon"))
    }
    assert fetching <= {"appointment.js", "theme.js", "push.js"}, fetching
