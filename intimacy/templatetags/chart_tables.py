"""A chart's figure with its numbers table, and the legend of the charts' markers, written in Python
(issue 16, "Fast": as templates they were a fifth of the couple overview's rendering).

Every chart keeps its table beneath it (includes/chart.html); at 104 weeks a chart has 24 monthly rows of
up to five numbers, and the per-cell `{% for %}`, `slice` and `default_if_none` were the part of the
couple's pages that grew with the period. Each value is localized as `{{ v }}` would be and escaped by
format_html; a missing value is "–", as before.
"""

import decimal

from django import template
from django.utils import numberformat
from django.utils.formats import get_format, localize
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext

from intimacy.html import blocktranslate
from intimacy.trends import drawn

register = template.Library()


def _number_text():
    """`localize(value)` for a table's cells, with the language's number formats read once per table:
    localize() reads three of them for every number (`formats.number_format`), which was most of a
    two-year table's time. Anything but a number goes to localize() itself; a missing value is "–"."""
    language = get_language()
    decimal_separator, grouping, thousand_separator = (
        get_format(name, language, use_l10n=True)
        for name in ("DECIMAL_SEPARATOR", "NUMBER_GROUPING", "THOUSAND_SEPARATOR")
    )

    def text(value) -> str:
        if value is None:
            return "–"
        if (type(value) is int and -1000 < value < 1000) or (type(value) is float and 1e-4 <= abs(value) < 1000):
            # What numberformat.format gives such a number (no thousands to group, no exponent in its str):
            # its digits, with the language's decimal mark. The charts' values are counts and one-decimal means.
            return str(value).replace(".", decimal_separator)
        if isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool):
            return numberformat.format(value, decimal_separator, None, grouping, thousand_separator, use_l10n=True)
        return localize(value)

    return text


@register.simple_tag
def chart_table_rows(chart) -> SafeString:
    """The table's body rows: the bucket as the row's header, then each series' value."""
    # One format_html for the whole table, and each distinct value localized and escaped once, as a safe
    # string (escaping it again costs little): a chart's values repeat (counts, means to one decimal), and
    # localize() and an escape per cell were most of the table's time. Keyed by type too, since 1 == 1.0
    # but they read "1" and "1.0".
    texts = {}
    number_text = _number_text()

    def text(value) -> SafeString:
        key = (type(value), value)
        if key not in texts:
            texts[key] = escape(number_text(value))
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


@register.filter(name="drawn")
def drawn_filter(chart_data: dict) -> dict:
    """`{{ chart_data|drawn|json_script:"chart-data" }}`: the page's chart data as charts.js reads it
    (trends.drawn)."""
    return drawn(chart_data)


# One line of the markers' legend (includes/chart_markers.html), with the whitespace the template's loop
# wrote after it: the page stays the same to the byte.
MARKER_LINE = (
    '<li class="chart-marker" data-number="{}"><span class="marker-pin marker-{}">{}</span> <span>'
    '<span class="chart-marker-when">{}</span> · <strong class="chart-marker-kind">{}</strong>: {}</span></li>\n    '
)


@register.simple_tag
def chart_marker_items(markers: list[dict]) -> SafeString:
    """The legend's lines, one per marker (`trends.markers`): its number, when, its kind in words and its
    words. As a template loop, ~60 µs a marker; two years of paused months, notes and steps make dozens."""
    if not markers:
        return format_html("{}", "")
    kinds = {"paused": gettext("Paused"), "note": gettext("Your note")}
    step = gettext("Program step")
    number_text = _number_text()
    # One format_html for the whole legend, and each distinct text escaped once (as chart_table_rows does):
    # the kinds' words, a month's name and a pause's sentence repeat, and localize() and format_html per
    # line were ~20 µs a marker.
    escaped = {}

    def safe(text: str) -> SafeString:
        if text not in escaped:
            escaped[text] = escape(text)
        return escaped[text]

    values = []
    for m in markers:
        number = safe(number_text(m["number"]))
        values += (number, safe(m["kind"]), number, safe(m["when"]), safe(kinds.get(m["kind"], step)), safe(m["label"]))
    # The braces are the lines' own; every value is an argument, so none is read as one.
    return format_html(MARKER_LINE * len(markers), *values)


# One chart (includes/chart.html includes only this): a canvas static/tend/charts.js draws on, and the same
# numbers in a table beneath it. Its whitespace is the template's that wrote it before: the same bytes.
FIGURE = (
    '\n<figure class="card card-body chart-card mb-0" aria-labelledby="chart-{id}-title">\n'
    '  <h3 class="h6 mb-1" id="chart-{id}-title">{title}</h3>\n'
    '  <p class="small muted-note mb-2">{about}</p>\n'
    "  {views}\n"
    '  <div class="chart-box"><canvas id="chart-{id}" role="img" aria-label="{canvas}"></canvas></div>\n'
    '  <details class="chart-numbers mt-2"{open}>\n'
    "    <summary>{summary}</summary>\n"
    '    <div class="table-responsive" tabindex="0" role="region" aria-label="{region}">\n'
    '    <table class="table table-sm mb-0">\n'
    '      <caption class="visually-hidden">{caption}</caption>\n'
    '      <thead><tr><th scope="col">{first}</th>{columns}</tr></thead>\n'
    "      <tbody>{rows}</tbody>\n"
    "    </table>\n"
    "    </div>\n"
    "  </details>\n"
    "</figure>\n"
)
VIEW_BUTTON = '<button type="button" class="btn btn-outline-secondary" data-view="{}" aria-pressed="{}">{}</button>'


@register.simple_tag(takes_context=True)
def chart_figure(context, chart: dict) -> SafeString:
    """The chart's figure: its title and words, a button per view (connection: all roles, as giver …),
    shown once charts.js can switch them, the canvas, and the numbers table (open when `open_tables`)."""
    title = chart["title"]
    monthly = context["period"].monthly
    caption = gettext("%(title)s, by month") if monthly else gettext("%(title)s, by week starting")
    return format_html(
        FIGURE,
        id=chart["id"],
        title=title,
        about=chart["about"],
        views=_views(chart),
        canvas=blocktranslate(gettext("%(title)s. The numbers are in the table below the chart."), title=title),
        open=" open" if context.get("open_tables") else "",
        summary=blocktranslate(gettext("Numbers for “%(title)s”"), title=title),
        region=blocktranslate(gettext("Numbers for %(title)s"), title=title),
        caption=blocktranslate(caption, title=title),
        first=gettext("Month") if monthly else gettext("Week of"),
        columns=format_html_join("", '<th scope="col">{}</th>', ((column,) for column in chart["columns"])),
        rows=chart_table_rows(chart),
    )


def _views(chart: dict) -> SafeString | str:
    if not chart.get("views"):
        return ""
    buttons = format_html_join(
        "",
        VIEW_BUTTON,
        ((view["key"], "true" if i == 0 else "false", view["label"]) for i, view in enumerate(chart["views"])),
    )
    label = blocktranslate(gettext("%(title)s: which role to draw"), title=chart["title"])
    return format_html(
        '<div class="btn-group btn-group-sm chart-views mb-2" role="group" data-chart="{}" aria-label="{}" hidden>'
        "{}</div>",
        chart["id"],
        label,
        buttons,
    )
