"""Alerts on the couple page (intimacy/alerts.py): `{{ alert|alert_sentence }}`, the plain sentence a
therapist reads, `{% alert_leads alert as leads %}`, where it leads and what may be done about it, and
`{% open_alert_items alerts %}` and `{% seen_alert_items alerts %}`, the overview's lists of alerts open
and already seen, written in Python.

Where an alert leads comes from its rule's `about` (LINKS below, one line per kind of place), what may
be done from the rule's `actions`; the template shows what it gets, never testing kinds. Links carry
ids only: a session's page and period are chosen by the reflections tab from `?session=<id>`.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django import template
from django.urls import reverse
from django.utils.formats import date_format, localize
from django.utils.functional import Promise
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.timezone import template_localtime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from intimacy.alerts import ABOUT, About, Action
from intimacy.alerts import alert_sentence as sentence_for
from intimacy.html import blocktranslate as _blocktranslate
from intimacy.html import csrf_input, url_for_pk
from intimacy.models import Alert, Assignment

register = template.Library()


@register.filter
def alert_sentence(alert) -> str:
    return sentence_for(alert)


# For each place an alert can be about: its address among the couple's pages (given the alert; "" when
# the alert has no such row, e.g. its session was deleted), and the link's words. Issue 16: each part of
# the couple page is its own tab (intimacy/views/dashboard.py TABS).
def _page(name: str, alert: Alert) -> str:
    return reverse(name, args=[alert.couple_id])


# Each address is given the alert and `page` (`_page`, or one that reverses each page once a list).
LINKS: dict[str, tuple[Callable[[Alert, Callable], str], Promise]] = {
    About.SESSION: (
        lambda a, page: f"{page('couple_reflections', a)}?session={a.session_id}#session-{a.session_id}"
        if a.session_id
        else "",
        _("Open the session"),
    ),
    About.ASSIGNMENT: (
        lambda a, page: f"{page('couple_exercises', a)}#assignment-{a.assignment_id}" if a.assignment_id else "",
        _("See the exercise"),
    ),
    # The weekly check-in panel; the alert's week is shown beside the sentence.
    About.CHECKIN: (lambda a, page: f"{page('couple_trends', a)}#checkin", _("See the check-ins")),
    About.TRENDS: (lambda a, page: f"{page('couple_trends', a)}#trends", _("See the trends")),
}
# The note form's text field, on the notes tab: following the link focuses it.
NOTE_FIELD = "#id_text"


@dataclass(frozen=True)
class Leads:
    href: str = ""
    label: Promise | str = ""
    # The exercise to pause, when pausing fits the alert and the exercise is active.
    pause: Assignment | None = None
    note: str = ""


@register.simple_tag
def alert_leads(alert: Alert) -> Leads:
    """Where the alert leads and what fits beside "Mark as seen". Reads nothing: the page's alerts come
    with their exercise (intimacy/selectors.py `open_alerts`)."""
    return _leads(alert, _page)


def _leads(alert: Alert, page: Callable[[str, Alert], str]) -> Leads:
    """`alert_leads`, with `page` giving the addresses of the couple's pages."""
    about, actions = ABOUT.get(alert.kind, (About.NOTHING, ()))
    href, label = "", ""
    if about in LINKS:
        address, label = LINKS[about]
        href = address(alert, page)
    assignment = alert.assignment if alert.assignment_id else None
    pausable = Action.PAUSE in actions and assignment is not None and assignment.status == Assignment.Status.ACTIVE
    return Leads(
        href=href,
        label=label if href else "",
        pause=assignment if pausable else None,
        note=page("couple_notes", alert) + NOTE_FIELD if Action.NOTE in actions else "",
    )


def _pages_once() -> Callable[[str, Alert], str]:
    """`_page`, each page of each couple reversed once (a list of alerts is all one couple's)."""
    known = {}

    def page(name: str, alert: Alert) -> str:
        key = (name, alert.couple_id)
        if key not in known:
            known[key] = _page(name, alert)
        return known[key]

    return page


# One alert already seen, as the overview's history lists it (issue 16, "Fast": as a template loop, its ten
# lines were ~3 ms of the overview: a filter, a tag and two translated, dated sentences each). The
# whitespace around each line is the loop's that wrote it before: the page is the same to the byte.
SEEN_LINE = '\n        <li class="mb-1">{}{} <span class="muted-note">· {} · {}{}</span></li>\n      '


@register.simple_tag
def seen_alert_items(alerts: list[Alert]) -> SafeString:
    """The overview's alerts already seen, each a list item: its sentence, where it leads, its week, when
    it was marked as seen and the therapist's note. Everything goes through format_html (no mark_safe)."""
    # Translated and reversed once for the list, not once a line.
    words = (gettext("week of %(week)s"), gettext("seen %(seen)s"))
    page = _pages_once()
    return format_html_join("", SEEN_LINE, (_seen_parts(alert, words, page) for alert in alerts))


def _seen_parts(alert: Alert, words: tuple[str, str], page: Callable[[str, Alert], str]) -> tuple:
    leads = _leads(alert, page)
    link = format_html(' <a href="{}">{}</a>', leads.href, leads.label) if leads.href else ""
    week_of, seen_on = words
    week = _blocktranslate(week_of, week=date_format(alert.week, "j M Y"))
    # As `|date:"j M Y"` does: the moment in the current time zone.
    seen = _blocktranslate(seen_on, seen=date_format(template_localtime(alert.acknowledged_at), "j M Y"))
    note = format_html(": “{}”", alert.acknowledgement) if alert.acknowledgement else ""
    return sentence_for(alert), link, week, seen, note


# One open alert, as the overview lists it (~0.3 ms each as a template loop: two forms with their URLs
# and CSRF fields, five translations, a date). The whitespace is the loop's that wrote it before.
OPEN_ITEM = (
    '\n    <li class="alert-row{urgent}">\n'
    '      <p class="mb-0 alert-text">{badge}{sentence}\n'
    '        <span class="muted-note small">· {week}</span></p>\n'
    "      \n"
    '      <div class="d-flex flex-wrap gap-1 align-items-start alert-leads">\n'
    "        {link}\n"
    "        {pause}\n"
    "        {note}\n"
    '        <details class="ack">\n'
    '          <summary class="btn btn-outline-secondary btn-sm">{mark}</summary>\n'
    '          <form method="post" action="{acknowledge}" class="mt-2">{csrf}\n'
    '            <label class="form-label small" for="ack-{pk}">{label}</label>\n'
    '            <input class="form-control mb-1" type="text" id="ack-{pk}" name="note" maxlength="300"'
    ' aria-describedby="ack-help-{pk}">\n'
    '            <p class="form-text mt-0" id="ack-help-{pk}">{help}</p>\n'
    '            <button class="btn btn-primary btn-sm" type="submit">{save}</button>\n'
    "          </form>\n"
    "        </details>\n"
    "      </div>\n"
    "    </li>\n  "
)
PAUSE_FORM = (
    '<form method="post" action="{}">{}<input type="hidden" name="status" value="{}">'
    '<input type="hidden" name="back" value="overview"><button class="btn btn-outline-secondary btn-sm" '
    'type="submit">{}</button></form>'
)


@register.simple_tag(takes_context=True)
def open_alert_items(context, alerts: list[Alert]) -> SafeString:
    """The overview's open alerts, each a list item: urgent or not, its sentence and week, where it leads,
    pausing its exercise or writing a note where that fits, and "Mark as seen" with an optional note (the
    page's `acknowledge_form`). What is the same for every alert is written once for the list."""
    note = context["acknowledge_form"]["note"]
    same = {
        "csrf": csrf_input(context),
        "mark": gettext("Mark as seen"),
        "label": note.label,
        "help": note.help_text,
        "save": gettext("Save"),
    }
    words = {
        "urgent": format_html('<span class="badge text-bg-danger me-1">{}</span>', gettext("Urgent")),
        "week": gettext("week of %(week)s"),
        "pause": gettext("Pause the exercise"),
        "note": gettext("Write a note"),
    }
    urls = {"acknowledge": url_for_pk("alert_acknowledge"), "pause": url_for_pk("assignment_status")}
    page = _pages_once()
    return format_html_join("", "{}", ((_open_item(alert, same, words, urls, page),) for alert in alerts))


def _open_item(alert: Alert, same: dict, words: dict, urls: dict, page: Callable[[str, Alert], str]) -> SafeString:
    leads = _leads(alert, page)
    pause = ""
    if leads.pause:
        status = Assignment.Status.PAUSED.value
        pause = format_html(PAUSE_FORM, urls["pause"](leads.pause.pk), same["csrf"], status, words["pause"])
    return format_html(
        OPEN_ITEM,
        urgent=" alert-urgent" if alert.urgent else "",
        badge=words["urgent"] if alert.urgent else "",
        sentence=sentence_for(alert),
        week=_blocktranslate(words["week"], week=date_format(alert.week, "j M")),
        link=format_html('<a class="btn btn-outline-primary btn-sm" href="{}">{}</a>', leads.href, leads.label)
        if leads.href
        else "",
        pause=pause,
        note=format_html('<a class="btn btn-outline-secondary btn-sm" href="{}">{}</a>', leads.note, words["note"])
        if leads.note
        else "",
        acknowledge=urls["acknowledge"](alert.pk),
        pk=localize(alert.pk),
        **same,
    )
