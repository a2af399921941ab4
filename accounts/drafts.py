"""Words typed into a form that could not be saved, kept a short while for the person who typed them.

Partners write their reflections on phones, sometimes slowly: a form can arrive after its writer
was signed out (the idle or absolute limit, a sign-out in another tab, "sign out everywhere"), or
with a stale CSRF token (signed out and in again in another tab). Instead of losing the words, the
form's fields are kept server-side, in the shared database cache (never in the browser), for
TEND_DRAFT_SECONDS, under the person the form was shown to and the path it was sent to. The view of
that form hands them back, prefilled, the next time that same person opens it (`restore`).

A form opts in twice:
- its view is decorated with `keeps_draft(FormClass)`: only that form's own fields are kept, so
  nothing but what the person typed into it (never a password, never a token);
- its template carries `{% load drafts %}{% draft_owner %}`: a signed note of whom the page was
  shown to. Words are kept only for that person, so someone else signing in on the same phone never
  sees them, and nobody can plant words in another person's form.
Nothing of a draft is logged; the cache key holds only a user id and the form's path (opaque ids).
"""

from collections.abc import Callable

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

OWNER_FIELD = "tend_form_owner"
_OWNER_SALT = "tend.drafts.owner"
_VIEW_ATTRIBUTE = "tend_draft_form"


def keeps_draft(form_class: type) -> Callable:
    """Mark a view whose form (`form_class`) is kept when it cannot be saved (see the module's notes)."""

    def mark(view: Callable) -> Callable:
        setattr(view, _VIEW_ATTRIBUTE, form_class)
        return view

    return mark


def owner_token(user) -> str:
    """The signed note of whom a form was shown to, sent back with the form (`{% draft_owner %}`)."""
    return signing.TimestampSigner(salt=_OWNER_SALT).sign(str(user.pk))


def _owner_of(request: HttpRequest) -> int | None:
    # A page older than the longest session it could have been shown in is not trusted.
    max_age = max(settings.TEND_SESSION_ABSOLUTE_SECONDS, settings.TEND_SESSION_ABSOLUTE_SECONDS_PARTNER)
    try:
        signer = signing.TimestampSigner(salt=_OWNER_SALT)
        return int(signer.unsign(request.POST.get(OWNER_FIELD, ""), max_age=max_age))
    except (signing.BadSignature, ValueError):
        return None


def draft_form(request: HttpRequest) -> type | None:
    """The form class of the view at the request's path, if that view keeps drafts (no database needed)."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    return getattr(match.func, _VIEW_ATTRIBUTE, None)


def posted_words(request: HttpRequest) -> list[tuple[str, str]]:
    """What the person answered in a posted form that keeps drafts, as (question, answer) pairs to show
    them, read from the request alone (no database). Hidden fields and unanswered questions are left out."""
    form_class = draft_form(request) if request.method == "POST" else None
    if form_class is None:
        return []
    words = []
    for name, field in form_class.base_fields.items():
        value = request.POST.get(name, "").strip()
        if value and not field.widget.is_hidden:
            labels = {str(key): label for key, label in getattr(field, "choices", ())}
            answer = _("Yes") if isinstance(field, forms.BooleanField) else labels.get(value, value)
            words.append((str(field.label), str(answer)))
    return words


def _key(user_id: int, path: str) -> str:
    return f"tend-draft:{user_id}:{path}"


def keep(request: HttpRequest) -> int | None:
    """Keep a posted form's fields for the person it was shown to; their user id, or None when nothing
    was kept (not a POST, a view that keeps no drafts, no valid note of whom the form was for)."""
    form_class = draft_form(request) if request.method == "POST" else None
    owner = _owner_of(request) if form_class is not None else None
    if owner is None:
        return None
    fields = {name: request.POST.getlist(name) for name in form_class.base_fields if name in request.POST}
    cache.set(_key(owner, request.path), fields, settings.TEND_DRAFT_SECONDS)
    return owner


def restore(request: HttpRequest) -> dict:
    """On opening a form (GET): the fields kept for the signed-in person at this form's path, handed
    back once (then forgotten), with a word to the person; ready to use as the form's `initial`.
    Empty when nothing was kept."""
    if request.method != "GET" or not request.user.is_authenticated:
        return {}
    key = _key(request.user.pk, request.path)
    fields = cache.get(key)
    if fields is None:
        return {}
    cache.delete(key)
    messages.info(request, _("We kept what you wrote. Please check it and press Save."))
    return {name: values if len(values) > 1 else values[0] for name, values in fields.items()}


class KeepDraftsMiddleware:
    """A form that arrives from someone no longer signed in is kept for the person it was shown to,
    before its view sends the browser to sign in. Placed after SessionRulesMiddleware, so a form that
    arrives just past the idle or absolute limit is kept too (that middleware signs out first)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and not request.user.is_authenticated and keep(request) is not None:
            messages.info(request, _("We kept what you wrote. Sign in again and it will be back in the form."))
        return self.get_response(request)
