"""Alerts on the couple page (intimacy/alerts.py): `{{ alert|alert_sentence }}`, the plain sentence a
therapist reads, and `{% alert_leads alert as leads %}`, where it leads and what may be done about it.

Where an alert leads comes from its rule's `about` (LINKS below, one line per kind of place), what may
be done from the rule's `actions`; the template shows what it gets, never testing kinds. Links carry
ids only: a session's page and period are chosen by the reflections tab from `?session=<id>`.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django import template
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from intimacy.alerts import ABOUT, About, Action
from intimacy.alerts import alert_sentence as sentence_for
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


LINKS: dict[str, tuple[Callable[[Alert], str], Promise]] = {
    About.SESSION: (
        lambda a: f"{_page('couple_reflections', a)}?session={a.session_id}#session-{a.session_id}"
        if a.session_id
        else "",
        _("Open the session"),
    ),
    About.ASSIGNMENT: (
        lambda a: f"{_page('couple_exercises', a)}#assignment-{a.assignment_id}" if a.assignment_id else "",
        _("See the exercise"),
    ),
    # The weekly check-in panel; the alert's week is shown beside the sentence.
    About.CHECKIN: (lambda a: f"{_page('couple_trends', a)}#checkin", _("See the check-ins")),
    About.TRENDS: (lambda a: f"{_page('couple_trends', a)}#trends", _("See the trends")),
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
    about, actions = ABOUT.get(alert.kind, (About.NOTHING, ()))
    href, label = "", ""
    if about in LINKS:
        address, label = LINKS[about]
        href = address(alert)
    assignment = alert.assignment if alert.assignment_id else None
    pausable = Action.PAUSE in actions and assignment is not None and assignment.status == Assignment.Status.ACTIVE
    return Leads(
        href=href,
        label=label if href else "",
        pause=assignment if pausable else None,
        note=_page("couple_notes", alert) + NOTE_FIELD if Action.NOTE in actions else "",
    )
