"""The trends as charts: plain data drawn by static/tend/charts.js, and the same numbers as tables
("Numbers for …" beneath each chart, and the printable summary's one table).

Each chart is one small function that returns the chart, or None when it has nothing to draw, so no
empty chart appears; `couple_charts` runs them in order. A new chart is one new function and one new line.
"""

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from intimacy import csi4
from intimacy.models import MAX_RATING, MIN_RATING, Assignment, ProgramStep, Reflection
from intimacy.trends.aggregation import Scope, Trends

# The reflections' rating scale, from the model, so the charts' ranges and sentences follow it.
SCALE = {"min": MIN_RATING, "max": MAX_RATING}
ROLES = (Reflection.Role.GIVER, Reflection.Role.RECEIVER)
# The connection chart draws every role with data, named by its exercise's shape (issue 15).
ALL_ROLES = tuple(Reflection.Role)
# A note's words in the markers' legend beneath the charts (the canvas itself carries only numbered pins).
NOTE_MARKER_CHARS = 80
# The y axis (issue 16): whole steps from NICE_STEPS, at most this many between zero and the top, and the
# top always a step above the highest value, so a bar never touches the edge.
NICE_STEPS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
MAX_BAR_STEPS = 6
MAX_RELIEF_STEPS = 4  # each side of zero
RATING_STEP = 1
PERCENT_STEP = 25
CHECKIN_STEP = 3  # CSI-4 totals run 0 to 21: 0, 3, … 21


def nice_axis(highest: float, max_steps: int) -> tuple[int, int]:
    """The step and the top of an axis from zero: the smallest step of NICE_STEPS whose first multiple
    strictly above `highest` is at most `max_steps` steps from zero. (3, 6) gives step 1, top 4."""
    highest = max(highest, 0)
    for step in NICE_STEPS:
        top = (int(highest // step) + 1) * step
        if top <= step * max_steps:
            return step, top
    step = NICE_STEPS[-1]
    return step, (int(highest // step) + 1) * step


def _series(label: str, values: list, kind: str = "") -> dict:
    return {"label": label, "values": values, "kind": kind}


def _drawn(series: list) -> list:
    """The series with at least one value: a line of gaps is not data."""
    return [s for s in series if any(v is not None for v in s["values"])]


def _stacked_highest(series: list) -> float:
    """The tallest stack of the bars in any bucket, or the highest point of a line drawn over them."""
    bars = [s["values"] for s in series if s["kind"] != "line"]
    lines = [v for s in series if s["kind"] == "line" for v in s["values"] if v is not None]
    stacks = [sum(v or 0 for v in bucket) for bucket in zip(*bars, strict=True)] if bars else []
    return max([*stacks, *lines], default=0)


def _bars(chart_id: str, title: str, about: str, series: list) -> dict:
    step, top = nice_axis(_stacked_highest(series), MAX_BAR_STEPS)
    return {
        "id": chart_id,
        "title": title,
        "about": about,
        "type": "bar",
        "stacked": True,
        "series": series,
        "min": 0,
        "max": top,
        "step": step,
    }


def _line(chart_id: str, title: str, about: str, series: list, low: int, high: int, step: int) -> dict:
    return {
        "id": chart_id,
        "title": title,
        "about": about,
        "type": "line",
        "min": low,
        "max": high,
        "step": step,
        "series": series,
    }


def _line_if_any(
    chart_id: str, title: str, about: str, series: list, low: int, high: int, step: int = RATING_STEP
) -> dict | None:
    series = _drawn(series)
    return _line(chart_id, title, about, series, low, high, step) if series else None


def _exercise_label(assignment: Assignment, several: bool) -> str:
    if not several:
        return assignment.exercise.title
    # Two assignments of the same exercise would otherwise share a label.
    return _("%(exercise)s (from %(date)s)") % {
        "exercise": assignment.exercise.title,
        "date": date_format(assignment.starts_on, "j M"),
    }


def sessions_chart(trends: Trends, targets: bool = True) -> dict | None:
    """Sessions each bucket, stacked by exercise, against the target (unless `targets` is False).

    Never a target on what the couple see (the appointment view, the progress page): their screens
    show what they did together, never what they fell short of.
    """
    if not trends.assignments:
        return None
    targets = targets and trends.scope is Scope.THERAPIST
    several = len(trends.assignments) > 1
    series = [
        _series(_exercise_label(a, several), [r.by_assignment.get(a.pk, 0) for r in trends.rows])
        for a in trends.assignments
    ]
    if targets:
        # No target line before the first assignment started or after the last one ended.
        series.append(_series(_("Target"), [r.target or None for r in trends.rows], "line"))
    title = _("Sessions against the target") if targets else _("Sessions together")
    if trends.period.monthly:
        about = _("Sessions done each month, by exercise.")
    else:
        about = _("Sessions done each week, by exercise.")
    return _bars("sessions", title, about, series)


def reciprocity_chart(trends: Trends) -> dict | None:
    """Sessions each partner gave."""
    if not trends.sessions:
        return None
    series = [
        _series(_("%(name)s gave") % {"name": p.name}, [r.gave.get(p.pk, 0) for r in trends.rows])
        for p in trends.partners
    ]
    return _bars("reciprocity", _("Who gave"), _("Sessions each partner gave."), series)


def _role_label(role: str, name: str | None) -> str:
    """ "Alex, giving"; or, with no name, "When giving": a partner's own page speaks to them."""
    if name is None:
        return {
            Reflection.Role.GIVER: _("When giving"),
            Reflection.Role.RECEIVER: _("When receiving"),
            Reflection.Role.SPEAKER: _("When speaking"),
            Reflection.Role.LISTENER: _("When listening"),
            Reflection.Role.TOGETHER: _("Together"),
        }[role]
    labels = {
        Reflection.Role.GIVER: _("%(name)s, giving"),
        Reflection.Role.RECEIVER: _("%(name)s, receiving"),
        Reflection.Role.SPEAKER: _("%(name)s, speaking"),
        Reflection.Role.LISTENER: _("%(name)s, listening"),
        Reflection.Role.TOGETHER: _("%(name)s, together"),
    }
    return labels[role] % {"name": name}


def _view_label(role: str) -> str:
    """A role toggle's button on the connection chart."""
    return {
        Reflection.Role.GIVER: _("As giver"),
        Reflection.Role.RECEIVER: _("As receiver"),
        Reflection.Role.SPEAKER: _("As speaker"),
        Reflection.Role.LISTENER: _("As listener"),
        Reflection.Role.TOGETHER: _("Together"),
    }[role]


def _has_values(series: dict) -> bool:
    return any(v is not None for v in series["values"])


def _connection_by_role(trends: Trends, own: bool) -> list[tuple]:
    """(role, name, series) for each partner in each role with ratings: "Alex, giving" (own: "When giving")."""
    out = []
    for p in trends.partners:
        for role in ALL_ROLES:
            values = [r.connection.get((p.pk, role)) for r in trends.rows]
            series = _series(_role_label(role, None if own else p.name), values)
            if _has_values(series):
                out.append((role, _("You") if own else p.name, series))
    return out


def connection_chart(trends: Trends) -> dict | None:
    """One line per partner: their mean connection whatever their role (issue 16: no longer a line per
    partner and role, four tangled lines). With ratings in more than one role, "views" holds the same
    chart per role (All roles / As giver / As receiver …), which static/tend/charts.js switches between
    with real buttons; "table" keeps every number beneath it: each partner over all roles and in each role.
    """
    own = trends.scope is Scope.OWN
    everyone, overall = [], []
    for p in trends.partners:
        series = _series(_("You") if own else p.name, [r.connection_all.get(p.pk) for r in trends.rows])
        if _has_values(series):
            everyone.append(series)
            overall.append(dict(series, label=_("All roles") if own else _("%(name)s, all roles") % {"name": p.name}))
    if not everyone:
        return None
    by_role = _connection_by_role(trends, own)
    views = [{"key": "all", "label": _("All roles"), "series": everyone}]
    for role in ALL_ROLES:
        if series := [dict(s, label=name) for r, name, s in by_role if r == role]:
            views.append({"key": role.value, "label": _view_label(role), "series": series})
    if own:
        title = _("How connected you felt")
        about = _own_connection_about(trends.period.monthly)
    else:
        title = _("Connection")
        about = _("Mean connection, %(min)s to %(max)s, for each partner whatever their role.") % SCALE
    chart = _line("connection", title, about, everyone, MIN_RATING, MAX_RATING, RATING_STEP)
    several = len(views) > 2  # one role only: its line is the partner's line, and no toggle is needed
    chart["views"] = views if several else []
    chart["table"] = [*(overall if several else []), *(s for _role, _name, s in by_role)]
    return chart


def _own_connection_about(monthly: bool) -> str:
    """The partner's own connection chart's words: the mean of each bucket it draws."""
    if monthly:
        return _("From your own reflections, %(min)s to %(max)s; the mean of each month.") % SCALE
    return _("From your own reflections, %(min)s to %(max)s; the mean of each week.") % SCALE


def comfort_chart(trends: Trends) -> dict | None:
    """Each partner's mean comfort and mean "safe", two lines per partner: they are separate questions."""
    series = []
    for p in trends.partners:
        series.append(
            _series(_("%(name)s, comfortable") % {"name": p.name}, [r.comfort.get(p.pk) for r in trends.rows])
        )
        series.append(_series(_("%(name)s, safe") % {"name": p.name}, [r.safe.get(p.pk) for r in trends.rows]))
    about = _("Mean ratings, %(min)s to %(max)s: how comfortable and how safe each partner felt.") % SCALE
    return _line_if_any("comfort", _("Comfortable and safe"), about, series, MIN_RATING, MAX_RATING)


def relief_chart(trends: Trends) -> dict | None:
    """Tension before minus tension after, for each partner as receiver."""
    series = [
        _series(_("%(name)s, receiving") % {"name": p.name}, [r.relief.get(p.pk) for r in trends.rows])
        for p in trends.partners
    ]
    about = _("Tension before minus tension after, for the partner receiving.")
    # Symmetric about zero with whole steps (issue 16: not 10, 6, 2, -2), a step beyond the largest relief
    # either way; a difference of two ratings never exceeds MAX_RATING - MIN_RATING.
    largest = max((abs(v) for s in series for v in s["values"] if v is not None), default=0)
    step, top = nice_axis(largest, MAX_RELIEF_STEPS)
    return _line_if_any("relief", _("Relief"), about, series, -top, top, step)


def gap_chart(trends: Trends) -> dict | None:
    """The perception gap: giver's and receiver's connection on the same sessions."""
    series = [
        _series(_("Giver's connection"), [r.gap_giver for r in trends.rows]),
        _series(_("Receiver's connection"), [r.gap_receiver for r in trends.rows]),
    ]
    title = _("Giver and receiver, same session")
    about = _("Mean connection on sessions where both partners reflected.")
    return _line_if_any("gap", title, about, series, MIN_RATING, MAX_RATING)


def completion_chart(trends: Trends) -> dict | None:
    """The share of sessions with both reflections."""
    if not trends.sessions:
        return None
    if trends.scope is Scope.SHARED:
        about = _("Share of sessions where each of you shared a reflection, in per cent.")
    else:
        about = _("Share of sessions with a reflection from each partner, in per cent.")
    series = [_series(_("Both reflected (%)"), [r.completion for r in trends.rows])]
    return _line("completion", _("Both reflections written"), about, series, 0, 100, PERCENT_STEP)


def checkin_chart(trends: Trends) -> dict | None:
    """Each partner's weekly check-in (CSI-4 total), with the published threshold as a dashed line."""
    if trends.scope is not Scope.THERAPIST:  # check-ins are the therapist's alone: never SHARED, never OWN
        return None
    if trends.period.monthly:  # a month's mean would hide a bad week: its lowest total is drawn too
        series = []
        for p in trends.partners:
            series.append(_series(_("%(name)s (mean)") % {"name": p.name}, [r.checkin.get(p.pk) for r in trends.rows]))
            lowest = [r.checkin_low.get(p.pk) for r in trends.rows]
            series.append(_series(_("%(name)s (lowest week)") % {"name": p.name}, lowest))
        series = _drawn(series)
    else:
        series = _drawn([_series(p.name, [r.checkin.get(p.pk) for r in trends.rows]) for p in trends.partners])
    if not series:  # no empty chart: the threshold alone is not data
        return None
    threshold = _("Threshold (%(threshold)s)") % {"threshold": csi4.THRESHOLD}
    series.append(_series(threshold, [csi4.THRESHOLD] * len(trends.rows), "line"))
    numbers = {"min": csi4.TOTAL_MIN, "max": csi4.TOTAL_MAX, "threshold": csi4.THRESHOLD, "source": csi4.SHORT_SOURCE}
    if trends.period.monthly:
        about = _(
            "Each partner's CSI-4 total, %(min)s to %(max)s: the mean of each month and its lowest week; lower "
            "totals mean more distress, and below %(threshold)s (dashed line) suggests notable dissatisfaction "
            "(%(source)s). "
            "For you only: not in the appointment view."
        )
    else:
        about = _(
            "Each partner's CSI-4 total, %(min)s to %(max)s; lower totals mean more distress, and below "
            "%(threshold)s (dashed line) suggests notable dissatisfaction (%(source)s). "
            "For you only: not in the appointment view."
        )
    title = _("Relationship satisfaction (weekly check-in)")
    return _line("checkin", title, about % numbers, series, csi4.TOTAL_MIN, csi4.TOTAL_MAX, CHECKIN_STEP)


# The charts after the sessions chart, in the order the pages show them.
CHARTS = (reciprocity_chart, connection_chart, comfort_chart, relief_chart, gap_chart, completion_chart, checkin_chart)
# Each by its chart's id (each function is named after it: "connection" for connection_chart).
CHART_IDS = ("sessions", *(chart.__name__.removesuffix("_chart") for chart in CHARTS))


def couple_charts(trends: Trends, *, targets: bool = True, only: frozenset[str] | None = None) -> list[dict]:
    """The charts of a period as plain data: drawn by static/tend/charts.js and tabled by the template.

    Each chart: id, title, "about" (a sentence saying how to read it), "labels" (the buckets), "series"
    (what is drawn: label, values, kind), the y axis ("min", "max", "step"), "columns" and "rows" (the
    numbers table: every series drawn, or the chart's own "table" when it draws fewer than it knows, as the
    connection chart's role views do) and, on the connection chart, "views". A chart with nothing to draw
    is left out, so no empty chart appears. `targets=False` leaves the target out of the sessions chart
    (the partners' progress page). `only`: the ids of the charts the page shows; the others are not
    built (issue 16, "Fast": the overview shows three of eight, whose rows grow with the period).
    """
    labels = [row.bucket.label for row in trends.rows]
    builders = (lambda t: sessions_chart(t, targets), *CHARTS)
    built = [build(trends) for chart_id, build in zip(CHART_IDS, builders, strict=True) if not only or chart_id in only]
    out = [chart for chart in built if chart is not None]
    for chart in out:
        chart["labels"] = labels
        # The same numbers as a table beneath the chart, for screen readers and print.
        table = chart.pop("table", None) or chart["series"]
        chart["columns"] = [s["label"] for s in table]
        chart["rows"] = [[label, *(s["values"][i] for s in table)] for i, label in enumerate(labels)]
    return out


def step_label(step: ProgramStep) -> str:
    """A program step's marker: "Step 2: Hand massage", or "Back to step 1: Give a back rub". The step as
    the trends read it, with its stage's `stage_position` and `exercise_title` (aggregation.STEPS_IN)."""
    words = {"position": step.stage_position, "exercise": step.exercise_title}
    if step.reason == ProgramStep.Reason.BACK:
        return _("Back to step %(position)s: %(exercise)s") % words
    return _("Step %(position)s: %(exercise)s") % words


def _short(text: str) -> str:
    return text if len(text) <= NOTE_MARKER_CHARS else text[: NOTE_MARKER_CHARS - 1] + "…"


# What static/tend/charts.js reads of a chart, of a role view and of a marker. The rest (titles, words,
# every number again as the table's rows, the markers' words) is in the page already, in each chart's
# table and the markers' legend, so the page's script data carries the numbers once, not twice
# (issue 16: at two years the data was a quarter of the overview's HTML, and its encoding grew with it).
DRAWN_CHART_KEYS = ("id", "type", "stacked", "min", "max", "step", "labels", "series", "views")
DRAWN_VIEW_KEYS = ("key", "series")
DRAWN_MARKER_KEYS = ("index", "kind", "number")


def drawn(chart_data: dict) -> dict:
    """`{"charts": …, "markers": …}` as the page's script data (json_script "chart-data"): only what
    charts.js draws from."""
    charts = []
    for chart in chart_data["charts"]:
        spec = {key: chart[key] for key in DRAWN_CHART_KEYS if key in chart}
        if "views" in spec:
            spec["views"] = [{key: view[key] for key in DRAWN_VIEW_KEYS} for view in spec["views"]]
        charts.append(spec)
    markers = [{key: marker[key] for key in DRAWN_MARKER_KEYS} for marker in chart_data["markers"]]
    return {"charts": charts, "markers": markers}


def markers(trends: Trends) -> list[dict]:
    """Chart markers for the therapist: paused or stopped sessions, notes dated in the period, and the
    program's step changes (issue 15, dated by the step's start).

    Each: "number" (1, 2, 3 … in date order: the pin drawn on the charts and its line in the legend
    beneath them, templates/includes/chart_markers.html), "index" (the bucket), "kind" (paused, note,
    step), "date" (ISO; a paused week's Monday or month's first day), "when" (as the legend says it),
    "label" (the words; on the canvas there are none, issue 16) and "count" (a paused bucket's sessions; 1).

    None on what the couple see: a "paused" mark on every chart reads as a fault, and stopping when
    either of them wants to is the exercise working (the appointment view says so in words instead).
    """
    if trends.scope is not Scope.THERAPIST:
        return []
    out = []
    monthly = trends.period.monthly
    paused_words = {}  # by count: two years hold a paused month or two most months, mostly of one session
    for index, row in enumerate(trends.rows):
        found = []  # (date, order on the same day, kind, when, label, count)
        if row.paused:
            when = row.bucket.label if monthly else _("Week of %(week)s") % {"week": row.bucket.label}
            if row.paused not in paused_words:
                paused_words[row.paused] = ngettext(
                    "%(count)s session paused or stopped early",
                    "%(count)s sessions paused or stopped early",
                    row.paused,
                ) % {"count": row.paused}
            found.append((row.bucket.start, 0, "paused", when, paused_words[row.paused], row.paused))
        for note in row.notes:
            found.append((note.date, 1, "note", date_format(note.date, "j M"), _short(note.text), 1))
        for step in row.steps:
            found.append((step.started_on, 2, "step", date_format(step.started_on, "j M"), step_label(step), 1))
        for day, _order, kind, when, label, count in sorted(found, key=lambda m: m[:2]):
            out.append(
                {
                    "number": len(out) + 1,
                    "index": index,
                    "kind": kind,
                    "date": day.isoformat(),
                    "when": when,
                    "label": label,
                    "count": count,
                }
            )
    return out


def _pair(a, b) -> str:
    dash = "–"
    return f"{dash if a is None else a} / {dash if b is None else b}"


def _checkin_cell(row, pid, monthly: bool):
    """A partner's check-in in the summary: the week's total, or the month's mean and its lowest week."""
    mean = row.checkin.get(pid)
    if mean is None:
        return "–"
    if monthly:
        # Short, so the printed table keeps two pages: the caption says the bracket holds the lowest week.
        return _("%(mean)s (%(lowest)s)") % {"mean": mean, "lowest": row.checkin_low.get(pid)}
    return mean


def _checkin_low(row, pid, monthly: bool) -> bool:
    """Whether the summary marks a partner's check-in: the week's total, or the month's lowest week,
    below csi4.THRESHOLD."""
    value = (row.checkin_low if monthly else row.checkin).get(pid)
    return value is not None and value < csi4.THRESHOLD


def summary_rows(trends: Trends) -> list[dict]:
    """One line per week (or month) for the printable summary: every chart's numbers in one table.

    Every "x / y" reads first partner / second partner (issue 16): connection has a giver column and a
    receiver column, and the target goes in brackets after the sessions.
    """
    first, second = (trends.partners + [None, None])[:2]
    ids = [p.pk if p else None for p in (first, second)]
    rows = []
    for row in trends.rows:
        rows.append(
            {
                "label": row.bucket.label,
                "sessions": f"{row.sessions} ({row.target})" if row.target else str(row.sessions),
                "gave": _pair(row.gave.get(ids[0], 0), row.gave.get(ids[1], 0)),
                "both": row.both_reflected,
                "connection_giver": _pair(*(row.connection.get((pid, ROLES[0])) for pid in ids)),
                "connection_receiver": _pair(*(row.connection.get((pid, ROLES[1])) for pid in ids)),
                "comfort": _pair(row.comfort.get(ids[0]), row.comfort.get(ids[1])),
                "safe": _pair(row.safe.get(ids[0]), row.safe.get(ids[1])),
                "relief": _pair(row.relief.get(ids[0]), row.relief.get(ids[1])),
                "paused": row.paused,
                "notes": "; ".join(n.text for n in row.notes),
                "checkin": [_checkin_cell(row, pid, trends.period.monthly) for pid in ids],
                "checkin_low": [_checkin_low(row, pid, trends.period.monthly) for pid in ids],
            }
        )
    return rows
