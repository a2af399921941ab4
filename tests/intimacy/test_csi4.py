"""The CSI-4 check-in judged (issue 14): baselines, Jacobson & Truax's reliable change index, the 13.5
line, the gap between partners; the dashboard's #checkin panel; the lowest week of a month; and the
three "Needs attention" rules the check-ins raise.

The CSI-4's published standard deviation is not set by default (TEND_CSI4_SD: see intimacy/csi4.py), so
these tests hand in a norm of their own, chosen so the arithmetic is easy by hand. They are NOT the
published figures:

    SD 5, r 0.92:  SE = 5 × √(1 − 0.92) = 5 × √0.08 = √2 ≈ 1.4142
                   S_diff = √(2 × SE²) = √(2 × 2) = 2
                   reliable when |change| / 2 > 1.96, i.e. a change of more than 3.92 points;
                   so a drop of 4 points is reliable (RCI −2.0) and a drop of 3.5 is not (RCI −1.75).
    A gap between partners: its change has standard error 2 × SE = 2√2 ≈ 2.8284, so it must widen by
    more than 1.96 × 2.8284 ≈ 5.544 points: 6 points is reliable, 5 is not.

Expected values are worked out by hand in each test, never recomputed with the code under test.
"""

import re
from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse

from intimacy import csi4, trends
from intimacy.alerts import alert_sentence, alerts_raise
from intimacy.csi4 import Change, Crossing, Norm, PartnerProgress, progress
from intimacy.models import Alert, CheckIn
from intimacy.selectors import checkin_panel
from intimacy.trends import Scope, period_from

NOW = "2026-11-25 12:00:00+00:00"  # Wednesday; its ISO week (London) starts Monday 23 Nov
THIS_WEEK = date(2026, 11, 23)
EASY = Norm(sd=5, reliability=0.92, source="test numbers, not the published ones")

DROP, BELOW, APART = Alert.Kind.CHECKIN_DROP, Alert.Kind.CHECKIN_BELOW, Alert.Kind.CHECKIN_APART


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def norm(monkeypatch):
    """The easy test norm in place of the (unset) published one."""
    monkeypatch.setattr(csi4, "norm", lambda: EASY)
    return EASY


def weeks_back(n: int) -> date:
    return THIS_WEEK - timedelta(weeks=n)


def totals(partner, *values, last=THIS_WEEK) -> None:
    """Store one check-in a week for `partner`, the last in the week of `last`, each with the given
    total: answers split as happiness = min(total, 6), the rest spread over warm, rewarding, satisfied."""
    start = last - timedelta(weeks=len(values) - 1)
    for i, total in enumerate(values):
        happiness = min(total, 6)
        rest = total - happiness
        warm, rewarding = min(rest, 5), min(max(rest - 5, 0), 5)
        satisfied = rest - warm - rewarding
        CheckIn.objects.create(
            couple=partner.couple,
            partner=partner,
            week=start + timedelta(weeks=i),
            happiness=happiness,
            warm=warm,
            rewarding=rewarding,
            satisfied=satisfied,
            total=total,
        )


# The arithmetic (pure) -----------------------------------------------------------------------------------


def test_the_norm_works_out_as_by_hand():
    assert EASY.standard_error == pytest.approx(1.41421, abs=1e-5)  # √2
    assert EASY.s_diff == pytest.approx(2.0)
    assert EASY.reliable_points == pytest.approx(3.92)
    assert EASY.reliable_gap_points == pytest.approx(5.54372, abs=1e-5)  # 1.96 × 2√2


@pytest.mark.parametrize(
    ("baseline", "latest", "rci", "judged"),
    [
        (16, 12, -2.0, Change.RELIABLE_DROP),  # a drop of 4: −4 / 2
        (16, 12.5, -1.75, Change.NOISE),  # a drop of 3.5: −3.5 / 2
        (16, 12.1, -1.95, Change.NOISE),  # a drop of 3.9: just inside the noise
        (12, 16, 2.0, Change.RELIABLE_RISE),
        (14, 14, 0.0, Change.NOISE),
    ],
)
def test_reliable_change_index_by_hand(baseline, latest, rci, judged):
    assert csi4.rci(baseline, latest, EASY) == pytest.approx(rci)
    assert csi4.change(baseline, latest, EASY) is judged


def test_without_a_published_sd_nothing_is_judged_reliable():
    assert csi4.norm() is None  # see intimacy/csi4.py: no unconfirmed figure is used
    assert csi4.change(16, 2, None) is Change.NOT_JUDGED
    assert csi4.PUBLISHED_RELIABILITY == 0.94


@pytest.mark.parametrize(
    ("before", "after", "crossing"),
    [
        (14, 13, Crossing.BELOW),
        (13.5, 13, Crossing.BELOW),  # at the line counts as at or above
        (13, 13.5, Crossing.ABOVE),
        (13, 12, Crossing.NONE),
        (15, 14, Crossing.NONE),
        (None, 12, Crossing.NONE),
    ],
)
def test_crossing_the_line(before, after, crossing):
    assert csi4.crossing(before, after) is crossing


def test_baseline_is_the_mean_of_the_first_two_and_change_waits_for_a_third():
    weeks = [weeks_back(n) for n in (3, 2, 1, 0)]
    one = PartnerProgress(1, ((weeks[0], 15),), EASY)
    assert (one.baseline, one.latest, one.newest, one.change) == (None, None, 15, Change.NOT_JUDGED)
    two = PartnerProgress(1, ((weeks[0], 15), (weeks[1], 16)), EASY)
    assert (two.baseline, two.latest, two.change) == (15.5, None, Change.NOT_JUDGED)  # (15 + 16) / 2
    four = PartnerProgress(1, ((weeks[0], 15), (weeks[1], 16), (weeks[2], 14), (weeks[3], 11)), EASY)
    # baseline 15.5; latest 11; −4.5 / 2 = −2.25: reliable; 15.5 → 11 crosses below 13.5.
    assert (four.baseline, four.latest, four.difference) == (15.5, 11, -4.5)
    assert four.change is Change.RELIABLE_DROP and four.crossing is Crossing.BELOW
    assert four.crossed_below_now  # 14, then 11


def test_progress_sorts_rows_by_week_and_keeps_the_partner_order():
    rows = [(2, weeks_back(0), 9), (1, weeks_back(0), 20), (1, weeks_back(2), 10), (2, weeks_back(2), 12)]
    rows += [(1, weeks_back(1), 12), (2, weeks_back(1), 14)]
    couple = progress(rows, [1, 2], EASY)
    alex, sam = couple.partners
    assert [t for _, t in alex.totals] == [10, 12, 20] and [t for _, t in sam.totals] == [12, 14, 9]
    # Alex 11 → 20, Sam 13 → 9: gap at baseline |11 − 13| = 2, now |20 − 9| = 11; it widened by 9 > 5.544.
    assert (couple.gap, couple.baseline_gap, couple.diverging) == (11, 2, True)


# The selector (the dashboard panel's reads) --------------------------------------------------------------


def test_panel_reads_each_partners_progress_in_one_query(couple, partner_a, partner_b, norm, django_assert_num_queries):
    totals(partner_a, 17, 15, 14, 12)  # baseline 16; latest 12: −4 → RCI −2.0: a reliable drop
    totals(partner_b, 14, 15, 15)  # baseline 14.5; latest 15: +0.5 → RCI 0.25: noise
    with django_assert_num_queries(1):
        panel = checkin_panel(couple, [partner_a, partner_b])
    (a, alex), (b, sam) = panel.rows
    assert (a, b) == (partner_a, partner_b)
    assert (alex.baseline, alex.latest, alex.difference, alex.change) == (16, 12, -4, Change.RELIABLE_DROP)
    assert alex.crossing is Crossing.BELOW  # 16 → 12
    assert (sam.baseline, sam.latest, sam.difference, sam.change) == (14.5, 15, 0.5, Change.NOISE)
    assert sam.crossing is Crossing.NONE
    # Gap: now |12 − 15| = 3; at baseline |16 − 14.5| = 1.5; widened 1.5, not beyond 5.544.
    assert (panel.progress.gap, panel.progress.baseline_gap, panel.progress.diverging) == (3, 1.5, False)


def test_panel_reads_only_its_own_couple(couple, partner_a, partner_b, outsider, norm):
    totals(outsider, 5, 5, 5)
    panel = checkin_panel(couple, [partner_a, partner_b])
    assert not panel.any


# The dashboard -------------------------------------------------------------------------------------------


def checkin_section(html: str) -> str:
    return re.search(r'<section class="mb-4" id="checkin".*?</section>', html, re.S).group(0)


def test_dashboard_panel_in_plain_words(client_for, therapist, couple, partner_a, partner_b, norm):
    totals(partner_a, 17, 15, 14, 12)  # reliable drop, crossed below since baseline 16
    totals(partner_b, 12, 13, 18)  # baseline 12.5 → 18: +5.5 → RCI 2.75: reliable rise, crossed above
    html = client_for(therapist).get(reverse("couple_trends", args=[couple.pk])).content.decode()
    section = checkin_section(html)
    assert 'id="checkin"' in html  # the trends tab (issue 16)
    assert "Weekly check-in (CSI-4)" in section
    assert "reliable drop" in section and "reliable rise" in section
    assert "crossed below since baseline" in section and "crossed above since baseline" in section
    assert "16.0" in section and "12.5" in section and "+5.5" in section and "-4.0" in section
    # Gap now |12 − 18| = 6; at baseline |16 − 12.5| = 3.5.
    assert "Gap between the partners' latest totals: 6 points (at baseline: 3.5)." in section
    assert "Jacobson &amp; Truax (1991)" in section
    # The norm quoted with its source: more than 3.92 points, shown as 3.9; a gap widening by 5.5.
    assert "standard deviation 5 and reliability 0.92 (test numbers, not the published ones)" in section
    assert "more than 3.9 points" in section and "more than 5.5 points" in section


def test_dashboard_panel_says_plainly_when_change_cannot_be_judged(client_for, therapist, couple, partner_a):
    totals(partner_a, 17, 15, 10)
    section = checkin_section(client_for(therapist).get(reverse("couple_trends", args=[couple.pk])).content.decode())
    assert "not judged (see below)" in section
    assert "none is configured for this practice yet" in section
    assert "0.94" in section and "Funk &amp; Rogge 2007" in section
    assert "crossed below since baseline" in section  # 16 → 10 needs no SD


def test_dashboard_panel_with_one_checkin_says_so(client_for, therapist, couple, partner_a):
    totals(partner_a, 17)
    section = checkin_section(client_for(therapist).get(reverse("couple_trends", args=[couple.pk])).content.decode())
    assert "1 check-in so far" in section and "not yet: needs a third check-in" in section


def test_the_checkin_page_shows_the_items_without_a_time_frame_and_says_tend_asks_weekly(client_for, partner_a):
    html = client_for(partner_a).get(reverse("checkin")).content.decode()
    assert "feels this week" not in html
    assert "Tend asks these same four questions once a week" in html
    for item in csi4.ITEMS:
        assert "week" not in item.question.lower()  # as published: no time frame


# Month buckets: the lowest week beside the mean ---------------------------------------------------------


def test_a_month_shows_its_lowest_week_beside_the_mean(couple, partner_a, partner_b):
    # November 2026's Mondays 2, 9, 16, 23: Alex 16, 9, 15, 14 → mean 54 / 4 = 13.5, lowest 9.
    totals(partner_a, 16, 9, 15, 14)
    data = trends.couple_trends(couple, period_from({"weeks": "52"}, date(2026, 11, 25)), Scope.THERAPIST)
    november = data.rows[-1]
    assert november.bucket.label == "Nov 2026"
    assert (november.checkin[partner_a.pk], november.checkin_low[partner_a.pk]) == (13.5, 9)
    chart = next(c for c in trends.couple_charts(data) if c["id"] == "checkin")
    labels = [s["label"] for s in chart["series"]]
    assert labels == ["Alex (mean)", "Alex (lowest week)", "Threshold (13.5)"]  # Sam has none: not drawn
    assert chart["rows"][-1] == ["Nov 2026", 13.5, 9, 13.5]
    summary = trends.summary_rows(data)
    assert summary[-1]["checkin"] == ["13.5 (9)", "–"]
    # A month is marked when its lowest week is below 13.5: Alex's 9 (issue 16).
    assert summary[-1]["checkin_low"] == [True, False]


# Needs attention -----------------------------------------------------------------------------------------


def raised():
    return sorted((a.kind, a.partner.name if a.partner else None, a.week) for a in Alert.objects.all())


def test_a_reliable_drop_raises_in_the_week_of_the_latest_checkin(couple, partner_a, partner_b, norm):
    totals(partner_a, 17, 15, 14, 12)  # baseline 16 → 12: RCI −2.0; and 14 → 12 crosses the line
    totals(partner_b, 16, 16, 15, 13)  # baseline 16 → 13: RCI −1.5: noise; but 15 → 13 crosses
    alerts_raise(couple=couple)
    assert raised() == [(BELOW, "Alex", THIS_WEEK), (BELOW, "Sam", THIS_WEEK), (DROP, "Alex", THIS_WEEK)]
    drop = Alert.objects.get(kind=DROP)
    assert alert_sentence(drop) == (
        "Alex's weekly check-in total dropped from their baseline by more than measurement noise"
        " (reliable change index below −1.96)."
    )
    below = Alert.objects.get(kind=BELOW, partner=partner_b)
    assert alert_sentence(below) == (
        "Sam's weekly check-in total fell below 13.5, the published line for notable dissatisfaction;"
        " the check-in before was at or above it."
    )
    # Once per (couple, kind, partner, week): again, nothing new.
    assert alerts_raise(couple=couple) == []


def test_a_drop_of_35_points_is_noise(couple, partner_a, norm):
    totals(partner_a, 20, 19, 16)  # baseline 19.5 → 16: −3.5 → RCI −1.75
    alerts_raise(couple=couple)
    assert raised() == []


def test_below_the_line_already_is_no_new_crossing(couple, partner_a, norm):
    totals(partner_a, 13, 13, 12)  # never at or above 13.5
    alerts_raise(couple=couple)
    assert raised() == []


def test_partners_moving_apart_by_a_reliable_margin(couple, partner_a, partner_b, norm):
    # Alex 15 → 18 (+3, noise); Sam 15 → 12 (−3, noise); gap 0 → 6: widened by 6 > 5.544.
    totals(partner_a, 15, 15, 18)
    totals(partner_b, 15, 15, 12)
    alerts_raise(couple=couple)
    assert raised() == [(APART, None, THIS_WEEK), (BELOW, "Sam", THIS_WEEK)]
    apart = Alert.objects.get(kind=APART)
    assert alert_sentence(apart) == (
        "The partners' weekly check-in totals have moved apart since their baselines by more than measurement noise"
        " (the gap widened by more than 1.96 standard errors)."
    )


def test_a_gap_widening_by_5_points_is_noise(couple, partner_a, partner_b, norm):
    totals(partner_a, 16, 16, 18)  # gap 0 → |18 − 13| = 5: not beyond 5.544
    totals(partner_b, 16, 16, 13)  # −3: noise; 16 → 13 crosses the line
    alerts_raise(couple=couple)
    assert raised() == [(BELOW, "Sam", THIS_WEEK)]


def test_without_a_published_sd_only_the_crossing_is_raised(couple, partner_a, partner_b):
    totals(partner_a, 20, 20, 21, 9)  # a huge drop, and across the line
    totals(partner_b, 10, 10, 10, 21)
    alerts_raise(couple=couple)
    assert raised() == [(BELOW, "Alex", THIS_WEEK)]


def test_an_old_checkin_raises_nothing(couple, partner_a, norm):
    totals(partner_a, 17, 15, 14, 12, last=weeks_back(5))  # five weeks ago: past CHECKIN_RECENT_WEEKS (4)
    alerts_raise(couple=couple)
    assert raised() == []


def test_alerts_hold_no_words_and_partners_never_see_totals(client_for, couple, partner_a, partner_b, norm):
    totals(partner_a, 17, 15, 14, 12)
    alerts_raise(couple=couple)
    for person in (partner_a, partner_b):
        for name in ("home", "history", "progress"):
            response = client_for(person).get(reverse(name))
            html = response.content.decode().lower() if response.status_code == 200 else ""
            for word in ("baseline", "reliable", "distress", "13.5", "csi-4 total"):
                assert word not in html, (name, word)


def test_a_configured_sd_makes_the_norm_with_the_published_reliability(settings):
    settings.TEND_CSI4_SD = 4
    settings.TEND_CSI4_SD_SOURCE = "Table 9, a published norm"
    norm = csi4.norm()
    # By hand: SE = 4 × √(1 − .94) = 4 × 0.244949 = 0.979796; S_diff = √2 × SE = 1.385641;
    # reliable change = 1.96 × 1.385641 = 2.715856 points.
    assert norm.standard_error == pytest.approx(0.979796, abs=1e-6)
    assert norm.reliable_points == pytest.approx(2.715856, abs=1e-6)
    assert "Table 9, a published norm" in norm.source
