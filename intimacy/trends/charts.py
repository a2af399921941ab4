"""The trends as charts: plain data drawn by static/tend/charts.js, and the same numbers as tables
("Numbers for …" beneath each chart, and the printable summary's one table).

Each chart is one small function that returns the chart, or None when it has nothing to draw, so no
empty chart appears; `couple_charts` runs them in order. A new chart is one new function and one new line.
"""

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from intimacy import csi4
from intimacy.models import MAX_RATING, MIN_RATING, Assignment, ProgramStep, Reflection
from intimacy.trends.aggregation import Scope, Trends

# The reflections' rating scale, from the model, so the charts' ranges and sentences follow it.
SCALE = {"min": MIN_RATING, "max": MAX_RATING}
ROLES = (Reflection.Role.GIVER, Reflection.Role.RECEIVER)
# The connection chart draws every role with data, named by its exercise's shape (issue 15).
ALL_ROLES = tuple(Reflection.Role)
NOTE_MARKER_CHARS = 40


def _series(label: str, values: list, kind: str = "") -> dict:
    return {"label": label, "values": values, "kind": kind}


def _drawn(series: list) -> list:
    """The series with at least one value: a line of gaps is not data."""
    return [s for s in series if any(v is not None for v in s["values"])]


def _bars(chart_id: str, title: str, about: str, series: list) -> dict:
    return {"id": chart_id, "title": title, "about": about, "type": "bar", "stacked": True, "series": series}


def _line(chart_id: str, title: str, about: str, series: list, low: int, high: int) -> dict:
    return {"id": chart_id, "title": title, "about": about, "type": "line", "min": low, "max": high, "series": series}


def _line_if_any(chart_id: str, title: str, about: str, series: list, low: int, high: int) -> dict | None:
    series = _drawn(series)
    return _line(chart_id, title, about, series, low, high) if series else None


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


def connection_chart(trends: Trends) -> dict | None:
    """Mean connection for each partner in each role: giving and receiving, speaking and listening,
    together (a role without ratings in the period draws no line)."""
    own = trends.scope is Scope.OWN
    series = [
        _series(_role_label(role, None if own else p.name), [r.connection.get((p.pk, role)) for r in trends.rows])
        for p in trends.partners
        for role in ALL_ROLES
    ]
    if own:
        title = _("How connected you felt")
        about = _("From your own reflections, %(min)s to %(max)s; the mean of each week.") % SCALE
    else:
        title = _("Connection")
        about = _("Mean connection, %(min)s to %(max)s, for each partner in each role.") % SCALE
    return _line_if_any("connection", title, about, series, MIN_RATING, MAX_RATING)


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
    # A difference of two ratings runs from one end of the scale to the other, either way.
    spread = MAX_RATING - MIN_RATING
    return _line_if_any("relief", _("Relief"), about, series, -spread, spread)


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
    return _line("completion", _("Both reflections written"), about, series, 0, 100)


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
    return _line("checkin", title, about % numbers, series, csi4.TOTAL_MIN, csi4.TOTAL_MAX)


# The charts after the sessions chart, in the order the pages show them.
CHARTS = (reciprocity_chart, connection_chart, comfort_chart, relief_chart, gap_chart, completion_chart, checkin_chart)


def couple_charts(trends: Trends, *, targets: bool = True) -> list[dict]:
    """The charts of a period as plain data: drawn by static/tend/charts.js and tabled by the template.

    Each chart: id, title, a sentence saying how to read it, the bucket labels, the series, the y range.
    A chart with nothing to draw is left out, so no empty chart appears. `targets=False` leaves the
    target out of the sessions chart (the partners' progress page).
    """
    labels = [row.bucket.label for row in trends.rows]
    built = [sessions_chart(trends, targets), *(chart(trends) for chart in CHARTS)]
    out = [chart for chart in built if chart is not None]
    for chart in out:
        chart["labels"] = labels
        # The same numbers as a table beneath the chart, for screen readers and print.
        chart["rows"] = [[label, *(s["values"][i] for s in chart["series"])] for i, label in enumerate(labels)]
    return out


def step_label(step: ProgramStep) -> str:
    """A program step's marker: "Step 2: Hand massage", or "Back to step 1: Give a back rub"."""
    words = {"position": step.stage.position, "exercise": step.stage.exercise.title}
    if step.reason == ProgramStep.Reason.BACK:
        return _("Back to step %(position)s: %(exercise)s") % words
    return _("Step %(position)s: %(exercise)s") % words


def markers(trends: Trends) -> list[dict]:
    """Chart markers for the therapist: paused or stopped sessions, notes dated in the period, and the
    program's step changes (issue 15, dated by the step's start).

    None on what the couple see: a "paused" mark on every chart reads as a fault, and stopping when
    either of them wants to is the exercise working (the appointment view says so in words instead).
    """
    out = []
    if trends.scope is not Scope.THERAPIST:
        return out
    for index, row in enumerate(trends.rows):
        if row.paused:
            out.append({"index": index, "kind": "paused", "label": _("Paused ×%(count)s") % {"count": row.paused}})
        for note in row.notes:
            text = note.text if len(note.text) <= NOTE_MARKER_CHARS else note.text[: NOTE_MARKER_CHARS - 1] + "…"
            out.append({"index": index, "kind": "note", "label": text})
        for step in row.steps:
            out.append({"index": index, "kind": "step", "label": step_label(step)})
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
