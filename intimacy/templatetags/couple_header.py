"""The couple pages' header and tabs, and the period picker, written in Python (issue 16, "Fast").

Every couple tab writes the header (the couple, its partners, the actions with a Pause or Resume form per
exercise, the tabs that keep the period, the open-alerts badge); as template loops it was ~1 ms of each
page, the period picker ~0.7 ms more. The HTML is what templates/intimacy/couple/base.html and
templates/includes/period_picker.html wrote, to the byte (whitespace included; see
tests/intimacy/test_couple_header_tags.py, which renders the old templates beside these tags). The msgids
are the templates' own, so the catalogue keeps them. Everything goes through format_html (no mark_safe);
a translated sentence that `{% translate %}` or `{% blocktranslate %}` wrote as it stands (an apostrophe
stays an apostrophe) goes in as the format string, through intimacy.html.blocktranslate.
"""

from django import template
from django.utils.formats import date_format, localize
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext, pgettext

from intimacy.html import blocktranslate, csrf_input, url_for_pk
from intimacy.models import Assignment

register = template.Library()


def _as_written(translated: str) -> SafeString:
    """What `{% translate "…" %}` writes: the translation as it stands (that tag trusts the catalogue, so an
    apostrophe stays an apostrophe), as format_html's format string with braces kept as text."""
    return format_html(translated.replace("{", "{{").replace("}", "}}") + "{}", "")


ACTIVE, PAUSED = Assignment.Status.ACTIVE, Assignment.Status.PAUSED

HEADER = (
    '\n<div class="couple-head d-flex flex-wrap justify-content-between align-items-start gap-2 mb-2">\n'
    "  <div>\n"
    '    <h1 class="h3 mb-1">{label}</h1>\n'
    '    <p class="muted-note small mb-0">{status} · {partners} · {zone}</p>\n'
    "  </div>\n"
    '  <div class="couple-actions d-flex flex-wrap gap-2 align-items-start">\n'
    '    <a class="btn btn-primary btn-sm" href="{appointment}?{query}">{appointment_words}</a>\n'
    '    <a class="btn btn-outline-primary btn-sm" href="{assign}">{assign_words}</a>\n'
    "    {forms}\n"
    '    <a class="btn btn-outline-secondary btn-sm" href="{notes}?{query}#id_text">{notes_words}</a>\n'
    '    <a class="btn btn-link btn-sm" href="{summary}?{query}">{summary_words}</a>\n'
    '    <a class="btn btn-link btn-sm" href="{export}?{query}">{export_words}</a>\n'
    "  </div>\n"
    "</div>\n"
    "\n"
    '<nav aria-label="{nav_label}" class="couple-tabs mb-3">\n'
    '  <ul class="nav nav-underline">\n'
    "  {tabs}\n"
    "  </ul>\n"
    "</nav>\n"
)
# One exercise's Pause or Resume, inside the template loop's whitespace (an ended one writes only that).
STATUS_FORM = (
    '\n      \n        <form method="post" action="{}">{}<input type="hidden" name="status" value="{}">[back]'
    '<button class="btn btn-outline-secondary btn-sm" type="submit">{}<span class="visually-hidden"> {}</span>'
    "</button></form>\n      \n    "
)
# The overview's forms say where to come back to; the other tabs' come back to the exercises (the view's default).
STATUS_FORMS = {
    True: STATUS_FORM.replace("[back]", '<input type="hidden" name="back" value="overview">'),
    False: STATUS_FORM.replace("[back]", ""),
}
NO_FORM = "\n      \n    "
# A tab, and the tab of the page shown.
TABS = {
    False: '\n    <li class="nav-item"><a class="nav-link" href="{}?{}">{}{}</a></li>\n  ',
    True: '\n    <li class="nav-item"><a class="nav-link active" href="{}?{}" aria-current="page">{}{}</a></li>\n  ',
}
BADGE = ' <span class="badge rounded-pill text-bg-secondary">{}</span>'
OVERVIEW = "couple_detail"


@register.simple_tag(takes_context=True)
def couple_title(context) -> SafeString:
    """The page's title: the tab's name, then "Couple"."""
    tab = context.get("tab")
    names = [format_html("{} · ", label) for name, label in context.get("tabs", ()) if name == tab]
    return format_html("{}{}", format_html_join("", "{}", ((n,) for n in names)), _as_written(gettext("Couple")))


@register.simple_tag(takes_context=True)
def couple_header(context) -> SafeString:
    """The couple's header (its label, status, partners and time zone; the actions) and the tabs."""
    couple, tab = context["couple"], context.get("tab")
    query = context["period"].query
    return format_html(
        HEADER,
        label=couple.label,
        status=couple.get_status_display(),
        partners=_partners(context.get("partners", ())),
        zone=blocktranslate(gettext("time zone %(zone)s"), zone=couple.time_zone),
        appointment=url_for_pk("appointment")(couple.pk),
        appointment_words=_as_written(gettext("Appointment view")),
        assign=url_for_pk("assignment_create")(couple.pk),
        assign_words=_as_written(gettext("Assign an exercise")),
        forms=_status_forms(context, context.get("assignments", ()), tab),
        notes=url_for_pk("couple_notes")(couple.pk),
        notes_words=_as_written(gettext("Write a note")),
        summary=url_for_pk("couple_summary")(couple.pk),
        summary_words=_as_written(gettext("Print summary")),
        export=url_for_pk("couple_export")(couple.pk),
        export_words=_as_written(gettext("Download CSV")),
        query=query,
        nav_label=_as_written(gettext("The couple's pages")),
        tabs=_tabs(context, couple.pk, tab, query),
    )


def _partners(partners) -> SafeString:
    """ "Alex and Sam (invite pending)": each name, whether their invite is still open."""
    pending, joined = _as_written(gettext("(invite pending)")), _as_written(gettext("and"))
    parts = []
    for i, p in enumerate(partners):
        parts.append(format_html("{}{}", p.name, format_html(" {}", pending) if not p.accepted_at else ""))
        if i < len(partners) - 1:
            parts.append(format_html(" {} ", joined))
    return format_html_join("", "{}", ((part,) for part in parts))


def _status_forms(context, assignments, tab: str | None) -> SafeString:
    """Pause for each active exercise, Resume for each paused one; the overview's forms come back to it."""
    if not assignments:
        return ""
    url, csrf = url_for_pk("assignment_status"), csrf_input(context)
    form = STATUS_FORMS[tab == OVERVIEW]
    words = {
        ACTIVE: (PAUSED.value, _as_written(gettext("Pause"))),
        PAUSED: (ACTIVE.value, _as_written(gettext("Resume"))),
    }
    return format_html_join("", "{}", ((_status_form(a, url, csrf, form, words),) for a in assignments))


def _status_form(a: Assignment, url, csrf: str, form: str, words: dict) -> SafeString | str:
    if a.status not in words:  # ended: nothing to pause or resume
        return NO_FORM
    status, button = words[a.status]
    return format_html(form, url(a.pk), csrf, status, button, a.exercise.title)


def _tabs(context, couple_pk: int, tab: str | None, query: str) -> SafeString:
    """The tabs, each a link that keeps the period; the overview's shows how many alerts are open."""
    open_alerts = context.get("open_alerts")
    badge = ""
    if open_alerts:
        n = len(open_alerts)
        words = ngettext(
            '%(n)s<span class="visually-hidden"> open alert</span>',
            '%(n)s<span class="visually-hidden"> open alerts</span>',
            n,
        )
        badge = format_html(BADGE, blocktranslate(words, n=localize(n)))
    items = (
        format_html(TABS[name == tab], url_for_pk(name)(couple_pk), query, label, badge if name == OVERVIEW else "")
        for name, label in context.get("tabs", ())
    )
    return format_html_join("", "{}", ((item,) for item in items))


PICKER = (
    '\n<div class="period-picker d-flex flex-wrap align-items-end gap-2">\n'
    '  <div aria-label="{period}" class="btn-group flex-wrap" role="group">\n'
    "    {choices}\n"
    "  </div>\n"
    '  <form method="get" action="{base_url}" class="d-flex flex-wrap align-items-end gap-2"'
    ' aria-label="{custom}">\n'
    '    <div><label class="form-label small mb-0" for="period-from">{from_words}</label>\n'
    '      <input class="form-control" type="date" id="period-from" name="from" value="{start}" required></div>\n'
    '    <div><label class="form-label small mb-0" for="period-to">{to_words}</label>\n'
    '      <input class="form-control" type="date" id="period-to" name="to" value="{end}" required></div>\n'
    '    <button class="btn btn-outline-secondary" type="submit">{show}</button>\n'
    "  </form>\n"
    "</div>\n"
    '<p class="muted-note small mt-2 mb-0">{sentence}</p>'
)
# A number of weeks to choose, and the one chosen.
CHOICES = {
    False: '\n      <a class="btn btn-outline-secondary" href="{}?weeks={}{}">{}</a>\n    ',
    True: '\n      <a class="btn btn-outline-secondary active" href="{}?weeks={}{}" aria-current="true">{}</a>\n    ',
}


@register.simple_tag(takes_context=True)
def period_picker(context) -> SafeString:
    """The period's choices (the last N weeks, or from … to …) and the sentence saying what is shown.
    `base_url` is the page's own address; `anchor`, where on it the links lead (none when empty)."""
    period, base_url, anchor = context["period"], context.get("base_url", ""), context.get("anchor")
    start, end = date_format(period.start, "j M Y"), date_format(period.end, "j M Y")
    if period.monthly:
        sentence = blocktranslate(gettext("%(start)s to %(end)s, month by month."), start=start, end=end)
    else:
        sentence = blocktranslate(gettext("%(start)s to %(end)s, week by week (Monday first)."), start=start, end=end)
    return format_html(
        PICKER,
        period=_as_written(gettext("Period")),
        choices=_week_choices(period, context.get("week_choices", ()), base_url, anchor),
        base_url=base_url,
        custom=_as_written(gettext("Custom period")),
        from_words=_as_written(pgettext("start of a period", "From")),
        start=date_format(period.start, "Y-m-d"),
        to_words=_as_written(pgettext("end of a period", "To")),
        end=date_format(period.end, "Y-m-d"),
        show=_as_written(gettext("Show")),
        sentence=sentence,
    )


def _week_choices(period, week_choices, base_url: str, anchor) -> SafeString:
    """A link for each number of weeks, to the page's own address (and `anchor` on it, if any)."""
    to_anchor = format_html("#{}", anchor) if anchor else ""

    def choice(w: int) -> SafeString:
        words = blocktranslate(ngettext("%(weeks)s week", "%(weeks)s weeks", w), weeks=localize(w))
        return format_html(CHOICES[period.weeks == w], base_url, localize(w), to_anchor, words)

    return format_html_join("", "{}", ((choice(w),) for w in week_choices))
