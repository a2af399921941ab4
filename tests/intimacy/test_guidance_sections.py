"""intimacy/templatetags/guidance.py: guidance text as headed sections on the exercise page."""

from intimacy.builtin import BACK_RUB
from intimacy.templatetags.guidance import guidance_sections


def test_a_short_first_line_without_punctuation_heads_its_paragraph():
    text = "Intro sentence.\n\nHow to do it\n• One.\n• Two.\n\nWhy it helps: a sentence."
    assert guidance_sections(text) == [
        ("", "Intro sentence."),
        ("How to do it", "• One.\n• Two."),
        ("", "Why it helps: a sentence."),
    ]


def test_a_lone_line_or_a_bullet_is_never_a_heading():
    assert guidance_sections("Just a line\n\n• a bullet\n• another") == [
        ("", "Just a line"),
        ("", "• a bullet\n• another"),
    ]


def test_the_back_rub_reads_as_its_four_headed_sections_and_loses_nothing():
    # Headings counted by hand in intimacy/builtin.py: Before you start, For the one who gives, For the
    # one who receives, Both of you; the opening paragraph and "Why it helps" have none.
    sections = guidance_sections(BACK_RUB["guidance"])
    assert [h for h, _ in sections if h] == [
        "Before you start",
        "For the one who gives",
        "For the one who receives",
        "Both of you",
    ]
    rebuilt = "\n\n".join(f"{h}\n{t}" if h else t for h, t in sections)
    assert rebuilt == BACK_RUB["guidance"]
