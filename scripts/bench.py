#!/usr/bin/env python3
"""Tend's load benchmark: `make bench` (docs/PERFORMANCE.md).

Against the PostgreSQL in DATABASE_URL (`make bench` makes a throwaway one with scripts/with-postgres):
migrate, seed the scale data (`seed_demo --therapists T --couples-per-therapist C --weeks W`), collect
the static files, start gunicorn as in production (DEBUG off, hashed static files, database sessions
and cache), sign real users in through the sign-in pages (therapists with their authenticator code),
then drive a mixed load with concurrent clients for a fixed time. Every client is one person's
browser pair: a therapist (caseload, dashboard over 104 and 4 weeks, appointment view) and a partner
(home, "Log a back rub" POSTs), each client from its own loopback address (127.0.0.x) as separate
devices would be. A trivial signed-in page is measured in the same run as the baseline, so the
budgets are ratios that hold on a noisy machine.

With BENCH_INSTANCES=2 two gunicorn instances run on neighbouring ports and every client sends its
requests to them in turn, so each person's requests (sign-in steps included) land on both; a few
checks then show that sessions, the one-time use of authenticator codes, the failed sign-in limit
and idempotent logging hold across instances.

Writes bench-results/<time>-<size>.json and .md, prints the table, and exits 1 when a budget is
missed: any error; an endpoint's p95 above 3 × the baseline's p95; the dashboard over 104 weeks above
1.5 × its p95 over 4 weeks.

`scripts/bench.py explain` (run by the benchmark after seeding) renders each measured page once
in-process, lists its queries by time and runs EXPLAIN ANALYZE on the slowest.

Standard library only on the client side (threads and http.client). Settings, all optional:
  BENCH_SIZE=full|quick      full: 10 therapists × 50 couples × 104 weeks; quick: 2 × 10 × 104
  BENCH_THERAPISTS, BENCH_COUPLES, BENCH_WEEKS   override the size
  BENCH_CLIENTS=16           concurrent clients
  BENCH_DURATION=60          measured seconds (quick: 20), after BENCH_WARMUP=5 seconds
  BENCH_INSTANCES=1|2        gunicorn instances (ports BENCH_PORT, BENCH_PORT+1; default 8100)
  BENCH_WORKERS              gunicorn workers per instance (default 3, or 2 each with 2 instances)
  BENCH_OUT=bench-results    where results go
"""

import http.client
import json
import os
import platform
import random
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = str(BASE_DIR / ".venv" / "bin" / "python")
GUNICORN = str(BASE_DIR / ".venv" / "bin" / "gunicorn")
PASSWORD = "tend-demo-2026"  # noqa: S105 - the documented demo password of the scale data
TOTP_SECRET = "JBSWY3DPEHPK3PXP"  # noqa: S105 - the documented, public demo secret
SIZES = {"full": (10, 50, 104), "quick": (2, 10, 104)}

# The mix: relative weights of what the clients do. The baseline is a trivial signed-in page.
MIX = {
    "baseline": 2,
    "caseload": 2,
    "dashboard_104w": 2,
    "dashboard_4w": 2,
    "appointment_104w": 2,
    "partner_home": 2,
    "log_post": 1,
}
BASELINE_PATH = "/accounts/password/change/"
# Budgets (issue 7).
MAX_P95_VS_BASELINE = 3.0
MAX_DASHBOARD_104_VS_4 = 1.5


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


@dataclass
class Config:
    therapists: int
    couples: int
    weeks: int
    clients: int
    duration: int
    warmup: int
    instances: int
    workers: int
    port: int
    out: Path
    size: str

    @classmethod
    def from_env(cls) -> "Config":
        size = os.environ.get("BENCH_SIZE", "full").strip() or "full"
        if size not in SIZES:
            sys.exit(f"BENCH_SIZE must be one of {', '.join(SIZES)}, got {size!r}")
        t, c, w = SIZES[size]
        instances = env_int("BENCH_INSTANCES", 1)
        if instances not in (1, 2):
            sys.exit("BENCH_INSTANCES must be 1 or 2")
        config = cls(
            therapists=env_int("BENCH_THERAPISTS", t),
            couples=env_int("BENCH_COUPLES", c),
            weeks=env_int("BENCH_WEEKS", w),
            clients=env_int("BENCH_CLIENTS", 16),
            duration=env_int("BENCH_DURATION", 60 if size == "full" else 20),
            warmup=env_int("BENCH_WARMUP", 5),
            instances=instances,
            workers=env_int("BENCH_WORKERS", 3 if instances == 1 else 2),
            port=env_int("BENCH_PORT", 8100),
            out=Path(os.environ.get("BENCH_OUT", str(BASE_DIR / "bench-results"))),
            size=size,
        )
        if config.weeks < 104:
            sys.exit("BENCH_WEEKS must be at least 104: the benchmark reads 104 weeks of history")
        if config.clients > 200:
            sys.exit("BENCH_CLIENTS: at most 200 (one loopback address each)")
        return config

    @property
    def label(self) -> str:
        return f"{self.therapists}x{self.couples}x{self.weeks}-{self.instances}inst"


# HTTP -------------------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: list
    body: bytes
    seconds: float

    @property
    def location(self) -> str:
        for name, value in self.headers:
            if name.lower() == "location":
                return urlsplit(value).path
        return ""

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Browser:
    """One signed-in person: their cookies, and the loopback address their requests come from.

    Requests go to the instances in turn (one instance: always the same), so with two instances a
    person's consecutive requests land on different servers. All of them carry the same Host header, as
    behind a proxy that passes the public name on (allauth keys its per-account limits by it).
    """

    def __init__(self, ports: list[int], source_ip: str) -> None:
        self.ports, self.source_ip = ports, source_ip
        self.cookies: dict[str, str] = {}
        self._turn = 0
        self._lock = threading.Lock()

    def _next_port(self) -> int:
        with self._lock:
            self._turn += 1
            return self.ports[self._turn % len(self.ports)]

    def request(
        self, method: str, path: str, form: dict | None = None, keep_cookies: bool = True, tag: str = "setup"
    ) -> Response:
        port = self._next_port()
        # X-Bench names the endpoint in gunicorn's access log, which gives each request's time in the server.
        headers = {"Host": f"127.0.0.1:{min(self.ports)}", "Connection": "close", "User-Agent": "tend-bench"}
        headers["X-Bench"] = tag
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120, source_address=(self.source_ip, 0))
        started = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            raw = conn.getresponse()
            data = raw.read()
            elapsed = time.perf_counter() - started
            response = Response(raw.status, raw.getheaders(), data, elapsed)
        finally:
            conn.close()
        if keep_cookies:
            self._store_cookies(response)
        return response

    def _store_cookies(self, response: Response) -> None:
        for name, value in response.headers:
            if name.lower() != "set-cookie":
                continue
            jar = SimpleCookie()
            jar.load(value)
            for key, morsel in jar.items():
                if morsel.value == "" or morsel["max-age"] == "0":
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = morsel.value


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if not match:
        raise RuntimeError("no CSRF token in the page")
    return match.group(1)


def totp_code(secret: str = TOTP_SECRET) -> tuple[str, int]:
    """The authenticator app's current code (as allauth computes it) and its 30-second period."""
    import base64
    import hashlib
    import hmac
    import struct

    period = int(time.time()) // 30
    digest = hmac.new(base64.b32decode(secret), struct.pack(">Q", period), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{value:06d}", period


class SignInFailed(RuntimeError):
    pass


def sign_in(browser: Browser, email: str, password: str = PASSWORD, code: str | None = None) -> Response:
    """Sign in through allauth's pages as a person would; therapists add their authenticator code.

    Returns the last response: a redirect to "/" when signed in, the form again when refused.
    """
    page = browser.request("GET", "/accounts/login/")
    form = {"login": email, "password": password, "csrfmiddlewaretoken": csrf_token(page.text)}
    response = browser.request("POST", "/accounts/login/", form)
    if response.status == 302 and response.location == "/accounts/2fa/authenticate/":
        page = browser.request("GET", "/accounts/2fa/authenticate/")
        code = code or totp_code()[0]
        response = browser.request(
            "POST", "/accounts/2fa/authenticate/", {"code": code, "csrfmiddlewaretoken": csrf_token(page.text)}
        )
    return response


def sign_in_or_fail(browser: Browser, email: str) -> None:
    response = sign_in(browser, email)
    if response.status != 302 or response.location != "/":
        raise SignInFailed(f"{email}: sign-in answered {response.status} {response.location}")
    home = browser.request("GET", "/")
    if home.status != 200:
        raise SignInFailed(f"{email}: home answered {home.status} {home.location}")


# People and what they do ------------------------------------------------------------------------


@dataclass
class Therapist:
    browser: Browser
    email: str
    couples: list[int] = field(default_factory=list)


@dataclass
class PartnerPerson:
    browser: Browser
    email: str
    assignment: int = 0
    day: str = ""
    logged: int = 0  # sessions this person logged in the run: each goes one day further back


def active_couples(couples: int) -> list[int]:
    # intimacy/scale.py: every tenth couple (k = 10, 20, …) is paused or closed.
    return [k for k in range(1, couples + 1) if k % 10]


def prepare_people(config: Config, ports: list[int]) -> tuple[list[Therapist], list[PartnerPerson]]:
    """Sign in one therapist per client (up to the number of scale therapists; clients beyond share
    them, as one person's two browser tabs would) and one partner per client, each of their own couple."""
    therapists = []
    for i in range(min(config.therapists, config.clients)):
        email = f"scale-therapist-{i + 1}@example.com"
        browser = Browser(ports, f"127.0.0.{2 + i}")
        sign_in_or_fail(browser, email)
        page = browser.request("GET", "/")
        couples = sorted({int(pk) for pk in re.findall(r'href="/couples/(\d+)/"', page.text)})
        if not couples:
            raise SignInFailed(f"{email}: no couples on the caseload")
        therapists.append(Therapist(browser, email, couples))
    ks = active_couples(config.couples)
    partners = []
    for i in range(config.clients):
        t = i % config.therapists + 1
        k = ks[(i // config.therapists) % len(ks)]
        side = "ab"[(i // (config.therapists * len(ks))) % 2]
        email = f"scale-t{t}-c{k}-{side}@example.com"
        browser = Browser(ports, f"127.0.0.{2 + i}")
        sign_in_or_fail(browser, email)
        start = browser.request("GET", "/log/")
        match = re.fullmatch(r"/assignments/(\d+)/log/", start.location)
        if start.status != 302 or not match:
            raise SignInFailed(f"{email}: /log/ did not lead to one active assignment")
        person = PartnerPerson(browser, email, int(match.group(1)))
        form = browser.request("GET", f"/assignments/{person.assignment}/log/?new=1")
        found = re.search(r'name="date" value="(\d{4}-\d\d-\d\d)"', form.text)
        if form.status != 200 or not found:
            raise SignInFailed(f"{email}: the log form did not show")
        person.day = found.group(1)  # the couple's today, as the form offers it
        partners.append(person)
    return therapists, partners


def log_form(person: PartnerPerson, key: str | None = None, days_back: int = 0) -> dict:
    day = date.fromisoformat(person.day) - timedelta(days=days_back)
    return {
        "csrfmiddlewaretoken": person.browser.cookies.get("csrftoken", ""),
        "idempotency_key": key or str(uuid.uuid4()),
        "date": day.isoformat(),
        "minutes": "15",
        "role": "giver",
        "connection": "7",
        "comfort": "8",
        "safe": "9",
        "visibility": "shared",
    }


def do(action: str, therapist: Therapist, partner: PartnerPerson, rng: random.Random) -> tuple[Response, bool]:
    """One request of the mix; returns the response and whether it is what a working Tend answers."""
    if action == "log_post":
        # A new session each time: the same day and role again within minutes would be recognised as
        # the same session sent twice (intimacy/services.py, REPEAT_WINDOW) and stored once, unmeasured.
        form = log_form(partner, days_back=partner.logged)
        partner.logged += 1
        r = partner.browser.request(
            "POST", f"/assignments/{partner.assignment}/log/?new=1", form, keep_cookies=False, tag=action
        )
        return r, r.status == 302 and r.location == "/"
    if action in ("baseline", "partner_home"):
        path = BASELINE_PATH if action == "baseline" else "/"
        r = partner.browser.request("GET", path, keep_cookies=False, tag=action)
    else:
        couple = rng.choice(therapist.couples)
        path = {
            "caseload": "/",
            "dashboard_104w": f"/couples/{couple}/?weeks=104",
            "dashboard_4w": f"/couples/{couple}/?weeks=4",
            "appointment_104w": f"/couples/{couple}/appointment/?weeks=104",
        }[action]
        r = therapist.browser.request("GET", path, keep_cookies=False, tag=action)
    return r, r.status == 200


@dataclass
class Results:
    seconds: dict = field(default_factory=lambda: defaultdict(list))
    errors: dict = field(default_factory=lambda: defaultdict(int))
    samples: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, action: str, response: Response | None, ok: bool, note: str = "") -> None:
        with self.lock:
            if response is not None:
                self.seconds[action].append(response.seconds)
            if not ok:
                self.errors[action] += 1
                if len(self.samples) < 20:
                    detail = note or (f"{response.status} {response.location}" if response else "")
                    self.samples.append(f"{action}: {detail}")


def drive(config, therapists, partners, seconds: float, results: Results | None) -> float:
    """`config.clients` threads, each doing the mix as fast as answers come, for `seconds`."""
    deadline = time.monotonic() + seconds
    actions, weights = list(MIX), list(MIX.values())

    def client(i: int) -> None:
        rng = random.Random(1000 + i)  # the same sequence of actions and couples every run
        therapist, partner = therapists[i % len(therapists)], partners[i]
        while time.monotonic() < deadline:
            action = rng.choices(actions, weights)[0]
            try:
                response, ok = do(action, therapist, partner, rng)
            except (OSError, http.client.HTTPException) as exc:
                if results is not None:
                    results.add(action, None, False, f"{type(exc).__name__}: {exc}")
                continue
            if results is not None:
                results.add(action, response, ok)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(config.clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - started


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * q // 100))
    return sorted_values[int(rank) - 1]


def summarise(results: Results, elapsed: float) -> dict:
    rows = {}
    for action in MIX:
        values = sorted(results.seconds.get(action, []))
        rows[action] = {
            "requests": len(values),
            "errors": results.errors.get(action, 0),
            "p50_ms": round(1000 * percentile(values, 50), 1),
            "p95_ms": round(1000 * percentile(values, 95), 1),
            "p99_ms": round(1000 * percentile(values, 99), 1),
            "req_per_s": round(len(values) / elapsed, 2),
        }
    return rows


def server_rows(in_server: dict, rows: dict) -> dict:
    """Time in the worker per endpoint (gunicorn's access log): the page's own cost, without queueing."""
    out = {}
    for action in MIX:
        values = sorted(in_server.get(action, []))
        out[action] = {
            "requests": len(values),
            "p50_ms": round(1000 * percentile(values, 50), 1),
            "p95_ms": round(1000 * percentile(values, 95), 1),
            "p99_ms": round(1000 * percentile(values, 99), 1),
        }
    base = out["baseline"]["p95_ms"]
    for row in out.values():
        row["p95_vs_baseline"] = round(row["p95_ms"] / base, 2) if base else None
    return out


def budgets(rows: dict, checks: list[dict]) -> list[dict]:
    out = []
    errors = sum(r["errors"] for r in rows.values())
    out.append({"budget": "no errors", "value": errors, "limit": 0, "ok": errors == 0})
    base = rows["baseline"]["p95_ms"]
    for action, row in rows.items():
        if action == "baseline":
            continue
        ratio = row["p95_ms"] / base if base else float("inf")
        row["p95_vs_baseline"] = round(ratio, 2)
        out.append(
            {
                "budget": f"{action} p95 ≤ {MAX_P95_VS_BASELINE:g} × baseline p95",
                "value": round(ratio, 2),
                "limit": MAX_P95_VS_BASELINE,
                "ok": ratio <= MAX_P95_VS_BASELINE,
            }
        )
    four = rows["dashboard_4w"]["p95_ms"]
    ratio = rows["dashboard_104w"]["p95_ms"] / four if four else float("inf")
    out.append(
        {
            "budget": f"dashboard_104w p95 ≤ {MAX_DASHBOARD_104_VS_4:g} × dashboard_4w p95",
            "value": round(ratio, 2),
            "limit": MAX_DASHBOARD_104_VS_4,
            "ok": ratio <= MAX_DASHBOARD_104_VS_4,
        }
    )
    for check in checks:
        out.append({"budget": check["check"], "value": check["detail"], "limit": "", "ok": check["ok"]})
    return out


# Two instances: what must hold when one person's requests land on different servers ------------


def cross_instance_checks(config: Config, ports: list[int], partners: list[PartnerPerson], database_url: str):
    checks = []

    def record(name: str, ok: bool, detail: str) -> None:
        checks.append({"check": name, "ok": ok, "detail": detail})
        print(f"  {'ok  ' if ok else 'FAIL'} {name}: {detail}")

    # A code signs in once, whichever server sees it again (allauth remembers used codes in the cache).
    # The demo cast's second therapist has the same secret and is not part of the load.
    first = Browser(ports, "127.0.0.250")
    code, period = totp_code()
    response = sign_in(first, "therapist2@example.com", code=code)
    again = Browser(list(reversed(ports)), "127.0.0.251")
    replay = sign_in(again, "therapist2@example.com", code=code)
    same_period = totp_code()[1] == period
    record(
        "an authenticator code works once across instances",
        response.status == 302 and response.location == "/" and not (replay.status == 302 and replay.location == "/"),
        f"first use {response.status} {response.location or ''}, replay on the other instance {replay.status}"
        + ("" if same_period else " (the 30-second period had turned)"),
    )
    # Five failed sign-ins spread over both servers lock the account for both (5 per 300 s per account).
    victim = f"scale-t1-c{active_couples(config.couples)[-1]}-b@example.com"
    tries = Browser(ports, "127.0.0.252")
    for _ in range(5):
        sign_in(tries, victim, password="not-the-password")  # noqa: S106 - a deliberately wrong password
    locked = sign_in(Browser(list(reversed(ports)), "127.0.0.253"), victim)
    record(
        "the failed sign-in limit counts on both instances",
        not (locked.status == 302 and locked.location == "/"),
        f"right password after 5 failures: {locked.status} (refused)"
        if locked.status != 302
        else f"signed in: {locked.location}",
    )
    # The same "Log a back rub" form submitted to both servers stores one session.
    person = partners[0]
    key = str(uuid.uuid4())
    answers = [
        person.browser.request("POST", f"/assignments/{person.assignment}/log/?new=1", log_form(person, key))
        for _ in ports
    ]
    stored = count_sessions_with_key(database_url, key)
    record(
        "a double submit on both instances stores one session",
        all(a.status == 302 and a.location == "/" for a in answers) and stored == 1,
        f"answers {[a.status for a in answers]}, sessions stored {stored}",
    )
    return checks


def count_sessions_with_key(database_url: str, key: str) -> int:
    import psycopg2

    with psycopg2.connect(database_url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM intimacy_session WHERE idempotency_key = %s", [key])
        return cursor.fetchone()[0]


# The server -------------------------------------------------------------------------------------


def run(cmd: list[str], env: dict, quiet: bool = False) -> str:
    result = subprocess.run(cmd, cwd=BASE_DIR, env=env, capture_output=True, text=True)  # noqa: S603
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        sys.exit(f"failed: {' '.join(cmd)}")
    if not quiet:
        sys.stdout.write(result.stdout)
    return result.stdout


def ensure_database(database_url: str) -> None:
    import psycopg2

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    conn = psycopg2.connect(admin)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def analyze(database_url: str) -> str:
    """Fresh planner statistics after the bulk load (autovacuum would get there on its own, later)."""
    import psycopg2

    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    conn.close()
    return version


def server_env(database_url: str, tmp: Path) -> dict:
    """Production settings, but plain HTTP on loopback, and the static files in a temporary folder."""
    settings_dir = tmp / "settings"
    settings_dir.mkdir()
    (settings_dir / "tend_bench_settings.py").write_text(
        "from config.settings import *  # noqa: F403\n"
        f"STATIC_ROOT = {str(tmp / 'static')!r}  # the benchmark's own collectstatic\n"
    )
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="tend_bench_settings",
        PYTHONPATH=os.pathsep.join([str(settings_dir), str(BASE_DIR)]),
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL=database_url,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_COOKIES="0",
        DJANGO_HSTS_SECONDS="0",
        DJANGO_LOG_LEVEL="WARNING",
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
    )
    return env


class Gunicorn:
    def __init__(self, port: int, workers: int, env: dict, tmp: Path) -> None:
        self.port, self.log, self.access = port, tmp / f"gunicorn-{port}.log", tmp / f"access-{port}.log"
        # The deployment's own config file (config/gunicorn.py: redacted logs, no Server banner); the
        # options after it win: the benchmark's log files and format, and room for a slow moment under load.
        cmd = [GUNICORN, "-c", "config/gunicorn.py", "--workers", str(workers), "--bind", f"127.0.0.1:{port}"]
        cmd += ["--timeout", "120", "--error-logfile", str(self.log), "--access-logfile", str(self.access)]
        # The endpoint (the client's X-Bench header), the status, and the microseconds spent in the worker.
        cmd += ["--access-logformat", "%({x-bench}i)s %(s)s %(D)s"]
        self.process = subprocess.Popen(cmd, cwd=BASE_DIR, env=env, start_new_session=True)  # noqa: S603

    def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"gunicorn on port {self.port} exited: see {self.log}\n{self.log.read_text()[-3000:]}")
            try:
                response = Browser([self.port], "127.0.0.1").request("GET", "/healthz")
                if response.status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        sys.exit(f"gunicorn on port {self.port} did not answer /healthz within {seconds} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def access_offset(self) -> int:
        return self.access.stat().st_size if self.access.exists() else 0

    def server_seconds(self, offset: int) -> dict[str, list[float]]:
        """Per endpoint, the time each request spent in a worker (no waiting for one), from `offset` on."""
        out = defaultdict(list)
        with self.access.open() as log:
            log.seek(offset)
            for line in log:
                parts = line.split()
                if len(parts) == 3 and parts[0] in MIX:
                    out[parts[0]].append(int(parts[2]) / 1e6)
        return out

    def logged_errors(self) -> list[str]:
        text = self.log.read_text() if self.log.exists() else ""
        return [line for line in text.splitlines() if "Traceback" in line or "[ERROR]" in line]


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def git_commit() -> str:
    """The commit measured, and whether the working tree had changes on top (read-only git calls)."""

    def git(*args: str) -> str:
        result = subprocess.run(["git", *args], cwd=BASE_DIR, capture_output=True, text=True)  # noqa: S603, S607
        return result.stdout.strip()

    try:
        return git("rev-parse", "--short", "HEAD") + (" + uncommitted changes" if git("status", "--porcelain") else "")
    except OSError:
        return ""


def markdown(report: dict) -> str:
    c, m = report["config"], report["machine"]
    lines = [
        f"# Tend benchmark, {report['finished']}",
        "",
        f"- data: {c['therapists']} therapists × {c['couples']} couples × {c['weeks']} weeks "
        f"({report['data'].get('sessions', '?')} sessions), seeded in {report['seed_seconds']} s",
        f"- load: {c['clients']} concurrent clients for {report['elapsed_s']} s after a {c['warmup']} s warm-up; "
        f"{c['instances']} gunicorn instance(s) × {c['workers']} sync workers"
        + (", requests of each person alternating between them" if c["instances"] == 2 else ""),
        f"- machine: {m['cores']} cores, {m['cpu']}, {m['memory']}; PostgreSQL {report['postgresql']}, "
        f"Python {m['python']}; load average {report['load_before']} before, {report['load_after']} after",
        f"- code: {report['commit']}",
        "",
        "| endpoint | requests | errors | p50 ms | p95 ms | p99 ms | req/s | p95 / baseline p95 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for action, row in report["endpoints"].items():
        ratio = "1.00" if action == "baseline" else f"{row.get('p95_vs_baseline', 0):.2f}"
        lines.append(
            f"| {action} | {row['requests']} | {row['errors']} | {row['p50_ms']} | {row['p95_ms']} | "
            f"{row['p99_ms']} | {row['req_per_s']} | {ratio} |"
        )
    lines.append(f"| **all** | {report['total_requests']} | {report['total_errors']} | | | | {report['req_per_s']} | |")
    lines += [
        "",
        "Time in the server (gunicorn worker: Django and PostgreSQL, without waiting for a free worker):",
        "",
        "| endpoint | requests | p50 ms | p95 ms | p99 ms | p95 / baseline p95 |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for action, row in report["in_server"].items():
        lines.append(
            f"| {action} | {row['requests']} | {row['p50_ms']} | {row['p95_ms']} | {row['p99_ms']} | "
            f"{row['p95_vs_baseline']} |"
        )
    lines += ["", "| budget | value | limit | |", "| --- | --- | --- | --- |"]
    for b in report["budgets"]:
        lines.append(f"| {b['budget']} | {b['value']} | {b['limit']} | {'met' if b['ok'] else '**MISSED**'} |")
    if report["error_samples"]:
        lines += ["", "Errors (first ones):", ""] + [f"- {s}" for s in report["error_samples"]]
    return "\n".join(lines) + "\n"


def main() -> int:
    config = Config.from_env()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        sys.exit("The benchmark runs against PostgreSQL: use `make bench` (a throwaway cluster) or set DATABASE_URL.")
    ports = [config.port + i for i in range(config.instances)]
    ensure_database(database_url)
    with tempfile.TemporaryDirectory(prefix="tend-bench-") as tmp_name:
        tmp = Path(tmp_name)
        env = server_env(database_url, tmp)
        manage = [PYTHON, "manage.py"]
        print(f"== Tend benchmark: {config.label}, {config.clients} clients, {config.duration} s")
        run(manage + ["migrate", "--noinput"], env, quiet=True)
        run(manage + ["createcachetable"], env, quiet=True)
        started = time.monotonic()
        seeded = run(
            manage
            + ["seed_demo", "--force", "--therapists", str(config.therapists)]
            + ["--couples-per-therapist", str(config.couples), "--weeks", str(config.weeks)],
            env,
            quiet=True,
        )
        seed_seconds = round(time.monotonic() - started, 1)
        added = re.search(r"Scale data added in .*", seeded)
        print(f"seed_demo: {seed_seconds} s ({added.group(0) if added else 'nothing added'})")
        postgresql = analyze(database_url)
        data = count_data(database_url)
        run(manage + ["collectstatic", "--noinput"], env, quiet=True)
        config.out.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        explain_path = config.out / f"{stamp}-{config.label}-queries.md"
        explain_env = dict(
            env, DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost,testserver", BENCH_EXPLAIN_OUT=str(explain_path)
        )
        run([PYTHON, str(Path(__file__).resolve()), "explain"], explain_env, quiet=True)
        print(f"queries of each page and the plan of the slowest: {explain_path}")

        servers = [Gunicorn(port, config.workers, env, tmp) for port in ports]
        try:
            for server in servers:
                server.wait_ready()
            print(
                f"gunicorn: {len(servers)} instance(s) on {', '.join(map(str, ports))}, {config.workers} workers each"
            )
            therapists, partners = prepare_people(config, ports)
            print(f"signed in {len(therapists)} therapists and {len(partners)} partners")
            checks = []
            if config.instances == 2:
                print("checks across instances:")
                checks = cross_instance_checks(config, ports, partners, database_url)
            load_before = os.getloadavg()
            drive(config, therapists, partners, config.warmup, None)
            offsets = [server.access_offset() for server in servers]
            results = Results()
            elapsed = drive(config, therapists, partners, config.duration, results)
            load_after = os.getloadavg()
            time.sleep(0.5)  # let the workers write their last access-log lines
            in_server = defaultdict(list)
            for server, offset in zip(servers, offsets, strict=True):
                for action, values in server.server_seconds(offset).items():
                    in_server[action] += values
        finally:
            for server in servers:
                server.stop()
        logged = [line for server in servers for line in server.logged_errors()]

    rows = summarise(results, elapsed)
    if logged:
        checks.append({"check": "no errors in gunicorn's log", "ok": False, "detail": logged[0][:200]})
    report = {
        "finished": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(config).items()},
        "machine": machine(),
        "postgresql": postgresql,
        "commit": git_commit(),
        "data": data,
        "seed_seconds": seed_seconds,
        "load_before": " ".join(f"{x:.2f}" for x in load_before),
        "load_after": " ".join(f"{x:.2f}" for x in load_after),
        "elapsed_s": round(elapsed, 1),
        "endpoints": rows,
        "in_server": server_rows(in_server, rows),
        "total_requests": sum(r["requests"] for r in rows.values()),
        "total_errors": sum(r["errors"] for r in rows.values()),
        "req_per_s": round(sum(r["requests"] for r in rows.values()) / elapsed, 1),
        "error_samples": results.samples,
        "queries": explain_path.name,
    }
    report["budgets"] = budgets(rows, checks)
    report["ok"] = all(b["ok"] for b in report["budgets"])
    base = config.out / f"{stamp}-{config.label}"
    base.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    base.with_suffix(".md").write_text(markdown(report))
    print()
    print(markdown(report))
    print(f"written: {base}.json, {base}.md")
    if not report["ok"]:
        print("BUDGET MISSED", file=sys.stderr)
        return 1
    return 0


def count_data(database_url: str) -> dict:
    import psycopg2

    counts = {}
    with psycopg2.connect(database_url) as conn, conn.cursor() as cursor:
        for name, table in [
            ("couples", "accounts_couple"),
            ("sessions", "intimacy_session"),
            ("reflections", "intimacy_reflection"),
            ("alerts", "intimacy_alert"),
            ("checkins", "intimacy_checkin"),
        ]:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed table names
            counts[name] = cursor.fetchone()[0]
    return counts


# explain: each page's queries, in-process ----------------------------------------------------------


def explain() -> int:
    """Render each benchmarked page once for scale therapist 1 and a partner of theirs, with Django's
    test client in this process; list every page's queries by time and EXPLAIN ANALYZE the slowest."""
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Partner, User

    therapist = User.objects.get(email="scale-therapist-1@example.com")
    partner = Partner.objects.select_related("couple", "user").get(email="scale-t1-c1-a@example.com")
    couple = partner.couple.pk
    pages = [
        ("caseload", therapist, "/"),
        ("dashboard_104w", therapist, f"/couples/{couple}/?weeks=104"),
        ("dashboard_4w", therapist, f"/couples/{couple}/?weeks=4"),
        ("appointment_104w", therapist, f"/couples/{couple}/appointment/?weeks=104"),
        ("partner_home", partner.user, "/"),
        ("partner_history", partner.user, "/history/"),
        ("baseline", partner.user, BASELINE_PATH),
    ]
    runs = 5
    out = [f"# Queries of each benchmarked page (median of {runs} requests each, after a warm-up request)", ""]
    slowest = []
    for name, user, path in pages:
        client = Client()
        client.force_login(user)
        client.get(path)  # warm caches (templates, the connection's catalogue) first
        timings, totals = [], []
        for _ in range(runs):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(path)
                totals.append(time.perf_counter() - started)
            timings.append(captured.captured_queries)
        queries = timings[-1]
        # The same queries in the same order each time: take each one's median time.
        medians = [statistics.median(float(run[i]["time"]) for run in timings) for i in range(len(queries))]
        out.append(
            f"## {name} `{path}`: {response.status_code}, {len(queries)} queries, "
            f"{sum(medians) * 1000:.1f} ms in the database of {statistics.median(totals) * 1000:.1f} ms"
        )
        out.append("")
        for median, q in sorted(zip(medians, queries, strict=True), key=lambda item: -item[0])[:5]:
            out.append(f"- {median * 1000:.1f} ms: `{q['sql'][:160]}…`")
            slowest.append((median, name, q["sql"]))
        out.append("")
    slowest.sort(key=lambda item: -item[0])
    seconds, page, sql = next(item for item in slowest if item[2].lstrip().upper().startswith("SELECT"))
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    out += [
        f"## The slowest query: {seconds * 1000:.1f} ms (median), on {page}",
        "",
        "```sql",
        sql,
        "```",
        "",
        "```",
        plan,
        "```",
    ]
    Path(os.environ["BENCH_EXPLAIN_OUT"]).write_text("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["explain"]:
        sys.exit(explain())
    sys.exit(main())
