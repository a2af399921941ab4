"""The caseload's per-row drawing, in Python (issue 16, "Fast").

Forty-five rows of eight SVG bars were ~3,000 template-variable lookups and escapes per caseload;
`week_bars` writes each row's bar as one string (the geometry still comes from
`selectors._draw_bars`). Every number goes through int(), the only text through escape().
"""

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

RECT = '<rect class="{}" x="{:d}" y="{:d}" width="8" height="{:d}"></rect>'


@register.simple_tag
def week_bars(row) -> SafeString:
    """The row's small bar chart of sessions per week against the target, with its text alternative."""
    rects = "".join(RECT.format("done" if w.done else "missing", int(w.x), int(w.y), int(w.height)) for w in row.weeks)
    target = ""
    if row.target_this_week:
        y = int(row.target_y)
        target = f'<line class="target" x1="0" x2="85" y1="{y:d}" y2="{y:d}"></line>'
    text = escape(row.weeks_text)
    return mark_safe(  # noqa: S308 - numbers through int(), the text through escape()
        f'<svg class="weekbars" width="85" height="30" viewBox="0 0 85 30" role="img" aria-label="{text}">'
        f"<title>{text}</title>{rects}{target}</svg>"
    )
