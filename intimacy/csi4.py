"""The weekly check-in's questionnaire: the 4-item Couples Satisfaction Index (CSI-4).

Items, answers and scoring exactly as published in Funk & Rogge (2007), so totals can be read against
the published threshold. Change nothing here without the paper in hand: a reworded item or a shifted
score is a different instrument.

The total runs 0–21; lower totals mean more distress, and below 13.5 the authors found notable
relationship dissatisfaction. The total and that reading are the therapist's alone: partners answer
the questions and never see a score or the word "distress".
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError

SOURCE = (
    "Funk, J. L., & Rogge, R. D. (2007). Testing the ruler with item response theory: Increasing precision "
    "of measurement for relationship satisfaction with the Couples Satisfaction Index. "
    "Journal of Family Psychology, 21(4), 572–583."
)
SHORT_SOURCE = "CSI-4, Funk & Rogge 2007"
TOTAL_MIN, TOTAL_MAX = 0, 21
# Totals below this suggest notable relationship dissatisfaction (therapist-facing only).
THRESHOLD = 13.5

_TRUE = [
    "Not at all true",
    "A little true",
    "Somewhat true",
    "Mostly true",
    "Almost completely true",
    "Completely true",
]
_AMOUNT = ["Not at all", "A little", "Somewhat", "Mostly", "Almost completely", "Completely"]


@dataclass(frozen=True)
class Item:
    field: str  # the CheckIn column that stores the answer
    question: str
    answers: tuple[str, ...]  # in published order; an answer scores its position, 0 first

    @property
    def high(self) -> int:
        return len(self.answers) - 1

    @property
    def choices(self) -> list[tuple[int, str]]:
        return list(enumerate(self.answers))


ITEMS = (
    Item(
        "happiness",
        "Please indicate the degree of happiness, all things considered, of your relationship.",
        (
            "Extremely unhappy",
            "Fairly unhappy",
            "A little unhappy",
            "Happy",
            "Very happy",
            "Extremely happy",
            "Perfect",
        ),
    ),
    Item("warm", "I have a warm and comfortable relationship with my partner.", tuple(_TRUE)),
    Item("rewarding", "How rewarding is your relationship with your partner?", tuple(_AMOUNT)),
    Item("satisfied", "In general, how satisfied are you with your relationship?", tuple(_AMOUNT)),
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
            errors[item.field] = "Please choose one of the answers."
    if errors:
        raise ValidationError(errors)
    return sum(answers[field] for field in FIELDS)
