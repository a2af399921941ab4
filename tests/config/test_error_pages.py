"""Error pages look like Tend and say something calm and true: a request too big or malformed to read
(400), a refusal (403), a page that isn't there (404) and a failure (500). The 400 and 500 pages are
drawn without the request (Django passes them none), so they must not need one."""

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import RequestFactory
from django.views import defaults

pytestmark = pytest.mark.django_db


def looks_like_tend(html: str) -> bool:
    return "tend/tend.css" in html and 'class="navbar-brand tend-brand"' in html


@pytest.mark.parametrize(
    ("view", "error", "words"),
    [
        (defaults.bad_request, Exception(), "so nothing was saved."),
        (defaults.permission_denied, PermissionDenied(), "This isn't available to you"),
        (defaults.page_not_found, Http404(), "We couldn't find that page"),
        (defaults.server_error, None, "Nothing you saved has been lost."),
    ],
    ids=["400", "403", "404", "500"],
)
def test_each_error_page_looks_like_tend(view, error, words):
    request = RequestFactory().get("/")
    response = view(request) if error is None else view(request, error)
    html = response.content.decode()
    assert looks_like_tend(html) and words in html


def test_a_body_over_the_upload_limit_gets_the_calm_page(client):
    response = client.post(
        "/accounts/login/", {"login": "x@example.org", "password": "p" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert looks_like_tend(html)
    assert "Tend couldn't read what was sent, so nothing was saved." in html


def test_an_unknown_host_gets_the_calm_page_too(client):
    response = client.get("/", HTTP_HOST="elsewhere.example")
    assert response.status_code == 400 and looks_like_tend(response.content.decode())


def test_the_largest_form_fits_well_under_the_upload_limit():
    # The reflection form (log a session) is the largest: three texts at their limit of 5,000 characters
    # (tests/intimacy/test_text_limits.py), every character four bytes of UTF-8 and each byte
    # percent-encoded (3 characters), plus the short fields.
    largest = 3 * 5_000 * 4 * 3 + 4_096
    assert largest == 184_096
    assert 2 * largest < settings.DATA_UPLOAD_MAX_MEMORY_SIZE
