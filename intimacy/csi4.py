"""The weekly check-in's questionnaire: the 4-item Couples Satisfaction Index (CSI-4).

Items, answers and scoring exactly as published in Funk & Rogge (2007), so totals can be read against
the published threshold. Change nothing here without the paper in hand: a reworded item or a shifted
score is a different instrument.

The total runs 0–21; lower totals mean more distress, and below 13.5 the authors found notable
relationship dissatisfaction. The total and that reading are the therapist's alone: partners answer
the questions and never see a score or the word "distress".

The wording is marked for translation, but only a validated translation of the CSI-4 may fill it in
(the translators' note below says so); the citation is never translated.
"""

from dataclasses import dataclass

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
