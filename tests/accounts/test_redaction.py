"""No secret link token reaches a log: `redact`, the logging filter, and Django's configured handlers.

The links are made the way Tend and allauth make them, with real tokens; gunicorn's own logs are read
in tests/config/test_gunicorn.py.
"""

import io
import logging
import re
from urllib.parse import quote

import pytest
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse

from accounts.models import Partner
from accounts.redaction import REDACTED, RedactTokensFilter, redact
from accounts.services import invite_url
from accounts.tokens import unsubscribe_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def secret_links(couple, partner_a):
    """(path, token) for each kind of link whose path carries a secret, made as Tend makes them."""
    pending = Partner.objects.create(couple=couple, slot=2, name="Robin", email="robin@example.org")
    pending.new_invite_nonce()
    pending.save()
    invite = invite_url(pending, site_url="")
    user = partner_a.user
    reset_key = default_token_generator.make_token(user)
    reset = reverse("account_reset_password_from_key", kwargs={"uidb36": user_pk_to_url_str(user), "key": reset_key})
    address = EmailAddress.objects.create(user=user, email="alex.new@example.org", verified=False)
    confirm_key = EmailConfirmationHMAC(address).key
    off_token = unsubscribe_token(user)
    return [
        (invite, invite.rstrip("/").rsplit("/", 1)[1]),
        (reset, reset_key),
        (reverse("account_confirm_email", args=[confirm_key]), confirm_key),
        (reverse("reminders_off", args=[off_token]), off_token),
    ]


def test_every_secret_link_loses_its_token_and_keeps_its_shape(secret_links):
    for path, token in secret_links:
        assert token in path
        clean = redact(path)
        assert token not in clean
        assert clean == path.replace(token, REDACTED)


def test_tokens_go_wherever_the_link_appears(secret_links):
    for path, token in secret_links:
        texts = [
            f'127.0.0.1 - - [01/Jan/2027:10:00:00 +0000] "GET {path} HTTP/1.1" 400 120 "-" "Mozilla"',
            f"https://tend.example.org{path}",  # a Referer
            f"/accounts/login/?next={quote(path, safe='')}",  # a link inside a query string
            f"Bad Request: {path}",
            f"GET {path.replace(':', '%3A')} HTTP/1.1",  # an email client that escaped the signature's colons
        ]
        for text in texts:
            assert token not in redact(text), text
            # The token's longest piece (its signature or hash) is gone too, not just the whole: a piece
            # of one or two characters could stand anywhere in a log line by chance.
            assert max(re.split("[:-]", token), key=len) not in redact(text), text


def test_paths_without_a_secret_stay_as_they_are():
    for path in [
        "/",
        "/couples/12/?weeks=12",
        "/invite/MTI/set-password/",
        "/accounts/password/reset/key/4c-set-password/",
        "/accounts/password/reset/key/done/",
        "/accounts/password/reset/",
        "/reminders/",
        "/invitations/",
    ]:
        assert redact(path) == path


def capture(logger_name: str) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactTokensFilter())
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    logger.propagate = False
    return logger, stream


def test_filter_redacts_messages_arguments_and_tracebacks(secret_links):
    logger, stream = capture("tests.redaction.filter")
    (path, token), (other, other_token) = secret_links[0], secret_links[3]
    logger.warning("Bad Request: %s", path)
    logger.warning(f"Not Found: {other}")
    logger.warning("%(method)s %(path)s", {"method": "GET", "path": path})
    try:
        raise ValueError(f"no such link {path}")
    except ValueError:
        logger.exception("failed")
    logger.warning("%s %s", path)  # arguments that don't fit: the format alone is written
    text = stream.getvalue()
    assert token not in text and other_token not in text
    assert "Bad Request: /invite/" in text and f"Not Found: {redact(other)}" in text
    assert "ValueError: no such link /invite/" in text and REDACTED in text


def test_a_record_without_a_token_keeps_its_arguments():
    # Django's development-server formatter and gunicorn's access format read the arguments.
    record = logging.LogRecord("x", logging.INFO, __file__, 1, '"%s" %s %s', ("GET / HTTP/1.1", "200", "5"), None)
    assert RedactTokensFilter().filter(record) is True
    assert record.args == ("GET / HTTP/1.1", "200", "5")


def test_djangos_own_warning_for_a_dead_link_is_written_without_its_token(client, secret_links):
    """An expired or used invitation answers 400, and django.request logs "Bad Request: <path>": read
    through the handler config/settings.py gives the root logger."""
    (console,) = [h for h in logging.getLogger().handlers if h.name == "console"]
    stream = io.StringIO()
    old = console.setStream(stream)
    try:
        for path, token in secret_links:
            client.get(path[: -len(token) - 1] + token[::-1] + "/")  # the token reversed: no longer good
    finally:
        console.setStream(old)
    text = stream.getvalue()
    assert "Bad Request: /invite/" in text and "Bad Request: /reminders/off/" in text
    for _, token in secret_links:
        assert token[::-1] not in text


def test_pages_of_secret_links_send_no_path_in_the_referer(client, secret_links):
    # The page's own requests (its /static/ files, a link followed from it) would otherwise carry the
    # token in their Referer header into a proxy's access log. strict-origin sends the bare origin
    # only; "no-referrer" would make the browser send `Origin: null` with the page's own form, which
    # Django's CSRF check refuses (tests/browser/test_invitations.py posts that form).
    for path, _token in secret_links:
        response = client.get(path)
        assert response["Referrer-Policy"] == "strict-origin", path
        # A <meta name="referrer"> in the page would override the header.
        assert b'name="referrer"' not in response.content, path


def test_other_pages_keep_same_origin(client, partner_a):
    assert client.get(reverse("account_login"))["Referrer-Policy"] == "same-origin"
    client.force_login(partner_a.user)
    assert client.get(reverse("home"))["Referrer-Policy"] == "same-origin"
