"""intimacy/templatetags/caseload.py: the caseload's rows and week bars, written in Python (issue 16, "Fast")."""

from datetime import date

import pytest

from accounts.models import Couple
from intimacy.selectors import CaseloadRow, WeekBar, _draw_bars
from intimacy.templatetags.caseload import caseload_rows, week_bars


def _row(done: list[int], target: int, couple=None) -> CaseloadRow:
    row = CaseloadRow(
        couple=couple, last_session=None, done_this_week=done[-1], target_this_week=target, pending_invites=0
    )
    row.weeks = [WeekBar(date(2026, 1, 5), n) for n in done]
    _draw_bars(row)
    return row


def test_week_bars_draws_each_week_and_the_target():
    html = week_bars(_row([2, 0, 1, 0, 0, 0, 0, 4], target=2))
    # Worked out by hand: the top is 4 sessions = 28 px; 2 -> 14 px high at y 14; none -> a 2 px stub at
    # y 26; 1 -> 7 px; 4 -> the full 28; the target 2 -> y 14. Bars 8 wide and 11 px apart (x 0, 11, … 77).
    done = "M0 14h8v14h-8z M22 21h8v7h-8z M77 0h8v28h-8z"
    missing = "M11 26h8v2h-8z M33 26h8v2h-8z M44 26h8v2h-8z M55 26h8v2h-8z M66 26h8v2h-8z"
    assert f'<path class="done" d="{done}"></path><path class="missing" d="{missing}"></path>' in html
    assert '<line class="target" x1="0" x2="85" y1="14" y2="14"></line>' in html
    text = "Sessions in the last 8 weeks, oldest first: 2, 0, 1, 0, 0, 0, 0, 4; target 2 a week."
    assert f'aria-label="{text}"' in html and f"<title>{text}</title>" in html


def test_week_bars_without_an_exercise_has_no_target_line_and_no_empty_path():
    html = week_bars(_row([0] * 8, target=0))
    assert "<line" not in html and 'class="done"' not in html
    assert html.count("h8v2h-8z") == 8
    assert "no active exercise" in html


@pytest.mark.django_db
def test_rows_link_each_couple_and_escape_its_label(therapist):
    first = Couple.objects.create(therapist=therapist, label="<b>Ash & Bo</b>")
    second = Couple.objects.create(therapist=therapist, label="Cy", status=Couple.Status.PAUSED)
    html = caseload_rows([_row([1] * 8, 1, first), _row([0] * 8, 0, second)])
    assert f'<a href="/couples/{first.pk}/">&lt;b&gt;Ash &amp; Bo&lt;/b&gt;</a>' in html
    assert f'<a href="/couples/{second.pk}/">Cy</a><span class="badge text-bg-light border ms-1">Paused</span>' in html
    assert "<b>" not in html and html.count("<tr ") == 2
