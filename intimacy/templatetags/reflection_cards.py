"""Reflection cards and the appointment view's session rows, written in Python (issue 16, "Fast").

Ten sessions of two cards and three "Leave … out" forms were ~60 template includes, 30 `{% url %}`
and 30 `{% csrf_token %}` a page, about half of the appointment view's time. The HTML is what
templates/includes/reflection.html and includes/leave_out.html wrote, element for element; the page
still shows only what `selectors.couple_sessions_page` handed it (the shared-only rules live there).
Everything goes through format_html, which escapes every value (no mark_safe).
"""

import functools

from django import template
from django.utils.formats import date_format
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from intimacy.html import blocktranslate, csrf_input, url_for_pk
from intimacy.models import Reflection
from intimacy.templatetags.shapes import ROLE_DONE, session_parts

register = template.Library()

Role = Reflection.Role
Visibility = Reflection.Visibility

# Each role's own questions, in the card's order; the receiver's (the last branch of the old template)
# for any other role. Connection, comfort and safe are on every card; a question not answered is left out.
ROLE_RATINGS = {
    Role.SPEAKER: (
        ("felt_heard", _("Felt heard")),
        ("felt_understood", _("Felt understood")),
        ("safe_to_say", _("Safe to say it")),
    ),
    Role.LISTENER: (
        ("stayed_open", _("Stayed with it without defending")),
        ("understood_what_mattered", _("Understood what mattered")),
    ),
    Role.TOGETHER: (("presence", _("Present")),),
    Role.GIVER: (("presence", _("Present")), ("giving_felt", _("How giving felt"))),
}
RECEIVER_RATINGS = (
    ("tension_before", _("Tension before")),
    ("tension_after", _("Tension after")),
    ("cared_for", _("Felt cared for")),
)
VISIBILITY_NOTE = {
    Visibility.SHARED: _("Shared with the partner"),
    Visibility.THERAPIST: _("For you only, not the partner"),
}


class CardWords:
    """Every fixed word of a card, translated once per language (`card_words`) rather than once a card,
    and escaped once too (`escape` marks them safe, so format_html leaves them as they are; a lazy string
    is made a str first, or `escape` would return it lazy, translated again at each use). Each msgid
    is a literal in a gettext call, so makemessages finds it."""

    def __init__(self):
        self.connection = escape(gettext("Connection"))
        self.comfort = escape(gettext("Comfortable"))
        self.safe = escape(gettext("Safe"))
        self.ratings = {
            role: [(field, escape(str(label))) for field, label in own] for role, own in ROLE_RATINGS.items()
        }
        self.receiver_ratings = [(field, escape(str(label))) for field, label in RECEIVER_RATINGS]
        self.role_done = {role: escape(str(done)) for role, done in ROLE_DONE.items()}
        self.pressure, self.pace = escape(gettext("Pressure")), escape(gettext("Pace"))
        # As get_pressure_display() / get_pace_display() read them: a value not among the choices as it is.
        self.pressures = {value: escape(str(label)) for value, label in Reflection.Pressure.choices}
        self.paces = {value: escape(str(label)) for value, label in Reflection.Pace.choices}
        self.paused = escape(gettext("Paused or stopped early"))
        self.what_happened, self.next_time = escape(gettext("What happened:")), escape(gettext("Next time:"))
        self.words_private = gettext("Private journal: only %(name)s can read the words.")
        self.visibility = {key: escape(str(note)) for key, note in VISIBILITY_NOTE.items()}
        self.numbers_only = escape(gettext("Private journal: numbers only"))


@functools.lru_cache(maxsize=8)
def card_words(language: str) -> CardWords:
    """The cards' fixed words in `language` (the active one: `get_language()`). Kept for the process,
    as Django keeps each language's catalogue once loaded: UI words only, never anything written by
    or about a couple, so nothing here can go stale when a reflection changes."""
    return CardWords()


def _ratings(r: Reflection, words: CardWords, fmt: list[str], args: list) -> None:
    """The card's ratings: the three every role answers, then its role's own questions answered."""
    rows = [(words.connection, r.connection), (words.comfort, r.comfort), (words.safe, r.safe)]
    own = words.ratings.get(r.role)
    for field, label in own or words.receiver_ratings:
        if (value := getattr(r, field)) is not None:
            rows.append((label, value))
    for label, value in rows:
        fmt.append("      <dt>{}</dt><dd>{}/10</dd>\n")
        args += (label, value)
    if own is None:  # the receiver's
        if r.pressure:
            fmt.append("      <dt>{}</dt><dd>{}</dd>\n")
            args += (words.pressure, words.pressures.get(r.pressure, r.pressure))
        if r.pace:
            fmt.append("      <dt>{}</dt><dd>{}</dd>\n")
            args += (words.pace, words.paces.get(r.pace, r.pace))


def _words(r: Reflection, words: CardWords, fmt: list[str], args: list) -> None:
    """The reflection's words, or the note that they are its writer's alone."""
    if not r.show_text:
        fmt.append('    <p class="muted-note small mb-1">{}</p>\n')
        args.append(blocktranslate(words.words_private, name=r.partner.name))
        return
    if r.pause_reason:
        fmt.append('    <p class="mb-1"><strong>{}</strong> <span class="reflection-text">{}</span></p>\n')
        args += (words.what_happened, r.pause_reason)
    if r.next_time:
        fmt.append('    <p class="mb-1"><strong>{}</strong> <span class="reflection-text">{}</span></p>\n')
        args += (words.next_time, r.next_time)
    if r.notes:
        fmt.append('    <p class="mb-1 reflection-text">{}</p>\n')
        args.append(r.notes)


@register.simple_tag
def reflection_card(r: Reflection, words: CardWords | None = None) -> SafeString:
    """One reflection as the viewer may see it: the selector has already blanked words they may not
    read (`show_text`) and left out whatever they may not see at all. One format_html for the whole
    card: every value is an argument, escaped; the format is only this module's literals."""
    words = words or card_words(get_language())
    fmt = [
        '<div class="card h-100">\n  <div class="card-body">\n'
        '    <h4 class="h6 card-title">{} <span class="muted-note fw-normal">· {}</span></h4>\n'
        '    <dl class="ratings">\n'
    ]
    args = [r.partner.name, words.role_done.get(r.role, "")]
    _ratings(r, words, fmt, args)
    fmt.append("    </dl>\n")
    if r.paused:
        fmt.append('    <p class="mb-2"><span class="badge text-bg-light border">{}</span></p>\n')
        args.append(words.paused)
    _words(r, words, fmt, args)
    fmt.append('    <p class="small muted-note mb-0 mt-2">{}</p>\n  </div>\n</div>\n')
    args.append(words.visibility.get(r.visibility) or words.numbers_only)
    return format_html("".join(fmt), *args)


class AppointmentPage:
    """What every row of an appointment page shares, worked out once: the "Leave … out" forms' URLs,
    token and period (the therapist's one click to leave a session or a reflection out of today's
    appointment view; the couple may be watching: a plain, small button), and the cards' words."""

    FORM = (
        '<form class="no-print mt-1" method="post" action="{}">{}\n'
        '  <input type="hidden" name="period" value="{}">\n'
        '  <button class="btn btn-sm btn-link p-0" type="submit">{}</button>\n</form>\n'
    )

    def __init__(self, context):
        self.csrf = csrf_input(context)
        self.period = context["period"].query
        self.session_url = url_for_pk("appointment_leave_out_session")
        self.reflection_url = url_for_pk("appointment_leave_out_reflection")
        self.session_label = gettext("Leave this session out")
        self.reflection_label = gettext("Leave this reflection out")
        # Names no one as late: the other may have written privately.
        self.waiting = gettext("%(name)s's reflection will show here within a week.")
        self.none_shared = gettext("No shared reflection from %(name)s.")
        self.words = card_words(get_language())

    def session_form(self, s) -> SafeString:
        return format_html(self.FORM, self.session_url(s.pk), self.csrf, self.period, self.session_label)

    def side(self, reflection, waiting: bool, name: str) -> SafeString:
        """One partner's half of the session: their shared card with its form, or why there is none."""
        if reflection:
            return format_html(
                "<div>{}{}</div>",
                reflection_card(reflection, self.words),
                format_html(
                    self.FORM, self.reflection_url(reflection.pk), self.csrf, self.period, self.reflection_label
                ),
            )
        note = blocktranslate(self.waiting if waiting else self.none_shared, name=name)
        return format_html('<div class="card card-body muted-note">{}</div>', note)

    def session(self, s) -> SafeString:
        return format_html(
            '    <article class="mb-3">\n'
            '      <div class="d-flex flex-wrap align-items-baseline justify-content-between gap-2">\n'
            '        <h3 class="h5 mb-2">{} · {}</h3>\n{}'
            "      </div>\n"
            '      <div class="session-pair">\n        {}\n        {}\n      </div>\n'
            "    </article>\n",
            date_format(s.date, "l j F"),
            session_parts(s),
            self.session_form(s),
            self.side(s.giver_reflection, s.giver_waiting, s.giver.name),
            self.side(s.receiver_reflection, s.receiver_waiting, s.receiver.name),
        )


@register.simple_tag(takes_context=True)
def appointment_sessions(context, sessions) -> SafeString:
    """The appointment view's sessions, newest first, each with both partners' shared cards and the
    therapist's "Leave … out" forms; `sessions` as `selectors.couple_sessions_page(shared_only=True)`
    gave them."""
    page = AppointmentPage(context)
    return format_html_join("", "{}", ((page.session(s),) for s in sessions))
