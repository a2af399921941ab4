"""The caseload's rows, written in Python (issue 16, "Fast").

Forty-five rows of eight SVG bars were ~3,000 template-variable lookups and escapes per caseload, then
~10 ms of `format_html` calls (an escape per argument) and a `reverse()` per row. Now the whole table
body is one tag: the link to a couple is reversed once per page, and each row's bars are two SVG paths
(the weeks with sessions and those without) whose geometry is whole numbers joined into one string (the
geometry still comes from `selectors._draw_bars`). Everything goes through format_html, which escapes
it (no mark_safe).
"""

from django import template
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext

from accounts.models import Couple
from intimacy.html import url_for_pk
from intimacy.selectors import BAR_WIDTH

register = template.Library()


def _bar_path(weeks) -> str:
    """One SVG path drawing each of `weeks` as a bar: move to its top left, then right, down, left, close.
    Only whole numbers go in, so the string needs no escaping (format_html escapes it anyway)."""
    return " ".join(f"M{int(w.x)} {int(w.y)}h{BAR_WIDTH}v{int(w.height)}h-{BAR_WIDTH}z" for w in weeks)


@register.simple_tag
def week_bars(row) -> SafeString:
    """The row's small bar chart of sessions per week against the target, with its text alternative."""
    paths = format_html_join(
        "",
        '<path class="{}" d="{}"></path>',
        (
            (kind, d)
            for kind, d in (
                ("done", _bar_path(w for w in row.weeks if w.done)),
                ("missing", _bar_path(w for w in row.weeks if not w.done)),
            )
            if d
        ),
    )
    target = ""
    if row.target_this_week:
        y = int(row.target_y)
        target = format_html('<line class="target" x1="0" x2="85" y1="{}" y2="{}"></line>', y, y)
    return format_html(
        '<svg class="weekbars" width="85" height="30" viewBox="0 0 85 30" role="img" aria-label="{}">'
        "<title>{}</title>{}{}</svg>",
        row.weeks_text,
        row.weeks_text,
        paths,
        target,
    )


def _alerts_cell(row, href: str) -> SafeString:
    """ "2 open alerts", "1 urgent alert" or "2 alerts, 1 urgent", linking to the couple's alerts."""
    n, urgent = row.open_alerts, row.urgent_alerts
    if not n:
        return format_html('<span class="muted-note">{}</span>', gettext("None"))
    if not urgent:
        words = ngettext("%(n)s open alert", "%(n)s open alerts", n) % {"n": n}
    elif urgent == n:
        words = ngettext("%(n)s urgent alert", "%(n)s urgent alerts", urgent) % {"n": urgent}
    else:
        words = ngettext("%(n)s alert, %(urgent)s urgent", "%(n)s alerts, %(urgent)s urgent", n) % {
            "n": n,
            "urgent": urgent,
        }
    if urgent:
        return format_html('<a href="{}#attention" class="badge text-bg-danger">{}</a>', href, words)
    return format_html('<a href="{}#attention">{}</a>', href, words)


def _this_week_cell(row) -> str:
    """ "1 of 2", "3 (2 planned)" above the plan, or no active exercise (escaped by the row's format_html)."""
    done, target = row.done_this_week, row.target_this_week
    if not target:
        return format_html('<span class="muted-note">{}</span>', gettext("No active exercise"))
    if done > target:
        return gettext("%(done)s (%(target)s planned)") % {"done": done, "target": target}
    return gettext("%(done)s of %(target)s") % {"done": done, "target": target}


def _row(row, href: str, dates: dict) -> SafeString:
    couple = row.couple
    badges = []
    if couple.status != Couple.Status.ACTIVE:
        badges.append(couple.get_status_display())
    if n := row.pending_invites:
        badges.append(ngettext("%(n)s invite pending", "%(n)s invites pending", n) % {"n": n})
    if badges:
        badges = format_html_join("", '<span class="badge text-bg-light border ms-1">{}</span>', ((b,) for b in badges))
    if row.last_session:
        # Many couples share a recent day: each day's words are worked out once per page.
        if (last := dates.get(row.last_session)) is None:
            last = dates[row.last_session] = date_format(row.last_session, "D j M")
    else:
        last = format_html('<span class="muted-note">{}</span>', gettext("None yet"))
    return format_html(
        '<tr data-label="{}"><th scope="row"><a href="{}">{}</a>{}</th>'
        "<td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        couple.label.lower(),
        href,
        couple.label,
        badges or "",
        _alerts_cell(row, href),
        week_bars(row),
        _this_week_cell(row),
        last,
    )


@register.simple_tag
def caseload_rows(rows) -> SafeString:
    """The caseload's rows, one couple each. Every value goes through format_html, which escapes it."""
    couple_url = url_for_pk("couple_detail")
    dates = {}
    return format_html_join("\n", "{}", ((_row(row, couple_url(row.couple.pk), dates),) for row in rows))
