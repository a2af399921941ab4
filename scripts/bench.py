#!/usr/bin/env python3
"""Tend's load benchmark: `make bench` (docs/PERFORMANCE.md).

This script prepares; Locust (scripts/locustfile.py) makes the load and keeps the statistics.

Against the PostgreSQL in DATABASE_URL (`make bench` makes a throwaway one with scripts/with-postgres):
migrate, seed the scale data (`seed_demo --therapists T --couples-per-therapist C --weeks W`),
VACUUM ANALYZE, collect the static files, render each page in-process to list its queries (`explain`),
start gunicorn as in production (DEBUG off, hashed static files, database sessions and cache), sign
real people in through the sign-in pages (therapists with their authenticator code, each client from
its own loopback address), then run Locust headless with one user per client, each holding a
therapist's and a partner's signed-in cookies. Two modes (BENCH_MODE):

- mix (the default): every client does a fixed mix of pages and "Log a back rub" POSTs. Budgets: no
  errors; every endpoint's p95 at most 3 × the baseline's; the dashboard over 104 weeks at most
  1.5 × its p95 over 4 weeks.
- pages: one page at a time at saturation: every client asks for the same page for BENCH_SLOT seconds,
  then the next page, in interleaved rounds, the trivial signed-in page (the baseline) among them.
  Each page's p95 (Locust's, its rounds merged) is compared with the baseline's. Budgets (issue 16):
  the couple dashboard at 4, 12 and 104 weeks and the appointment view at most 3 × the baseline;
  the caseload and the partner home at most 2 ×; the dashboard over 104 weeks at most 1.2 × over 4.

Both report beside Locust's numbers each page's time inside a gunicorn worker (from gunicorn's access
log), write bench-results/<time>-<label>.json and .md and Locust's CSV files, print the table, and exit
1 when a budget is missed (or any request failed, or gunicorn logged a traceback).

With BENCH_INSTANCES=2 two gunicorn instances run on neighbouring ports and every request goes to
them in turn (sign-in steps included); checks before the load show that the one-time use of
authenticator codes, the failed sign-in limit and idempotent logging hold across instances.

Other commands, against a database already seeded (DATABASE_URL):
  scripts/bench.py explain   each page's queries by time, EXPLAIN ANALYZE of the slowest
  scripts/bench.py profile   each page rendered in-process under pyinstrument: an HTML and a text
                             profile per page in BENCH_OUT (`make bench BENCH_PROFILE=1` adds it to a run)

Settings, all optional:
  BENCH_MODE=mix|pages       what the load is (above)
  BENCH_SIZE=full|quick      full: 10 therapists × 50 couples × 104 weeks; quick: 2 × 10 × 104
  BENCH_THERAPISTS, BENCH_COUPLES, BENCH_WEEKS   override the size
  BENCH_CLIENTS=16           concurrent clients (Locust users)
  BENCH_DURATION=60          mix: measured seconds (quick: 20), after BENCH_WARMUP=5 seconds
  BENCH_SLOT=12, BENCH_SETTLE=2, BENCH_ROUNDS=3   pages: seconds per page (quick: 6), of which the
                             first BENCH_SETTLE are not counted (quick: 1), and rounds (quick: 2)
  BENCH_PAGES                pages: a comma-separated subset of the pages, in order (baseline first)
  BENCH_INSTANCES=1|2        gunicorn instances (ports BENCH_PORT, BENCH_PORT+1; default 8100)
  BENCH_WORKERS              gunicorn workers per instance (default 3, or 2 each with 2 instances)
  BENCH_EXPLAIN=1            0 skips the in-process query listing
  BENCH_PROFILE=0            1 adds the in-process profile of every page
  BENCH_OUT=bench-results    where results go
"""

import csv
import http.client
import json
import os
import platform
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
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
LOCUST = str(BASE_DIR / ".venv" / "bin" / "locust")
LOCUSTFILE = str(BASE_DIR / "scripts" / "locustfile.py")
PASSWORD = "tend-demo-2026"  # noqa: S105 - the documented demo password of the scale data
TOTP_SECRET = "JBSWY3DPEHPK3PXP"  # noqa: S105 - the documented, public demo secret
SIZES = {"full": (10, 50, 104), "quick": (2, 10, 104)}
BASELINE_PATH = "/accounts/password/change/"

# Mode "mix": what the clients do (scripts/locustfile.py, MIX, has the weights). Budgets (issue 7).
MIX_ENDPOINTS = ["baseline", "caseload", "dashboard_104w", "dashboard_4w", "appointment", "partner_home", "log_post"]
MAX_P95_VS_BASELINE = 3.0
MAX_DASHBOARD_104_VS_4 = 1.5
# Mode "pages": the pages, in the order of each round, and each one's budget as a multiple of the
# baseline's p95 in the same run (issue 16).
PAGES = {
    "baseline": 1.0,
    "dashboard_4w": 3.0,
    "dashboard_12w": 3.0,
    "dashboard_104w": 3.0,
    "appointment": 3.0,
    "caseload": 2.0,
    "partner_home": 2.0,
}
MAX_PAGES_DASHBOARD_104_VS_4 = 1.2


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


@dataclass
class Config:
    mode: str
    therapists: int
    couples: int
    weeks: int
    clients: int
    duration: int
    warmup: int
    slot: float
    settle: float
    rounds: int
    pages: list[str]
    instances: int
    workers: int
    port: int
    out: Path
    size: str
    explain: bool
    profile: bool

    @classmethod
    def from_env(cls) -> "Config":
        size = os.environ.get("BENCH_SIZE", "full").strip() or "full"
        if size not in SIZES:
            sys.exit(f"BENCH_SIZE must be one of {', '.join(SIZES)}, got {size!r}")
        mode = os.environ.get("BENCH_MODE", "mix").strip() or "mix"
        if mode not in ("mix", "pages"):
            sys.exit("BENCH_MODE must be mix or pages")
        t, c, w = SIZES[size]
        instances = env_int("BENCH_INSTANCES", 1)
        if instances not in (1, 2):
            sys.exit("BENCH_INSTANCES must be 1 or 2")
        pages = [p.strip() for p in os.environ.get("BENCH_PAGES", "").split(",") if p.strip()] or list(PAGES)
        if pages[0] != "baseline" or not set(pages) <= set(PAGES):
            sys.exit(f"BENCH_PAGES: baseline first, then any of {', '.join(PAGES)}")
        quick = size == "quick"
        config = cls(
            mode=mode,
            therapists=env_int("BENCH_THERAPISTS", t),
            couples=env_int("BENCH_COUPLES", c),
            weeks=env_int("BENCH_WEEKS", w),
            clients=env_int("BENCH_CLIENTS", 16),
            duration=env_int("BENCH_DURATION", 20 if quick else 60),
            warmup=env_int("BENCH_WARMUP", 5),
            slot=env_float("BENCH_SLOT", 6 if quick else 12),
            settle=env_float("BENCH_SETTLE", 1 if quick else 2),
            rounds=env_int("BENCH_ROUNDS", 2 if quick else 3),
            pages=pages,
            instances=instances,
            workers=env_int("BENCH_WORKERS", 3 if instances == 1 else 2),
            port=env_int("BENCH_PORT", 8100),
            out=Path(os.environ.get("BENCH_OUT", str(BASE_DIR / "bench-results"))),
            size=size,
            explain=os.environ.get("BENCH_EXPLAIN", "1") != "0",
            profile=os.environ.get("BENCH_PROFILE", "0") == "1",
        )
        if config.weeks < 104:
            sys.exit("BENCH_WEEKS must be at least 104: the benchmark reads 104 weeks of history")
        if config.clients > 200:
            sys.exit("BENCH_CLIENTS: at most 200 (one loopback address each)")
        if config.mode == "pages" and config.settle >= config.slot:
            sys.exit("BENCH_SETTLE must be shorter than BENCH_SLOT")
        return config

    @property
    def label(self) -> str:
        return f"{self.mode}-{self.therapists}x{self.couples}x{self.weeks}-{self.instances}inst"

    @property
    def run_seconds(self) -> float:
        """Locust's --run-time: the warm-up, then the measured time (pages: every slot of every round)."""
        if self.mode == "pages":
            return self.warmup + self.rounds * len(self.pages) * self.slot
        return self.warmup + self.duration

    @property
    def measured_seconds(self) -> float:
        """Per endpoint, the seconds its counted requests were sent in (for requests per second)."""
        if self.mode == "pages":
            return self.rounds * (self.slot - self.settle)
        return self.duration


# HTTP for the set-up: sign-ins and the checks across instances (the load itself is Locust's) -----
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

    def _next_port(self) -> int:
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


# People -----------------------------------------------------------------------------------------


@dataclass
class Therapist:
    browser: Browser
    email: str
    couples: list[int] = field(default_factory=list)
    # The appointment view's own browser: opening the view puts its session in appointment mode, where
    # every other therapist page asks for the password first (intimacy/appointment_mode.py), as on the
    # couple's screen. One couple's view, as that screen shows; signed in separately.
    appointment: Browser | None = None
    signed_in_period: int = 0


@dataclass
class PartnerPerson:
    browser: Browser
    email: str
    assignment: int = 0
    day: str = ""


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
        therapists.append(Therapist(browser, email, couples, signed_in_period=totp_code()[1]))
    if config.mode == "mix" or "appointment" in config.pages:
        open_appointment_views(therapists, ports)
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


def open_appointment_views(therapists: list[Therapist], ports: list[int]) -> None:
    """Each therapist signs in a second time and opens the appointment view of their first couple. An
    authenticator code works once, so this waits for the next 30-second code after their first sign-in."""
    for i, therapist in enumerate(therapists):
        while totp_code()[1] <= therapist.signed_in_period:
            time.sleep(0.5)
        browser = Browser(ports, f"127.0.0.{2 + i}")
        sign_in_or_fail(browser, therapist.email)
        view = browser.request("GET", f"/couples/{therapist.couples[0]}/appointment/?weeks=104")
        if view.status != 200:
            raise SignInFailed(f"{therapist.email}: the appointment view answered {view.status}")
        therapist.appointment = browser


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


def write_plan(config: Config, ports: list[int], therapists: list, partners: list, path: Path) -> None:
    """What scripts/locustfile.py needs: where the servers are, each client's signed-in cookies, what to do."""
    clients = []
    for i, partner in enumerate(partners):
        therapist = therapists[i % len(therapists)]
        clients.append(
            {
                "therapist": {"cookies": therapist.browser.cookies, "couples": therapist.couples},
                "appointment": {
                    "cookies": therapist.appointment.cookies if therapist.appointment else {},
                    "couple": therapist.couples[0],
                },
                "partner": {"cookies": partner.browser.cookies, "assignment": partner.assignment, "day": partner.day},
            }
        )
    plan = {
        "mode": config.mode,
        "hosts": [f"http://127.0.0.1:{port}" for port in ports],
        "host_header": f"127.0.0.1:{min(ports)}",
        "clients": clients,
        "schedule": {
            "warmup": config.warmup,
            "slot": config.slot,
            "settle": config.settle,
            "rounds": config.rounds,
            "pages": config.pages,
        },
    }
    path.write_text(json.dumps(plan, indent=1))


def run_locust(config: Config, plan: Path, csv_prefix: Path, env: dict) -> tuple[float, str]:
    """Locust, headless: one user per client, all started at once, for the whole schedule."""
    cmd = [LOCUST, "-f", LOCUSTFILE, "--headless", "--users", str(config.clients)]
    cmd += ["--spawn-rate", str(config.clients), "--run-time", f"{config.run_seconds:g}s"]
    cmd += ["--csv", str(csv_prefix), "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0"]
    locust_env = dict(env, BENCH_PLAN=str(plan))
    started = time.monotonic()
    result = subprocess.run(cmd, cwd=BASE_DIR, env=locust_env, capture_output=True, text=True)  # noqa: S603
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-5000:] + result.stderr[-5000:])
        sys.exit(f"locust failed ({result.returncode}): {' '.join(cmd)}")
    return elapsed, result.stderr + result.stdout


def locust_rows(csv_prefix: Path, names: list[str], seconds: float) -> dict:
    """Locust's statistics per endpoint (its _stats.csv), and the first failures (its _failures.csv)."""
    found = {}
    with open(f"{csv_prefix}_stats.csv", newline="") as handle:  # noqa: PTH123
        for row in csv.DictReader(handle):
            found[row["Name"]] = row
    rows = {}
    for name in names:
        row = found.get(name)
        count = int(row["Request Count"]) if row else 0
        rows[name] = {
            "requests": count,
            "errors": int(row["Failure Count"]) if row else 0,
            "p50_ms": float(row["50%"]) if count else None,
            "p95_ms": float(row["95%"]) if count else None,
            "p99_ms": float(row["99%"]) if count else None,
            "req_per_s": round(count / seconds, 2) if seconds else None,
        }
    # Requests left out of the report (warm-up, settling) must not fail either.
    aggregated = found.get("Aggregated")
    total_errors = int(aggregated["Failure Count"]) if aggregated else 0
    samples = []
    failures = Path(f"{csv_prefix}_failures.csv")
    if failures.exists():
        with failures.open(newline="") as handle:
            samples = [f"{r['Name']}: {r['Error']} (×{r['Occurrences']})" for r in csv.DictReader(handle)][:20]
    return {"rows": rows, "total_errors": total_errors, "samples": samples}


def p(values: list[float], q: int) -> float | None:
    """The q-th percentile in milliseconds (the standard library's, inclusive method)."""
    if not values:
        return None
    if len(values) == 1:
        return round(1000 * values[0], 1)
    return round(1000 * statistics.quantiles(values, n=100, method="inclusive")[q - 1], 1)


def server_rows(in_server: dict, names: list[str]) -> dict:
    """Time in the worker per endpoint (gunicorn's access log): the page's own cost, without queueing."""
    out = {}
    for name in names:
        values = in_server.get(name, [])
        out[name] = {"requests": len(values), "p50_ms": p(values, 50), "p95_ms": p(values, 95), "p99_ms": p(values, 99)}
    base = out["baseline"]["p95_ms"]
    for row in out.values():
        row["p95_vs_baseline"] = round(row["p95_ms"] / base, 2) if base and row["p95_ms"] else None
    return out


def ratio(value: float | None, base: float | None) -> float | None:
    return round(value / base, 2) if value and base else None


def budget(name: str, value, limit, ok: bool) -> dict:
    return {"budget": name, "value": value, "limit": limit, "ok": ok}


def budgets(config: Config, stats: dict, checks: list[dict]) -> list[dict]:
    rows = stats["rows"]
    errors = stats["total_errors"]
    out = [budget("no failed requests", errors, 0, errors == 0)]
    base = rows["baseline"]["p95_ms"]
    limits = {name: (1.0 if name == "baseline" else MAX_P95_VS_BASELINE) for name in rows}
    if config.mode == "pages":
        limits = {name: PAGES[name] for name in rows}
    for name, row in rows.items():
        row["p95_vs_baseline"] = ratio(row["p95_ms"], base)
        if name == "baseline":
            out.append(budget("baseline answered", row["requests"], "> 0", row["requests"] > 0))
            continue
        value = row["p95_vs_baseline"]
        out.append(
            budget(
                f"{name} p95 ≤ {limits[name]:g} × baseline p95",
                value,
                limits[name],
                bool(value) and value <= limits[name],
            )
        )
    if "dashboard_104w" in rows and "dashboard_4w" in rows:
        limit = MAX_PAGES_DASHBOARD_104_VS_4 if config.mode == "pages" else MAX_DASHBOARD_104_VS_4
        value = ratio(rows["dashboard_104w"]["p95_ms"], rows["dashboard_4w"]["p95_ms"])
        out.append(
            budget(f"dashboard_104w p95 ≤ {limit:g} × dashboard_4w p95", value, limit, bool(value) and value <= limit)
        )
    for check in checks:
        out.append(budget(check["check"], check["detail"], "", check["ok"]))
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
                if len(parts) == 3 and parts[0] not in ("-", "setup", "warmup", "settle"):
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
    if c["mode"] == "pages":
        load = (
            f"- load (pages): {c['clients']} Locust users, every one asking for the same page for {c['slot']:g} s "
            f"(the first {c['settle']:g} s not counted), pages in turn, {c['rounds']} rounds, after a "
            f"{c['warmup']} s warm-up; {report['elapsed_s']} s in all"
        )
    else:
        load = f"- load (mix): {c['clients']} Locust users for {c['duration']} s after a {c['warmup']} s warm-up"
    load += f"; {c['instances']} gunicorn instance(s) × {c['workers']} sync workers" + (
        ", requests alternating between them" if c["instances"] == 2 else ""
    )
    lines = [
        f"# Tend benchmark, {report['finished']}",
        "",
        f"- data: {c['therapists']} therapists × {c['couples']} couples × {c['weeks']} weeks "
        f"({report['data'].get('sessions', '?')} sessions), seeded in {report['seed_seconds']} s",
        load,
        f"- machine: {m['cores']} cores, {m['cpu']}, {m['memory']}; PostgreSQL {report['postgresql']}, "
        f"Python {m['python']}; load average {report['load_before']} before, {report['load_after']} after",
        f"- code: {report['commit']}",
        "",
        "As the clients saw it (Locust):",
        "",
        "| page | requests | errors | p50 ms | p95 ms | p99 ms | req/s | p95 / baseline p95 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, row in report["endpoints"].items():
        lines.append(
            f"| {name} | {row['requests']} | {row['errors']} | {row['p50_ms']} | {row['p95_ms']} | "
            f"{row['p99_ms']} | {row['req_per_s']} | {row.get('p95_vs_baseline')} |"
        )
    lines += [
        "",
        "Time in the server (gunicorn worker: Django and PostgreSQL, without waiting for a free worker):",
        "",
        "| page | requests | p50 ms | p95 ms | p99 ms | p95 / baseline p95 |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, row in report["in_server"].items():
        lines.append(
            f"| {name} | {row['requests']} | {row['p50_ms']} | {row['p95_ms']} | {row['p99_ms']} | "
            f"{row['p95_vs_baseline']} |"
        )
    lines += ["", "| budget | value | limit | |", "| --- | --- | --- | --- |"]
    for b in report["budgets"]:
        lines.append(f"| {b['budget']} | {b['value']} | {b['limit']} | {'met' if b['ok'] else '**MISSED**'} |")
    if report["error_samples"]:
        lines += ["", "Failures (first ones):", ""] + [f"- {s}" for s in report["error_samples"]]
    return "\n".join(lines) + "\n"


def prepare(config: Config, database_url: str, env: dict, stamp: str) -> dict:
    """Migrate, seed, VACUUM ANALYZE, collectstatic and (optionally) the in-process query listing and
    profile: everything before gunicorn starts."""
    manage = [PYTHON, "manage.py"]
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
    in_process = dict(env, DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost,testserver", BENCH_OUT=str(config.out))
    explain_path = config.out / f"{stamp}-{config.label}-queries.md"
    if config.explain:
        run([PYTHON, str(Path(__file__).resolve()), "explain"], dict(in_process, BENCH_EXPLAIN_OUT=str(explain_path)))
        print(f"queries of each page and the plan of the slowest: {explain_path}")
    if config.profile:
        run([PYTHON, str(Path(__file__).resolve()), "profile"], dict(in_process, BENCH_STAMP=stamp))
    return {
        "seed_seconds": seed_seconds,
        "postgresql": postgresql,
        "data": data,
        "queries": explain_path.name if config.explain else "",
    }


def load(config: Config, ports: list[int], env: dict, tmp: Path, csv_prefix: Path, database_url: str) -> dict:
    """gunicorn, the sign-ins, the checks across instances, then Locust; gunicorn stopped afterwards."""
    servers = [Gunicorn(port, config.workers, env, tmp) for port in ports]
    try:
        for server in servers:
            server.wait_ready()
        print(f"gunicorn: {len(servers)} instance(s) on {', '.join(map(str, ports))}, {config.workers} workers each")
        therapists, partners = prepare_people(config, ports)
        print(f"signed in {len(therapists)} therapists and {len(partners)} partners")
        checks = []
        if config.instances == 2:
            print("checks across instances:")
            checks = cross_instance_checks(config, ports, partners, database_url)
        plan = tmp / "plan.json"
        write_plan(config, ports, therapists, partners, plan)
        offsets = [server.access_offset() for server in servers]
        load_before = os.getloadavg()
        print(f"locust: {config.clients} users, {config.run_seconds:g} s")
        elapsed, _output = run_locust(config, plan, csv_prefix, env)
        load_after = os.getloadavg()
        time.sleep(0.5)  # let the workers write their last access-log lines
        in_server = defaultdict(list)
        for server, offset in zip(servers, offsets, strict=True):
            for name, values in server.server_seconds(offset).items():
                in_server[name] += values
    finally:
        for server in servers:
            server.stop()
    logged = [line for server in servers for line in server.logged_errors()]
    if logged:
        checks.append({"check": "no errors in gunicorn's log", "ok": False, "detail": logged[0][:200]})
    return {
        "checks": checks,
        "elapsed": elapsed,
        "in_server": in_server,
        "load_before": " ".join(f"{x:.2f}" for x in load_before),
        "load_after": " ".join(f"{x:.2f}" for x in load_after),
    }


def main() -> int:
    config = Config.from_env()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        sys.exit("The benchmark runs against PostgreSQL: use `make bench` (a throwaway cluster) or set DATABASE_URL.")
    ports = [config.port + i for i in range(config.instances)]
    ensure_database(database_url)
    config.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = config.out / f"{stamp}-{config.label}"
    csv_prefix = config.out / f"{stamp}-{config.label}-locust"
    with tempfile.TemporaryDirectory(prefix="tend-bench-") as tmp_name:
        tmp = Path(tmp_name)
        env = server_env(database_url, tmp)
        print(f"== Tend benchmark ({config.mode}): {config.label}, {config.clients} clients")
        prepared = prepare(config, database_url, env, stamp)
        measured = load(config, ports, env, tmp, csv_prefix, database_url)

    names = config.pages if config.mode == "pages" else MIX_ENDPOINTS
    stats = locust_rows(csv_prefix, names, config.measured_seconds)
    report = {
        "finished": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(config).items()},
        "machine": machine(),
        "commit": git_commit(),
        **prepared,
        "load_before": measured["load_before"],
        "load_after": measured["load_after"],
        "elapsed_s": round(measured["elapsed"], 1),
        "endpoints": stats["rows"],
        "in_server": server_rows(measured["in_server"], names),
        "total_requests": sum(r["requests"] for r in stats["rows"].values()),
        "total_errors": stats["total_errors"],
        "error_samples": stats["samples"],
        "locust_csv": f"{csv_prefix.name}_stats.csv",
    }
    report["budgets"] = budgets(config, stats, measured["checks"])
    report["ok"] = all(b["ok"] for b in report["budgets"])
    base.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    base.with_suffix(".md").write_text(markdown(report))
    print()
    print(markdown(report))
    print(f"written: {base}.json, {base}.md, {csv_prefix}_stats.csv")
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


def in_process_pages() -> list[tuple[str, object, str]]:
    """The benchmarked pages as (name, user, path), for scale therapist 1 and a partner of theirs."""
    import django

    django.setup()
    from accounts.models import Partner, User

    therapist = User.objects.get(email="scale-therapist-1@example.com")
    partner = Partner.objects.select_related("couple", "user").get(email="scale-t1-c1-a@example.com")
    couple = partner.couple.pk
    return [
        ("baseline", partner.user, BASELINE_PATH),
        ("dashboard_4w", therapist, f"/couples/{couple}/?weeks=4"),
        ("dashboard_12w", therapist, f"/couples/{couple}/?weeks=12"),
        ("dashboard_104w", therapist, f"/couples/{couple}/?weeks=104"),
        ("appointment", therapist, f"/couples/{couple}/appointment/?weeks=104"),
        ("caseload", therapist, "/"),
        ("partner_home", partner.user, "/"),
        ("partner_history", partner.user, "/history/"),
    ]


def explain() -> int:
    """Render each benchmarked page with Django's test client in this process; list every page's
    queries by time and EXPLAIN ANALYZE the slowest."""
    pages = in_process_pages()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

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


class RenderTimer:
    """Time spent in the outermost Template.render calls (queries that templates trigger included)."""

    def __init__(self) -> None:
        self.seconds, self.depth = 0.0, 0

    def install(self) -> None:
        from django.template import base

        original = base.Template.render
        timer = self

        def render(template, context):
            timer.depth += 1
            started = time.perf_counter()
            try:
                return original(template, context)
            finally:
                timer.depth -= 1
                if timer.depth == 0:
                    timer.seconds += time.perf_counter() - started

        base.Template.render = render


def profile() -> int:
    """Each page rendered BENCH_PROFILE_RUNS times (20) with Django's test client under pyinstrument:
    BENCH_OUT/<stamp>-profile-<page>.html and .txt, and a summary of where each page's time goes
    (all of it, the database's, the templates')."""
    from pyinstrument import Profiler

    pages = in_process_pages()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    out_dir = Path(os.environ.get("BENCH_OUT", str(BASE_DIR / "bench-results")))
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = os.environ.get("BENCH_STAMP") or datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    runs = env_int("BENCH_PROFILE_RUNS", 20)
    only = [p.strip() for p in os.environ.get("BENCH_PAGES", "").split(",") if p.strip()]
    timer = RenderTimer()
    timer.install()
    lines = [
        f"# Where each page's time goes (in-process, Django's test client, {runs} requests each)",
        "",
        "| page | ms per request | CPU ms (this process) | SQL ms | queries | templates ms (lazy queries included) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, user, path in pages:
        if only and name not in only:
            continue
        client = Client()
        client.force_login(user)
        client.get(path)  # warm: templates compiled, the connection's catalogue read
        timer.seconds = 0.0
        profiler = Profiler(interval=0.001)
        with CaptureQueriesContext(connection) as captured:
            started, cpu = time.perf_counter(), time.process_time()
            profiler.start()
            for _ in range(runs):
                response = client.get(path)
            profiler.stop()
            total, cpu = time.perf_counter() - started, time.process_time() - cpu
        sql = sum(float(q["time"]) for q in captured.captured_queries)
        base_name = out_dir / f"{stamp}-profile-{name}"
        Path(f"{base_name}.html").write_text(profiler.output_html())
        Path(f"{base_name}.txt").write_text(profiler.output_text(unicode=True, show_all=False))
        lines.append(
            f"| {name} ({response.status_code}) | {1000 * total / runs:.1f} | {1000 * cpu / runs:.1f} | "
            f"{1000 * sql / runs:.1f} | {len(captured.captured_queries) // runs} | {1000 * timer.seconds / runs:.1f} |"
        )
    summary = "\n".join(lines) + "\n"
    Path(out_dir / f"{stamp}-profile.md").write_text(summary)
    print(summary)
    print(f"profiles: {out_dir}/{stamp}-profile-<page>.html and .txt")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["explain"]:
        sys.exit(explain())
    if sys.argv[1:] == ["profile"]:
        sys.exit(profile())
    sys.exit(main())
