"""The load of `make bench` (docs/PERFORMANCE.md), run by Locust; scripts/bench.py prepares everything else.

scripts/bench.py seeds the data, starts gunicorn and signs people in through the sign-in pages, then
writes a JSON "plan" (BENCH_PLAN names the file): the server addresses, the Host header, one entry per
client with the therapist's and the partner's signed-in cookies, the therapist's couples and the
partner's assignment, and what to do:

- mode "mix": every client does a fixed mix of pages and "Log a back rub" POSTs (weights in MIX);
- mode "pages": one page at a time. Time is cut into slots of `slot` seconds; in each slot every client
  asks for the same page as fast as answers come, then the next page, in the order of `pages`, for
  `rounds` rounds (interleaved: a, b, c, a, b, c, …), after `warmup` seconds of the baseline. The first
  `settle` seconds of each slot still see the previous page's requests in the server's queue, so they
  are named "settle" and left out of the report. Locust's statistics merge each page's rounds.

Each Locust user is one client: a therapist's browser, the therapist's appointment-view browser (the
couple's screen, in appointment mode) and a partner's browser, each with its own cookie jar (kept as the
server answers, as a real browser's). With two instances, every request goes to the next
server in turn, all with the same Host header, as behind a proxy.

Every request carries an X-Bench header naming its page; gunicorn writes it in the access log with the
time spent in the worker, which bench.py reports beside Locust's numbers.
"""

import itertools
import json
import os
import random
import time
from datetime import date, timedelta
from http.cookiejar import Cookie, CookieJar

from locust import FastHttpUser, constant, events, task
from locust.contrib.fasthttp import FastHttpSession

PLAN = json.loads(open(os.environ["BENCH_PLAN"]).read())  # noqa: PTH123, SIM115 - read once at import
BASELINE_PATH = "/accounts/password/change/"
# The mix: relative weights of what the clients do (mode "mix").
MIX = {
    "baseline": 2,
    "caseload": 2,
    "dashboard_104w": 2,
    "dashboard_4w": 2,
    "appointment": 2,
    "partner_home": 2,
    "log_post": 1,
}
_clients = itertools.count()
_started: list[float] = []


@events.test_start.add_listener
def _on_test_start(**_kwargs) -> None:
    _started.append(time.monotonic())


def jar(cookies: dict[str, str]) -> CookieJar:
    """A cookie jar holding the cookies bench.py's sign-in received (host-only cookies of 127.0.0.1)."""
    out = CookieJar()
    for name, value in cookies.items():
        out.set_cookie(
            Cookie(
                0, name, value, None, False, "127.0.0.1", False, False, "/", True, False, None, False, None, None, {}
            )
        )
    return out


def page_path(page: str, couples: list[int], appointment_couple: int, rng: random.Random) -> tuple[str, str]:
    """(who asks, path) for a page: the therapist's pages are for a random couple of theirs; the
    appointment view is its own browser's, of one couple (bench.py, open_appointment_views)."""
    if page == "baseline":
        return "partner", BASELINE_PATH
    if page == "partner_home":
        return "partner", "/"
    if page == "caseload":
        return "therapist", "/"
    if page == "appointment":
        return "appointment", f"/couples/{appointment_couple}/appointment/?weeks=104"
    couple = rng.choice(couples)
    if page.startswith("dashboard_") and page.endswith("w"):
        return "therapist", f"/couples/{couple}/?weeks={int(page[len('dashboard_') : -1])}"
    raise ValueError(f"unknown page {page!r}")


class Client(FastHttpUser):
    """One client of the plan: a therapist's and a partner's browser, requests back to back."""

    wait_time = constant(0)
    host = PLAN["hosts"][0]
    network_timeout = 120.0
    connection_timeout = 30.0

    def on_start(self) -> None:
        index = next(_clients)
        client = PLAN["clients"][index % len(PLAN["clients"])]
        self.rng = random.Random(1000 + index)  # the same sequence of pages and couples every run
        self.couples = client["therapist"]["couples"]
        self.partner = client["partner"]
        self.logged = 0  # sessions logged in this run: each goes one day further back
        self.turn = itertools.cycle(PLAN["hosts"])
        self.client.cookiejar = self.client.client.cookiejar = jar(client["therapist"]["cookies"])
        self.appointment_couple = client["appointment"]["couple"]
        self.sessions = {
            "therapist": self.client,
            "partner": self.browser(self.partner["cookies"]),
            "appointment": self.browser(client["appointment"]["cookies"]),
        }

    def browser(self, cookies: dict[str, str]) -> FastHttpSession:
        """Another browser of this client, with its own cookies."""
        session = FastHttpSession(
            base_url=self.host,
            request_event=self.environment.events.request,
            user=self,
            network_timeout=self.network_timeout,
            connection_timeout=self.connection_timeout,
        )
        session.cookiejar = session.client.cookiejar = jar(cookies)
        return session

    def get(self, page: str, name: str) -> None:
        who, path = page_path(page, self.couples, self.appointment_couple, self.rng)
        url = next(self.turn) + path
        headers = {"Host": PLAN["host_header"], "X-Bench": name}
        with self.sessions[who].get(
            url, name=name, headers=headers, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"{page}: {response.status_code} {response.headers.get('Location', '')}")

    def log_post(self, name: str) -> None:
        """ "Log a back rub": a new session each time, one day further back (the same day and role again
        within minutes would be recognised as the same session sent twice and stored once, unmeasured)."""
        person = self.partner
        day = (date.fromisoformat(person["day"]) - timedelta(days=self.logged)).isoformat()
        self.logged += 1
        form = {
            "csrfmiddlewaretoken": person["cookies"].get("csrftoken", ""),
            "idempotency_key": f"{self.rng.getrandbits(128):032x}",
            "date": day,
            "minutes": "15",
            "role": "giver",
            "connection": "7",
            "comfort": "8",
            "safe": "9",
            "visibility": "shared",
        }
        url = next(self.turn) + f"/assignments/{person['assignment']}/log/?new=1"
        headers = {"Host": PLAN["host_header"], "X-Bench": name}
        with self.sessions["partner"].post(
            url, data=form, name=name, headers=headers, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 302 or response.headers.get("Location") != "/":
                response.failure(f"log_post: {response.status_code} {response.headers.get('Location', '')}")

    @task
    def next_request(self) -> None:
        elapsed = time.monotonic() - _started[0]
        if PLAN["mode"] == "mix":
            action = self.rng.choices(list(MIX), list(MIX.values()))[0]
            name = "warmup" if elapsed < PLAN["schedule"]["warmup"] else action
            if action == "log_post":
                self.log_post(name)
            else:
                self.get(action, name)
            return
        page, name = scheduled(elapsed)
        if name == "warmup":
            page = self.rng.choice(PLAN["schedule"]["pages"])  # every page once at least: templates compiled
        if page is None:
            time.sleep(0.2)  # the schedule is over; Locust stops at its --run-time
            return
        self.get(page, name)


def scheduled(elapsed: float) -> tuple[str | None, str]:
    """Mode "pages": the page every client asks for `elapsed` seconds into the run, and the name its
    requests are counted under ("warmup" and "settle" are left out of the report)."""
    schedule = PLAN["schedule"]
    pages, slot = schedule["pages"], schedule["slot"]
    if elapsed < schedule["warmup"]:
        return pages[0], "warmup"  # Client.next_request draws a page at random
    index, into = divmod(elapsed - schedule["warmup"], slot)
    if index >= schedule["rounds"] * len(pages):
        return None, ""
    page = pages[int(index) % len(pages)]
    return page, ("settle" if into < schedule["settle"] else page)
