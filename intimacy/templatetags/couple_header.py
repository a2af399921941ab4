"""The couple pages' header and tabs, the period picker and the touch-clearance panel's rows, written in
Python (issue 16, "Fast").

Every couple tab writes the header (the couple, its partners, the actions with a Pause or Resume form per
exercise, the tabs that keep the period, the open-alerts badge); as template loops it was ~1 ms of each
page, the period picker ~0.7 ms more, the overview's clearance rows ~0.5 ms. The HTML is what
templates/intimacy/couple/base.html, templates/includes/period_picker.html and the rows of
templates/intimacy/includes/touch_clearance.html wrote, to the byte (whitespace included: see
tests/intimacy/test_couple_header_tags.py, which renders the old templates beside these tags). The msgids
are the templates' own, so the catalogue keeps them. Everything goes through format_html (no mark_safe);
a translation, which `{% translate %}` and `{% blocktranslate %}` wrote as it stands (an apostrophe stays
an apostrophe), goes into format_html's format string (`_words`, `_sentence`), the values beside it
escaped. The words go into the format string rather than each through a format_html of its own: that
was half the header's time (~60 calls of ~5 µs).
"""

from django import template
from django.utils.formats import date_format, localize
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.timezone import template_localtime
from django.utils.translation import gettext, ngettext, pgettext

from intimacy.html import csrf_input, url_for_pk
from intimacy.models import Assignment, PersonalPause, SafetyCheck, ScreeningRecord

register = template.Library()

ACTIVE, PAUSED = Assignment.Status.ACTIVE, Assignment.Status.PAUSED
OVERVIEW = "couple_detail"


def _words(format_string: str, **words: str) -> str:
    """`format_string` with each `{name}` of `words` replaced by that translation as `{% translate %}`
    wrote it (as it stands: the catalogue is trusted); its braces are doubled, so they stay text."""
    for name, translated in words.items():
        format_string = format_string.replace("{" + name + "}", translated.replace("{", "{{").replace("}", "}}"))
    return format_string


def _sentence(translated: str, *names: str) -> str:
    """What `{% blocktranslate with name=… %}` writes, as a format string: the translation as it stands,
    each `%(name)s` a `{name}` that format_html fills in escaped (intimacy.html.blocktranslate, unformatted)."""
    braces_kept = translated.replace("{", "{{").replace("}", "}}")
    return braces_kept % {name: "{" + name + "}" for name in names}


HEADER = (
    '\n<div class="couple-head d-flex flex-wrap justify-content-between align-items-start gap-2 mb-2">\n'
    "  <div>\n"
    '    <h1 class="h3 mb-1">{label}</h1>\n'
    '    <p class="muted-note small mb-0">{status} · {partners} · [zone]</p>\n'
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
    '\n      \n        <form method="post" action="{url}">{csrf}<input type="hidden" name="status" value="{status}">'
    '[back]<button class="btn btn-outline-secondary btn-sm" type="submit">{button}'
    '<span class="visually-hidden"> {title}</span></button></form>\n      \n    '
)
# The overview's forms say to come back to it; the other tabs' come back to the exercises (the view's default).
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
BADGE = ' <span class="badge rounded-pill text-bg-secondary">{badge}</span>'


@register.simple_tag(takes_context=True)
def couple_title(context) -> SafeString:
    """The page's title: the tab's name, then "Couple"."""
    tab = context.get("tab")
    label = next((label for name, label in context.get("tabs", ()) if name == tab), None)
    if label is None:
        return format_html(_words("{couple}{none}", couple=gettext("Couple")), none="")
    return format_html(_words("{label} · {couple}", couple=gettext("Couple")), label=label)


@register.simple_tag(takes_context=True)
def couple_header(context) -> SafeString:
    """The couple's header (its label, status, partners and time zone; the actions) and the tabs."""
    couple, tab = context["couple"], context.get("tab")
    query = context["period"].query
    header = _words(
        HEADER.replace("[zone]", _sentence(gettext("time zone %(zone)s"), "zone")),
        appointment_words=gettext("Appointment view"),
        assign_words=gettext("Assign an exercise"),
        notes_words=gettext("Write a note"),
        summary_words=gettext("Print summary"),
        export_words=gettext("Download CSV"),
        nav_label=gettext("The couple's pages"),
    )
    return format_html(
        header,
        label=couple.label,
        status=couple.get_status_display(),
        partners=_partners(context.get("partners", ())),
        zone=couple.time_zone,
        appointment=url_for_pk("appointment")(couple.pk),
        assign=url_for_pk("assignment_create")(couple.pk),
        forms=_status_forms(context, context.get("assignments", ()), tab),
        notes=url_for_pk("couple_notes")(couple.pk),
        summary=url_for_pk("couple_summary")(couple.pk),
        export=url_for_pk("couple_export")(couple.pk),
        query=query,
        tabs=_tabs(context, couple.pk, tab, query),
    )


def _partners(partners) -> SafeString | str:
    """ "Alex and Sam (invite pending)": each name, whether their invite is still open."""
    pending, joined = (
        _words(" {pending}", pending=gettext("(invite pending)")),
        _words(" {joined} ", joined=gettext("and")),
    )
    last = len(partners) - 1
    # The names are values (escaped); the words between them, part of the format string.
    format_string = "".join(
        "{" + str(i) + "}" + ("" if p.accepted_at else pending) + (joined if i < last else "")
        for i, p in enumerate(partners)
    )
    return format_html(format_string, *(p.name for p in partners)) if partners else ""


def _status_forms(context, assignments, tab: str | None) -> SafeString | str:
    """Pause for each active exercise, Resume for each paused one; the overview's forms come back to it."""
    if not assignments:
        return ""
    url, csrf = url_for_pk("assignment_status"), csrf_input(context)
    form = STATUS_FORMS[tab == OVERVIEW]
    forms = {
        ACTIVE: _words(form, button=gettext("Pause")),
        PAUSED: _words(form, button=gettext("Resume")),
    }
    next_status = {ACTIVE: PAUSED.value, PAUSED: ACTIVE.value}
    return format_html_join(
        "",
        "{}",
        (
            (
                format_html(
                    forms[a.status], url=url(a.pk), csrf=csrf, status=next_status[a.status], title=a.exercise.title
                )
                if a.status in forms
                else NO_FORM,  # ended: nothing to pause or resume
            )
            for a in assignments
        ),
    )


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
        badge = format_html(BADGE.replace("{badge}", _sentence(words, "n")), n=localize(n))
    return format_html_join(
        "",
        "{}",
        (
            (
                format_html(
                    TABS[name == tab], url_for_pk(name)(couple_pk), query, label, badge if name == OVERVIEW else ""
                ),
            )
            for name, label in context.get("tabs", ())
        ),
    )


PICKER = (
    '\n<div class="period-picker d-flex flex-wrap align-items-end gap-2">\n'
    '  <div aria-label="{period_words}" class="btn-group flex-wrap" role="group">\n'
    "    {choices}\n"
    "  </div>\n"
    '  <form method="get" action="{base_url}" class="d-flex flex-wrap align-items-end gap-2"'
    ' aria-label="{custom_words}">\n'
    '    <div><label class="form-label small mb-0" for="period-from">{from_words}</label>\n'
    '      <input class="form-control" type="date" id="period-from" name="from" value="{from}" required></div>\n'
    '    <div><label class="form-label small mb-0" for="period-to">{to_words}</label>\n'
    '      <input class="form-control" type="date" id="period-to" name="to" value="{to}" required></div>\n'
    '    <button class="btn btn-outline-secondary" type="submit">{show_words}</button>\n'
    "  </form>\n"
    "</div>\n"
    '<p class="muted-note small mt-2 mb-0">[sentence]</p>'
)
# A number of weeks to choose, and the one chosen.
CHOICES = {
    False: '\n      <a class="btn btn-outline-secondary" href="{base_url}?weeks={weeks}{anchor}">[words]</a>\n    ',
    True: '\n      <a class="btn btn-outline-secondary active" href="{base_url}?weeks={weeks}{anchor}"'
    ' aria-current="true">[words]</a>\n    ',
}


@register.simple_tag(takes_context=True)
def period_picker(context) -> SafeString:
    """The period's choices (the last N weeks, or from … to …) and the sentence saying what is shown.
    `base_url` is the page's own address; `anchor`, where on it the links lead (none when empty)."""
    period, base_url, anchor = context["period"], context.get("base_url", ""), context.get("anchor")
    if period.monthly:
        sentence = gettext("%(start)s to %(end)s, month by month.")
    else:
        sentence = gettext("%(start)s to %(end)s, week by week (Monday first).")
    picker = _words(
        PICKER.replace("[sentence]", _sentence(sentence, "start", "end")),
        period_words=gettext("Period"),
        custom_words=gettext("Custom period"),
        from_words=pgettext("start of a period", "From"),
        to_words=pgettext("end of a period", "To"),
        show_words=gettext("Show"),
    )
    return format_html(
        picker,
        choices=_week_choices(period, context.get("week_choices", ()), base_url, anchor),
        base_url=base_url,
        **{"from": date_format(period.start, "Y-m-d"), "to": date_format(period.end, "Y-m-d")},
        start=date_format(period.start, "j M Y"),
        end=date_format(period.end, "j M Y"),
    )


def _week_choices(period, week_choices, base_url: str, anchor) -> SafeString:
    """A link for each number of weeks, to the page's own address (and `anchor` on it, if any)."""
    to_anchor = format_html("#{}", anchor) if anchor else ""

    def choice(w: int) -> SafeString:
        words = _sentence(ngettext("%(weeks)s week", "%(weeks)s weeks", w), "weeks")
        link = CHOICES[period.weeks == w].replace("[words]", words)
        return format_html(link, base_url=base_url, weeks=localize(w), anchor=to_anchor)

    return format_html_join("", "{}", ((choice(w),) for w in week_choices))


# The touch-clearance panel's rows (templates/intimacy/includes/touch_clearance.html): each partner's latest
# private checks, their own pauses in force and the separate conversations recorded. The screening form
# below them stays in the template (includes/field.html and Django's widgets write it, bound or not).
CLEARANCE_ROW = (
    '\n    <h3 class="h6 mt-2">{name}</h3>\n    <ul class="small mb-1">\n      {checks}\n      {pauses}\n'
    "      {screenings}\n    </ul>\n  "
)
CHECK = "\n        <li>[flag][private]\n          [answers]</li>\n      "
FLAG = '<span class="badge text-bg-danger me-1">{worrying}</span>'
PAUSE_UNTIL = '\n        <li><span class="badge text-bg-warning me-1">{kind}</span>[until]</li>\n      '
PAUSE_SINCE = PAUSE_UNTIL.replace("[until]", "[since]")
SCREENING = "\n        <li>[spoke]{note}</li>\n      "
NONE_YET = "\n        <li>{none}</li>\n      "


@register.simple_tag
def clearance_rows(rows) -> SafeString:
    """For each partner (selectors.touch_clearance): their latest private checks (a worrying answer
    flagged), their own pauses in force, the conversations recorded; "none yet" where there are none."""
    check = CHECK.replace("[private]", _sentence(gettext("Private check, %(day)s:"), "day")).replace(
        "[answers]",
        _sentence(
            gettext(
                "feels safe: %(a)s · hurt, threatened or frightened: %(b)s · pressured into touch or sex: "
                "%(c)s · free to say no: %(d)s"
            ),
            *"abcd",
        ),
    )
    words = {
        # A check with a worrying answer, and one without.
        True: check.replace("[flag]", _words(FLAG, worrying=gettext("Worrying answer"))),
        False: check.replace("[flag]", ""),
        "no_check": _fixed(_words(NONE_YET, none=gettext("No private check answered yet."))),
        "until": PAUSE_UNTIL.replace("[until]", _sentence(gettext("until %(until)s"), "until")),
        "since": PAUSE_SINCE.replace("[since]", _sentence(gettext("since %(since)s, until they resume"), "since")),
        "screening": SCREENING.replace(
            "[spoke]", _sentence(gettext("Spoke with them alone: %(day)s (%(how)s)"), "day", "how")
        ),
        "no_screening": _fixed(_words(NONE_YET, none=gettext("No separate conversation recorded yet."))),
        # The answers', pauses' and conversations' words, translated once for the panel.
        "answers": {name: _labels(SafetyCheck, name) for name in SafetyCheck.QUESTIONS},
        "kind": _labels(PersonalPause, "kind"),
        "how": _labels(ScreeningRecord, "how"),
    }
    return format_html_join("", "{}", ((_clearance_row(row, words),) for row in rows))


def _labels(model, field_name: str) -> dict[str, str]:
    """What `get_<field>_display()` says for each value of the field, translated once: that method
    translates every label of the field again at each call (to hash them), ~60 µs a check."""
    return {value: str(label) for value, label in model._meta.get_field(field_name).flatchoices}


def _fixed(format_string: str) -> SafeString:
    """A format string with no value left to fill in, as text (format_html wants one value at least)."""
    return format_html(format_string, nothing="")


def _day(moment) -> str:
    """`|date:"j M Y"`: a moment in the current time zone, a date as it is."""
    return date_format(template_localtime(moment), "j M Y")


def _clearance_row(row, words: dict) -> SafeString:
    # As get_<field>_display(): a value without a label shows as it is.
    answers, kind, how = words["answers"], words["kind"], words["how"]
    checks = [
        format_html(
            words[bool(check.flagged)],
            day=_day(check.created_at),
            **{key: answers[name].get(value, value) for key, name, value in _answers(check)},
        )
        for check in row.checks
    ]
    pauses = [
        format_html(words["until"], kind=kind.get(pause.kind, pause.kind), until=_day(pause.until))
        if pause.until
        else format_html(words["since"], kind=kind.get(pause.kind, pause.kind), since=_day(pause.created_at))
        for pause in row.pauses
    ]
    screenings = [
        format_html(
            words["screening"],
            day=_day(record.date),
            how=how.get(record.how, record.how),
            note=format_html(" · {}", record.note) if record.note else "",
        )
        for record in row.screenings
    ]
    return format_html(
        CLEARANCE_ROW,
        name=row.partner.name,
        checks=_joined(checks) if checks else words["no_check"],
        pauses=_joined(pauses),
        screenings=_joined(screenings) if screenings else words["no_screening"],
    )


def _answers(check: SafetyCheck):
    """(the sentence's name for it, the question, the answer) for each of the check's four questions."""
    return ((key, name, getattr(check, name)) for key, name in zip("abcd", SafetyCheck.QUESTIONS, strict=True))


def _joined(parts: list[SafeString]) -> SafeString:
    return format_html_join("", "{}", ((part,) for part in parts))
