"""Small pieces for the pages written in Python rather than in templates (issue 16, "Fast": the caseload
rows, the reflection cards, the partner's session cards). Each does what a template tag would, once per
page instead of once per row; everything they write goes through format_html, which escapes it."""

from collections.abc import Callable

from django.template.defaulttags import CsrfTokenNode
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

# An id no row has: reversed once a page, the URL around it is the same for every id.
_PK_SLOT = 2147483647


def url_for_pk(name: str) -> Callable[[int], str]:
    """`pk -> URL` for the URL pattern `name`, whose only argument is an id: one reverse() a page, not
    one a row (~25 µs each, as much as a whole card)."""
    head, _, tail = reverse(name, args=[_PK_SLOT]).rpartition(str(_PK_SLOT))
    return lambda pk: f"{head}{int(pk)}{tail}"


def blocktranslate(translated: str, **values) -> SafeString:
    """What `{% blocktranslate with name=… %}` writes: the translated sentence as it stands (that tag
    trusts it, so an apostrophe stays an apostrophe), each value escaped into its `%(name)s`. Callers
    pass gettext("msgid"), so that makemessages finds the msgid."""
    braces_kept = translated.replace("{", "{{").replace("}", "}}")
    return format_html(braces_kept % {key: "{" + key + "}" for key in values}, **values)


def as_written(translated: str) -> SafeString:
    """What `{% translate "…" %}` writes: the catalogue's sentence as it stands. Django trusts a translated
    template literal (an apostrophe stays an apostrophe), so this does too, for the same bytes; callers
    pass gettext("msgid"), a sentence of Tend's own catalogue, never anything a person typed."""
    return mark_safe(translated)  # noqa: S308  # nosec B308 B703: the catalogue is Tend's own, as above


def csrf_input(context) -> str:
    """What `{% csrf_token %}` writes, once a page (it is one token for the whole page anyway)."""
    return CsrfTokenNode().render(context)
