"""Words typed into a form that could not be saved, kept a short while for the person who typed them.

Partners write their reflections on phones, sometimes slowly, and therapists write notes between
appointments: a form can arrive after its writer was signed out (the idle or absolute limit, a
sign-out in another tab, "sign out everywhere"), or with a stale CSRF token (signed out and in again
in another tab). Instead of losing the words, the form's fields are kept server-side (never in the
browser) for TEND_DRAFT_SECONDS, under the person the form was shown to. The page of that form hands
them back, prefilled, each time that same person opens it (`restore`), until a save of that form
succeeds.

Where they are kept: the cache alias "drafts", its own table (`tend_drafts`, made by
`createcachetable`), never the default cache, whose rows are allauth's sign-in limits and used
authenticator codes: a flood of kept forms can never push those out. At most one draft per person
(a newer one replaces the older), so nobody can fill the table with planted forms: one account, one row.

A form opts in twice:
- its view is decorated with `keeps_draft(FormClass)`: only that form's own fields are kept, so
  nothing but what the person typed into it (never a password, never a token);
- its template carries `{% load drafts %}{% draft_owner %}` (or `{% draft_owner "view_name" %}`
  where the page posts to another view): a signed note of whom the page was shown to, for which
  form, valid only as long as a signed-in page can stay open. Words are kept only for that person,
  so someone else signing in on the same phone never sees them, and nobody can plant words in
  another person's form.
Nothing of a draft is logged; the cache key holds only a user id.
"""

from collections.abc import Callable

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.core.cache import caches
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils.translation import gettext as _

OWNER_FIELD = "tend_form_owner"
_OWNER_SALT = "tend.drafts.owner"
_VIEW_ATTRIBUTE = "tend_draft_form"
_SHOWN_ON_ATTRIBUTE = "tend_draft_shown_on"
_WORDS_ATTRIBUTE = "tend_words_form"


def keeps_draft(form_class: type, *, shown_on: str | None = None) -> Callable:
    """Mark a view whose form (`form_class`) is kept when it cannot be saved (see the module's notes).
    `shown_on`: the name of the page that shows the form, when the view only receives it (same
    URL arguments); that page passes the view's path to `restore`."""

    def mark(view: Callable) -> Callable:
        setattr(view, _VIEW_ATTRIBUTE, form_class)
        setattr(view, _WORDS_ATTRIBUTE, form_class)
        setattr(view, _SHOWN_ON_ATTRIBUTE, shown_on)
        return view

    return mark


def shows_words_on_failure(form_class: type) -> Callable:
    """Mark a view whose posted words the 503 page shows back to copy, without ever keeping them."""

    def mark(view: Callable) -> Callable:
        setattr(view, _WORDS_ATTRIBUTE, form_class)
        return view

    return mark


def _store():
    return caches["drafts"]


def _max_age() -> int:
    # A page can stay open, signed in, for at most the longest idle limit; its draft then lives
    # TEND_DRAFT_SECONDS. A note older than both is not trusted.
    idle = max(settings.TEND_IDLE_SECONDS_THERAPIST, settings.TEND_IDLE_SECONDS_PARTNER)
    return idle + settings.TEND_DRAFT_SECONDS


def owner_token(user, view_name: str) -> str:
    """The signed note of whom a form was shown to, and which form (`view_name`, the view it posts to),
    sent back with the form (`{% draft_owner %}`)."""
    return signing.TimestampSigner(salt=_OWNER_SALT).sign(f"{user.pk}:{view_name}")


def _owner_of(request: HttpRequest, view_name: str) -> int | None:
    try:
        note = signing.TimestampSigner(salt=_OWNER_SALT).unsign(request.POST.get(OWNER_FIELD, ""), max_age=_max_age())
        user_id, _sep, signed_view = note.partition(":")
        return int(user_id) if signed_view == view_name else None
    except (signing.BadSignature, ValueError):
        return None


def _match(request: HttpRequest):
    try:
        return resolve(request.path_info)
    except Resolver404:
        return None


def draft_form(request: HttpRequest) -> type | None:
    """The form class of the view at the request's path, if that view keeps drafts (no database needed)."""
    match = _match(request)
    return getattr(match.func, _VIEW_ATTRIBUTE, None) if match else None


def form_page(request: HttpRequest) -> str:
    """Where the form posted to this path is shown: the path itself, or its view's `shown_on` page."""
    match = _match(request)
    shown_on = getattr(match.func, _SHOWN_ON_ATTRIBUTE, None) if match else None
    if shown_on is None:
        return request.get_full_path()
    try:
        return reverse(shown_on, args=match.args, kwargs=match.kwargs)
    except NoReverseMatch:
        return request.path


def posted_words(request: HttpRequest) -> list[tuple[str, str]]:
    """What the person answered in a posted form whose words may be shown back (`keeps_draft` or
    `shows_words_on_failure`), as (question, answer) pairs, read from the request alone (no
    database). Hidden fields and unanswered questions are left out."""
    match = _match(request) if request.method == "POST" else None
    form_class = getattr(match.func, _WORDS_ATTRIBUTE, None) if match else None
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


def _key(user_id: int) -> str:
    return f"tend-draft:{user_id}"


def keep(request: HttpRequest) -> int | None:
    """Keep a posted form's fields for the person it was shown to, in place of any draft they had;
    their user id, or None when nothing was kept (not a POST, a view that keeps no drafts, no valid
    note of whom this form was for)."""
    match = _match(request) if request.method == "POST" else None
    form_class = getattr(match.func, _VIEW_ATTRIBUTE, None) if match else None
    owner = _owner_of(request, match.view_name) if form_class is not None else None
    if owner is None:
        return None
    fields = {name: request.POST.getlist(name) for name in form_class.base_fields if name in request.POST}
    draft = {"view": match.view_name, "path": request.path, "fields": fields}
    _store().set(_key(owner), draft, settings.TEND_DRAFT_SECONDS)
    return owner


def restore(request: HttpRequest, path: str | None = None) -> dict:
    """On opening a form (GET): the fields kept for the signed-in person from the form posted to `path`
    (by default the page's own), with a word to the person; ready to use as the form's `initial`.
    Empty when nothing was kept. Handed back each time until that form is saved (`forget_saved`), so
    a prefetch or a link scanner opening the page loses nothing."""
    if request.method != "GET" or not request.user.is_authenticated:
        return {}
    draft = _store().get(_key(request.user.pk))
    if draft is None or draft["path"] != (path or request.path):
        return {}
    messages.info(request, _("We kept what you wrote. Please check it and press Save."))
    return {name: values if len(values) > 1 else values[0] for name, values in draft["fields"].items()}


def forget(user_id: int) -> None:
    """Drop whatever was kept for this person (their account or couple is being deleted)."""
    _store().delete(_key(user_id))


@receiver(post_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="tend-drafts-forget-deleted")
def _forget_deleted_user(sender, instance, **kwargs) -> None:
    # Whatever deletes an account (a couple deleted with its record, the admin), its words go with it.
    forget(instance.pk)


def forget_saved(request: HttpRequest) -> None:
    """After a form that keeps drafts was saved: its draft, if the person had one, has done its work."""
    draft = _store().get(_key(request.user.pk))
    if draft is not None and draft["path"] == request.path:
        forget(request.user.pk)


class KeepDraftsMiddleware:
    """A form that arrives from someone no longer signed in is kept for the person it was shown to,
    and the browser sent to sign in and then back to the form's page. Placed after
    SessionRulesMiddleware, so a form that arrives just past the idle or absolute limit is kept too
    (that middleware signs out first). A form saved by its writer (a redirect after their POST)
    drops its draft."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST" or draft_form(request) is None:
            return self.get_response(request)
        if not request.user.is_authenticated:
            if keep(request) is not None:
                messages.info(request, _("We kept what you wrote. Sign in again and it will be back in the form."))
                # Every view that keeps drafts needs sign-in: send them to it, then to the form's page
                # (a view that only receives the form cannot be opened with a GET).
                return redirect_to_login(form_page(request))
            return self.get_response(request)
        response = self.get_response(request)
        if response.status_code in (301, 302, 303) and request.user.is_authenticated:
            forget_saved(request)
        return response
