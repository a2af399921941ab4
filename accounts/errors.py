"""Tend's own pages for two failures that would otherwise lose what someone typed.

- A form refused by Django's CSRF check (CSRF_FAILURE_VIEW): most often a page opened before its
  writer signed out and in again in another tab. Tend explains, and keeps the words for the person the
  form was shown to (accounts/drafts.py), with a way back to the form.
- The database out of reach (handler500, when the error is the database's): a 503 that says nothing
  was saved and shows the person's own words, from the request alone, to copy.
"""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader
from django.views import defaults

from accounts import drafts

# What the database driver raises when the server is down, unreachable, restarting or too slow (a
# statement timeout is an OperationalError too): nothing of the request could have been saved.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """The CSRF check refused a form. The form's action is never performed here: the only thing kept
    is the form's own fields, for the person the form was shown to, who alone is offered them back."""
    owner = drafts.keep(request)
    own_form = owner is not None and request.user.is_authenticated and owner == request.user.pk
    page = drafts.form_page(request)
    context = {"back_to_form": page if own_form else None, "form_page": page}
    return render(request, "403_csrf.html", context, status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: Django's plain 500 page, unless the database was out of reach (then `database_unavailable`)."""
    if isinstance(sys.exception(), DATABASE_UNAVAILABLE):
        return database_unavailable(request)
    return defaults.server_error(request)


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """503: nothing was saved (every write is one transaction, rolled back whole), and here is what
    you wrote. Rendered without the request's context processors, so without the database: no
    session, user or messages, only the posted form itself."""
    words = drafts.posted_words(request)
    text = "\n\n".join(f"{question}\n{answer}" for question, answer in words)
    html = loader.render_to_string(
        "503.html", {"posted": request.method == "POST", "words": text, "lines": text.count("\n") + 2}
    )
    response = HttpResponse(html, status=503)
    # The page holds what they wrote: no browser or proxy keeps a copy.
    response["Cache-Control"] = "no-store"
    response["Retry-After"] = "60"
    return response
