"""A chart's numbers table and the legend of the charts' markers, written in Python (issue 16, "Fast").

Every chart keeps its table beneath it (includes/chart.html); at 104 weeks a chart has 24 monthly rows of
up to five numbers, and the per-cell `{% for %}`, `slice` and `default_if_none` were the part of the
couple's pages that grew with the period. Each value is localized as `{{ v }}` would be and escaped by
format_html; a missing value is "–", as before.
"""

from django import template
from django.utils.formats import localize
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext

register = template.Library()


def _cell(value) -> str:
    return "–" if value is None else localize(value)


@register.simple_tag
def chart_table_rows(chart) -> SafeString:
    """The table's body rows: the bucket as the row's header, then each series' value."""
    # One format_html for the whole table, and each distinct value localized and escaped once, as a safe
    # string (escaping it again costs little): a chart's values repeat (counts, means to one decimal), and
    # localize() and an escape per cell were most of the table's time. Keyed by type too, since 1 == 1.0
    # but they read "1" and "1.0".
    texts = {}

    def text(value) -> SafeString:
        key = (type(value), value)
        if key not in texts:
            texts[key] = format_html("{}", _cell(value))
        return texts[key]

    templates = {}
    layout, values = [], []
    for row in chart["rows"]:
        layout.append(_row_template(templates, len(row) - 1))
        values.append(row[0])
        values.extend(text(v) for v in row[1:])
    if not values:  # no rows (format_html wants something to format)
        return format_html("{}", "")
    # The braces are the rows' templates' own; every value is an argument, so none is read as one.
    return format_html("".join(layout), *values)


def _row_template(templates: dict, cells: int) -> str:
    if cells not in templates:
        templates[cells] = '<tr><th scope="row">{}</th>' + "<td>{}</td>" * cells + "</tr>"
    return templates[cells]


# One line of the markers' legend (includes/chart_markers.html), with the whitespace the template's loop
# wrote after it: the page stays the same to the byte.
MARKER_LINE = (
    '<li class="chart-marker" data-number="{}"><span class="marker-pin marker-{}">{}</span> <span>'
    '<span class="chart-marker-when">{}</span> · <strong class="chart-marker-kind">{}</strong>: {}</span></li>\n    '
)


@register.simple_tag
def chart_marker_items(markers: list[dict]) -> SafeString:
    """The legend's lines, one per marker (`trends.markers`): its number, when, its kind in words and its
    words. As a template loop, ~60 µs a marker; a year's notes and paused weeks make dozens."""
    kinds = {"paused": gettext("Paused"), "note": gettext("Your note")}
    step = gettext("Program step")
    return format_html_join(
        "",
        MARKER_LINE,
        (
            (number := localize(m["number"]), m["kind"], number, m["when"], kinds.get(m["kind"], step), m["label"])
            for m in markers
        ),
    )
