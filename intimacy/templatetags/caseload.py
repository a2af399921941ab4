"""The caseload's per-row drawing, in Python (issue 16, "Fast").

Forty-five rows of eight SVG bars were ~3,000 template-variable lookups and escapes per caseload;
`week_bars` writes each row's bar as one string (the geometry still comes from
`selectors._draw_bars`). Everything goes through format_html, which escapes it (no mark_safe).
"""

from django import template
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext

from accounts.models import Couple

register = template.Library()

RECT = '<rect class="{}" x="{}" y="{}" width="8" height="{}"></rect>'


@register.simple_tag
def week_bars(row) -> SafeString:
    """The row's small bar chart of sessions per week against the target, with its text alternative."""
    rects = format_html_join(
        "", RECT, (("done" if w.done else "missing", int(w.x), int(w.y), int(w.height)) for w in row.weeks)
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
        rects,
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


def _this_week_cell(row) -> SafeString:
    """ "1 of 2", "3 (2 planned)" above the plan, or no active exercise."""
    done, target = row.done_this_week, row.target_this_week
    if not target:
        return format_html('<span class="muted-note">{}</span>', gettext("No active exercise"))
    if done > target:
        return format_html("{}", gettext("%(done)s (%(target)s planned)") % {"done": done, "target": target})
    return format_html("{}", gettext("%(done)s of %(target)s") % {"done": done, "target": target})


@register.simple_tag
def caseload_row(row) -> SafeString:
    """One couple's row of the caseload, written in Python (issue 16, "Fast": 45 rows of `{% url %}`,
    `{% blocktranslate %}` and filters were most of the page's time). Every value goes through
    format_html, which escapes it."""
    couple = row.couple
    href = reverse("couple_detail", args=[couple.pk])
    badges = []
    if couple.status != Couple.Status.ACTIVE:
        badges.append(couple.get_status_display())
    if n := row.pending_invites:
        badges.append(ngettext("%(n)s invite pending", "%(n)s invites pending", n) % {"n": n})
    badges = format_html_join("", '<span class="badge text-bg-light border ms-1">{}</span>', ((b,) for b in badges))
    if row.last_session:
        last = format_html("{}", date_format(row.last_session, "D j M"))
    else:
        last = format_html('<span class="muted-note">{}</span>', gettext("None yet"))
    return format_html(
        '<tr data-label="{}"><th scope="row"><a href="{}">{}</a>{}</th>'
        "<td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        couple.label.lower(),
        href,
        couple.label,
        badges,
        _alerts_cell(row, href),
        week_bars(row),
        _this_week_cell(row),
        last,
    )
