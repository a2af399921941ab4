"""intimacy/templatetags/partner_cards.py: a partner's session cards on the home page and the history,
written in Python (issue 16, "Fast"). Read through the pages, as Alex: what each card says, the links
and forms it offers, and above all that Sam's words show only once revealed and shared, never when Sam
chose "My therapist only" or "Just me". Expected values worked out by hand from the old template."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from intimacy import services
from intimacy.models import Reflection
from tests.factories import ReflectionFactory, SessionFactory

GIVER, RECEIVER = Reflection.Role.GIVER, Reflection.Role.RECEIVER
SHARED, THERAPIST, PRIVATE = (
    Reflection.Visibility.SHARED,
    Reflection.Visibility.THERAPIST,
    Reflection.Visibility.PRIVATE,
)
SAM_THERAPIST_ONLY = "SAM-THERAPIST-ONLY-q1"
SAM_JUST_ME = "SAM-JUST-ME-q2"
SAM_NOT_YET = "SAM-NOT-YET-REVEALED-q3"
WAITING = "Sam has written their side. You'll see it once you've written yours, or within a week."


@pytest.fixture
def cards(couple, assignment, partner_a, partner_b):
    """Alex gave every back rub; the newest first: sessions 1 day ago, 2 days ago, …"""
    today = couple.today()

    def session(days_ago, logged_by):
        return SessionFactory(
            assignment=assignment,
            date=today - timedelta(days=days_ago),
            minutes=20,
            giver=partner_a,
            receiver=partner_b,
            logged_by=logged_by,
        )

    def reflect(s, partner, role, **fields):
        return ReflectionFactory(session=s, partner=partner, role=role, **fields)

    # 1: both wrote; Sam's side is "My therapist only".
    hidden = session(1, partner_b)
    reflect(hidden, partner_a, GIVER, visibility=THERAPIST)
    reflect(hidden, partner_b, RECEIVER, visibility=THERAPIST, notes=SAM_THERAPIST_ONLY, next_time=SAM_THERAPIST_ONLY)
    # 2: both wrote; Sam's side is "Just me".
    private = session(2, partner_b)
    reflect(private, partner_a, GIVER, visibility=PRIVATE)
    reflect(private, partner_b, RECEIVER, visibility=PRIVATE, notes=SAM_JUST_ME, pressure="firm")
    # 3: both wrote and shared: revealed. Sam's words carry markup, which must arrive as text.
    shared = session(3, partner_b)
    alexs = reflect(shared, partner_a, GIVER, notes="Alex <i>notes</i>", next_time="Alex next")
    reflect(
        shared, partner_b, RECEIVER, connection=6, pressure="firm", pace="fast", notes="<b>Sam</b>", next_time="slower"
    )
    # 4: Sam shared hers, Alex has not written his: not yet revealed.
    waiting = session(4, partner_a)
    reflect(waiting, partner_b, RECEIVER, notes=SAM_NOT_YET)
    # 6: Alex said he won't reflect. 5: Alex said it didn't happen (last: that puts touch on hold).
    declined = session(6, partner_a)
    services.reflection_decline(session=declined, partner=partner_a)
    disputed = session(5, partner_b)
    services.session_dispute(session=disputed, partner=partner_a)
    return {
        "hidden": hidden,
        "private": private,
        "shared": shared,
        "alexs": alexs,
        "waiting": waiting,
        "disputed": disputed,
        "declined": declined,
    }


def _page(client_for, who, name) -> str:
    response = client_for(who).get(reverse(name))
    assert response.status_code == 200
    return response.content.decode()


def _cards(html: str) -> list[str]:
    """Each card's HTML, newest first."""
    return re.findall(r'<div class="card card-body mb-2">.*?\n  </div>', html, flags=re.S)


@pytest.mark.parametrize("page", ["home", "history"])
def test_sams_words_show_only_when_shared_and_revealed(client_for, cards, partner_a, page):
    html = _page(client_for, partner_a, page)
    for words in (SAM_THERAPIST_ONLY, SAM_JUST_ME, SAM_NOT_YET):
        assert words not in html
    # Of the "My therapist only" and "Just me" ones Alex learns nothing, not even that Sam wrote: the one
    # "has written" line is the waiting shared one's, and only one card has Sam's side.
    assert html.count("has written their side") == 1 and WAITING in html
    assert html.count("their-side") == 1
    their_side = (
        '<div class="small mb-1 their-side">\n'
        '      <p class="fw-semibold mb-1">What Sam shared</p>\n'
        '      <p class="mb-1">Sam: connection 6/10 · pressure: Too firm · pace: Too fast</p>\n'
        '      <p class="mb-1">What Sam would like next time: “<span class="reflection-text">slower</span>”</p>\n'
        '      <p class="mb-1">“<span class="reflection-text">&lt;b&gt;Sam&lt;/b&gt;</span>”</p>\n'
        "    </div>"
    )
    assert their_side in html


def test_the_home_card_of_a_revealed_session_as_alex_wrote_it(client_for, cards, partner_a):
    html = _page(client_for, partner_a, "home")
    recent = _cards(html)
    assert len(recent) == 5  # the five newest: the declined one, six days ago, is on the history only
    shared, alexs = cards["shared"], cards["alexs"]
    card = recent[2]
    date = shared.date.strftime("%a %-d %b")
    assert f'<p class="fw-semibold mb-1">{date} · 20 min · you gave</p>' in card
    assert (
        '<p class="small mb-1">You: connection 7/10, comfort 8/10, safe 9/10 · next time: '
        '“<span class="reflection-text">Alex next</span>” · '
        '“<span class="reflection-text">Alex &lt;i&gt;notes&lt;/i&gt;</span>”</p>'
    ) in card
    assert '<p class="small muted-note mb-1">Who can read your words: My partner and my therapist</p>' in card
    # Shared: both more private choices, returning home; with the form's token.
    form = re.search(r"<form .*?</form>", card, flags=re.S).group(0)
    assert f'action="{reverse("reflection_visibility", args=[alexs.pk])}"' in form
    assert 'name="csrfmiddlewaretoken" value="' in form
    assert '<input type="hidden" name="back" value="home">' in form
    assert 'value="therapist">My therapist only</button>' in form and 'value="private">Just me</button>' in form
    # Sam logged it: Alex may say it didn't happen.
    dispute = reverse("session_dispute", args=[shared.pk])
    # A plain string is escaped (the template's {% translate %} wrote the apostrophe as is: the same text).
    assert f'<a class="muted-note tap-link" href="{dispute}">This didn&#x27;t happen / I didn&#x27;t agree</a>' in card
    # The history's buttons are not on the home page.
    assert "Edit my reflection" not in html and "Change date or minutes" not in html


def test_more_private_offers_only_what_is_more_private(client_for, cards, partner_a):
    recent = _cards(_page(client_for, partner_a, "home"))
    hidden, private = recent[0], recent[1]
    assert 'value="private">Just me</button>' in hidden and "My therapist only</button>" not in hidden
    assert "Make it more private:" not in private  # nothing is more private than "Just me"
    assert "Who can read your words: Just me" in private


def test_cards_without_alexs_reflection(client_for, cards, partner_a):
    recent = _cards(_page(client_for, partner_a, "history"))
    waiting, disputed, declined = recent[3], recent[4], recent[5]
    add = reverse("reflection_add", args=[cards["waiting"].pk])
    assert f'<p class="small mb-1"><a class="tap-link" href="{add}">Add your reflection</a></p>' in waiting
    assert "not-so" not in waiting  # Alex logged it himself: no "didn't happen" link
    assert "You told your therapist this didn&#x27;t happen, or that you didn&#x27;t agree." in disputed
    assert "Add your reflection" not in disputed and "agree</a>" not in disputed
    assert "You chose not to reflect on this one. You still can if you like." in declined
    assert reverse("reflection_add", args=[cards["declined"].pk]) in declined


def test_the_history_buttons(client_for, cards, partner_a):
    recent = _cards(_page(client_for, partner_a, "history"))
    shared, waiting = recent[2], recent[3]
    alexs = cards["alexs"]
    assert f'href="{reverse("reflection_edit", args=[alexs.pk])}">Edit my reflection</a>' in shared
    assert f'href="{reverse("reflection_visibility", args=[alexs.pk])}">Who can read it</a>' in shared
    assert '<input type="hidden" name="back" value="history">' in shared
    # Sam logged the shared one: only Alex's own sessions can be changed or deleted by him.
    assert "Change date or minutes" not in shared and "session_delete" not in shared
    pk = cards["waiting"].pk
    assert f'href="{reverse("session_edit", args=[pk])}">Change date or minutes</a>' in waiting
    delete = (
        f'<form method="post" action="{reverse("session_delete", args=[pk])}" '
        'data-confirm="Delete this session and your reflection on it?"><input type="hidden" '
        'name="csrfmiddlewaretoken" value="'
    )
    assert delete in waiting
    assert '<button class="btn btn-outline-danger btn-sm" type="submit">Delete</button></form>' in waiting


def test_sam_reads_alexs_shared_words_and_none_of_his_private_ones(client_for, cards, partner_b):
    html = _page(client_for, partner_b, "history")
    assert "What Alex shared" in html and "Alex &lt;i&gt;notes&lt;/i&gt;" in html
    assert html.count("their-side") == 1  # his "My therapist only" and "Just me" ones: nothing
    # Alex gave: Sam's cards say so by name.
    assert "Alex gave" in _cards(html)[0]


def test_no_sessions_yet(client_for, partner_a, partner_b):
    assert "Nothing logged yet." in _page(client_for, partner_a, "home")
    log = reverse("log_start")
    assert f'Nothing logged yet. <a href="{log}">Log a session</a>.' in _page(client_for, partner_a, "history")


def test_each_home_reads_its_own_partner_and_the_moment_it_is_asked(client_for, partner_a, partner_b, outsider):
    """issue 16, "Fast": the home's reads are compiled once per process (intimacy/prepared.py) and run with
    each partner's ids and the reveal rule's moment. In turns, so a value kept from an earlier page would
    show: Alex, Sam, Casey (another couple), Alex. Sam logged one back rub Alex gave on 2 March 2026 and
    shared her side at noon; Alex has written nothing. Casey logged one of her own couple's."""
    from datetime import UTC, date, datetime

    import time_machine

    from tests.factories import AssignmentFactory

    casey = outsider
    drew = casey.couple.partners.exclude(pk=casey.pk).get()
    with time_machine.travel(datetime(2026, 3, 2, 12, 0, tzinfo=UTC), tick=False):
        ours = AssignmentFactory(couple=partner_a.couple)
        back_rub = SessionFactory(
            assignment=ours, date=date(2026, 3, 2), minutes=20, giver=partner_a, receiver=partner_b, logged_by=partner_b
        )
        ReflectionFactory(session=back_rub, partner=partner_b, role=RECEIVER, notes=SAM_NOT_YET)
        theirs = AssignmentFactory(couple=casey.couple)
        SessionFactory(
            assignment=theirs, date=date(2026, 3, 2), minutes=30, giver=casey, receiver=drew, logged_by=casey
        )
    add_alexs = reverse("reflection_add", args=[back_rub.pk])
    for day, revealed in ((date(2026, 3, 8), False), (date(2026, 3, 10), True)):
        with time_machine.travel(datetime(day.year, day.month, day.day, 12, 0, tzinfo=UTC), tick=False):
            alex, sam, casey_home, alex_again = (
                _page(client_for, who, "home") for who in (partner_a, partner_b, casey, partner_a)
            )
        for home in (alex, alex_again):
            # Waiting for Alex's side, and Sam's words only after the seven days (the reveal rule).
            assert add_alexs in home and "20 min" in home and "30 min" not in home
            assert (SAM_NOT_YET in home) is revealed
            assert (WAITING in home) is not revealed
        # Sam's own words are hers from the start; nothing waits for her (she has written hers).
        assert SAM_NOT_YET in sam and add_alexs not in sam and "Waiting for your reflection" not in sam
        # Casey sees her couple's session only: nothing of Alex and Sam's.
        assert "30 min" in casey_home and "20 min" not in casey_home and SAM_NOT_YET not in casey_home
