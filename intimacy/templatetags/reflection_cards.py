"""Reflection cards and the appointment view's session rows, written in Python (issue 16, "Fast").

Ten sessions of two cards and three "Leave … out" forms were ~60 template includes, 30 `{% url %}`
and 30 `{% csrf_token %}` a page, about half of the appointment view's time. The HTML is what
templates/includes/reflection.html and includes/leave_out.html wrote, element for element; the page
still shows only what `selectors.couple_sessions_page` handed it (the shared-only rules live there).
Everything goes through format_html, which escapes every value (no mark_safe).
"""

from django import template
from django.template.defaulttags import CsrfTokenNode
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

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
RATING = "      <dt>{}</dt><dd>{}/10</dd>\n"
WORDS = "      <dt>{}</dt><dd>{}</dd>\n"


def with_names(translated: str, **values) -> SafeString:
    """What `{% blocktranslate with name=… %}` writes: the translated sentence as it stands (an
    apostrophe stays an apostrophe), each value escaped into its `%(name)s`."""
    braces_kept = translated.replace("{", "{{").replace("}", "}}")
    return format_html(braces_kept % {key: "{" + key + "}" for key in values}, **values)


def _ratings(r: Reflection) -> SafeString:
    rows = [(gettext("Connection"), r.connection), (gettext("Comfortable"), r.comfort), (gettext("Safe"), r.safe)]
    own = ROLE_RATINGS.get(r.role, RECEIVER_RATINGS)
    rows += [(label, getattr(r, field)) for field, label in own if getattr(r, field) is not None]
    html = format_html_join("", RATING, rows)
    if own is RECEIVER_RATINGS:
        words = []
        if r.pressure:
            words.append((gettext("Pressure"), r.get_pressure_display()))
        if r.pace:
            words.append((gettext("Pace"), r.get_pace_display()))
        html = format_html("{}{}", html, format_html_join("", WORDS, words))
    return html


def _words(r: Reflection) -> SafeString:
    """The reflection's words, or the note that they are its writer's alone."""
    if not r.show_text:
        note = with_names(gettext("Private journal: only %(name)s can read the words."), name=r.partner.name)
        return format_html('    <p class="muted-note small mb-1">{}</p>\n', note)
    parts = []
    if r.pause_reason:
        parts.append(
            format_html(
                '    <p class="mb-1"><strong>{}</strong> <span class="reflection-text">{}</span></p>\n',
                gettext("What happened:"),
                r.pause_reason,
            )
        )
    if r.next_time:
        parts.append(
            format_html(
                '    <p class="mb-1"><strong>{}</strong> <span class="reflection-text">{}</span></p>\n',
                gettext("Next time:"),
                r.next_time,
            )
        )
    if r.notes:
        parts.append(format_html('    <p class="mb-1 reflection-text">{}</p>\n', r.notes))
    return format_html_join("", "{}", ((p,) for p in parts))


@register.simple_tag
def reflection_card(r: Reflection) -> SafeString:
    """One reflection as the viewer may see it: the selector has already blanked words they may not
    read (`show_text`) and left out whatever they may not see at all."""
    paused = ""
    if r.paused:
        paused = format_html(
            '    <p class="mb-2"><span class="badge text-bg-light border">{}</span></p>\n',
            gettext("Paused or stopped early"),
        )
    return format_html(
        '<div class="card h-100">\n  <div class="card-body">\n'
        '    <h4 class="h6 card-title">{} <span class="muted-note fw-normal">· {}</span></h4>\n'
        '    <dl class="ratings">\n{}    </dl>\n{}{}'
        '    <p class="small muted-note mb-0 mt-2">{}</p>\n  </div>\n</div>\n',
        r.partner.name,
        ROLE_DONE.get(r.role, ""),
        _ratings(r),
        paused,
        _words(r),
        VISIBILITY_NOTE.get(r.visibility) or gettext("Private journal: numbers only"),
    )


# A pk no session or reflection has, reversed once a page: the URL around it is the same for every pk,
# and one `reverse` cost as much as a whole card.
PK_SLOT = 2147483647


def _url_maker(name: str):
    """`pk -> URL` for the URL pattern `name`, which takes the pk as its only argument."""
    before, after = reverse(name, args=[PK_SLOT]).split(str(PK_SLOT))
    return lambda pk: f"{before}{pk}{after}"


def _csrf_input(context) -> str:
    """What `{% csrf_token %}` writes, once a page (it is one token for the whole page anyway)."""
    return CsrfTokenNode().render(context)


class LeaveOutForms:
    """The therapist's one click to leave a session or a reflection out of today's appointment view
    (the couple may be watching: a plain, small button), for every row of a page."""

    FORM = (
        '<form class="no-print mt-1" method="post" action="{}">{}\n'
        '  <input type="hidden" name="period" value="{}">\n'
        '  <button class="btn btn-sm btn-link p-0" type="submit">{}</button>\n</form>\n'
    )

    def __init__(self, context):
        self.csrf = _csrf_input(context)
        self.period = context["period"].query
        self.session_url = _url_maker("appointment_leave_out_session")
        self.reflection_url = _url_maker("appointment_leave_out_reflection")
        self.session_label = gettext("Leave this session out")
        self.reflection_label = gettext("Leave this reflection out")

    def session(self, s) -> SafeString:
        return format_html(self.FORM, self.session_url(s.pk), self.csrf, self.period, self.session_label)

    def reflection(self, r) -> SafeString:
        return format_html(self.FORM, self.reflection_url(r.pk), self.csrf, self.period, self.reflection_label)


def _side(reflection, waiting: bool, name: str, forms: LeaveOutForms) -> SafeString:
    """One partner's half of the session: their shared card, or why there is none."""
    if reflection:
        return format_html("<div>{}{}</div>", reflection_card(reflection), forms.reflection(reflection))
    if waiting:
        # Names no one as late: the other may have written privately.
        note = with_names(gettext("%(name)s's reflection will show here within a week."), name=name)
    else:
        note = with_names(gettext("No shared reflection from %(name)s."), name=name)
    return format_html('<div class="card card-body muted-note">{}</div>', note)


def _appointment_session(s, forms: LeaveOutForms) -> SafeString:
    return format_html(
        '    <article class="mb-3">\n'
        '      <div class="d-flex flex-wrap align-items-baseline justify-content-between gap-2">\n'
        '        <h3 class="h5 mb-2">{} · {}</h3>\n{}'
        "      </div>\n"
        '      <div class="session-pair">\n        {}\n        {}\n      </div>\n'
        "    </article>\n",
        date_format(s.date, "l j F"),
        session_parts(s),
        forms.session(s),
        _side(s.giver_reflection, s.giver_waiting, s.giver.name, forms),
        _side(s.receiver_reflection, s.receiver_waiting, s.receiver.name, forms),
    )


@register.simple_tag(takes_context=True)
def appointment_sessions(context, sessions) -> SafeString:
    """The appointment view's sessions, newest first, each with both partners' shared cards and the
    therapist's "Leave … out" forms; `sessions` as `selectors.couple_sessions_page(shared_only=True)`
    gave them."""
    forms = LeaveOutForms(context)
    return format_html_join("", "{}", ((_appointment_session(s, forms),) for s in sessions))
