"""An exercise's guidance as sections: `{% for heading, text in exercise.guidance|guidance_sections %}`.

Guidance is plain text that therapists write and reword (blank lines separate paragraphs). A
paragraph whose first line is short and ends without punctuation, with more lines below it, reads as
a heading over those lines ("How to do it", "When not to do it", …); any other paragraph has none.
Nothing is lost or reordered: joining the sections back gives the text as written.
"""

from django import template

register = template.Library()

# Longer than any heading the built-in library uses ("How long and how often"), shorter than a sentence.
HEADING_MAX_LENGTH = 40


def _is_heading(line: str) -> bool:
    line = line.strip()
    return 0 < len(line) <= HEADING_MAX_LENGTH and line[-1] not in ".:;,!?…\"'”" and not line.startswith("•")


@register.filter
def guidance_sections(text: str) -> list[tuple[str, str]]:
    """(heading or "", the paragraph's text) for each paragraph of `text`, in order."""
    sections = []
    for paragraph in text.replace("\r\n", "\n").split("\n\n"):
        first, _, rest = paragraph.partition("\n")
        if rest.strip() and _is_heading(first):
            sections.append((first.strip(), rest))
        elif paragraph.strip():
            sections.append(("", paragraph))
    return sections
