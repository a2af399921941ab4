"""intimacy/templatetags/caseload.py: the caseload's week bars, written in Python (issue 16, "Fast")."""

from datetime import date

from intimacy.selectors import CaseloadRow, WeekBar, _draw_bars
from intimacy.templatetags.caseload import week_bars


def _row(done: list[int], target: int) -> CaseloadRow:
    row = CaseloadRow(
        couple=None, last_session=None, done_this_week=done[-1], target_this_week=target, pending_invites=0
    )
    row.weeks = [WeekBar(date(2026, 1, 5), n) for n in done]
    _draw_bars(row)
    return row


def test_week_bars_draws_each_week_and_the_target():
    html = week_bars(_row([2, 0, 1, 0, 0, 0, 0, 4], target=2))
    # Worked out by hand: the top is 4 sessions = 28 px; 2 -> 14 px high at y 14; none -> a 2 px stub;
    # 1 -> 7 px; the target 2 -> y 14. Bars 11 px apart (8 wide, 3 between).
    assert html.count("<rect ") == 8
    assert '<rect class="done" x="0" y="14" width="8" height="14"></rect>' in html
    assert '<rect class="missing" x="11" y="26" width="8" height="2"></rect>' in html
    assert '<rect class="done" x="22" y="21" width="8" height="7"></rect>' in html
    assert '<rect class="done" x="77" y="0" width="8" height="28"></rect>' in html
    assert '<line class="target" x1="0" x2="85" y1="14" y2="14"></line>' in html
    text = "Sessions in the last 8 weeks, oldest first: 2, 0, 1, 0, 0, 0, 0, 4; target 2 a week."
    assert f'aria-label="{text}"' in html and f"<title>{text}</title>" in html


def test_week_bars_without_an_exercise_has_no_target_line():
    html = week_bars(_row([0] * 8, target=0))
    assert "<line" not in html and html.count('class="missing"') == 8
    assert "no active exercise" in html
