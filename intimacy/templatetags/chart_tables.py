"""A chart's numbers table, written in Python (issue 16, "Fast").

Every chart keeps its table beneath it (includes/chart.html); at 104 weeks a chart has 24 monthly rows of
up to five numbers, and the per-cell `{% for %}`, `slice` and `default_if_none` were the part of the
couple's pages that grew with the period. Each value is localized as `{{ v }}` would be and escaped by
format_html; a missing value is "–", as before.
"""

from django import template
from django.utils.formats import localize
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

register = template.Library()


def _cell(value) -> str:
    return "–" if value is None else localize(value)


@register.simple_tag
def chart_table_rows(chart) -> SafeString:
    """The table's body rows: the bucket as the row's header, then each series' value."""
    return format_html_join(
        "",
        '<tr><th scope="row">{}</th>{}</tr>',
        ((row[0], format_html_join("", "<td>{}</td>", ((_cell(v),) for v in row[1:]))) for row in chart["rows"]),
    )
