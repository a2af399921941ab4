"""Field-level privacy: for each of the three visibility levels, where a reflection's words and
ratings reach someone, and where they never do. Every page, the appointment view, the exports, the
JSON downloads, emails, error pages, logs and the audit table; and the private safety line.

The cast: Sam (partner_b) receives three back rubs from Alex (partner_a) and writes one reflection
on each, at one visibility each, with unique words in all three text fields and ratings nobody else
gives. Alex reflects on each of them too (shared, all tens), so averages, the giver/receiver gap and
"both reflected" have something to mix Sam's numbers into. Twenty older sessions without
reflections fill a second page of every timeline. Sam also tells the therapist something through
the safety line.

The world is built once for the module, through factories and services (`built_world`, on conftest's
`module_db`), and every case only reads it; the one test of the whole walk through logs, emails and
audit rows builds its own through the forms, so that building is part of what it watches.

`CONTRACT` below is the whole promise at a glance; the tests read it. Expected results come from
docs (DESIGN.md "Data" and "Access", issue 5), never from what the code happens to do.
"""

import copy
import csv
import dataclasses
import io
import json
import logging
import re
import uuid
from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import NamedTuple

import pytest
import time_machine
from auditlog.models import LogEntry
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.paginator import Page
from django.db.models import Max
from django.test import override_settings
from django.test.utils import ContextList
from django.urls import URLPattern, reverse
from django.utils import timezone

from accounts import services as people
from intimacy import services
from intimacy.forms import ReflectionForm
from intimacy.models import Exercise, ReadinessAnswer, Reflection, SafetyCheck, Session
from intimacy.reminders import reminders_run
from tests.factories import (
    PASSWORD,
    AssignmentFactory,
    CoupleFactory,
    PartnerFactory,
    SessionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# The three visibility levels, as the form offers them.
SHARED = Reflection.Visibility.SHARED.value  # "My partner and my therapist"
THERAPIST_ONLY = Reflection.Visibility.THERAPIST.value  # "My therapist only"
JUST_ME = Reflection.Visibility.PRIVATE.value  # "Just me"
LEVELS = (SHARED, THERAPIST_ONLY, JUST_ME)

ALL = frozenset(LEVELS)
NONE = frozenset()
ONLY_SHARED = frozenset({SHARED})
NOT_JUST_ME = frozenset({SHARED, THERAPIST_ONLY})

# The readers.
SAM, ALEX, THERAPIST, STAFF, OUTSIDER = "Sam (author)", "Alex (other partner)", "therapist", "staff", "outsider"

# Sam's words at each level, one marker per text field, found nowhere else.
TEXT_FIELDS = Reflection.TEXT_FIELDS  # pause_reason, next_time, notes
WORDS = {
    level: {"notes": f"{level}-NOTES-9x", "next_time": f"{level}-NEXT-4q", "pause_reason": f"{level}-PAUSE-7k"}
    for level in LEVELS
}
SAFETY_WORDS = "SAFETY-LINE-he-grabbed-my-arm-5m"
EVERY_MARKER = [m for level in LEVELS for m in WORDS[level].values()] + [SAFETY_WORDS]

# Sam's ratings at each level (Sam is the receiver every time). Nobody else gives any of them: Alex
# rates everything 10, the fillers have no reflections. Any mean of a subset of one column differs
# from every other (1, 2, 6 → 1, 2, 6, 1.5, 3.5, 4, 3), so a leak into an average shows. "Safe" is a
# rating like comfort (issue 13), kept above the urgent threshold so that no safety warning stands in
# front of the appointment view: 7, 4, 8 → 7, 4, 8, 5.5, 7.5, 6, 6.3.
ALEX_RATING = 10
RATINGS = {
    SHARED: {"connection": 1, "comfort": 4, "safe": 7, "tension_before": 9, "tension_after": 8, "cared_for": 1},
    THERAPIST_ONLY: {"connection": 2, "comfort": 5, "safe": 4, "tension_before": 9, "tension_after": 7, "cared_for": 2},
    JUST_ME: {"connection": 6, "comfort": 9, "safe": 8, "tension_before": 9, "tension_after": 3, "cared_for": 6},
}
LEVEL_BY_CONNECTION = {RATINGS[level]["connection"]: level for level in LEVELS}


def _per_level(field: str) -> dict:
    return {level: RATINGS[level][field] for level in LEVELS}


# Per rating chart, the number each of Sam's reflections puts into each of Sam's series, in the
# chart's order.
CHART_VALUES = {
    "connection": [_per_level("connection")],
    "gap": [_per_level("connection")],  # the receiver's series
    "comfort": [_per_level("comfort"), _per_level("safe")],  # "Sam, comfortable", then "Sam, safe"
    "relief": [{level: RATINGS[level]["tension_before"] - RATINGS[level]["tension_after"] for level in LEVELS}],
}
# Days before the couple's today: one session per ISO week, so every week's numbers are one level's.
DAYS_AGO = {SHARED: 16, THERAPIST_ONLY: 9, JUST_ME: 2}
FILLERS, FILLER_DAYS_AGO = 20, 70


class See(NamedTuple):
    """What of Sam's reflections one reader gets on one surface."""

    words: frozenset  # levels whose words appear; every other level's words never do
    ratings: frozenset | None  # levels whose numbers reach them in any form (a chart point, an
    # average, a count, a JSON or CSV field, an object in the page's context); every other level
    # leaves no trace. None: the surface is not read structurally.


NOTHING = See(NONE, NONE)

# fmt: off
CONTRACT = {
    # surface                reader:  See(words,        ratings)
    # Partner pages: the author reads everything of her own; the other partner only what was shared.
    "home":               {SAM: See(ALL, ALL),           ALEX: See(ONLY_SHARED, ONLY_SHARED)},
    "history":            {SAM: See(ALL, ALL),           ALEX: See(ONLY_SHARED, ONLY_SHARED)},
    # The couple's progress page: each partner's own connection only, and no words at all.
    "progress":           {SAM: See(NONE, ALL),          ALEX: NOTHING},
    "my_data":            {SAM: NOTHING,                 ALEX: NOTHING},
    "my_data_download":   {SAM: See(ALL, ALL),           ALEX: See(ONLY_SHARED, ONLY_SHARED)},
    # "Add your reflection" (→ one's own edit page), and edit / "who can read it" of Sam's three.
    "reflection_pages":   {SAM: See(ALL, ALL),           ALEX: NOTHING,  THERAPIST: NOTHING,  OUTSIDER: NOTHING},
    "log_pages":          {SAM: NOTHING,                 ALEX: NOTHING},
    "checkin":            {SAM: NOTHING,                 ALEX: NOTHING},
    "safety_pages":       {SAM: NOTHING,                 ALEX: NOTHING},
    "account_pages":      {SAM: NOTHING,                 ALEX: NOTHING},  # consent, reminders
    # The therapist: every rating; the words of all but "Just me"; the appointment view is the couple's.
    "caseload":           {THERAPIST: NOTHING},                # and the exercise library, "Add couple"
    "couple_detail":      {THERAPIST: See(NOT_JUST_ME, ALL)},
    "appointment":        {THERAPIST: See(ONLY_SHARED, ONLY_SHARED)},
    # Sam's shared reflection left out for today's appointment (issue 13): then nothing of Sam's is there.
    "appointment_curated": {THERAPIST: NOTHING},
    "couple_summary":     {THERAPIST: See(NONE, ALL)},         # numbers only, by design
    "couple_export":      {THERAPIST: See(NONE, ALL)},         # CSV: "ratings only"
    "couple_record":      {THERAPIST: See(NOT_JUST_ME, ALL)},  # JSON for the clinical file
    "couple_audit":       {THERAPIST: NOTHING},
    "couple_forms":       {THERAPIST: NOTHING},                # assign an exercise, delete couple
    # Support: ids and dates only (the admin shows no rating fields either; not read structurally).
    "admin":              {STAFF: See(NONE, None)},
}
# fmt: on

# The safety line's message reaches exactly these, and nothing else anywhere.
SAFETY_LINE_REACHES = {("couple_detail", THERAPIST), ("couple_record", THERAPIST)}

# Where words show, which fields a surface prints; the rest print all three. The partner's session
# cards show "next time" and the notes, not what happened when a session paused (not a privacy rule).
FIELDS_SHOWN = {"home": ("next_time", "notes"), "history": ("next_time", "notes")}

# Sam's reflection pages (edit, "who can read it") opened by someone who may not change them.
# An insider who may see the reflection gets 403; for whom it does not exist, 404 (DESIGN "Access").
REFLECTION_PAGE_STATUS = {
    ALEX: {SHARED: 403, THERAPIST_ONLY: 404, JUST_ME: 404},
    THERAPIST: {SHARED: 403, THERAPIST_ONLY: 403, JUST_ME: 403},
    OUTSIDER: {SHARED: 404, THERAPIST_ONLY: 404, JUST_ME: 404},
}

# (surface, reader) → why: cases where the code breaks the contract today (strict xfail).
KNOWN_BUGS: dict[tuple[str, str], str] = {}


# The cast ----------------------------------------------------------------------------------------


@dataclasses.dataclass
class World:
    couple: object
    assignment: object
    users: dict  # reader -> User
    sessions: dict  # level -> Session Sam reflected on
    reflections: dict  # level -> Sam's Reflection
    days: dict  # level -> date
    session_days: list  # every session's date, fillers included

    def level_of(self, reflection: Reflection) -> str | None:
        return next((lvl for lvl, r in self.reflections.items() if r.pk == reflection.pk), None)


# Alex's reflection on each of them, as the form posts it.
ALEX_POST = {
    "connection": ALEX_RATING,
    "comfort": ALEX_RATING,
    "safe": ALEX_RATING,
    "presence": ALEX_RATING,
    "visibility": SHARED,
}


def reflection_post(level: str) -> dict:
    """Sam's answers at one level, as the form posts them."""
    data = {name: str(value) for name, value in RATINGS[level].items()}
    data.update(WORDS[level], pressure="firm", pace="right", paused="on", visibility=level)
    # Shared after a pause is asked once more (issue 13): Sam says yes, so the words are shared.
    data["confirm_share"] = "on"
    return data


@pytest.fixture
def debug_logs(caplog):
    """Every log record at DEBUG and up, from before the cast is built to the end of the test."""
    caplog.set_level(logging.DEBUG)
    return caplog


def _fillers(assignment, alex, sam, today: date) -> list:
    return [
        SessionFactory(
            assignment=assignment,
            giver=alex,
            receiver=sam,
            logged_by=alex,
            date=today - timedelta(days=FILLER_DAYS_AGO),
        )
        for _ in range(FILLERS)
    ]


def _world(couple, assignment, alex, sam, therapist, staff, outsider, sessions, days, fillers) -> World:
    return World(
        couple=couple,
        assignment=assignment,
        users={SAM: sam.user, ALEX: alex.user, THERAPIST: therapist, STAFF: staff, OUTSIDER: outsider.user},
        sessions=sessions,
        reflections={level: session.reflections.get(partner=sam) for level, session in sessions.items()},
        days=days,
        session_days=[*days.values(), *(s.date for s in fillers)],
    )


def _answers(data: dict) -> dict:
    """A reflection's answers as the form cleans them, for the services."""
    form = ReflectionForm(data)
    assert form.is_valid(), form.errors
    return form.answers()


def _lift_hold_words():
    return "HOLD-LIFT-spoke-with-each-alone"


def _lift_the_hold(couple, therapist) -> None:
    """The safety message put the couple's touch exercises on hold; the therapist spoke with each
    partner alone and lifted it, so the pages below show an exercise running (issue 13)."""
    today = couple.today()
    both = {p.pk: {"day": today, "how": "video"} for p in couple.partners.all()}
    services.hold_lift(couple=couple, by=therapist, note=_lift_hold_words(), screenings=both)
    # Each partner answers the private check again, without a flag, before touch work resumes.
    for partner in couple.partners.all():
        services.safety_check_answer(partner=partner, answers=dict(SafetyCheck.FINE))


def build_world() -> World:
    """The cast and their homework, through factories and the services the forms call."""
    therapist = UserFactory(name="Dr Lee")
    staff = UserFactory(is_staff=True, is_superuser=True)
    couple = CoupleFactory(therapist=therapist, label="Alex & Sam")
    alex = PartnerFactory(couple=couple, slot=1, name="Alex")
    sam = PartnerFactory(couple=couple, slot=2, name="Sam")
    other_couple = CoupleFactory(therapist=UserFactory(), label="Casey & Drew")
    PartnerFactory(couple=other_couple, slot=2, name="Drew")
    outsider = PartnerFactory(couple=other_couple, slot=1, name="Casey")
    assignment = AssignmentFactory(couple=couple)
    today = couple.today()
    days = {level: today - timedelta(days=n) for level, n in DAYS_AGO.items()}
    fillers = _fillers(assignment, alex, sam, today)
    sessions = {}
    for level in LEVELS:
        sessions[level], _ = services.session_log(
            assignment=assignment,
            partner=sam,
            day=days[level],
            minutes=20,
            role=Reflection.Role.RECEIVER,
            answers=_answers(reflection_post(level)),
            idempotency_key=uuid.uuid4(),
        )
        services.reflection_add(session=sessions[level], partner=alex, answers=_answers(ALEX_POST))
    services.safety_message_send(partner=sam, feeling="pressured", message=SAFETY_WORDS)
    _lift_the_hold(couple, therapist)
    people.couple_set_progress_page(couple=couple, enabled=True)
    return _world(couple, assignment, alex, sam, therapist, staff, outsider, sessions, days, fillers)


@pytest.fixture(scope="module")
def built_world(module_db) -> World:
    with module_db.unblock():
        return build_world()


@pytest.fixture
def world(built_world) -> World:
    """The module's world for one test: its rows are rolled back after the test, its objects are a copy."""
    return copy.deepcopy(built_world)


@pytest.fixture
def world_through_forms(
    debug_logs, mailoutbox, client, therapist, staff, couple, partner_a, partner_b, outsider, assignment
) -> World:
    """The same world built through the app's own forms, so its logs, audit rows and emails are part of
    the whole walk (the module's world above uses other email addresses, so both can exist at once)."""
    today = couple.today()
    days = {level: today - timedelta(days=n) for level, n in DAYS_AGO.items()}
    fillers = _fillers(assignment, partner_a, partner_b, today)
    sessions = {}
    for level in LEVELS:
        client.force_login(partner_b.user)
        key = uuid.uuid4()
        data = reflection_post(level) | {
            "idempotency_key": str(key),
            "date": days[level].isoformat(),
            "minutes": "20",
            "role": Reflection.Role.RECEIVER,
        }
        response = client.post(reverse("session_log", args=[assignment.pk]), data)
        assert response.status_code == 302, response.content.decode()[:2000]
        sessions[level] = Session.objects.get(idempotency_key=key)
        client.force_login(partner_a.user)
        response = client.post(reverse("reflection_add", args=[sessions[level].pk]), ALEX_POST)
        assert response.status_code == 302, response.content.decode()[:2000]
    client.force_login(partner_b.user)
    response = client.post(reverse("safety"), {"feeling": "pressured", "message": SAFETY_WORDS})
    assert response.status_code == 302
    _lift_the_hold(couple, therapist)
    client.force_login(therapist)
    assert client.post(reverse("progress_page_switch", args=[couple.pk]), {"enabled": "1"}).status_code == 302
    client.logout()
    return _world(couple, assignment, partner_a, partner_b, therapist, staff, outsider, sessions, days, fillers)


# Reading what a reader got -----------------------------------------------------------------------

CHART_DATA = re.compile(r'<script id="chart-data" type="application/json">(.*?)</script>', re.S)


def _reflections_in(value, depth: int = 0, seen: dict | None = None):
    """Every Reflection reachable from a template context value (pages, sessions, dataclasses).

    `seen` (id → depth, object) skips what was already walked from as near the top or nearer: every
    template a page includes flattens the same context again. The object is kept in it, so no id is
    reused while the walk lasts."""
    if depth > 8 or value is None:
        return
    seen = {} if seen is None else seen
    if (known := seen.get(id(value))) is not None and known[0] <= depth:
        return
    seen[id(value)] = (depth, value)
    if isinstance(value, Reflection):
        yield value
    elif isinstance(value, Session):
        for name in ("giver_reflection", "receiver_reflection", "mine"):
            yield from _reflections_in(getattr(value, name, None), depth + 1, seen)
        yield from _reflections_in(getattr(value, "visible_reflections", None), depth + 1, seen)
    elif isinstance(value, Page):
        yield from _reflections_in(list(value.object_list), depth + 1, seen)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _reflections_in(item, depth + 1, seen)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _reflections_in(item, depth + 1, seen)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _reflections_in(getattr(value, f.name), depth + 1, seen)


def _contexts(response) -> list[dict]:
    context = getattr(response, "context", None)
    if context is None:
        return []
    return [c.flatten() for c in (context if isinstance(context, ContextList) else [context])]


class Visit:
    """One reader on one surface: everything they received, and which levels' ratings reached them."""

    def __init__(self, client, world: World, reader: str, expected: See):
        self.client, self.world, self.reader, self.expected = client, world, reader, expected
        self.texts: list[str] = []
        self.found: set[str] = set()  # levels whose numbers positively reached the reader
        self.problems: list[str] = []  # numbers that are not what `expected` allows
        client.force_login(world.users[reader])
        # Confirmed, as Tend asks before a couple's record is downloaded (the export surfaces).
        assert client.post(reverse("account_reauthenticate"), {"password": PASSWORD}).status_code == 302

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    def get(self, url: str, *, post: bool = False, follow: bool = False, ok=(200,)):
        response = (self.client.post if post else self.client.get)(url, follow=follow)
        assert response.status_code in ok, f"{self.reader} {url}: {response.status_code}"
        self.read(url, response)
        return response

    def walk(self, url: str) -> int:
        """Every page of a paginated view; returns how many there were."""
        number = 1
        while True:
            response = self.get(f"{url}{'&' if '?' in url else '?'}page={number}")
            if not response.context["page"].has_next():
                return number
            number += 1

    def read(self, url: str, response) -> None:
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode()
        self.texts += [url, text, repr(sorted(response.items()))]
        self.texts += [u for u, _ in getattr(response, "redirect_chain", [])]
        if self.expected.ratings is None:
            return
        seen = {}
        for context in _contexts(response):
            for reflection in _reflections_in(context, seen=seen):
                if (level := self.world.level_of(reflection)) is not None:
                    self.note(level, f"a Reflection object in the context of {url}")
        content_type = response.get("Content-Type", "")
        if content_type.startswith("application/json"):
            for session in json.loads(text)["sessions"]:
                for reflection in session["reflections"]:
                    if reflection["by"] == "Sam":
                        self.note(LEVEL_BY_CONNECTION[reflection["connection"]], f"the JSON of {url}")
        elif content_type.startswith("text/csv"):
            rows = list(csv.reader(io.StringIO(text)))
            column = rows[0].index("receiver_connection")
            for row in rows[1:]:
                if row[column]:
                    self.note(LEVEL_BY_CONNECTION[int(row[column])], f"the CSV of {url}")
        contexts = _contexts(response)
        # What the page's script draws from, and everything its tables and legend are written from.
        charts = [json.loads(match.group(1)) for match in CHART_DATA.finditer(text)]
        charts += [c["chart_data"] for c in contexts if "chart_data" in c][:1]
        for chart in charts:
            self.check_chart(chart, next(c["period"] for c in contexts if "period" in c), url)

    def note(self, level: str, where: str) -> None:
        self.found.add(level)
        if level not in self.expected.ratings:
            self.problems.append(f"Sam's {level} reflection reached {self.reader} through {where}")

    def check_chart(self, chart: dict, period, url: str) -> None:
        """Each week's (or month's) numbers must be exactly what the allowed reflections make."""
        buckets = period.buckets()

        def index(day: date) -> int | None:
            return next((i for i, b in enumerate(buckets) if b.start <= day <= b.end), None)

        allowed = defaultdict(set)  # bucket -> Sam's levels whose numbers may count there
        for level in self.expected.ratings:
            if (i := index(self.world.days[level])) is not None:
                allowed[i].add(level)
        sessions = Counter(index(day) for day in self.world.session_days)
        for c in chart["charts"]:
            for i in range(len(buckets)):
                values = [s["values"][i] for s in c["series"]]
                where = f"chart {c['id']!r}, {buckets[i].label}, of {url}"
                if c["id"] in CHART_VALUES:
                    sams = [v for v in values if v is not None and v != ALEX_RATING]
                    want = [
                        round(sum(per_level[lv] for lv in allowed[i]) / len(allowed[i]), 1)
                        for per_level in CHART_VALUES[c["id"]]
                        if allowed[i]
                    ]
                    if sams != want:
                        self.problems.append(f"{where}: Sam's numbers {sams}, allowed {want}")
                    else:
                        self.found |= allowed[i]
                    # What is not drawn yet holds numbers too (issue 16): the connection chart's role views
                    # and its table's every column (each partner over all roles and in each role).
                    hidden = [s["values"][i] for v in c.get("views", []) for s in v["series"]]
                    hidden += c["rows"][i][1:] if "rows" in c else []  # the script's data has no table
                    extra = {v for v in hidden if v is not None and v != ALEX_RATING} - set(want)
                    if extra:
                        self.problems.append(f"{where}: Sam's numbers {sorted(extra)} in a view or the table")
                elif c["id"] == "completion":
                    want = round(100 * len(allowed[i]) / sessions[i]) if sessions[i] else None
                    if values != [want]:
                        self.problems.append(f"{where}: both reflected {values} %, allowed {want} %")
        for marker in chart["markers"]:
            if marker["kind"] == "paused" and "count" in marker:  # Sam paused every time, Alex never
                count = marker["count"]
                if count > len(allowed[marker["index"]]):
                    self.problems.append(f"paused marker {marker} of {url}: more than {allowed[marker['index']]}")


# The surfaces ------------------------------------------------------------------------------------

LONG = "weeks=52"  # a year, month by month: Sam's three weeks share a bucket, so averages mix
SURFACES = {}  # surface -> function that walks it
SURFACE_URLS = {}  # surface -> the URL names it reads


def surface(name: str, *url_names: str):
    def register(walk):
        SURFACES[name], SURFACE_URLS[name] = walk, set(url_names)
        return walk

    return register


@surface("home", "home")
def _home(v: Visit, w: World) -> None:
    v.get(reverse("home"))


@surface("history", "history")
def _history(v: Visit, w: World) -> None:
    assert v.walk(reverse("history")) >= 2


@surface("progress", "progress")
def _progress(v: Visit, w: World) -> None:
    v.get(reverse("progress"))
    v.get(f"{reverse('progress')}?{LONG}")


@surface("my_data", "my_data")
def _my_data(v: Visit, w: World) -> None:
    v.get(reverse("my_data"))


# The JSON and its readable page (issue 17) hold the same: one surface, both read.
@surface("my_data_download", "my_data_download", "my_data_page")
def _my_data_download(v: Visit, w: World) -> None:
    v.get(reverse("my_data_download"))
    v.get(reverse("my_data_page"))


@surface("reflection_pages", "reflection_add", "reflection_edit", "reflection_visibility")
def _reflection_pages(v: Visit, w: World) -> None:
    for level in LEVELS:
        v.get(reverse("reflection_add", args=[w.sessions[level].pk]), follow=True, ok=(200, 403, 404))
        for name in ("reflection_edit", "reflection_visibility"):
            v.get(reverse(name, args=[w.reflections[level].pk]), ok=(200, 403, 404))


@surface("log_pages", "log_start", "session_log", "session_edit")
def _log_pages(v: Visit, w: World) -> None:
    v.get(reverse("log_start"), follow=True)
    v.get(reverse("session_log", args=[w.assignment.pk]))
    v.get(f"{reverse('session_log', args=[w.assignment.pk])}?new=1")
    for level in LEVELS:
        v.get(reverse("session_edit", args=[w.sessions[level].pk]), ok=(200, 403))


@surface("checkin", "checkin")
def _checkin(v: Visit, w: World) -> None:
    v.get(reverse("checkin"))


# After sending, the safety line lands on the partner's home (the "home" surface): no page of its own.
@surface("safety_pages", "safety")
def _safety_pages(v: Visit, w: World) -> None:
    v.get(reverse("safety"))


@surface("account_pages", "consent", "consent_withdraw", "reminder_settings")
def _account_pages(v: Visit, w: World) -> None:
    for name in ("consent", "consent_withdraw", "reminder_settings"):
        v.get(reverse(name))


@surface("caseload", "home", "couple_add", "exercise_list", "exercise_create")
def _caseload(v: Visit, w: World) -> None:
    v.get(reverse("home"))
    v.get(f"{reverse('home')}?status=all")
    for name in ("couple_add", "exercise_list", "exercise_create"):
        v.get(reverse(name))


# The couple page is tabs, each its own page (issue 16): the surface is all of them.
COUPLE_TABS = ("couple_detail", "couple_trends", "couple_reflections", "couple_notes", "couple_exercises")


@surface("couple_detail", *COUPLE_TABS, "note_add")
def _couple_detail(v: Visit, w: World) -> None:
    for name in COUPLE_TABS:
        url = reverse(name, args=[w.couple.pk])
        if name == "couple_reflections":  # the timeline, a page at a time
            assert v.walk(url) >= 2
            v.walk(f"{url}?{LONG}")
        else:
            v.get(url)
            v.get(f"{url}?{LONG}")
    # A note the form refuses shows the notes tab again.
    v.get(reverse("note_add", args=[w.couple.pk]), post=True, ok=(400,))


@surface("appointment", "appointment")
def _appointment(v: Visit, w: World) -> None:
    # "Open with the couple" past the warning (the safety line's message waits unseen), once: the
    # view then stays open for its pages and periods.
    url = reverse("appointment", args=[w.couple.pk])
    v.get(f"{url}?confirm=1")
    assert v.walk(url) >= 2
    v.walk(f"{url}?{LONG}")


@surface("appointment_curated", "appointment_leave_out_reflection", "appointment_put_back")
def _appointment_curated(v: Visit, w: World) -> None:
    # Left out before the view is read: from then on, not one of Sam's words or numbers is there.
    left_out = v.client.post(reverse("appointment_leave_out_reflection", args=[w.reflections[SHARED].pk]))
    assert left_out.status_code == 302
    url = reverse("appointment", args=[w.couple.pk])
    v.get(f"{url}?confirm=1")
    assert v.walk(url) >= 2
    v.walk(f"{url}?{LONG}")
    # Put back, so the module's world is as it was for the other cases.
    assert v.client.post(reverse("appointment_put_back", args=[w.couple.pk])).status_code == 302


@surface("couple_summary", "couple_summary")
def _couple_summary(v: Visit, w: World) -> None:
    url = reverse("couple_summary", args=[w.couple.pk])
    v.get(url)
    v.get(f"{url}?{LONG}")


@surface("couple_export", "couple_export")
def _couple_export(v: Visit, w: World) -> None:
    url = reverse("couple_export", args=[w.couple.pk])
    v.get(url)
    v.get(f"{url}?{LONG}")


@surface("couple_record", "couple_record")
def _couple_record(v: Visit, w: World) -> None:
    v.get(reverse("couple_record", args=[w.couple.pk]), post=True)


@surface("couple_audit", "couple_audit")
def _couple_audit(v: Visit, w: World) -> None:
    v.walk(reverse("couple_audit", args=[w.couple.pk]))


@surface("couple_forms", "assignment_create", "couple_delete", "screening_add")
def _couple_forms(v: Visit, w: World) -> None:
    v.get(reverse("assignment_create", args=[w.couple.pk]))
    v.get(reverse("couple_delete", args=[w.couple.pk]))
    v.get(reverse("screening_add", args=[w.couple.pk]))
    v.get(reverse("screening_add", args=[w.couple.pk]), post=True, ok=(400,))


@surface("admin")
def _admin(v: Visit, w: World) -> None:
    v.get(reverse("admin:intimacy_reflection_changelist"))
    for level in LEVELS:
        v.get(reverse("admin:intimacy_reflection_change", args=[w.reflections[level].pk]))
        v.get(reverse("admin:intimacy_session_change", args=[w.sessions[level].pk]))
    v.get(reverse("admin:auditlog_logentry_changelist"))


# Tend's URLs that show no one's homework: actions that only redirect, public or fixed pages.
NOT_READ = {
    "healthz": "public, answers 'ok'",
    "favicon": "public, a redirect to Tend's icon",
    "invite_accept": "public signed link: a set-password form",
    "reminders_off": "public signed link from an email: a fixed question",
    "account_email": "a fixed sentence",
    "stay_signed_in": "a fixed question about this phone's sign-in (issue 17): no couple's data",
    "alert_settings": "a therapist's own urgent-email address: no couple's data",
    "display_name": "a therapist's own name for invitations: no couple's data",
    "alert_address_confirm": "public signed link from an email: the address it confirms, nothing else",
    "exercise_detail": "the exercise library: no couple's data",
    "session_dispute": "a fixed question about one session: its date and who logged it, no words or ratings",
    "reflection_decline": "an action: POST, then a redirect (the reveal rule below reads what follows)",
    "safety_check": "four fixed questions; the answers are never shown back (tests/intimacy/test_holds.py)",
    "exercise_edit": "the exercise library: no couple's data",
    "exercise_customize": "the exercise library: no couple's data",
    # Staged programs (issue 15): the library of programs, and starting one, show no couple's homework;
    # readiness is read by its own test below (`TestReadinessIsPrivate`).
    "program_list": "the program library: no couple's data",
    "program_create": "the program library: no couple's data",
    "program_detail": "the program library: no couple's data",
    "program_assign": "a list of programs: no couple's data beyond its label",
    # Push reminders (issue 17): JSON in, {"ok": …} out; one static file; allauth's sessions list.
    "push_subscribe": "an action on one's own browsers: JSON in, ok or not out",
    "push_unsubscribe": "an action on one's own browsers: JSON in, ok or not out",
    "service_worker": "one static file, the same for everyone",
    "sign_out_everywhere": "allauth's list of one's own sign-ins: no couple's data",
    # Night mode (issue 17): stores this device's colours in a cookie; answers 204 or a redirect.
    "theme_set": "an action: POST, then 204 or a redirect; only a colour choice",
    **dict.fromkeys(
        [
            "note_delete",
            "alert_acknowledge",
            "couple_status",
            "progress_page_switch",
            "invite_resend",
            "partner_change_email",
            "assignment_status",
            "session_delete",
            "exercise_archive",
            "quick_sign_out",
            "keepalive",
            "appointment_leave_out_session",
            "hold_lift",
            "touch_pause",
            "touch_resume",
            "intro_dismiss",
            # One back rub, one session (issue 14): the pages they lead back to are read above.
            "session_merge",
            "session_merge_by_therapist",
            "session_conflict_join",
            "session_pair_dismiss",
            "program_stage_add",
            "program_stage_move",
            "program_approve",
            "program_return",
            "step_readiness",
            "step_back",
        ],
        "an action: POST, then a redirect",
    ),
}
assert SURFACES.keys() == CONTRACT.keys()


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def visit(client, world: World, surface: str, reader: str) -> Visit:
    """One reader through one surface; what it logged (at DEBUG and up), emailed and wrote to the audit
    table on the way is kept with it (`logs`, `emails`, `audit_rows`) for the whole walk's check."""
    v = Visit(client, world, reader, CONTRACT[surface][reader])
    root, handler = logging.getLogger(), _Records()
    level, sent, last = root.level, len(mail.outbox), LogEntry.objects.aggregate(last=Max("pk"))["last"] or 0
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        SURFACES[surface](v, world)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    v.logs, v.emails, v.audit_rows = handler.records, mail.outbox[sent:], list(LogEntry.objects.filter(pk__gt=last))
    return v


@pytest.fixture(scope="module")
def _visits() -> dict:
    return {}


@pytest.fixture
def visit_once(client, world, _visits):
    """`visit` on the module's world, once per (surface, reader): the words test and the ratings test
    of one pair read the same visit. Sound because every test leaves the world as it found it."""

    def visited(surface: str, reader: str) -> Visit:
        if (surface, reader) not in _visits:
            _visits[surface, reader] = visit(client, world, surface, reader)
        return _visits[surface, reader]

    return visited


def _case(surface: str, reader: str):
    marks = []
    if (surface, reader) in KNOWN_BUGS:
        marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[(surface, reader)]))
    return pytest.param(surface, reader, id=f"{surface}-{reader.split()[0]}", marks=marks)


CASES = [_case(surface, reader) for surface, readers in CONTRACT.items() for reader in readers]


# The contract, surface by surface ----------------------------------------------------------------


@pytest.mark.parametrize(("surface", "reader"), CASES)
def test_words_reach_exactly_whom_the_visibility_allows(visit_once, surface, reader):
    seen = visit_once(surface, reader)
    text, see = seen.text, CONTRACT[surface][reader]
    missing, leaked = [], []
    for level in LEVELS:
        for field, marker in WORDS[level].items():
            if level not in see.words and marker in text:
                leaked.append(marker)
            elif level in see.words and field in FIELDS_SHOWN.get(surface, TEXT_FIELDS) and marker not in text:
                missing.append(marker)
    assert not leaked, f"{reader} on {surface} got words they may not read: {leaked}"
    assert not missing, f"{reader} on {surface} should read: {missing}"
    assert (SAFETY_WORDS in text) == ((surface, reader) in SAFETY_LINE_REACHES), "the safety line's message"


@pytest.mark.parametrize(
    ("surface", "reader"), [c for c in CASES if CONTRACT[c.values[0]][c.values[1]].ratings is not None]
)
def test_ratings_reach_exactly_whom_the_visibility_allows(visit_once, surface, reader):
    seen = visit_once(surface, reader)
    assert not seen.problems, "\n".join(seen.problems)
    assert seen.found == CONTRACT[surface][reader].ratings


def test_the_therapist_sees_just_me_ratings_but_never_its_words(visit_once, world):
    """The one level where ratings and words part: spelled out, beside the table."""
    private = world.reflections[JUST_ME]
    v = visit_once("couple_record", THERAPIST)
    (entry,) = [
        r
        for s in json.loads(v.texts[1])["sessions"]
        for r in s["reflections"]
        if r["by"] == "Sam" and r["visibility"] == JUST_ME
    ]
    assert entry["connection"] == private.connection and entry["comfort"] == private.comfort
    assert entry["safe"] == private.safe == RATINGS[JUST_ME]["safe"]
    assert not set(TEXT_FIELDS) & set(entry)


# Error pages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("reader", list(REFLECTION_PAGE_STATUS))
def test_someone_elses_reflection_page_answers_without_a_word(client, world, reader, level):
    client.force_login(world.users[reader])
    for view in ("reflection_edit", "reflection_visibility"):
        url = reverse(view, args=[world.reflections[level].pk])
        # The POST carries a harmless change: it must be refused before it does anything.
        for response in (client.get(url), client.post(url, {"visibility": JUST_ME})):
            assert response.status_code == REFLECTION_PAGE_STATUS[reader][level], (
                view,
                response.request["REQUEST_METHOD"],
            )
            body = response.content.decode() + repr(sorted(response.items()))
            assert not [m for m in EVERY_MARKER if m in body]
    world.reflections[level].refresh_from_db()
    assert world.reflections[level].visibility == level


def _force_500(client, world: World, monkeypatch):
    """Sam saves her "My therapist only" reflection and the service fails, with DEBUG off."""

    def boom(**kwargs):
        raise RuntimeError("the database went away")

    with (
        monkeypatch.context() as patch,
        override_settings(DEBUG=False, ADMINS=[("Ops", "ops@example.org")]),
    ):
        patch.setattr(services, "reflection_update", boom)
        client.force_login(world.users[SAM])
        client.raise_request_exception = False
        try:
            url = reverse("reflection_edit", args=[world.reflections[THERAPIST_ONLY].pk])
            return client.post(url, reflection_post(THERAPIST_ONLY))
        finally:
            client.raise_request_exception = True


def test_a_500_during_a_reflection_post_shows_and_reports_no_word(client, world, monkeypatch, mailoutbox):
    response = _force_500(client, world, monkeypatch)
    assert response.status_code == 500
    assert not [m for m in EVERY_MARKER if m in response.content.decode()]
    (report,) = [m for m in mailoutbox if m.to == ["ops@example.org"]]
    assert "RuntimeError" in report.body
    assert not [m for m in EVERY_MARKER if m in _email_text(report)]


# The whole walk: logs, emails, audit rows ------------------------------------------------------------


def _email_text(message) -> str:
    parts = [message.subject, message.body, repr(message.to), repr(message.extra_headers)]
    parts += [str(content) for content, _ in getattr(message, "alternatives", [])]
    return "\n".join(parts)


@pytest.fixture
def walked(client, visit_once, world_through_forms, monkeypatch, mailoutbox, debug_logs, therapist):
    """Everyone through every surface, the error pages, a 500, a password reset and an invitation.

    The surfaces are the module's visits (`visit_once`: made now, or kept from the contract tests
    above), read on the module's world, with what each logged, emailed and wrote to the audit table;
    the rest happens here, on the world built through the forms."""
    visits = [visit_once(surface, reader) for surface, readers in CONTRACT.items() for reader in readers]
    world = world_through_forms
    for reader, statuses in REFLECTION_PAGE_STATUS.items():
        client.force_login(world.users[reader])
        for level in statuses:
            client.get(reverse("reflection_edit", args=[world.reflections[level].pk]))
            client.post(reverse("reflection_visibility", args=[world.reflections[level].pk]), {"visibility": JUST_ME})
    assert _force_500(client, world, monkeypatch).status_code == 500
    # An invitation for a partner who has not joined yet (another couple of the same therapist)...
    pending = CoupleFactory(therapist=therapist, label="Robin & Kit")
    robin = PartnerFactory(couple=pending, slot=1, name="Robin", email="robin@example.org", user=None, accepted_at=None)
    PartnerFactory(couple=pending, slot=2, name="Kit", email="kit@example.org", user=None, accepted_at=None)
    client.force_login(therapist)
    assert client.post(reverse("invite_resend", args=[pending.pk, robin.pk])).status_code == 302
    # ... and one for Sam, who has (refused: no email), then Sam's password reset.
    sam_partner = world.users[SAM].partner
    client.post(reverse("invite_resend", args=[world.couple.pk, sam_partner.pk]))
    client.logout()
    client.post(reverse("account_reset_password"), {"email": world.users[SAM].email})
    # The reminder run: the therapist's "a client needs your attention" (the safety line raised an
    # urgent alert), and the partners' reminders, turned on for every day from a minute ago.
    at = (timezone.localtime(timezone.now(), world.couple.tz) - timedelta(minutes=1)).time()
    for partner in (world.users[SAM].partner, world.users[ALEX].partner):
        people.reminders_set(partner=partner, on=True, weekdays=list(range(7)), at=at)
    with override_settings(TEND_SITE_URL="https://tend.example.org"):
        reminders_run()
    sent = {m.to[0] for m in mailoutbox}
    assert {"ops@example.org", "robin@example.org", world.users[SAM].email, therapist.email} <= sent, sent
    return (
        debug_logs.get_records("setup") + debug_logs.get_records("call") + [r for v in visits for r in v.logs],
        mailoutbox + [m for v in visits for m in v.emails],
        list(LogEntry.objects.all()) + [row for v in visits for row in v.audit_rows],
    )


def test_the_whole_walk_leaves_no_word_in_logs_emails_or_audit_rows(walked):
    records, outbox, entries = walked
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    leaks = defaultdict(list)
    for record in records:
        text = "\n".join([formatter.format(record), repr(record.args), repr(vars(record))])
        leaks["logs"] += [(record.name, record.levelname, m) for m in EVERY_MARKER if m in text]
    for message in outbox:
        leaks["emails"] += [(message.to, m) for m in EVERY_MARKER if m in _email_text(message)]
    for entry in entries:
        text = "\n".join(str(getattr(entry, f.attname)) for f in LogEntry._meta.concrete_fields)
        leaks["audit rows"] += [(entry.pk, m) for m in EVERY_MARKER if m in text]
    # The walk really went through all three.
    assert len(records) > 50 and len(outbox) >= 3 and len(entries) > 50, (len(records), len(outbox), len(entries))
    assert not any(leaks.values()), dict(leaks)


def test_every_tend_url_is_read_above_or_shows_no_homework():
    """A new page must join the contract (or say why it shows nobody's homework)."""
    from accounts import urls as accounts_urls
    from intimacy import urls as intimacy_urls

    patterns = [*accounts_urls.urlpatterns, *intimacy_urls.urlpatterns]
    names = {p.name for p in patterns if isinstance(p, URLPattern) and p.name}
    read = set().union(*SURFACE_URLS.values())
    assert names - read - NOT_READ.keys() == set(), "add these to CONTRACT / SURFACES, or to NOT_READ"
    assert (read | NOT_READ.keys()) - names == set(), "gone from accounts/urls.py and intimacy/urls.py"


# The safety loop's private signals (issue 13) ---------------------------------------------------------------
# Sam's worrying answer in the private check, "pause for me", "not this week" and "this didn't happen":
# the therapist sees each; Alex's pages change only by the neutral pause, and the appointment view (the
# screen the couple see together) shows none of them.

SIGNAL_WORDS = [
    "private check",
    "Worrying answer",
    "Paused for me",
    "Not this week</span>",
    "didn&#x27;t happen",
    "did not happen",
    "hold",
    "pressured into touch",
]


def _clean(html: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    # The exercise card is where the neutral pause shows (tests/intimacy/test_holds.py compares it).
    return re.sub(r'<section class="card mb-4".*?</section>', "", html, flags=re.S)


SIGNALS = {
    "worrying check": lambda s, sam: services.safety_check_answer(
        partner=sam, answers={**SafetyCheck.FINE, "pressured": "yes"}
    ),
    "pause for me": lambda s, sam: services.pause_for_me(partner=sam, kind="for_me"),
    "not this week": lambda s, sam: services.pause_for_me(partner=sam, kind="week"),
    "this didn't happen": lambda s, sam: services.session_dispute(session=s, partner=sam),
}


@pytest.mark.parametrize("signal", list(SIGNALS))
def test_private_signals_reach_the_therapist_alone(client, therapist, couple, partner_a, partner_b, session, signal):
    alex_pages = ["home", "history", "progress", "my_data_download"]
    couple.progress_page = True
    couple.save()
    client.force_login(partner_a.user)
    before = {url: _clean(client.get(reverse(url)).content.decode()) for url in alex_pages}
    SIGNALS[signal](session, partner_b)
    client.force_login(partner_a.user)
    after = {url: _clean(client.get(reverse(url)).content.decode()) for url in alex_pages}
    assert after == before
    client.force_login(therapist)
    dashboard = client.get(reverse("couple_detail", args=[couple.pk])).content.decode()
    shown = {
        "worrying check": "Worrying answer",
        "pause for me": "Paused for me",
        "not this week": "Not this week",
        "this didn't happen": "did not happen",
    }
    assert shown[signal] in dashboard
    response = client.get(reverse("appointment", args=[couple.pk]), {"confirm": "1"})
    assert response.status_code == 200
    view = response.content.decode()
    # The view itself: Alex's shared reflection waits for Sam's (the reveal rule, issue 14), whatever
    # Sam's private signal was, and says nothing of it.
    assert "Alex's reflection will show here within a week." in view and "A-shared-words" not in view
    assert "Waiting for Sam" not in view  # Sam may have written privately: no one is named as late
    assert [w for w in SIGNAL_WORDS if w.lower() in view.lower()] == []


# The reveal rule (issue 14) ----------------------------------------------------------------------------
# Sam (receiver) wrote her side of a back rub Alex gave, shared, before Alex wrote his. Alex reads her
# words and ratings on no page of his until he writes his own, says "I won't reflect on this one", or
# REVEAL_AFTER (7 days) has passed; meanwhile his cards say only that Sam has written her side. Her
# "My therapist only" reflection on another back rub reaches him in no form, before or after, not even
# as "Sam has written their side". Expected from the issue's text, not from the code.

REVEAL_WORDS = {"notes": "REVEAL-NOTES-z3", "next_time": "REVEAL-NEXT-w8"}
REVEAL_RATINGS = {"connection": 3, "comfort": 6, "safe": 8, "pressure": "firm", "pace": "fast"}
HIDDEN_WORDS = "REVEAL-THERAPIST-ONLY-k2"
ALEX_PAGES = ("home", "history", "progress", "my_data_download")
WAITING = "Sam has written their side. You'll see it once you've written yours, or within a week."


@dataclasses.dataclass
class Reveal:
    shared: Session  # Sam's shared reflection on it
    hidden: Session  # Sam's "My therapist only" reflection on it
    alex: object
    sam: object


@pytest.fixture
def reveal(couple, assignment, partner_a, partner_b) -> Reveal:
    couple.progress_page = True
    couple.save()
    sessions = {}
    for name, day, visibility, words in (
        ("hidden", 1, THERAPIST_ONLY, {"notes": HIDDEN_WORDS}),
        ("shared", 2, SHARED, REVEAL_WORDS),
    ):
        sessions[name] = SessionFactory(
            assignment=assignment,
            date=couple.today() - timedelta(days=day),
            giver=partner_a,
            receiver=partner_b,
            logged_by=partner_a,
        )
        data = {**{k: str(v) for k, v in REVEAL_RATINGS.items()}, **words, "visibility": visibility}
        services.reflection_add(session=sessions[name], partner=partner_b, answers=_answers(data))
    return Reveal(sessions["shared"], sessions["hidden"], partner_a, partner_b)


def _alex_reads(client, r: Reveal) -> dict:
    """Each of Alex's pages: its text and the ids of Sam's reflections in its context or its JSON."""
    client.force_login(r.alex.user)
    pages = {}
    for name in ALEX_PAGES:
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        text = response.content.decode()
        sams = {x.pk for c in _contexts(response) for x in _reflections_in(c) if x.partner_id == r.sam.pk}
        if name == "my_data_download":
            sams |= {
                x["connection"] for s in json.loads(text)["sessions"] for x in s["reflections"] if x["by"] == "Sam"
            }
        pages[name] = (text, sams)
    return pages


def _assert_hidden(pages: dict) -> None:
    for name, (text, sams) in pages.items():
        assert not [w for w in [*REVEAL_WORDS.values(), HIDDEN_WORDS] if w in text], name
        assert sams == set(), f"Sam's reflection reached Alex's {name}"
        assert "Too firm" not in text and "Too fast" not in text, name


def _assert_revealed(pages: dict, r: Reveal) -> None:
    shared = r.shared.reflections.get(partner=r.sam)
    for name in ("home", "history"):
        text, sams = pages[name]
        # The receiver's feedback is for the giver: her words, pressure and pace (issue 14).
        assert "What Sam would like next time:" in text and REVEAL_WORDS["next_time"] in text, name
        assert REVEAL_WORDS["notes"] in text and "pressure: Too firm" in text and "pace: Too fast" in text, name
        assert WAITING not in text and HIDDEN_WORDS not in text, name
        assert sams == {shared.pk}, name  # the "My therapist only" one never
    text, sams = pages["my_data_download"]
    assert REVEAL_WORDS["notes"] in text and HIDDEN_WORDS not in text
    assert sams == {REVEAL_RATINGS["connection"]}
    # The progress page is each partner's own: Sam's numbers are never on Alex's, revealed or not.
    assert pages["progress"][1] == set() and REVEAL_WORDS["notes"] not in pages["progress"][0]


def test_before_alex_writes_his_own_he_reads_only_that_sam_wrote_hers(client, reveal):
    pages = _alex_reads(client, reveal)
    _assert_hidden(pages)
    for name in ("home", "history"):
        # Once, for the shared one: of the "My therapist only" one Alex learns nothing, not its existence.
        assert pages[name][0].count(WAITING) == 1, name


def test_after_alex_writes_his_own_he_reads_hers(client, reveal):
    _assert_hidden(_alex_reads(client, reveal))
    # His own, for his therapist only: what counts is that he wrote it, not who may read it.
    alex_post = {**ALEX_POST, "visibility": THERAPIST_ONLY}
    services.reflection_add(session=reveal.shared, partner=reveal.alex, answers=_answers(alex_post))
    _assert_revealed(_alex_reads(client, reveal), reveal)


def test_after_alex_declines_he_reads_hers_and_may_still_reflect(client, reveal):
    client.force_login(reveal.alex.user)
    response = client.post(reverse("reflection_decline", args=[reveal.shared.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("home")
    pages = _alex_reads(client, reveal)
    _assert_revealed(pages, reveal)
    assert "You chose not to reflect on this one." in pages["history"][0]
    # Writing it later is still possible, and the decline then no longer matters.
    client.force_login(reveal.alex.user)
    assert client.get(reverse("reflection_add", args=[reveal.shared.pk])).status_code == 200
    assert client.post(reverse("reflection_add", args=[reveal.shared.pk]), ALEX_POST).status_code == 302
    pages = _alex_reads(client, reveal)
    _assert_revealed(pages, reveal)
    assert "You chose not to reflect on this one." not in pages["history"][0]


def test_seven_days_later_alex_reads_hers_without_writing_his(client, reveal):
    # 6 days and 23 hours after she wrote it: still waiting. 7 days: revealed (REVEAL_AFTER).
    written = reveal.shared.reflections.get(partner=reveal.sam).created_at
    with time_machine.travel(written + timedelta(days=7) - timedelta(hours=1), tick=False):
        _assert_hidden(_alex_reads(client, reveal))
    with time_machine.travel(written + timedelta(days=7, seconds=1), tick=False):
        _assert_revealed(_alex_reads(client, reveal), reveal)


def test_a_therapist_only_reflection_never_reaches_alex_even_after_both(client, reveal):
    for session in (reveal.shared, reveal.hidden):
        services.reflection_add(session=session, partner=reveal.alex, answers=_answers(ALEX_POST))
    with time_machine.travel(timezone.now() + timedelta(days=30), tick=False):
        pages = _alex_reads(client, reveal)
    _assert_revealed(pages, reveal)
    hidden = reveal.hidden.reflections.get(partner=reveal.sam)
    client.force_login(reveal.alex.user)
    assert client.get(reverse("reflection_edit", args=[hidden.pk])).status_code == 404


def test_the_appointment_view_waits_for_alex_and_the_therapist_sees_both_at_once(client, therapist, reveal):
    client.force_login(therapist)
    couple_id = reveal.shared.assignment.couple_id
    dashboard = client.get(reverse("couple_reflections", args=[couple_id])).content.decode()
    assert REVEAL_WORDS["notes"] in dashboard and HIDDEN_WORDS in dashboard
    assert "will show here within a week" not in dashboard
    html = client.get(reverse("appointment", args=[couple_id]), {"confirm": "1"}).content.decode()
    # Sam's shared reflection waits for Alex's; her "My therapist only" one is not on the shared screen
    # at all (so nothing there waits for Alex: "No shared reflection from Sam").
    assert html.count("Sam's reflection will show here within a week.") == 1
    assert not [w for w in [*REVEAL_WORDS.values(), HIDDEN_WORDS] if w in html]


def test_the_decline_leaves_the_lists_that_wait_for_a_reflection(client, reveal):
    from intimacy import selectors

    alex = reveal.alex
    today = alex.couple.today()
    waiting = {reveal.shared.pk, reveal.hidden.pk}
    assert {s.pk for s in selectors.awaiting_my_reflection(alex)} == waiting
    assert {s.pk for s in selectors.recent_unreflected(alex, reveal.shared.assignment, today)} == waiting
    services.reflection_decline(session=reveal.shared, partner=alex)
    services.reflection_decline(session=reveal.shared, partner=alex)  # said twice: kept once
    assert {s.pk for s in selectors.awaiting_my_reflection(alex)} == {reveal.hidden.pk}
    assert {s.pk for s in selectors.recent_unreflected(alex, reveal.shared.assignment, today)} == {reveal.hidden.pk}
    # Sam wrote hers: she has nothing to decline.
    with pytest.raises(ValidationError):
        services.reflection_decline(session=reveal.shared, partner=reveal.sam)


# Readiness in a staged program (issue 15) ----------------------------------------------------------------
# Each partner's "ready for the next step" / "not yet" is theirs and their therapist's: the other partner
# never sees it, nor whether it was given, on any page the partners read or in their data download.


class TestReadinessIsPrivate:
    @pytest.fixture
    def answered(self, couple, partner_a, partner_b, therapist):
        """Alex says "ready", Sam says nothing; the couple at step 1 of a two-step program."""
        program = services.program_create(owner=therapist, title="Two steps")
        for _position in (1, 2):
            services.program_stage_add(
                program=program, exercise=Exercise.objects.back_rub(), target_per_week=2, suggested_minutes=15
            )
        run = services.program_assign(couple=couple, program=program)
        step = run.steps.get()
        services.readiness_answer(step=step, partner=partner_a, answer=ReadinessAnswer.Answer.READY)
        return step

    # The words only Alex's own answer prints (templates/intimacy/includes/program_step.html), and the
    # therapist's readout of it ("Alex: Ready for the next step").
    ALEX_ANSWER = ("You said", "Alex: Ready")

    @pytest.mark.parametrize("url_name", ["home", "history", "progress", "my_data", "my_data_download"])
    def test_sam_never_sees_alexs_answer(self, client_for, answered, partner_b, couple, url_name):
        couple.progress_page = True
        couple.save(update_fields=["progress_page"])
        page = client_for(partner_b).get(reverse(url_name)).content.decode()
        assert not any(words in page for words in self.ALEX_ANSWER)

    def test_alex_sees_their_own(self, client_for, answered, partner_a):
        assert "You said you" in client_for(partner_a).get(reverse("home")).content.decode()

    def test_the_therapist_sees_both(self, client_for, answered, therapist, couple):
        page = client_for(therapist).get(reverse("couple_exercises", args=[couple.pk])).content.decode()
        assert "Alex: Ready for the next step" in page and "Sam: <span" in page  # Sam: no answer yet

    def test_the_shared_screen_shows_none(self, client_for, answered, therapist, couple):
        page = client_for(therapist).get(reverse("appointment", args=[couple.pk])).content.decode()
        assert "Ready for the next step" not in page

    def test_each_partners_download_holds_their_own_answers_only(self, client_for, answered, partner_a, partner_b):
        alexs = json.loads(client_for(partner_a).get(reverse("my_data_download")).content)["program_readiness"]
        sams = json.loads(client_for(partner_b).get(reverse("my_data_download")).content)["program_readiness"]
        assert ([a["answer"] for a in alexs], sams) == (["ready"], [])

    def test_the_therapists_record_holds_the_path_and_both_answers(self, client_for, answered, therapist, couple):
        from intimacy.records import couple_record

        steps = couple_record(couple, therapist)["program_steps"]
        assert [(s["step"], s["reason"], [r["partner"] for r in s["readiness"]]) for s in steps] == [
            (1, "start", ["Alex"])
        ]

    def test_the_gate_gives_a_partner_only_their_own_rows(self, answered, partner_a, partner_b):
        assert ReadinessAnswer.objects.visible_to(partner_b.user).count() == 0
        assert ReadinessAnswer.objects.visible_to(partner_a.user).count() == 1
