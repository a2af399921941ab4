"""A partner's session cards ("Recently" on the home page, and the history), written in Python (issue 16).

The template include was ~0.7 ms a card: a nested include, a dozen translate tags and up to six
`{% url %}`s each. Here each URL pattern is reversed once per list (each card's id replaces a placeholder
id), and everything goes through format_html, which escapes it (no mark_safe). The msgids are the
template's, so the catalogue is unchanged.

Privacy stays where it was decided: a card shows the other partner's words only from `session.theirs`,
which `selectors` sets from the visibility rules (revealed and shared, never "My therapist only" or
"Just me"); this module only formats what it is given.
"""

from collections.abc import Callable

from django import template
from django.db import models
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from intimacy.html import blocktranslate, csrf_input, url_for_pk
from intimacy.models import Reflection, ReflectionRole, ReflectionVisibility
from intimacy.templatetags.shapes import who_did

register = template.Library()


class _Urls:
    """Each card's URLs from one reverse() per pattern per list (`intimacy.html.url_for_pk`), made when
    first needed: the home's cards use three of the six patterns (the history's buttons, the rest)."""

    def __init__(self) -> None:
        self.makers: dict[str, Callable[[int], str]] = {}

    def __call__(self, name: str, pk: int) -> str:
        if name not in self.makers:
            self.makers[name] = url_for_pk(name)
        return self.makers[name](pk)


def _label(choices: type[models.TextChoices], value: str) -> str:
    """What `get_FOO_display()` returns: the value's label, or the value itself if it is none of the
    choices. That method rebuilds (and so translates) the field's whole list of choices each call, ~16 µs."""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _quoted(text) -> SafeString:
    return format_html('“<span class="reflection-text">{}</span>”', text)


def _more_private(reflection, back: str, url: str, csrf: str) -> SafeString:
    """includes/visibility_buttons.html: one tap to make one's own reflection more private."""
    if reflection.visibility == ReflectionVisibility.PRIVATE:
        return ""
    to_therapist = ""
    if reflection.visibility == ReflectionVisibility.SHARED:
        to_therapist = format_html(
            '<button type="submit" class="btn btn-outline-secondary btn-sm" name="visibility" value="{}">{}</button>'
            "\n  ",
            ReflectionVisibility.THERAPIST.value,
            ReflectionVisibility.THERAPIST.label,
        )
    return format_html(
        '\n<form method="post" action="{}" class="d-flex flex-wrap align-items-center gap-2 mt-1 mb-2" data-once>\n'
        '  {}<input type="hidden" name="back" value="{}">\n'
        '  <span class="small muted-note">{}</span>\n'
        "  {}"
        '<button type="submit" class="btn btn-outline-secondary btn-sm" name="visibility" value="{}">{}</button>\n'
        "</form>\n",
        url,
        csrf,
        back,
        gettext("Make it more private:"),
        to_therapist,
        ReflectionVisibility.PRIVATE.value,
        ReflectionVisibility.PRIVATE.label,
    )


def _mine(s, show_actions: bool, urls: _Urls, csrf: str) -> SafeString:
    """My own reflection, or the way to add one (or that I disputed the session)."""
    r = s.mine
    if r:
        scores = blocktranslate(
            gettext("You: connection %(connection)s/10, comfort %(comfort)s/10, safe %(safe)s/10"),
            connection=r.connection,
            comfort=r.comfort,
            safe=r.safe,
        )
        next_time = format_html(" · {} {}", gettext("next time:"), _quoted(r.next_time)) if r.next_time else ""
        notes = format_html(" · {}", _quoted(r.notes)) if r.notes else ""
        readers = blocktranslate(
            gettext("Who can read your words: %(readers)s"), readers=_label(ReflectionVisibility, r.visibility)
        )
        back = "history" if show_actions else "home"
        return format_html(
            '<p class="small mb-1">{}{}{}</p>\n    <p class="small muted-note mb-1">{}</p>\n    {}',
            scores,
            next_time,
            notes,
            readers,
            _more_private(r, back, urls("reflection_visibility", r.pk), csrf),
        )
    if s.i_disputed:
        return format_html(
            '<p class="small muted-note mb-1">{}</p>',
            gettext("You told your therapist this didn't happen, or that you didn't agree."),
        )
    declined = ""
    if s.i_declined:
        declined = format_html(
            '<p class="small muted-note mb-1">{}</p>\n    ',
            gettext("You chose not to reflect on this one. You still can if you like."),
        )
    return format_html(
        '{}<p class="small mb-1"><a class="tap-link" href="{}">{}</a></p>',
        declined,
        urls("reflection_add", s.pk),
        gettext("Add your reflection"),
    )


def _theirs(s, partner) -> SafeString:
    """The other partner's side: their words once `selectors` revealed them, or that they are waiting."""
    r = s.theirs
    if r:
        name = r.partner.name
        extras = []
        if r.role == ReflectionRole.RECEIVER:
            if r.pressure:
                extras.append(
                    blocktranslate(gettext("pressure: %(pressure)s"), pressure=_label(Reflection.Pressure, r.pressure))
                )
            if r.pace:
                extras.append(blocktranslate(gettext("pace: %(pace)s"), pace=_label(Reflection.Pace, r.pace)))
        next_time = ""
        if r.next_time:
            next_time = format_html(
                '\n      <p class="mb-1">{} {}</p>',
                blocktranslate(gettext("What %(name)s would like next time:"), name=name),
                _quoted(r.next_time),
            )
        notes = format_html('\n      <p class="mb-1">{}</p>', _quoted(r.notes)) if r.notes else ""
        return format_html(
            '\n  <div class="small mb-1 their-side">\n'
            '      <p class="fw-semibold mb-1">{}</p>\n'
            '      <p class="mb-1">{}{}</p>{}{}\n'
            "    </div>",
            blocktranslate(gettext("What %(name)s shared"), name=name),
            blocktranslate(gettext("%(name)s: connection %(connection)s/10"), name=name, connection=r.connection),
            format_html_join("", " · {}", ((x,) for x in extras)),
            next_time,
            notes,
        )
    if s.theirs_waiting and not s.i_disputed:
        other = s.receiver if s.giver_id == partner.pk else s.giver
        return format_html(
            '\n    <p class="small muted-note mb-1">{}</p>',
            blocktranslate(
                gettext("%(name)s has written their side. You'll see it once you've written yours, or within a week."),
                name=other.name,
            ),
        )
    return ""


def _actions(s, partner, urls: _Urls, csrf: str) -> SafeString:
    """The history's buttons: edit or restrict my reflection; change or delete a session I logged."""
    mine = ""
    if s.mine:
        mine = format_html(
            '<a class="btn btn-outline-secondary btn-sm" href="{}">{}</a>\n'
            '      <a class="btn btn-outline-secondary btn-sm" href="{}">{}</a>',
            urls("reflection_edit", s.mine.pk),
            gettext("Edit my reflection"),
            urls("reflection_visibility", s.mine.pk),
            gettext("Who can read it"),
        )
    logged = ""
    if s.logged_by_id == partner.pk:
        logged = format_html(
            '<a class="btn btn-outline-secondary btn-sm" href="{}">{}</a>\n'
            '      <form method="post" action="{}" data-confirm="{}">{}'
            '<button class="btn btn-outline-danger btn-sm" type="submit">{}</button></form>',
            urls("session_edit", s.pk),
            gettext("Change date or minutes"),
            urls("session_delete", s.pk),
            gettext("Delete this session and your reflection on it?"),
            csrf,
            gettext("Delete"),
        )
    return format_html(
        '\n    <div class="d-flex flex-wrap gap-2 mt-1">\n      {}\n      {}\n    </div>\n  ', mine, logged
    )


def _card(s, partner, show_actions: bool, urls: _Urls, csrf: str) -> SafeString:
    dispute = ""
    if s.logged_by_id != partner.pk and not s.i_disputed:
        dispute = format_html(
            '\n  <p class="small mb-1"><a class="muted-note tap-link" href="{}">{}</a></p>',
            urls("session_dispute", s.pk),
            gettext("This didn't happen / I didn't agree"),
        )
    return format_html(
        '<div class="card card-body mb-2">\n  <p class="fw-semibold mb-1">{} · {} · {}</p>\n  {}{}{}\n  {}</div>',
        date_format(s.date, "D j M"),
        blocktranslate(gettext("%(minutes)s min"), minutes=s.minutes),
        who_did(s, partner),
        _mine(s, show_actions, urls, csrf),
        dispute,
        _theirs(s, partner),
        _actions(s, partner, urls, csrf) if show_actions else "",
    )


@register.simple_tag(takes_context=True)
def partner_sessions(context, sessions, partner, show_actions=False) -> SafeString:
    """One card per session as `partner` sees it; `show_actions` adds the history's buttons."""
    urls = _Urls()
    csrf = csrf_input(context)
    return format_html_join("\n", "{}", ((_card(s, partner, show_actions, urls, csrf),) for s in sessions))
