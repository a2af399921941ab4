"""intimacy/templatetags/reflection_cards.py: the reflection card and the appointment view's session
rows, written in Python (issue 16, "Fast"). The HTML is what includes/reflection.html and
includes/leave_out.html wrote; expected strings worked out by hand from those templates."""

from datetime import date
from types import SimpleNamespace

from django.template import Context

from accounts.models import Partner
from intimacy.html import blocktranslate
from intimacy.models import Assignment, Exercise, Reflection, Session
from intimacy.templatetags.reflection_cards import appointment_sessions, reflection_card

R = Reflection.Role
V = Reflection.Visibility
TOUCH = Exercise.Shape.TOUCH


def _card(role=R.GIVER, *, name="Alex", show_text=True, **fields) -> Reflection:
    """An unsaved reflection as the selector hands it to the page (`show_text` set by `_mask_unreadable`)."""
    r = Reflection(pk=fields.pop("pk", 7), role=role, partner=Partner(name=name), connection=7, comfort=8, safe=9)
    for key, value in fields.items():
        setattr(r, key, value)
    r.show_text = show_text
    return r


def test_a_givers_card_lists_its_own_answers_its_words_and_who_may_read_them():
    html = reflection_card(
        _card(presence=6, giving_felt=0, paused=True, pause_reason="A cramp", next_time="Slower", notes="Warm hands")
    )
    assert '<h4 class="h6 card-title">Alex <span class="muted-note fw-normal">· gave</span></h4>' in html
    assert "<dt>Connection</dt><dd>7/10</dd>" in html
    assert "<dt>Comfortable</dt><dd>8/10</dd>" in html and "<dt>Safe</dt><dd>9/10</dd>" in html
    # A 0 is an answer: shown, not skipped as empty.
    assert "<dt>Present</dt><dd>6/10</dd>" in html and "<dt>How giving felt</dt><dd>0/10</dd>" in html
    assert "Tension" not in html and "Felt heard" not in html
    assert '<span class="badge text-bg-light border">Paused or stopped early</span>' in html
    assert '<strong>What happened:</strong> <span class="reflection-text">A cramp</span>' in html
    assert '<strong>Next time:</strong> <span class="reflection-text">Slower</span>' in html
    assert '<p class="mb-1 reflection-text">Warm hands</p>' in html
    assert '<p class="small muted-note mb-0 mt-2">Shared with the partner</p>' in html


def test_a_receivers_card_skips_what_was_not_answered_and_names_pressure_and_pace():
    html = reflection_card(_card(R.RECEIVER, tension_before=8, cared_for=10, pace="fast", visibility=V.THERAPIST))
    assert "<dt>Tension before</dt><dd>8/10</dd>" in html and "<dt>Felt cared for</dt><dd>10/10</dd>" in html
    assert "Tension after" not in html and "Pressure" not in html
    assert "<dt>Pace</dt><dd>Too fast</dd>" in html
    assert "· received" in html and "Paused" not in html and "reflection-text" not in html
    assert "For you only, not the partner" in html


def test_talk_and_together_cards_list_their_own_questions():
    speaker = reflection_card(_card(R.SPEAKER, felt_heard=3, safe_to_say=5, presence=4))
    assert "<dt>Felt heard</dt><dd>3/10</dd>" in speaker and "<dt>Safe to say it</dt><dd>5/10</dd>" in speaker
    assert "Felt understood" not in speaker and "Present" not in speaker and "· spoke" in speaker
    listener = reflection_card(_card(R.LISTENER, stayed_open=7, understood_what_mattered=2))
    assert "<dt>Stayed with it without defending</dt><dd>7/10</dd>" in listener
    assert "<dt>Understood what mattered</dt><dd>2/10</dd>" in listener and "· listened" in listener
    together = reflection_card(_card(R.TOGETHER, presence=4, giving_felt=9))
    assert "<dt>Present</dt><dd>4/10</dd>" in together and "How giving felt" not in together
    assert "· together" in together


def test_words_the_viewer_may_not_read_are_replaced_by_the_private_journal_note():
    html = reflection_card(_card(name="Jo & <b>", show_text=False, notes="", visibility=V.PRIVATE))
    assert "Private journal: only Jo &amp; &lt;b&gt; can read the words." in html
    assert "Private journal: numbers only" in html and "reflection-text" not in html


def test_every_value_is_escaped():
    html = reflection_card(_card(name="<i>A</i>", notes='<script>x("{0}")</script>', next_time="%(name)s"))
    assert "<script>" not in html and "<i>" not in html
    assert "&lt;script&gt;x(&quot;{0}&quot;)&lt;/script&gt;" in html and "%(name)s" in html


def test_blocktranslate_writes_the_sentence_as_the_tag_did():
    # The apostrophe of the sentence stays; the name's own characters are escaped; braces are text.
    assert blocktranslate("%(name)s's {reflection}", name="O'Neil <3") == "O&#x27;Neil &lt;3's {reflection}"


def _session(pk, giver, receiver, **shown) -> Session:
    s = Session(pk=pk, date=date(2026, 11, 23), giver=giver, receiver=receiver)
    s.assignment = Assignment(exercise=Exercise(shape=TOUCH))
    s.giver_reflection = shown.get("giver_reflection")
    s.receiver_reflection = shown.get("receiver_reflection")
    s.giver_waiting = shown.get("giver_waiting", False)
    s.receiver_waiting = shown.get("receiver_waiting", False)
    return s


def test_appointment_rows_have_each_leave_out_form_with_its_own_url_the_token_and_the_period():
    alex, sam = Partner(pk=1, name="Alex"), Partner(pk=2, name="Sam")
    sessions = [
        _session(31, alex, sam, giver_reflection=_card(pk=41), receiver_reflection=_card(R.RECEIVER, pk=42)),
        _session(32, sam, alex, giver_waiting=True),
    ]
    context = Context({"csrf_token": "TOKEN", "period": SimpleNamespace(query="weeks=4&page=2")})
    html = appointment_sessions(context, sessions)
    assert html.count("<article ") == 2
    assert '<h3 class="h5 mb-2">Monday 23 November · Alex gave, Sam received</h3>' in html
    assert '<h3 class="h5 mb-2">Monday 23 November · Sam gave, Alex received</h3>' in html
    form = (
        '<form class="no-print mt-1" method="post" action="{}">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="TOKEN">\n'
        '  <input type="hidden" name="period" value="weeks=4&amp;page=2">\n'
        '  <button class="btn btn-sm btn-link p-0" type="submit">{}</button>\n</form>'
    )
    for url, label in [
        ("/appointment/sessions/31/leave-out/", "Leave this session out"),
        ("/appointment/sessions/32/leave-out/", "Leave this session out"),
        ("/appointment/reflections/41/leave-out/", "Leave this reflection out"),
        ("/appointment/reflections/42/leave-out/", "Leave this reflection out"),
    ]:
        assert form.format(url, label) in html
    assert html.count("<form ") == 4
    assert '<div class="card card-body muted-note">Sam\'s reflection will show here within a week.</div>' in html
    assert '<div class="card card-body muted-note">No shared reflection from Alex.</div>' in html
