"""The weekly check-in's questionnaire: the 4-item Couples Satisfaction Index (CSI-4).

Items, answers and scoring exactly as published in Funk & Rogge (2007), so totals can be read against
the published threshold. Change nothing here without the paper in hand: a reworded item or a shifted
score is a different instrument.

The total runs 0–21; lower totals mean more distress, and below 13.5 the authors found notable
relationship dissatisfaction. The total and that reading are the therapist's alone: partners answer
the questions and never see a score or the word "distress".

The published items carry no time frame ("this week" is not in them), so the page shows them as
published and says separately, in Tend's own words, that Tend asks them once a week.

Change over time is judged below (`progress`): each partner's baseline, their latest total, and
whether the difference is bigger than the questionnaire's own measurement noise (Jacobson & Truax's
reliable change index). Pure functions: the database is read in intimacy/selectors.py and
intimacy/alerts.py, which hand the totals in.

The wording is marked for translation, but only a validated translation of the CSI-4 may fill it in
(the translators' note below says so); the citation is never translated.
"""

import math
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext, pgettext_lazy

SOURCE = (
    "Funk, J. L., & Rogge, R. D. (2007). Testing the ruler with item response theory: Increasing precision "
    "of measurement for relationship satisfaction with the Couples Satisfaction Index. "
    "Journal of Family Psychology, 21(4), 572–583."
)
SHORT_SOURCE = "CSI-4, Funk & Rogge 2007"
TOTAL_MIN, TOTAL_MAX = 0, 21
# Totals below this suggest notable relationship dissatisfaction (therapist-facing only).
THRESHOLD = 13.5

# Only a validated translation of the CSI-4 may fill in these strings: see the translators' note.
_TRUE = [
    # Translators: every "CSI-4" string is part of a published questionnaire. Use only a validated
    # translation of the CSI-4 in your language; otherwise leave it in English. Translate nothing freely.
    pgettext_lazy("CSI-4", "Not at all true"),
    pgettext_lazy("CSI-4", "A little true"),
    pgettext_lazy("CSI-4", "Somewhat true"),
    pgettext_lazy("CSI-4", "Mostly true"),
    pgettext_lazy("CSI-4", "Almost completely true"),
    pgettext_lazy("CSI-4", "Completely true"),
]
_AMOUNT = [
    pgettext_lazy("CSI-4", "Not at all"),
    pgettext_lazy("CSI-4", "A little"),
    pgettext_lazy("CSI-4", "Somewhat"),
    pgettext_lazy("CSI-4", "Mostly"),
    pgettext_lazy("CSI-4", "Almost completely"),
    pgettext_lazy("CSI-4", "Completely"),
]


@dataclass(frozen=True)
class Item:
    field: str  # the CheckIn column that stores the answer
    wording: Promise  # the question, translated when read
    answer_wording: tuple[Promise, ...]  # in published order; an answer scores its position, 0 first

    @property
    def question(self) -> str:
        """The question in the active language (English unless a validated translation is installed)."""
        return str(self.wording)

    @property
    def answers(self) -> tuple[str, ...]:
        return tuple(str(answer) for answer in self.answer_wording)

    @property
    def high(self) -> int:
        return len(self.answer_wording) - 1

    @property
    def choices(self) -> list[tuple[int, str]]:
        return list(enumerate(self.answers))


ITEMS = (
    Item(
        "happiness",
        # Translators: a published questionnaire item: a validated CSI-4 translation only (see above).
        pgettext_lazy("CSI-4", "Please indicate the degree of happiness, all things considered, of your relationship."),
        (
            pgettext_lazy("CSI-4", "Extremely unhappy"),
            pgettext_lazy("CSI-4", "Fairly unhappy"),
            pgettext_lazy("CSI-4", "A little unhappy"),
            pgettext_lazy("CSI-4", "Happy"),
            pgettext_lazy("CSI-4", "Very happy"),
            pgettext_lazy("CSI-4", "Extremely happy"),
            pgettext_lazy("CSI-4", "Perfect"),
        ),
    ),
    Item("warm", pgettext_lazy("CSI-4", "I have a warm and comfortable relationship with my partner."), tuple(_TRUE)),
    Item("rewarding", pgettext_lazy("CSI-4", "How rewarding is your relationship with your partner?"), tuple(_AMOUNT)),
    Item(
        "satisfied", pgettext_lazy("CSI-4", "In general, how satisfied are you with your relationship?"), tuple(_AMOUNT)
    ),
)
FIELDS = tuple(item.field for item in ITEMS)


def score(answers: dict) -> int:
    """The CSI-4 total of one set of answers: the sum of the four item scores, 0–21.

    Raises ValidationError naming each item that is missing or outside its published range.
    """
    errors = {}
    for item in ITEMS:
        value = answers.get(item.field)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= item.high:
            errors[item.field] = gettext("Please choose one of the answers.")
    if errors:
        raise ValidationError(errors)
    return sum(answers[field] for field in FIELDS)


# Reliable change ------------------------------------------------------------------------------------

# Jacobson, N. S., & Truax, P. (1991). Clinical significance: A statistical approach to defining
# meaningful change in psychotherapy research. Journal of Consulting and Clinical Psychology, 59(1), 12–19.
RCI_SOURCE = "Jacobson & Truax 1991"
# |RCI| above this is a change that measurement error alone would produce less than 5% of the time.
RCI_CRITICAL = 1.96

# The CSI-4's internal consistency (Cronbach's alpha) as Funk & Rogge (2007) report it for the 4-item
# scale: .94, the figure the literature quotes for the CSI-4. Jacobson & Truax use the measure's
# reliability as r. The stored transcripts of the paper searched while building this (fdocuments.us
# "Relationship Satisfaction With the Couples", the scribd copy) gave only their opening pages, not the
# table of scale statistics: check this value and its table number against the paper itself.
PUBLISHED_RELIABILITY = 0.94
RELIABILITY_SOURCE = "Funk & Rogge 2007, coefficient alpha of the CSI-4"


@dataclass(frozen=True)
class Norm:
    """The two published numbers the reliable change index needs, and where they are printed.

    SE = sd × √(1 − r) is the standard error of one total; S_diff = √(2 × SE²) that of the difference
    of two totals; a change is reliable when |change| / S_diff > 1.96 (Jacobson & Truax 1991)."""

    sd: float
    reliability: float
    source: str

    @property
    def standard_error(self) -> float:
        return self.sd * math.sqrt(1 - self.reliability)

    @property
    def s_diff(self) -> float:
        return math.sqrt(2 * self.standard_error**2)

    @property
    def reliable_points(self) -> float:
        """The smallest change in points that is reliable: 1.96 × S_diff (a change must be larger)."""
        return RCI_CRITICAL * self.s_diff

    @property
    def reliable_gap_points(self) -> float:
        """How much wider the gap between two partners' totals must grow to be reliable.

        A gap is the difference of two totals (SE√2); the change of a gap from baseline to now is a
        difference of two gaps, so its standard error is √(2 × 2 × SE²) = 2 × SE = √2 × S_diff, and
        it must exceed 1.96 × 2 × SE."""
        return RCI_CRITICAL * 2 * self.standard_error


# The published standard deviation of CSI-4 totals is not in the code: it could not be confirmed from
# the paper's table of scale statistics (Funk & Rogge 2007) on the closed network Tend was built on,
# and no figure is made up. A practice sets it, with where it is printed, in TEND_CSI4_SD and
# TEND_CSI4_SD_SOURCE (docs/DEPLOY.md). Until then reliable change is "not judged" on the dashboard
# and the two alerts that need it stay quiet; the 13.5 crossing needs no SD and works.


def norm() -> Norm | None:
    """The norm the reliable change index uses: the configured published SD with the CSI-4's published
    reliability, or None when no SD is configured."""
    if settings.TEND_CSI4_SD is None:
        return None
    return Norm(
        sd=settings.TEND_CSI4_SD,
        reliability=PUBLISHED_RELIABILITY,
        source=f"SD: {settings.TEND_CSI4_SD_SOURCE}; reliability: {RELIABILITY_SOURCE}",
    )


# The baseline is the mean of a partner's first two check-ins, so change is judged from the third on.
# Why two: one week's answers carry that week's mood in full (the first check-in often falls in the
# hopeful or raw week of starting therapy); the mean of two halves that error's variance. The index
# keeps √2 × SE for the difference, which treats the baseline as one answer: a little conservative.
BASELINE_CHECKINS = 2


def rci(baseline: float, latest: float, norm: Norm) -> float:
    """The reliable change index: (latest − baseline) / S_diff."""
    return (latest - baseline) / norm.s_diff


class Change(StrEnum):
    """What a partner's change from baseline amounts to."""

    RELIABLE_DROP = "reliable_drop"
    RELIABLE_RISE = "reliable_rise"
    NOISE = "noise"  # within measurement noise
    NOT_JUDGED = "not_judged"  # too few check-ins, or no published SD configured (TEND_CSI4_SD)


def change(baseline: float | None, latest: float | None, norm: Norm | None) -> Change:
    """Judge latest against baseline with the reliable change index."""
    if baseline is None or latest is None or norm is None:
        return Change.NOT_JUDGED
    index = rci(baseline, latest, norm)
    if index < -RCI_CRITICAL:
        return Change.RELIABLE_DROP
    if index > RCI_CRITICAL:
        return Change.RELIABLE_RISE
    return Change.NOISE


class Crossing(StrEnum):
    """Whether a total moved across the 13.5 line between two check-ins (or baseline and latest)."""

    BELOW = "below"  # was at or above 13.5, now below
    ABOVE = "above"  # was below, now at or above
    NONE = "none"


def crossing(before: float | None, after: float | None) -> Crossing:
    if before is None or after is None:
        return Crossing.NONE
    if before >= THRESHOLD > after:
        return Crossing.BELOW
    if before < THRESHOLD <= after:
        return Crossing.ABOVE
    return Crossing.NONE


@dataclass(frozen=True)
class PartnerProgress:
    """One partner's check-ins read against their baseline. `totals` are (week, total), oldest first."""

    partner_id: int
    totals: tuple[tuple[date, int], ...]
    norm: Norm | None

    @property
    def count(self) -> int:
        return len(self.totals)

    @property
    def baseline(self) -> float | None:
        """The mean of the first BASELINE_CHECKINS totals; None until there are that many."""
        if self.count < BASELINE_CHECKINS:
            return None
        return sum(total for _, total in self.totals[:BASELINE_CHECKINS]) / BASELINE_CHECKINS

    @property
    def newest(self) -> int | None:
        """The newest total, whether or not a baseline exists yet."""
        return self.totals[-1][1] if self.totals else None

    @property
    def latest(self) -> int | None:
        """The newest total, once there is one after the baseline's: the one change is judged on."""
        return self.newest if self.count > BASELINE_CHECKINS else None

    @property
    def latest_week(self) -> date | None:
        return self.totals[-1][0] if self.totals else None

    @property
    def previous(self) -> int | None:
        return self.totals[-2][1] if self.count >= 2 else None

    @property
    def difference(self) -> float | None:
        """Latest minus baseline, in points (negative: lower, i.e. less satisfied)."""
        if self.baseline is None or self.latest is None:
            return None
        return self.latest - self.baseline

    @property
    def change(self) -> Change:
        return change(self.baseline, self.latest, self.norm)

    @property
    def crossing(self) -> Crossing:
        """Across the 13.5 line from baseline to the latest total."""
        return crossing(self.baseline, self.latest)

    @property
    def crossed_below_now(self) -> bool:
        """The newest check-in is below 13.5 and the one before it was at or above."""
        if self.count < 2:
            return False
        return crossing(self.previous, self.totals[-1][1]) is Crossing.BELOW


@dataclass(frozen=True)
class CoupleProgress:
    """Both partners' progress, and the gap between them."""

    partners: tuple[PartnerProgress, ...]
    norm: Norm | None

    @property
    def judged(self) -> bool:
        return len(self.partners) == 2 and all(p.latest is not None for p in self.partners)

    @property
    def gap(self) -> int | None:
        """The gap between the partners' latest totals, in points."""
        if not self.judged:
            return None
        a, b = self.partners
        return abs(a.latest - b.latest)

    @property
    def baseline_gap(self) -> float | None:
        if not self.judged:
            return None
        a, b = self.partners
        return abs(a.baseline - b.baseline)

    @property
    def diverging(self) -> bool:
        """The gap between the latest totals is wider than the gap between the baselines by more than
        the reliable amount for a gap (`Norm.reliable_gap_points`). Never without a published SD."""
        if self.norm is None or not self.judged:
            return False
        return self.gap - self.baseline_gap > self.norm.reliable_gap_points

    @property
    def latest_week(self) -> date | None:
        weeks = [p.latest_week for p in self.partners if p.latest_week]
        return max(weeks) if weeks else None


def progress(rows, partner_ids, norm: Norm | None) -> CoupleProgress:
    """Read (partner id, week, total) rows, in any order, into each partner's progress, in the order
    of `partner_ids`."""
    by_partner: dict[int, list[tuple[date, int]]] = {pk: [] for pk in partner_ids}
    for partner_id, week, total in rows:
        by_partner.setdefault(partner_id, []).append((week, total))
    return CoupleProgress(tuple(PartnerProgress(pk, tuple(sorted(by_partner[pk])), norm) for pk in partner_ids), norm)
