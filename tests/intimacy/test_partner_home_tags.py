"""intimacy/templatetags/partner_home.py: the partner home's "Waiting for your reflection" cards and its
exercise progress cards, written in Python (issue 16, "Fast"), must write the HTML the template wrote, to
the byte. Each test renders the template's old fragment (copied below as it stood, with the includes it
named, which are still the files on disk) and the new tag on the same inputs, and compares them: every
branch (this partner's own pause, the private check due, the therapist's pause, the couple's touch pause;
more done than planned; each shape and plan; the therapist's note; first time or not), with names and
texts that carry markup. The inputs are built in memory: the tags read only what they are given."""

import itertools
from datetime import date

import pytest
from django.template import RequestContext, engines
from django.test import RequestFactory

from accounts.models import Couple, Partner
from intimacy.builtin import BACK_RUB_KEY
from intimacy.models import Assignment, Exercise, ExerciseShape, Session
from intimacy.selectors import AssignmentProgress, PartnerHome

# templates/intimacy/partner_home.html before the tags, as it stood (its {% load %} line, then each loop).
OLD_LOAD = "{% load i18n partner_cards shapes %}"
OLD_AWAITING = """{% for s in home.awaiting %}
  {% if forloop.first %}<section class="mb-4" aria-labelledby="awaiting-h"><h2 class="h5" id="awaiting-h">{% translate "Waiting for your reflection" %}</h2>{% endif %}
  <div class="card card-body mb-2">
    <p class="mb-2">{% with day=s.date|date:"l j F" minutes=s.minutes %}{% session_role s partner as role %}{% with done=role|you_did %}{% blocktranslate %}{{ day }}: {{ done }} ({{ minutes }} min){% endblocktranslate %}{% endwith %}{% endwith %}{% if s.logged_by_id != partner.pk %}, {% blocktranslate with name=s.logged_by.name %}logged by {{ name }}{% endblocktranslate %}{% endif %}.</p>
    <a class="btn btn-primary btn-lg" href="{% url 'reflection_add' s.pk %}">{% translate "Add your reflection" %}</a>
    {% include "includes/decline_reflection.html" with session=s %}
  </div>
  {% if forloop.last %}{% if home.more_awaiting %}<p class="small"><a href="{% url 'history' %}">{% translate "More sessions are waiting for your reflection: see your history" %}</a></p>{% endif %}</section>{% endif %}
{% endfor %}
"""  # noqa: E501
OLD_PROGRESS = """{% for item in home.progress %}
  <section class="card mb-4" aria-labelledby="a{{ item.assignment.pk }}-h">
    <div class="card-body">
      <h2 class="h4" id="a{{ item.assignment.pk }}-h">{{ item.assignment.exercise.title }}</h2>
      {% if item.first_time %}{% include "intimacy/includes/how_to.html" with exercise=item.assignment.exercise open=True %}{% endif %}
      {% if item.assignment.status == AssignmentStatus.ACTIVE and home.my_pause and item.assignment.exercise.is_touch %}
        <p>{% translate "You have paused touch exercises for yourself. Your partner sees only that the exercise is paused." %}</p>
        <form method="post" action="{% url 'touch_resume' %}" class="mb-3">{% csrf_token %}<button class="btn btn-outline-primary w-100" type="submit">{% translate "I'm ready to start again" %}</button></form>
      {% elif item.assignment.status == AssignmentStatus.ACTIVE and home.check_due and item.assignment.exercise.is_touch %}
        <p>{% translate "Before you start: a few private questions, just for you and your therapist." %}</p>
        <a class="btn btn-primary btn-lg w-100 mb-3" href="{% url 'safety_check' %}">{% translate "Answer privately (1 minute)" %}</a>
      {% elif item.assignment.status == AssignmentStatus.PAUSED or home.touch_paused and item.assignment.exercise.is_touch %}
        <p>{% translate "Your therapist has paused this exercise for now." %}</p>
      {% else %}
        <p class="progress-note mb-1">{% if item.done_this_week > item.target %}{% blocktranslate with done=item.done_this_week target=item.target %}This week: {{ done }} ({{ target }} planned){% endblocktranslate %}{% else %}{% blocktranslate with done=item.done_this_week target=item.target %}This week: {{ done }} of {{ target }}{% endblocktranslate %}{% endif %}</p>
        <p class="muted-note small">{% with minutes=item.assignment.suggested_minutes %}{% if item.assignment.exercise.shape == "together" %}{% blocktranslate %}About {{ minutes }} minutes each time.{% endblocktranslate %}{% elif item.assignment.exercise.shape == "talk" %}{% if item.assignment.giver_plan == GiverPlan.TAKE_TURNS %}{% blocktranslate %}About {{ minutes }} minutes each time, taking turns to speak.{% endblocktranslate %}{% elif item.assignment.planned_giver_id == partner.pk %}{% blocktranslate %}About {{ minutes }} minutes each time; you speak.{% endblocktranslate %}{% elif item.assignment.planned_giver %}{% blocktranslate with name=item.assignment.planned_giver.name %}About {{ minutes }} minutes each time; {{ name }} speaks.{% endblocktranslate %}{% else %}{% blocktranslate %}About {{ minutes }} minutes each time.{% endblocktranslate %}{% endif %}{% elif item.assignment.giver_plan == GiverPlan.TAKE_TURNS %}{% blocktranslate %}About {{ minutes }} minutes each time, taking turns to give.{% endblocktranslate %}{% elif item.assignment.planned_giver %}{% if item.assignment.planned_giver_id == partner.pk %}{% blocktranslate %}About {{ minutes }} minutes each time; you give.{% endblocktranslate %}{% else %}{% blocktranslate with name=item.assignment.planned_giver.name %}About {{ minutes }} minutes each time; {{ name }} gives.{% endblocktranslate %}{% endif %}{% else %}{% blocktranslate %}About {{ minutes }} minutes each time.{% endblocktranslate %}{% endif %}{% endwith %} {% translate "Any week is a fresh start." %}</p>
        <a class="btn btn-primary btn-lg w-100 mb-3" href="{% url 'session_log' item.assignment.pk %}">{{ item.assignment.exercise.log_label }}</a>
      {% endif %}
      {% if item.assignment.status == AssignmentStatus.ACTIVE and not home.touch_paused and item.assignment.exercise.is_touch %}
        <details class="mb-2">
          <summary class="small py-2">{% translate "Need a break? (private)" %}</summary>
          <p class="small mb-2">{% translate "Only your therapist is told. Your partner sees only that the exercise is paused." %}</p>
          <form method="post" action="{% url 'touch_pause' %}" class="d-grid gap-2">{% csrf_token %}
            <button class="btn btn-outline-secondary" type="submit" name="kind" value="week">{% translate "Not this week" %}</button>
            <button class="btn btn-outline-secondary" type="submit" name="kind" value="for_me">{% translate "Pause for me" %}</button>
          </form>
        </details>
      {% endif %}
      {% if item.assignment.note %}<div class="alert alert-light border"><p class="small fw-semibold mb-1">{% translate "From your therapist" %}</p><p class="mb-0 reflection-text">{{ item.assignment.note }}</p></div>{% endif %}
      {% if not item.first_time %}{% include "intimacy/includes/how_to.html" with exercise=item.assignment.exercise open=False %}{% endif %}
    </div>
  </section>
{% empty %}
  <div class="card card-body mb-4"><p class="mb-0">{% translate "Your therapist hasn't set an exercise yet. It will appear here when they do." %}</p></div>
{% endfor %}
"""  # noqa: E501
NEW_AWAITING = "{% load partner_home %}{% awaiting_cards home partner %}\n"
NEW_PROGRESS = "{% load partner_home %}{% progress_cards home partner %}\n"

HOSTILE = "<b>Al&ex</b> \"'{x}%(name)s"
ME, OTHER = 11, 12


@pytest.fixture(autouse=True)
def _one_form_token(monkeypatch):
    """The form token is masked anew for each rendering; here it is one, so the renderings can be compared."""
    monkeypatch.setattr("django.template.context_processors.get_token", lambda request: "TOKEN")


def _render(*sources: str, home: PartnerHome, partner: Partner) -> list[str]:
    """Each source rendered as the page renders it (the context processors run)."""
    engine = engines["django"].engine
    request = RequestFactory().get("/")
    context = RequestContext(request, {"home": home, "partner": partner})
    return [engine.from_string(source).render(context) for source in sources]


def _assert_same(old: str, new: str, home: PartnerHome, partner: Partner) -> str:
    before, after = _render(OLD_LOAD + old, new, home=home, partner=partner)
    assert after == before
    return after


@pytest.fixture
def couple():
    return Couple(pk=3, label="A & B")


@pytest.fixture
def me(couple):
    return Partner(pk=ME, couple=couple, slot=1, name=HOSTILE)


@pytest.fixture
def other(couple):
    return Partner(pk=OTHER, couple=couple, slot=2, name="<i>Sam</i> & 'Jo'")


def _home(**fields) -> PartnerHome:
    return PartnerHome(today=date(2026, 11, 20), **{"progress": [], "awaiting": [], **fields})


# Waiting for your reflection -------------------------------------------------------------------------


def _exercise(pk: int, shape: str, **fields) -> Exercise:
    values = {
        "title": f"<script>alert('{shape}')</script> & {{title}}",
        "summary": 'Slow & <em>gentle</em>, "please"',
        "guidance": "Line one.\n\n• It's <b>yours</b> & theirs\n{braces} %(x)s",
        "suggested_minutes": 15,
        "shape": shape,
    }
    return Exercise(pk=pk, **{**values, **fields})


def _sessions(me: Partner, other: Partner) -> list[Session]:
    """A session of each shape and role, logged by each partner in turn, newest first."""
    sessions = []
    shapes = (ExerciseShape.TOUCH, ExerciseShape.TALK, ExerciseShape.TOGETHER)
    for n, (shape, i_gave, i_logged) in enumerate(itertools.product(shapes, (True, False), (True, False))):
        assignment = Assignment(pk=100 + n, couple=me.couple, exercise=_exercise(200 + n, shape))
        giver, receiver = (me, other) if i_gave else (other, me)
        sessions.append(
            Session(
                pk=300 + n,
                assignment=assignment,
                date=date(2026, 11, 19 - n),
                minutes=5 + n,
                giver=giver,
                receiver=receiver,
                logged_by=me if i_logged else other,
            )
        )
    return sessions


@pytest.mark.parametrize("shown", [1, 2, 3, 12])
@pytest.mark.parametrize("more", [False, True])
def test_the_waiting_cards_are_the_templates(me, other, shown, more):
    home = _home(awaiting=_sessions(me, other)[:shown], more_awaiting=more)
    html = _assert_same(OLD_AWAITING, NEW_AWAITING, home, me)
    # Worked out by hand from the template, so a fragment that rendered nothing would not pass.
    assert html.count('<div class="card card-body mb-2">') == shown
    assert html.count('action="/sessions/') == shown
    assert html.count('<input type="hidden" name="csrfmiddlewaretoken" value="TOKEN">') == shown
    assert ("see your history</a></p></section>" in html) is more
    assert '<summary class="btn btn-link w-100 small">I won\'t reflect on this one</summary>' in html
    assert "Thursday 19 November: you gave (5 min)." in html  # logged by me: no "logged by"
    if shown > 1:
        logged = "Wednesday 18 November: you gave (6 min), logged by &lt;i&gt;Sam&lt;/i&gt; &amp; &#x27;Jo&#x27;."
        assert logged in html


def test_the_other_partner_reads_their_own_roles_and_my_name_escaped(me, other):
    home = _home(awaiting=_sessions(me, other)[:4])
    html = _assert_same(OLD_AWAITING, NEW_AWAITING, home, other)
    assert "Thursday 19 November: you received (5 min), logged by &lt;b&gt;Al&amp;ex&lt;/b&gt;" in html
    assert "Monday 16 November: you gave (8 min)." in html


def test_nothing_waiting_writes_nothing(me):
    assert _render(OLD_LOAD + OLD_AWAITING, NEW_AWAITING, home=_home(), partner=me) == ["\n", "\n"]


# The exercises -----------------------------------------------------------------------------------------

PLANS = ("turns", "either", "mine", "theirs")


def _assignment(pk: int, shape: str, plan: str, status: str, me: Partner, other: Partner, **fields) -> Assignment:
    giver = {"mine": me, "theirs": other}.get(plan)
    giver_plan = {"turns": Assignment.GiverPlan.TAKE_TURNS, "either": Assignment.GiverPlan.EITHER}
    return Assignment(
        pk=pk,
        couple=me.couple,
        exercise=fields.pop("exercise", None) or _exercise(pk + 1000, shape),
        target_per_week=2,
        suggested_minutes=20,
        giver_plan=giver_plan.get(plan, Assignment.GiverPlan.ONE),
        planned_giver=giver,
        status=status,
        **fields,
    )


def _every_card(me: Partner, other: Partner) -> list[AssignmentProgress]:
    """Each shape, plan and status, first time or not, with or without a note, fewer, as many or more done
    than planned."""
    items = []
    cases = itertools.product(
        ExerciseShape.values,
        PLANS,
        (Assignment.Status.ACTIVE, Assignment.Status.PAUSED),
        (True, False),
        ("", "<b>Gently</b> & it's {fine} %(name)s\nsecond line"),
        (0, 2, 3),
    )
    for n, (shape, plan, status, first_time, note, done) in enumerate(cases):
        assignment = _assignment(n + 1, shape, plan, status, me, other, note=note)
        items.append(AssignmentProgress(assignment, done, first_time=first_time))
    return items


FLAGS = ("my_pause", "check_due", "touch_paused")


@pytest.mark.parametrize("flags", [c for n in range(4) for c in itertools.combinations(FLAGS, n)])
@pytest.mark.parametrize("as_other", [False, True])
def test_every_exercise_card_is_the_templates(me, other, flags, as_other):
    items = _every_card(me, other)
    home = _home(progress=items, **dict.fromkeys(flags, True))
    html = _assert_same(OLD_PROGRESS, NEW_PROGRESS, home, other if as_other else me)
    assert html.count('<section class="card mb-4"') == len(items) == 288


def test_the_sentences_of_each_branch(me, other):
    """A few of the branches above, by hand: so a comparison of two empty renderings could not pass."""
    touch_mine = AssignmentProgress(_assignment(1, "touch", "mine", "active", me, other), 3)
    talk_theirs = AssignmentProgress(_assignment(2, "talk", "theirs", "active", me, other), 1, first_time=True)
    together = AssignmentProgress(_assignment(3, "together", "turns", "paused", me, other, note="<b>Hi</b>"), 0)
    html = _assert_same(OLD_PROGRESS, NEW_PROGRESS, _home(progress=[touch_mine, talk_theirs, together]), me)
    assert '<p class="progress-note mb-1">This week: 3 (2 planned)</p>' in html
    assert "About 20 minutes each time; you give. Any week is a fresh start." in html
    assert '<p class="progress-note mb-1">This week: 1 of 2</p>' in html
    assert "About 20 minutes each time; &lt;i&gt;Sam&lt;/i&gt; &amp; &#x27;Jo&#x27; speaks." in html
    assert html.count('<details class="how-to mb-3" open>') == 1 and html.count('<details class="how-to mb-2">') == 2
    assert html.count("Need a break? (private)") == 1  # the active touch one only
    assert "Your therapist has paused this exercise for now." in html
    assert '<p class="mb-0 reflection-text">&lt;b&gt;Hi&lt;/b&gt;</p>' in html
    assert "&lt;script&gt;alert(&#x27;touch&#x27;)&lt;/script&gt; &amp; {title}</h2>" in html
    assert 'href="/assignments/1/log/">Log: &lt;script&gt;' in html


def test_my_pause_and_the_check_before_touch_work(me, other):
    touch = AssignmentProgress(_assignment(1, "touch", "turns", "active", me, other), 0)
    talk = AssignmentProgress(_assignment(2, "talk", "turns", "active", me, other), 0)
    paused = _assert_same(OLD_PROGRESS, NEW_PROGRESS, _home(progress=[touch, talk], my_pause=True), me)
    assert '<button class="btn btn-outline-primary w-100" type="submit">I\'m ready to start again</button>' in paused
    assert "taking turns to speak." in paused  # talk goes on
    check = _assert_same(OLD_PROGRESS, NEW_PROGRESS, _home(progress=[touch], check_due=True), me)
    assert "Answer privately (1 minute)</a>" in check and "Need a break?" in check


def test_the_back_rubs_own_log_label(me, other):
    item = AssignmentProgress(
        _assignment(
            1, "touch", "either", "active", me, other, exercise=_exercise(9, "touch", builtin_key=BACK_RUB_KEY)
        ),
        0,
    )
    html = _assert_same(OLD_PROGRESS, NEW_PROGRESS, _home(progress=[item]), me)
    assert ">Log a back rub</a>" in html and "About 20 minutes each time. Any week" in html


def test_no_exercise_yet(me):
    html = _assert_same(OLD_PROGRESS, NEW_PROGRESS, _home(), me)
    assert "Your therapist hasn&#x27;t set" not in html and "Your therapist hasn't set an exercise yet." in html
