"""The partner home's repeated cards, written in Python (issue 16, "Fast"): the sessions "Waiting for your
reflection", each with its "I won't reflect on this one" form, and the exercise progress cards.

In the template these were ~1.5 ms a page (a nested include and a `{% url %}` per session, a dozen `if`s
and translate tags per exercise). Here each URL is reversed once a page, and everything goes through
format_html, which escapes it; only the catalogue's fixed sentences are written as they stand
(`intimacy.html.as_written`, as `{% translate %}` does). The HTML is the template's to the byte, and the msgids are
its own (tests/intimacy/test_partner_home_tags.py renders the old fragments beside these tags).

What a card says is decided before it gets here: which sessions wait (`selectors.partner_home`, which
leaves touch work out while it is paused) and whose pause is whose (`holds`); this module only formats.
"""

from functools import cached_property

from django import template
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext, gettext_noop

from intimacy.html import as_written, blocktranslate, csrf_input, url_for_pk
from intimacy.models import Assignment, ExerciseShape
from intimacy.templatetags.shapes import YOU_DID

register = template.Library()

ACTIVE, PAUSED = Assignment.Status.ACTIVE, Assignment.Status.PAUSED
TAKE_TURNS = Assignment.GiverPlan.TAKE_TURNS


class _Page:
    """What every card of one page shares, made once when first needed: the form token and the URLs."""

    def __init__(self, context, home, partner) -> None:
        self.context, self.home, self.partner = context, home, partner
        self._urls: dict[str, str] = {}
        self._said: dict[str, SafeString] = {}

    def said(self, msgid: str) -> SafeString:
        """`{% translate msgid %}` once a page: each card repeats the same sentences (gettext is ~3 µs a
        call). Callers mark the msgid with gettext_noop, so that makemessages finds it."""
        if msgid not in self._said:
            self._said[msgid] = as_written(gettext(msgid))
        return self._said[msgid]

    @cached_property
    def csrf(self) -> str:
        return csrf_input(self.context)

    def url(self, name: str) -> str:
        """A URL without arguments (the touch pause, its resume, the private check), once a page."""
        if name not in self._urls:
            self._urls[name] = reverse(name)
        return self._urls[name]

    @cached_property
    def reflection_add(self):
        return url_for_pk("reflection_add")

    @cached_property
    def reflection_decline(self):
        return url_for_pk("reflection_decline")

    @cached_property
    def session_log(self):
        return url_for_pk("session_log")


# Waiting for your reflection ---------------------------------------------------------------------------


def decline_form(url: str, page: _Page) -> SafeString:
    """includes/decline_reflection.html: "I won't reflect on this one", behind a disclosure."""
    return format_html(
        '\n<details class="mt-2 decline-reflection">\n'
        '  <summary class="btn btn-link w-100 small">{}</summary>\n'
        '  <form method="post" action="{}" class="mt-1">{}\n'
        '    <p class="small muted-note mb-2">{}</p>\n'
        '    <button class="btn btn-outline-secondary w-100" type="submit">{}</button>\n'
        "  </form>\n"
        "</details>\n",
        page.said(gettext_noop("I won't reflect on this one")),
        url,
        page.csrf,
        page.said(
            gettext_noop(
                "That's fine, no reason needed. Anything your partner shared about it will then show, and you "
                "can still write yours later."
            )
        ),
        page.said(gettext_noop("Skip this one")),
    )


def _awaiting_line(s, partner) -> SafeString:
    """ "Thursday 5 November: you received (20 min), logged by Sam" (the full stop is the card's)."""
    line = blocktranslate(
        gettext("%(day)s: %(done)s (%(minutes)s min)"),
        day=date_format(s.date, "l j F"),
        done=YOU_DID.get(s.role_of(partner) or "", ""),
        minutes=s.minutes,
    )
    if s.logged_by_id == partner.pk:
        return line
    return format_html("{}, {}", line, blocktranslate(gettext("logged by %(name)s"), name=s.logged_by.name))


def _awaiting_card(s, page: _Page) -> SafeString:
    return format_html(
        '\n  <div class="card card-body mb-2">\n'
        '    <p class="mb-2">{}.</p>\n'
        '    <a class="btn btn-primary btn-lg" href="{}">{}</a>\n'
        "    {}\n"
        "  </div>\n  ",
        _awaiting_line(s, page.partner),
        page.reflection_add(s.pk),
        page.said(gettext_noop("Add your reflection")),
        decline_form(page.reflection_decline(s.pk), page),
    )


@register.simple_tag(takes_context=True)
def awaiting_cards(context, home, partner) -> SafeString:
    """The sessions waiting for `partner`'s reflection (`home.awaiting`), in their section; with a link to
    the history when more wait than are shown."""
    if not home.awaiting:
        return ""
    page = _Page(context, home, partner)
    more = ""
    if home.more_awaiting:
        more = format_html(
            '<p class="small"><a href="{}">{}</a></p>',
            reverse("history"),
            as_written(gettext("More sessions are waiting for your reflection: see your history")),
        )
    # The template's loop: the section opens with the first card and closes after the last.
    return format_html(
        '\n  <section class="mb-4" aria-labelledby="awaiting-h"><h2 class="h5" id="awaiting-h">{}</h2>{}{}</section>\n',
        as_written(gettext("Waiting for your reflection")),
        format_html_join("\n\n  ", "{}", ((_awaiting_card(s, page),) for s in home.awaiting)),
        more,
    )


# The exercises ---------------------------------------------------------------------------------------


def how_to(exercise, opened: bool, page: _Page) -> SafeString:
    """intimacy/includes/how_to.html: the exercise's "How to do it", open until the first session."""
    return format_html(
        '\n<details class="how-to mb-{}"{}>\n'
        '  <summary class="fw-semibold py-2">{}</summary>\n'
        '  <p class="mt-2">{}</p>\n'
        '  <div class="guidance">{}</div>\n'
        "</details>\n",
        "3" if opened else "2",
        " open" if opened else "",
        page.said(gettext_noop("How to do it")),
        exercise.summary,
        exercise.guidance,
    )


def _talk_plan(a, partner) -> str:
    """The msgid for a talk's plan: who speaks."""
    if a.giver_plan == TAKE_TURNS:
        return gettext("About %(minutes)s minutes each time, taking turns to speak.")
    if a.planned_giver_id == partner.pk:
        return gettext("About %(minutes)s minutes each time; you speak.")
    if a.planned_giver:
        return gettext("About %(minutes)s minutes each time; %(name)s speaks.")
    return gettext("About %(minutes)s minutes each time.")


def _touch_plan(a, partner) -> str:
    """The msgid for a touch exercise's plan: who gives."""
    if a.giver_plan == TAKE_TURNS:
        return gettext("About %(minutes)s minutes each time, taking turns to give.")
    if a.planned_giver:
        if a.planned_giver_id == partner.pk:
            return gettext("About %(minutes)s minutes each time; you give.")
        return gettext("About %(minutes)s minutes each time; %(name)s gives.")
    return gettext("About %(minutes)s minutes each time.")


def _plan(a, partner) -> SafeString:
    """ "About 15 minutes each time, taking turns to give.": the minutes and who has the first role."""
    shape = a.exercise.shape
    if shape == ExerciseShape.TOGETHER:
        sentence = gettext("About %(minutes)s minutes each time.")
    elif shape == ExerciseShape.TALK:
        sentence = _talk_plan(a, partner)
    else:
        sentence = _touch_plan(a, partner)
    values = {"minutes": a.suggested_minutes}
    if "%(name)s" in sentence:
        values["name"] = a.planned_giver.name
    return blocktranslate(sentence, **values)


def _this_week(item) -> SafeString:
    if item.done_this_week > item.target:
        sentence = gettext("This week: %(done)s (%(target)s planned)")
    else:
        sentence = gettext("This week: %(done)s of %(target)s")
    return blocktranslate(sentence, done=item.done_this_week, target=item.target)


def _state(item, page: _Page) -> SafeString:
    """Above the card's pause: this partner's own pause, the private check before touch work, the
    therapist's (or the couple's touch) pause, or else this week's count and the way to log."""
    a, home = item.assignment, page.home
    active, touch = a.status == ACTIVE, a.exercise.is_touch
    if active and home.my_pause and touch:
        return format_html(
            "\n        <p>{}</p>\n"
            '        <form method="post" action="{}" class="mb-3">{}'
            '<button class="btn btn-outline-primary w-100" type="submit">{}</button></form>\n      ',
            as_written(
                gettext(
                    "You have paused touch exercises for yourself. Your partner sees only that the exercise is paused."
                )
            ),
            page.url("touch_resume"),
            page.csrf,
            as_written(gettext("I'm ready to start again")),
        )
    if active and home.check_due and touch:
        return format_html(
            '\n        <p>{}</p>\n        <a class="btn btn-primary btn-lg w-100 mb-3" href="{}">{}</a>\n      ',
            as_written(gettext("Before you start: a few private questions, just for you and your therapist.")),
            page.url("safety_check"),
            as_written(gettext("Answer privately (1 minute)")),
        )
    if a.status == PAUSED or (home.touch_paused and touch):
        return format_html(
            "\n        <p>{}</p>\n      ", as_written(gettext("Your therapist has paused this exercise for now."))
        )
    return format_html(
        '\n        <p class="progress-note mb-1">{}</p>\n'
        '        <p class="muted-note small">{} {}</p>\n'
        '        <a class="btn btn-primary btn-lg w-100 mb-3" href="{}">{}</a>\n      ',
        _this_week(item),
        _plan(a, page.partner),
        page.said(gettext_noop("Any week is a fresh start.")),
        page.session_log(a.pk),
        a.exercise.log_label,
    )


def _break(page: _Page) -> SafeString:
    """ "Need a break? (private)": this partner's own pause of touch work, told to the therapist alone."""
    return format_html(
        '\n        <details class="mb-2">\n'
        '          <summary class="small py-2">{}</summary>\n'
        '          <p class="small mb-2">{}</p>\n'
        '          <form method="post" action="{}" class="d-grid gap-2">{}\n'
        '            <button class="btn btn-outline-secondary" type="submit" name="kind" value="week">{}</button>\n'
        '            <button class="btn btn-outline-secondary" type="submit" name="kind" value="for_me">{}</button>\n'
        "          </form>\n"
        "        </details>\n      ",
        page.said(gettext_noop("Need a break? (private)")),
        page.said(gettext_noop("Only your therapist is told. Your partner sees only that the exercise is paused.")),
        page.url("touch_pause"),
        page.csrf,
        page.said(gettext_noop("Not this week")),
        page.said(gettext_noop("Pause for me")),
    )


def _note(a, page: _Page) -> SafeString:
    if not a.note:
        return ""
    return format_html(
        '<div class="alert alert-light border"><p class="small fw-semibold mb-1">{}</p>'
        '<p class="mb-0 reflection-text">{}</p></div>',
        page.said(gettext_noop("From your therapist")),
        a.note,
    )


def _progress_card(item, page: _Page) -> SafeString:
    a = item.assignment
    exercise = a.exercise
    can_break = a.status == ACTIVE and not page.home.touch_paused and exercise.is_touch
    return format_html(
        '\n  <section class="card mb-4" aria-labelledby="a{pk}-h">\n'
        '    <div class="card-body">\n'
        '      <h2 class="h4" id="a{pk}-h">{title}</h2>\n'
        "      {open_how_to}\n"
        "      {state}\n"
        "      {pause}\n"
        "      {note}\n"
        "      {folded_how_to}\n"
        "    </div>\n"
        "  </section>\n",
        pk=a.pk,
        title=exercise.title,
        open_how_to=how_to(exercise, opened=True, page=page) if item.first_time else "",
        state=_state(item, page),
        pause=_break(page) if can_break else "",
        note=_note(a, page),
        folded_how_to="" if item.first_time else how_to(exercise, opened=False, page=page),
    )


@register.simple_tag(takes_context=True)
def progress_cards(context, home, partner) -> SafeString:
    """One card per current exercise (`home.progress`), or that none is set yet."""
    if not home.progress:
        return format_html(
            '\n  <div class="card card-body mb-4"><p class="mb-0">{}</p></div>\n',
            as_written(gettext("Your therapist hasn't set an exercise yet. It will appear here when they do.")),
        )
    page = _Page(context, home, partner)
    return format_html_join("", "{}", ((_progress_card(item, page),) for item in home.progress))
