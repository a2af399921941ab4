"""intimacy/templatetags/couple_header.py: the couple pages' header and tabs, and the period picker, written
in Python (issue 16, "Fast"). Each test renders the templates as they were before (kept below, to the
byte) and the tags on the same inputs, and compares the bytes: every tab, each exercise status, no, one and
two open alerts, an invite pending, hostile names and labels, each period."""

import re
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from django.template import engines
from django.template.context_processors import csrf
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import Couple, Partner
from intimacy.models import Assignment, Exercise, PersonalPause, SafetyCheck, ScreeningRecord
from intimacy.trends import WEEK_CHOICES, Period, period_from
from intimacy.views.dashboard import TABS

A = Assignment.Status

# The header as templates/intimacy/couple/base.html wrote it before (between its content and tab blocks).
OLD_HEADER = "\n".join(
    [
        "",
        '<div class="couple-head d-flex flex-wrap justify-content-between align-items-start gap-2 mb-2">',
        "  <div>",
        '    <h1 class="h3 mb-1">{{ couple.label }}</h1>',
        '    <p class="muted-note small mb-0">{{ couple.get_status_display }} · {% for p in partners %}{{ p.name }}{% if not p.accepted_at %} {% translate "(invite pending)" %}{% endif %}{% if not forloop.last %} {% translate "and" %} {% endif %}{% endfor %} · {% blocktranslate with zone=couple.time_zone %}time zone {{ zone }}{% endblocktranslate %}</p>',  # noqa: E501
        "  </div>",
        '  <div class="couple-actions d-flex flex-wrap gap-2 align-items-start">',
        '    <a class="btn btn-primary btn-sm" href="{% url \'appointment\' couple.pk %}?{{ period.query }}">{% translate "Appointment view" %}</a>',  # noqa: E501
        '    <a class="btn btn-outline-primary btn-sm" href="{% url \'assignment_create\' couple.pk %}">{% translate "Assign an exercise" %}</a>',  # noqa: E501
        "    {% for a in assignments %}",
        "      {% if a.status == AssignmentStatus.ACTIVE %}",
        '        <form method="post" action="{% url \'assignment_status\' a.pk %}">{% csrf_token %}<input type="hidden" name="status" value="{{ AssignmentStatus.PAUSED }}">{% if tab == "couple_detail" %}<input type="hidden" name="back" value="overview">{% endif %}<button class="btn btn-outline-secondary btn-sm" type="submit">{% translate "Pause" %}<span class="visually-hidden"> {{ a.exercise.title }}</span></button></form>',  # noqa: E501
        "      {% elif a.status == AssignmentStatus.PAUSED %}",
        '        <form method="post" action="{% url \'assignment_status\' a.pk %}">{% csrf_token %}<input type="hidden" name="status" value="{{ AssignmentStatus.ACTIVE }}">{% if tab == "couple_detail" %}<input type="hidden" name="back" value="overview">{% endif %}<button class="btn btn-outline-secondary btn-sm" type="submit">{% translate "Resume" %}<span class="visually-hidden"> {{ a.exercise.title }}</span></button></form>',  # noqa: E501
        "      {% endif %}",
        "    {% endfor %}",
        '    <a class="btn btn-outline-secondary btn-sm" href="{% url \'couple_notes\' couple.pk %}?{{ period.query }}#id_text">{% translate "Write a note" %}</a>',  # noqa: E501
        '    <a class="btn btn-link btn-sm" href="{% url \'couple_summary\' couple.pk %}?{{ period.query }}">{% translate "Print summary" %}</a>',  # noqa: E501
        '    <a class="btn btn-link btn-sm" href="{% url \'couple_export\' couple.pk %}?{{ period.query }}">{% translate "Download CSV" %}</a>',  # noqa: E501
        "  </div>",
        "</div>",
        "",
        '<nav aria-label="{% translate "The couple\'s pages" %}" class="couple-tabs mb-3">',
        '  <ul class="nav nav-underline">',
        "  {% for name, label in tabs %}",
        '    <li class="nav-item"><a class="nav-link{% if name == tab %} active{% endif %}" href="{% url name couple.pk %}?{{ period.query }}"{% if name == tab %} aria-current="page"{% endif %}>{{ label }}{% if name == "couple_detail" and open_alerts %} <span class="badge rounded-pill text-bg-secondary">{% blocktranslate count n=open_alerts|length %}{{ n }}<span class="visually-hidden"> open alert</span>{% plural %}{{ n }}<span class="visually-hidden"> open alerts</span>{% endblocktranslate %}</span>{% endif %}</a></li>',  # noqa: E501
        "  {% endfor %}",
        "  </ul>",
        "</nav>",
        "",
    ]
)
OLD_TITLE = (
    '{% for name, label in tabs %}{% if name == tab %}{{ label }} · {% endif %}{% endfor %}{% translate "Couple" %}'  # noqa: E501
)
# includes/period_picker.html as it was, after its comment.
OLD_PICKER = "\n".join(
    [
        "",
        '<div class="period-picker d-flex flex-wrap align-items-end gap-2">',
        '  <div aria-label="{% translate "Period" %}" class="btn-group flex-wrap" role="group">',
        "    {% for w in week_choices %}",
        '      <a class="btn btn-outline-secondary{% if period.weeks == w %} active{% endif %}" href="{{ base_url }}?weeks={{ w }}{% if anchor %}#{{ anchor }}{% endif %}"{% if period.weeks == w %} aria-current="true"{% endif %}>{% blocktranslate count weeks=w %}{{ weeks }} week{% plural %}{{ weeks }} weeks{% endblocktranslate %}</a>',  # noqa: E501
        "    {% endfor %}",
        "  </div>",
        '  <form method="get" action="{{ base_url }}" class="d-flex flex-wrap align-items-end gap-2" aria-label="{% translate "Custom period" %}">',  # noqa: E501
        '    <div><label class="form-label small mb-0" for="period-from">{% translate "From" context "start of a period" %}</label>',  # noqa: E501
        '      <input class="form-control" type="date" id="period-from" name="from" value="{{ period.start|date:\'Y-m-d\' }}" required></div>',  # noqa: E501
        '    <div><label class="form-label small mb-0" for="period-to">{% translate "To" context "end of a period" %}</label>',  # noqa: E501
        '      <input class="form-control" type="date" id="period-to" name="to" value="{{ period.end|date:\'Y-m-d\' }}" required></div>',  # noqa: E501
        '    <button class="btn btn-outline-secondary" type="submit">{% translate "Show" %}</button>',
        "  </form>",
        "</div>",
        '<p class="muted-note small mt-2 mb-0">{% with start=period.start|date:"j M Y" end=period.end|date:"j M Y" %}{% if period.monthly %}{% blocktranslate %}{{ start }} to {{ end }}, month by month.{% endblocktranslate %}{% else %}{% blocktranslate %}{{ start }} to {{ end }}, week by week (Monday first).{% endblocktranslate %}{% endif %}{% endwith %}</p>',  # noqa: E501
        "",
    ]
)

NEW_HEADER = "{% load couple_header %}{% couple_title %}|{% couple_header %}"
NEW_PICKER = "{% load couple_header %}{% period_picker %}"


@pytest.fixture
def render(rf, therapist):
    """Render a template source with the request's CSRF token, the token itself masked (it is per render)."""
    request = rf.get("/")
    request.user = therapist

    def render(source: str, context: dict) -> str:
        with translation.override("en"):
            html = engines["django"].from_string(source).render({**context, **csrf(request)}, request)
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", html)

    return render


def _couple(label="Alex & Sam", status=Couple.Status.ACTIVE) -> Couple:
    return Couple(pk=12, label=label, status=status, time_zone="Europe/London")


def _partners(second_pending=False, a="Alex", b="Sam") -> list[Partner]:
    joined = datetime(2026, 1, 5, tzinfo=UTC)
    return [
        Partner(pk=1, name=a, accepted_at=joined),
        Partner(pk=2, name=b, accepted_at=None if second_pending else joined),
    ]


def _assignment(pk, status, title="Back rub") -> Assignment:
    return Assignment(pk=pk, status=status, exercise=Exercise(title=title))


def _header_context(**overrides) -> dict:
    context = {
        "couple": _couple(),
        "partners": _partners(),
        "period": Period(date(2026, 9, 7), date(2026, 12, 1), weeks=12),
        "assignments": [_assignment(3, A.ACTIVE), _assignment(4, A.PAUSED, "Talk"), _assignment(5, A.ENDED)],
        "tab": "couple_detail",
        "tabs": TABS,
        "AssignmentStatus": A,
    }
    return {**context, **overrides}


def _same_header(render, **overrides) -> str:
    context = _header_context(**overrides)
    new = render(NEW_HEADER, context)
    assert new == render("{% load i18n %}" + OLD_TITLE + "|" + OLD_HEADER, context)
    return new


@pytest.mark.parametrize("tab", [name for name, _ in TABS])
def test_each_tab_is_written_as_the_template_wrote_it(render, tab):
    html = _same_header(render, tab=tab, open_alerts=["one"])
    label = dict(TABS)[tab]
    assert html.startswith(f"{label} · Couple|")
    assert html.count('aria-current="page"') == 1 and html.count("nav-link active") == 1
    # Only the overview's pause and resume come back to it.
    assert html.count('name="back" value="overview"') == (2 if tab == "couple_detail" else 0)


def test_each_exercise_status_has_its_own_form_or_none(render):
    html = _same_header(render)
    assert html.count("<form ") == 2 and html.count("CSRF") == 2
    assert f'action="{reverse("assignment_status", args=[3])}"' in html
    assert f'action="{reverse("assignment_status", args=[4])}"' in html
    assert '<input type="hidden" name="status" value="paused">' in html
    assert '<input type="hidden" name="status" value="active">' in html
    assert "Pause<span" in html and "Resume<span" in html


@pytest.mark.parametrize("statuses", [[], [A.ENDED], [A.ACTIVE], [A.PAUSED], [A.ENDED, A.ACTIVE, A.ENDED]])
def test_any_mix_of_exercises(render, statuses):
    assignments = [_assignment(pk, status) for pk, status in enumerate(statuses, start=20)]
    html = _same_header(render, assignments=assignments)
    assert html.count("<form ") == sum(s != A.ENDED for s in statuses)


@pytest.mark.parametrize("alerts, badge", [(None, ""), ([], ""), (["a"], "1"), (["a", "b"], "2")])
def test_the_open_alerts_badge_counts_them_in_the_singular_and_the_plural(render, alerts, badge):
    context = {} if alerts is None else {"open_alerts": alerts}
    html = _same_header(render, **context)
    if badge:
        words = "open alert" if badge == "1" else "open alerts"
        assert f'{badge}<span class="visually-hidden"> {words}</span></span>' in html
    else:
        assert "badge" not in html


def test_an_invite_pending_and_a_couple_on_pause(render):
    html = _same_header(render, partners=_partners(second_pending=True), couple=_couple(status=Couple.Status.PAUSED))
    assert "Alex and Sam (invite pending) · " in html
    _same_header(render, partners=_partners()[:1])
    _same_header(render, partners=[])


def test_hostile_names_labels_and_titles_are_escaped_alike(render):
    hostile = '<b>"O\'Neil" & {0} %(n)s</b>'
    html = _same_header(
        render,
        couple=_couple(label=hostile),
        partners=_partners(a=hostile, b="<script>x</script>"),
        assignments=[_assignment(7, A.ACTIVE, hostile)],
        open_alerts=["a", "b"],
    )
    assert "<b>" not in html and "<script>" not in html
    assert "&lt;b&gt;&quot;O&#x27;Neil&quot; &amp; {0} %(n)s&lt;/b&gt;" in html
    # The translated sentence keeps its apostrophe, as {% translate %} wrote it.
    assert 'aria-label="The couple\'s pages"' in html


@pytest.mark.parametrize(
    "period",
    [
        *(period_from({"weeks": str(w)}, date(2026, 12, 1)) for w in WEEK_CHOICES),
        Period(date(2026, 10, 3), date(2026, 11, 20)),  # custom, week by week
        Period(date(2024, 2, 29), date(2026, 11, 20)),  # custom, month by month
    ],
)
def test_each_period_is_carried_by_the_links_as_before(render, period):
    html = _same_header(render, period=period)
    assert f"?{period.query.replace('&', '&amp;')}" in html


# The period picker ------------------------------------------------------------------------------------


def _picker_context(period: Period, **more) -> dict:
    return {"period": period, "week_choices": WEEK_CHOICES, "base_url": "/couples/12/", **more}


def _same_picker(render, context: dict) -> str:
    old = render("{% load i18n %}" + OLD_PICKER, context)
    # The tag, then the file's last newline; and the include as the pages use it.
    assert render(NEW_PICKER, context) + "\n" == old
    assert render('{% include "includes/period_picker.html" %}', context) == old
    return old


@pytest.mark.parametrize("weeks", WEEK_CHOICES)
@pytest.mark.parametrize("anchor", [None, "", "glance", 'x"<y>'])
def test_the_period_picker_reads_as_before_for_each_number_of_weeks(render, weeks, anchor):
    extra = {} if anchor is None else {"anchor": anchor}
    period = period_from({"weeks": str(weeks)}, date(2026, 12, 1))
    html = _same_picker(render, _picker_context(period, **extra))
    assert html.count('aria-current="true"') == 1
    assert ("month by month" in html) == (weeks > 26)
    if anchor == "glance":
        assert 'href="/couples/12/?weeks=4#glance"' in html


@pytest.mark.parametrize(
    "period",
    [
        Period(date(2026, 10, 3), date(2026, 11, 20)),
        Period(date(2021, 1, 1), date(2026, 11, 20), notice="A notice"),
        Period(date(2026, 11, 20), date(2026, 11, 20)),
    ],
)
def test_the_period_picker_reads_as_before_for_a_custom_period(render, period):
    html = _same_picker(render, _picker_context(period, anchor="trends"))
    assert "aria-current" not in html
    assert f'value="{period.start.isoformat()}"' in html and f'value="{period.end.isoformat()}"' in html


def test_the_period_picker_escapes_its_address_and_works_without_one(render):
    period = Period(date(2026, 1, 5), date(2026, 12, 1), weeks=4)
    html = _same_picker(render, _picker_context(period, base_url='/c/?a=1&b="2"'))
    assert 'action="/c/?a=1&amp;b=&quot;2&quot;"' in html
    _same_picker(render, {"period": period, "week_choices": WEEK_CHOICES})
    _same_picker(render, {"period": period, "week_choices": (4,)})


def test_a_namespace_period_works_too(render):
    # What the views pass is a Period; anything with its fields reads the same.
    period = SimpleNamespace(start=date(2026, 1, 5), end=date(2026, 12, 1), weeks=12, monthly=True, query="weeks=12")
    _same_picker(render, _picker_context(period))


# The partners' rows of intimacy/includes/touch_clearance.html as the template loop wrote them.
OLD_CLEARANCE_ROWS = "\n".join(
    [
        "{% for row in touch_clearance %}",
        '    <h3 class="h6 mt-2">{{ row.partner.name }}</h3>',
        '    <ul class="small mb-1">',
        "      {% for check in row.checks %}",
        '        <li>{% if check.flagged %}<span class="badge text-bg-danger me-1">{% translate "Worrying answer" %}</span>{% endif %}{% blocktranslate with day=check.created_at|date:"j M Y" %}Private check, {{ day }}:{% endblocktranslate %}',  # noqa: E501
        "          {% blocktranslate with a=check.get_feel_safe_display b=check.get_hurt_display c=check.get_pressured_display d=check.get_free_to_say_no_display %}feels safe: {{ a }} · hurt, threatened or frightened: {{ b }} · pressured into touch or sex: {{ c }} · free to say no: {{ d }}{% endblocktranslate %}</li>",  # noqa: E501
        "      {% empty %}",
        '        <li>{% translate "No private check answered yet." %}</li>',
        "      {% endfor %}",
        "      {% for pause in row.pauses %}",
        '        <li><span class="badge text-bg-warning me-1">{{ pause.get_kind_display }}</span>{% if pause.until %}{% blocktranslate with until=pause.until|date:"j M Y" %}until {{ until }}{% endblocktranslate %}{% else %}{% blocktranslate with since=pause.created_at|date:"j M Y" %}since {{ since }}, until they resume{% endblocktranslate %}{% endif %}</li>',  # noqa: E501
        "      {% endfor %}",
        "      {% for record in row.screenings %}",
        '        <li>{% blocktranslate with day=record.date|date:"j M Y" how=record.get_how_display %}Spoke with them alone: {{ day }} ({{ how }}){% endblocktranslate %}{% if record.note %} · {{ record.note }}{% endif %}</li>',  # noqa: E501
        "      {% empty %}",
        '        <li>{% translate "No separate conversation recorded yet." %}</li>',
        "      {% endfor %}",
        "    </ul>",
        "  {% endfor %}",
    ]
)
NEW_CLEARANCE_ROWS = "{% load couple_header %}{% clearance_rows touch_clearance %}"
ANSWER = SafetyCheck.Answer


def _check(pk, created_at, *, flagged=False, feel_safe=ANSWER.YES, hurt=ANSWER.NO) -> SafetyCheck:
    return SafetyCheck(
        pk=pk,
        created_at=created_at,
        flagged=flagged,
        feel_safe=feel_safe,
        hurt=hurt,
        pressured=ANSWER.UNSURE,
        free_to_say_no=ANSWER.YES,
    )


def _clearance_rows() -> list[SimpleNamespace]:
    # Just before midnight in London: the next day in Auckland, where the page may be read.
    late = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    hostile = '<b>"O\'Neil" & {0} %(n)s</b>'
    return [
        SimpleNamespace(
            partner=Partner(pk=1, name=hostile),
            checks=[_check(1, late, flagged=True, feel_safe=ANSWER.NO, hurt=ANSWER.UNSURE), _check(2, late)],
            pauses=[
                PersonalPause(kind=PersonalPause.Kind.NOT_THIS_WEEK, until=late, created_at=late),
                PersonalPause(kind=PersonalPause.Kind.FOR_ME, until=None, created_at=datetime(2026, 11, 2, tzinfo=UTC)),
            ],
            screenings=[
                ScreeningRecord(date=date(2026, 11, 20), how=ScreeningRecord.How.VIDEO, note=hostile),
                ScreeningRecord(date=date(2026, 11, 1), how=ScreeningRecord.How.NOT_RECORDED, note=""),
            ],
        ),
        SimpleNamespace(partner=Partner(pk=2, name="Sam"), checks=[], pauses=[], screenings=[]),
        # An answer without a label (none is stored: the database allows only the choices) shows as it is.
        SimpleNamespace(
            partner=Partner(pk=3, name="Kim"),
            checks=[_check(3, late, hurt="<odd>")],
            pauses=[],
            screenings=[ScreeningRecord(date=date(2026, 11, 1), how="<odd>", note="")],
        ),
    ]


@pytest.mark.parametrize("zone", ["Europe/London", "Pacific/Auckland"])
def test_the_clearance_rows_read_as_the_template_loop_wrote_them(render, zone):
    context = {"touch_clearance": _clearance_rows()}
    with timezone.override(zone):
        html = render(NEW_CLEARANCE_ROWS, context)
        assert html == render("{% load i18n %}" + OLD_CLEARANCE_ROWS, context)
    day = "24 Nov 2026" if zone == "Pacific/Auckland" else "23 Nov 2026"
    assert html.count('<span class="badge text-bg-danger me-1">Worrying answer</span>') == 1
    assert f"Private check, {day}:" in html and f"until {day}" in html
    assert "hurt, threatened or frightened: I&#x27;m not sure" in html
    assert "since 2 Nov 2026, until they resume" in html
    assert "Spoke with them alone: 20 Nov 2026 (Video call) · &lt;b&gt;" in html
    assert "Spoke with them alone: 1 Nov 2026 (Not recorded)</li>" in html
    assert "No private check answered yet." in html and "No separate conversation recorded yet." in html
    assert "<b>" not in html and "<odd>" not in html and "frightened: &lt;odd&gt; ·" in html


@pytest.mark.parametrize("rows", [[], "one_empty"])
def test_no_partner_or_one_with_nothing_yet(render, rows):
    rows = [] if rows == [] else _clearance_rows()[1:2]
    context = {"touch_clearance": rows}
    assert render(NEW_CLEARANCE_ROWS, context) == render("{% load i18n %}" + OLD_CLEARANCE_ROWS, context)
