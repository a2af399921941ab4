"""Push reminders (issue 17): the sending side against a local push service, the subscription's
storage and removal, the endpoints' rules, the service worker and the Reminders page.

The push service is a threading http.server on loopback playing the part of FCM or Mozilla's: pywebpush
posts to the subscription's endpoint URL, so the test's subscription points there. The VAPID key pair
and the browser's key pair and auth secret are made here with `cryptography`, so the encryption runs
for real and the body is decrypted as a browser would (http_ece, the browser's private key).

Times: Monday 23 November 2026, London (GMT, local = UTC); Alex's reminders are on for Mondays at
19:00, so at 19:00 UTC one "planned" reminder is due for Alex (tests/intimacy/test_reminders.py).
"""

import base64
import json
import logging
import os
import threading
from datetime import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse

from accounts.models import PushSubscription, ReminderSend
from accounts.services import push_subscription_save, reminders_set
from config.settings import _check_vapid
from intimacy import reminders
from intimacy.reminders import reminders_run

pytestmark = pytest.mark.django_db

MONDAY_7PM = "2026-11-23 19:00:00+00:00"
NEUTRAL = {"title": "Tend", "body": "There is something new for you in Tend", "url": "/"}
FCM = "https://fcm.googleapis.com/fcm/send/"


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_pair() -> tuple[ec.EllipticCurvePrivateKey, str, str]:
    """A P-256 pair: the key, its private number (32 bytes) and public point (65 bytes), base64url."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = b64(key.private_numbers().private_value.to_bytes(32, "big"))
    public = b64(key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))
    return key, private, public


@pytest.fixture
def vapid(settings):
    """Push set up as a deployment would, with a fresh VAPID pair."""
    _, private, public = key_pair()
    settings.TEND_VAPID_PUBLIC_KEY, settings.TEND_VAPID_PRIVATE_KEY = public, private
    settings.TEND_VAPID_SUBJECT = "mailto:practice@example.org"
    settings.TEND_PUSH_ENABLED = True
    return public


class PushService:
    """A push service on loopback: records each request; answers `status` (201, or what a test sets)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 201
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                service.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                self.send_response(service.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def push_service():
    service = PushService()
    yield service
    service.close()


class Browser:
    """A browser's side of a subscription: its key pair and auth secret, to decrypt what arrives."""

    def __init__(self):
        self.key, _, self.p256dh = key_pair()
        self.auth = b64(os.urandom(16))

    def decrypt(self, body: bytes) -> dict:
        plain = http_ece.decrypt(body, private_key=self.key, auth_secret=unb64(self.auth), version="aes128gcm")
        return json.loads(plain)


@pytest.fixture
def alex_subscribed(vapid, push_service, partner_a, assignment):
    """Alex's reminders on for Mondays at 19:00, and one browser subscribed at the local push service."""
    reminders_set(partner=partner_a, on=True, weekdays=[0], at=time(19, 0))
    browser = Browser()
    # Straight into the table: the form allows only the real push services' https addresses.
    subscription = PushSubscription.objects.create(
        user=partner_a.user, endpoint=f"{push_service.url}/push/alex-phone", p256dh=browser.p256dh, auth=browser.auth
    )
    return browser, subscription


def run(when: str = MONDAY_7PM):
    with time_machine.travel(when, tick=False):
        return reminders_run()


def push_rows():
    return list(ReminderSend.objects.filter(channel=ReminderSend.Channel.PUSH).values_list("kind", "status"))


# Sending ------------------------------------------------------------------------------------------


def test_a_reminder_goes_as_an_encrypted_neutral_notification_once(alex_subscribed, push_service, vapid, mailoutbox):
    browser, subscription = alex_subscribed
    result = run()
    assert (result.sent, result.pushed) == (1, 1)
    assert len(mailoutbox) == 1  # the email as before
    (request,) = push_service.requests
    assert request["path"] == "/push/alex-phone"
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["content-encoding"] == "aes128gcm"
    assert headers["ttl"] == str(6 * 60 * 60) and headers["topic"] == "tend-reminder"
    # VAPID (RFC 8292): "vapid t=<JWT>, k=<the public key>"; the JWT names this push service and the practice.
    scheme, params = headers["authorization"].split(" ", 1)
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    assert scheme == "vapid" and fields["k"] == vapid
    claims = json.loads(unb64(fields["t"].split(".")[1]))
    assert claims["aud"] == push_service.url and claims["sub"] == "mailto:practice@example.org"
    # The body decrypts with the browser's key to the neutral words, and nothing else.
    assert browser.decrypt(request["body"]) == NEUTRAL
    assert b"Alex" not in request["body"] and b"alex" not in request["body"]
    assert push_rows() == [("planned", "sent")]
    subscription.refresh_from_db()
    assert subscription.last_used_at is not None
    # Never twice: the next runs within the reminder's two hours send nothing more.
    run("2026-11-23 19:05:00+00:00")
    run("2026-11-23 20:55:00+00:00")
    assert len(push_service.requests) == 1 and len(mailoutbox) == 1


def test_the_checkin_notification_opens_the_checkin(alex_subscribed, push_service, partner_a):
    browser, _ = alex_subscribed
    reminders_set(partner=partner_a, on=True, weekdays=[], at=time(19, 0))
    run("2026-11-29 19:00:00+00:00")  # Sunday: the weekly check-in, nothing else
    (request,) = push_service.requests
    assert browser.decrypt(request["body"]) == {**NEUTRAL, "url": reverse("checkin")}


def test_every_browser_gets_it(alex_subscribed, push_service, partner_a):
    laptop = Browser()
    PushSubscription.objects.create(
        user=partner_a.user, endpoint=f"{push_service.url}/push/alex-laptop", p256dh=laptop.p256dh, auth=laptop.auth
    )
    assert run().pushed == 1  # one notification a person, counted once
    assert sorted(r["path"] for r in push_service.requests) == ["/push/alex-laptop", "/push/alex-phone"]
    assert laptop.decrypt(next(r for r in push_service.requests if r["path"].endswith("laptop"))["body"]) == NEUTRAL


@pytest.mark.parametrize("status", [404, 410])
def test_an_expired_subscription_is_removed(alex_subscribed, push_service, mailoutbox, status):
    push_service.status = status
    result = run()
    assert (result.sent, result.pushed, result.failed) == (1, 0, 0)
    assert len(push_service.requests) == 1
    assert not PushSubscription.objects.exists()
    assert push_rows() == [("planned", "cancelled")]  # nowhere left to send it; the email went
    assert len(mailoutbox) == 1


def test_another_error_keeps_the_subscription_and_tries_again_next_run(alex_subscribed, push_service, caplog):
    _, subscription = alex_subscribed
    push_service.status = 500
    with caplog.at_level(logging.WARNING):
        result = run()
    assert (result.pushed, result.failed) == (0, 1)
    assert PushSubscription.objects.filter(pk=subscription.pk).exists()
    assert push_rows() == [("planned", "pending")]
    # The log names the subscription and the rows by id: never the endpoint nor the keys.
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert f"subscription {subscription.pk}" in text
    assert "alex-phone" not in text and push_service.url not in text and subscription.p256dh not in text
    # The next run, after RETRY_AFTER, sends it once the push service works again.
    push_service.status = 201
    assert run("2026-11-23 19:05:00+00:00").pushed == 1
    assert push_rows() == [("planned", "sent")]
    assert len(push_service.requests) == 2


def test_one_browser_that_took_it_is_enough(alex_subscribed, push_service, partner_a):
    # A second browser whose push service is away: the one that took it counts as sent.
    PushSubscription.objects.create(
        user=partner_a.user, endpoint="http://127.0.0.1:9/push/gone-away", p256dh=Browser().p256dh, auth=b64(b"x" * 16)
    )
    assert run().pushed == 1
    assert push_rows() == [("planned", "sent")]
    assert PushSubscription.objects.count() == 2


def test_no_notification_when_reminders_are_off(alex_subscribed, push_service, partner_a):
    reminders_set(partner=partner_a, on=False, weekdays=[0])
    run()
    assert push_service.requests == [] and push_rows() == []


def test_no_notification_when_push_is_not_set_up(alex_subscribed, push_service, settings, mailoutbox):
    settings.TEND_PUSH_ENABLED = False
    assert run().sent == 1
    assert push_service.requests == [] and push_rows() == []


def test_turned_on_within_the_two_hours_still_gets_it_once(vapid, push_service, partner_a, assignment):
    reminders_set(partner=partner_a, on=True, weekdays=[0], at=time(19, 0))
    run()  # the email; no browser yet
    browser = Browser()
    PushSubscription.objects.create(
        user=partner_a.user, endpoint=f"{push_service.url}/push/late", p256dh=browser.p256dh, auth=browser.auth
    )
    run("2026-11-23 19:30:00+00:00")
    run("2026-11-23 19:40:00+00:00")
    assert len(push_service.requests) == 1
    assert sorted(ReminderSend.objects.values_list("channel", "status")) == [("email", "sent"), ("push", "sent")]


def test_a_push_cut_off_while_sending_is_sent_once_more_like_an_email(alex_subscribed, push_service):
    # The generic recovery of "sending" rows (intimacy/reminders.py, _recover) covers notifications too.
    now = reminders.timezone.now()
    with time_machine.travel(MONDAY_7PM, tick=False):
        now = reminders.timezone.now()
        reminders._record(reminders.reminders_due(now), now)
    ReminderSend.objects.filter(channel="push").update(status="sending", next_attempt_at=now)
    run("2026-11-23 19:20:00+00:00")
    assert len(push_service.requests) == 1
    assert push_rows() == [("planned", "sent")]


# Settings ------------------------------------------------------------------------------------------


def test_vapid_settings_all_or_none_and_a_matching_pair():
    _, private, public = key_pair()
    _check_vapid("", "", "")
    _check_vapid(public, private, "mailto:practice@example.org")
    with pytest.raises(ImproperlyConfigured, match="all of"):
        _check_vapid(public, "", "mailto:practice@example.org")
    with pytest.raises(ImproperlyConfigured, match="mailto"):
        _check_vapid(public, private, "practice@example.org")
    _, other_private, _ = key_pair()
    with pytest.raises(ImproperlyConfigured) as raised:
        _check_vapid(public, other_private, "mailto:practice@example.org")
    assert other_private not in str(raised.value)  # a key is never echoed into a log


# Subscribing and turning off ------------------------------------------------------------------------


def subscription_json(endpoint: str = FCM + "abc123") -> dict:
    browser = Browser()
    return {"endpoint": endpoint, "expirationTime": None, "keys": {"p256dh": browser.p256dh, "auth": browser.auth}}


def post_json(client, name: str, data) -> int:
    body = data if isinstance(data, str | bytes) else json.dumps(data)
    return client.post(reverse(name), body, content_type="application/json").status_code


def test_a_partner_subscribes_a_browser(client_for, partner_a, vapid):
    client = client_for(partner_a)
    data = subscription_json()
    assert post_json(client, "push_subscribe", data) == 200
    (row,) = PushSubscription.objects.all()
    assert (row.user, row.endpoint, row.p256dh, row.auth) == (
        partner_a.user,
        data["endpoint"],
        data["keys"]["p256dh"],
        data["keys"]["auth"],
    )
    # The same browser again (new keys): still one row, with the new keys.
    again = subscription_json()
    assert post_json(client, "push_subscribe", again) == 200
    assert list(PushSubscription.objects.values_list("p256dh", flat=True)) == [again["keys"]["p256dh"]]


def test_a_browser_shared_by_both_partners_follows_whoever_turned_it_on_last(client_for, partner_a, partner_b, vapid):
    data = subscription_json()
    assert post_json(client_for(partner_a), "push_subscribe", data) == 200
    assert post_json(client_for(partner_b), "push_subscribe", data) == 200
    assert list(PushSubscription.objects.values_list("user", flat=True)) == [partner_b.user_id]


BAD_BODIES = [
    "not json",
    b"\xff\xfe",
    "[]",
    "null",
    json.dumps({"endpoint": FCM + "abc"}),  # no keys
    json.dumps({**subscription_json("http://fcm.googleapis.com/fcm/send/abc")}),  # not https
    json.dumps({**subscription_json("https://127.0.0.1/push")}),  # not a push service
    json.dumps({**subscription_json("https://fcm.googleapis.com.example.net/x")}),  # only looks like one
    # Read as Google's by Python's urlsplit, but requests (urllib3) posts to 127.0.0.1: a blind SSRF.
    json.dumps({**subscription_json("https://127.0.0.1\\@fcm.googleapis.com/fcm/send/x")}),
    json.dumps({**subscription_json("https://10.0.0.5:8443\\@fcm.googleapis.com/fcm/send/x")}),
    json.dumps({**subscription_json("https://someone@fcm.googleapis.com/fcm/send/x")}),  # a user part
    json.dumps({**subscription_json("https://fcm.googleapis.com:22/fcm/send/x")}),  # another port
    json.dumps({**subscription_json(), "keys": {"p256dh": b64(b"x" * 65), "auth": b64(b"y" * 16)}}),  # not a point
    json.dumps({**subscription_json(), "keys": {"p256dh": Browser().p256dh, "auth": b64(b"y" * 8)}}),  # short secret
    json.dumps({**subscription_json(FCM + "x" * 1000)}),  # too long
    json.dumps({"endpoint": ["a list"], "keys": "a string"}),
]


BAD_BODY_IDS = [
    "not-json",
    "not-utf8",
    "a-list",
    "null",
    "no-keys",
    "not-https",
    "not-a-push-service",
    "only-looks-like-one",
    "backslash-to-loopback",
    "backslash-to-private",
    "user-part",
    "another-port",
    "key-not-a-point",
    "short-secret",
    "too-long",
    "wrong-types",
]


# Fixed ids: the bodies hold freshly generated keys, and pytest-xdist's workers must collect the same names.
@pytest.mark.parametrize("body", BAD_BODIES, ids=BAD_BODY_IDS)
def test_a_bad_subscription_is_400_with_nothing_stored(client_for, partner_a, vapid, body):
    assert post_json(client_for(partner_a), "push_subscribe", body) == 400
    assert not PushSubscription.objects.exists()


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://127.0.0.1\\@fcm.googleapis.com/fcm/send/x",
        "https://evil.example\\@push.services.mozilla.com/wpush/v2/x",
        "https://fcm.googleapis.com/fcm/send/x",
        "https://updates.push.services.mozilla.com/wpush/v2/gAAAAABh-x_y",
        "https://web.push.apple.com/QGuQyavXutnMH",
        "https://wns2-par02p.notify.windows.com/w/?token=BQYAAAB%2bx%3d",
    ],
)
def test_an_allowed_endpoint_is_the_host_requests_will_post_to(endpoint):
    """The allow-list is checked on the host that requests (under pywebpush) will connect to, not on
    what another URL parser reads: an endpoint is allowed only when urllib3 sees a push service too."""
    from urllib3.util import parse_url

    from accounts import push

    if push.endpoint_allowed(endpoint):
        host = parse_url(endpoint).host
        assert any(host == h or host.endswith("." + h) for h in push.PUSH_SERVICE_HOSTS), host


def test_subscribing_while_push_is_not_set_up_stores_nothing(client_for, partner_a):
    assert post_json(client_for(partner_a), "push_subscribe", subscription_json()) == 409
    assert not PushSubscription.objects.exists()


def test_the_endpoints_need_the_csrf_token(partner_a, vapid):
    client = Client(enforce_csrf_checks=True)
    client.force_login(partner_a.user)
    assert post_json(client, "push_subscribe", subscription_json()) == 403
    assert not PushSubscription.objects.exists()
    push_subscription_save(user=partner_a.user, endpoint=FCM + "kept", p256dh="k", auth="a")
    assert post_json(client, "push_unsubscribe", {"endpoint": FCM + "kept"}) == 403
    assert PushSubscription.objects.count() == 1


@pytest.mark.parametrize("name", ["push_subscribe", "push_unsubscribe"])
def test_the_endpoints_rules(client, client_for, partner_a, therapist, name, vapid):
    data = subscription_json()
    assert client.get(reverse(name)).status_code == 302  # anonymous: sign in (GET is 405 once signed in)
    assert post_json(client, name, data) == 302
    assert post_json(client_for(therapist), name, data) == 403
    assert client_for(partner_a).get(reverse(name)).status_code == 405
    assert not PushSubscription.objects.exists()


def test_turning_off_removes_only_that_browser_and_only_ones_own(client_for, partner_a, partner_b, vapid):
    phone = push_subscription_save(user=partner_a.user, endpoint=FCM + "phone", p256dh="k", auth="a")
    push_subscription_save(user=partner_a.user, endpoint=FCM + "laptop", p256dh="k", auth="a")
    sams = push_subscription_save(user=partner_b.user, endpoint=FCM + "sams", p256dh="k", auth="a")
    client = client_for(partner_a)
    assert post_json(client, "push_unsubscribe", {"endpoint": phone.endpoint}) == 200
    assert post_json(client, "push_unsubscribe", {"endpoint": sams.endpoint}) == 200  # says nothing of others'
    assert sorted(PushSubscription.objects.values_list("endpoint", flat=True)) == [FCM + "laptop", FCM + "sams"]
    assert post_json(client, "push_unsubscribe", "not json") == 400
    assert post_json(client, "push_unsubscribe", {"endpoint": 3}) == 400


def test_sign_out_everywhere_removes_every_browser(client_for, partner_a, partner_b):
    push_subscription_save(user=partner_a.user, endpoint=FCM + "phone", p256dh="k", auth="a")
    push_subscription_save(user=partner_a.user, endpoint=FCM + "lost-phone", p256dh="k", auth="a")
    push_subscription_save(user=partner_b.user, endpoint=FCM + "sams", p256dh="k", auth="a")
    client = client_for(partner_a)
    assert reverse("usersessions_list") == reverse("sign_out_everywhere")
    assert client.get(reverse("usersessions_list")).status_code == 200  # allauth's page, unchanged
    response = client.post(reverse("usersessions_list"))
    assert response.status_code == 302
    assert list(PushSubscription.objects.values_list("endpoint", flat=True)) == [FCM + "sams"]


def test_signing_out_stops_this_browsers_notifications_only(client_for, partner_a, partner_b, vapid):
    # Alex turned notifications on in this browser and on a laptop; Sam on Sam's phone.
    client = client_for(partner_a)
    assert post_json(client, "push_subscribe", subscription_json(FCM + "this-phone")) == 200
    push_subscription_save(user=partner_a.user, endpoint=FCM + "laptop", p256dh="k", auth="a")
    push_subscription_save(user=partner_b.user, endpoint=FCM + "sams", p256dh="k", auth="a")
    assert client.post(reverse("account_logout")).status_code == 302
    # Whoever picks up this phone next gets none of Alex's; the laptop and Sam's phone still do.
    assert sorted(PushSubscription.objects.values_list("endpoint", flat=True)) == [FCM + "laptop", FCM + "sams"]


def test_signing_out_leaves_a_browser_someone_else_turned_on_since(client_for, partner_a, partner_b, vapid):
    # Alex turned it on here, then Sam signed in on the same phone in another session and turned it on:
    # the subscription is Sam's now, and Alex's old session signing out must not take it away.
    alex = client_for(partner_a)
    assert post_json(alex, "push_subscribe", subscription_json(FCM + "shared")) == 200
    sam = Client()
    sam.force_login(partner_b.user)
    assert post_json(sam, "push_subscribe", subscription_json(FCM + "shared")) == 200
    assert alex.post(reverse("account_logout")).status_code == 302
    assert list(PushSubscription.objects.values_list("user", flat=True)) == [partner_b.user_id]


# The service worker and the page --------------------------------------------------------------------


def test_the_service_worker_is_served_at_the_root(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    source = response.content.decode()
    assert 'addEventListener("push"' in source and 'addEventListener("notificationclick"' in source
    # Push and taps only: no fetch handler, no cache.
    assert 'addEventListener("fetch"' not in source and "caches." not in source and "importScripts" not in source


def test_the_csp_lets_the_worker_run(client):
    assert "worker-src 'self'" in client.get("/sw.js")["Content-Security-Policy"]


def test_the_permissions_policy_leaves_notifications_alone(client):
    policy = client.get("/sw.js").get("Permissions-Policy", "")
    assert "notifications" not in policy and "push" not in policy


def test_the_reminders_page_offers_notifications_when_set_up(client_for, partner_a, vapid):
    push_subscription_save(user=partner_a.user, endpoint=FCM + "phone", p256dh="k", auth="a")
    page = client_for(partner_a).get(reverse("reminder_settings")).content.decode()
    assert f'data-key="{vapid}"' in page
    assert "tend/push.js" in page and "Turn on notifications" in page
    # Digests of the browsers kept, never the endpoints (sha256 of the endpoint, worked out by hashlib here).
    import hashlib

    assert hashlib.sha256((FCM + "phone").encode()).hexdigest() in page
    assert FCM not in page


def test_the_reminders_page_says_calmly_when_notifications_are_not_set_up(client_for, partner_a):
    page = client_for(partner_a).get(reverse("reminder_settings")).content.decode()
    assert "Notifications are not set up for this Tend, so reminders come by email only." in page
    assert "tend/push.js" not in page and "data-key" not in page


def test_a_person_keeps_at_most_ten_browsers_the_newest(partner_a):
    for n in range(12):
        push_subscription_save(user=partner_a.user, endpoint=f"{FCM}browser-{n}", p256dh="k", auth="a")
    kept = sorted(int(e.rsplit("-", 1)[1]) for e in PushSubscription.objects.values_list("endpoint", flat=True))
    assert kept == list(range(2, 12))  # 12 saved, the 2 oldest (0 and 1) went


def test_the_worker_names_the_icon_by_its_static_url(client):
    source = client.get("/sw.js").content.decode()
    assert "__TEND_ICON__" not in source and '"/static/tend/icon-192.png"' in source


def test_the_database_holds_the_subscriptions_limits(partner_a):
    from django.db import DataError, IntegrityError, transaction

    row = push_subscription_save(user=partner_a.user, endpoint=FCM + "x", p256dh="k", auth="a")
    # 1000 characters for the endpoint, 100 for each key (accounts/models.py), worked out here.
    for field, limit in (("endpoint", 1000), ("p256dh", 100), ("auth", 100)):
        setattr(row, field, "y" * limit)
        row.save(update_fields=[field])
        setattr(row, field, "y" * (limit + 1))
        with pytest.raises((IntegrityError, DataError)), transaction.atomic():
            row.save(update_fields=[field])
        setattr(row, field, "y")
        row.save(update_fields=[field])


def test_the_switch_costs_the_reminders_page_one_query(client_for, partner_a, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(partner_a)
    url = reverse("reminder_settings")
    client.get(url)  # the session's first reads out of the way
    with CaptureQueriesContext(connection) as without:
        client.get(url)
    _, private, public = key_pair()
    settings.TEND_VAPID_PUBLIC_KEY, settings.TEND_VAPID_PRIVATE_KEY, settings.TEND_PUSH_ENABLED = public, private, True
    with CaptureQueriesContext(connection) as with_push:
        client.get(url)
    # One more: the digests of this person's subscribed browsers (accounts.selectors.push_endpoint_digests).
    assert len(with_push) == len(without) + 1
    assert any("accounts_pushsubscription" in q["sql"] for q in with_push.captured_queries)
