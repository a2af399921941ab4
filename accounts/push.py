"""Web push (issue 17): one notification to one browser, through its push service, with VAPID.

Optional: on only when the three TEND_VAPID_* settings are set (config/settings.py). What is sent is
the same for every reminder and says nothing about anyone: "Tend" and "There is something new for you
in Tend", and the address the matching email links to (a path; nothing clinical in it). pywebpush
encrypts it for the browser (aes128gcm, RFC 8291) and signs a VAPID header (RFC 8292).

`send` tells the caller what happened: sent, gone (the push service no longer knows this browser,
404/410: the subscription is removed), or failed (anything else: tried again by the next run). The
endpoint and the keys are secrets of a kind (whoever holds them can send to that browser): no log
line carries them, only the subscription's id and the kind of error.
"""

import enum
import json
import logging
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext
from pywebpush import WebPushException, webpush

from accounts.models import PushSubscription

# The session's note of which push subscription is this browser's (set when it subscribes), so that
# signing out here forgets it (accounts/middleware.py).
SESSION_KEY = "tend_push_subscription"

logger = logging.getLogger(__name__)

# The push services today's browsers use (Chrome and Android, Firefox, Safari, Edge): a subscription
# elsewhere is refused, so Tend never posts to an address a signed-in person chose (its own network).
PUSH_SERVICE_HOSTS = (
    "fcm.googleapis.com",
    "android.googleapis.com",
    "push.services.mozilla.com",
    "push.apple.com",
    "notify.windows.com",
)
# How long a push service keeps a notification for a browser that is offline (a reminder is due for
# two hours; one seen the same evening still helps, the next day it is old news).
TTL_SECONDS = 6 * 60 * 60
# A newer notification from Tend replaces one not yet delivered, rather than piling up.
TOPIC = "tend-reminder"
TIMEOUT_SECONDS = 10
GONE_STATUSES = {404, 410}


class Outcome(enum.Enum):
    SENT = "sent"
    GONE = "gone"
    FAILED = "failed"


def enabled() -> bool:
    return settings.TEND_PUSH_ENABLED


# An endpoint as push services make them: https, a host name, no user part or port, and a path of plain URL
# characters. Nothing two URL parsers read differently: Python's urlsplit takes
# "https://10.0.0.5\@fcm.googleapis.com/" for Google's, while requests (under pywebpush) connects to 10.0.0.5.
ENDPOINT_SHAPE = re.compile(r"https://([A-Za-z0-9.-]+)(/[A-Za-z0-9._~!$&'()*+,;=:%/?-]*)?", re.ASCII)


def endpoint_allowed(endpoint: str) -> bool:
    """An https address at one of the known push services."""
    shape = ENDPOINT_SHAPE.fullmatch(endpoint)
    if shape is None:
        return False
    host = shape.group(1).lower()
    return urlsplit(endpoint).hostname == host and any(host == h or host.endswith("." + h) for h in PUSH_SERVICE_HOSTS)


def payload(url: str) -> str:
    """The notification: the same neutral words as the reminder email's subject, and where a tap goes."""
    return json.dumps({"title": "Tend", "body": gettext("There is something new for you in Tend"), "url": url})


def send(subscription: PushSubscription, url: str) -> Outcome:
    """Send the notification to one browser; never raises for a failure of the push service."""
    try:
        webpush(
            subscription_info=subscription.info,
            data=payload(url),
            vapid_private_key=settings.TEND_VAPID_PRIVATE_KEY,
            vapid_claims={"sub": settings.TEND_VAPID_SUBJECT},
            ttl=TTL_SECONDS,
            headers={"Topic": TOPIC, "Urgency": "normal"},
            timeout=TIMEOUT_SECONDS,
        )
    except WebPushException as exc:
        status = exc.status_code
        if status in GONE_STATUSES:
            return Outcome.GONE
        # The exception's text holds the push service's reply and the request: not logged.
        logger.warning("Push to subscription %s failed: status %s", subscription.pk, status)
        return Outcome.FAILED
    except Exception as exc:  # a timeout, DNS, TLS, a refused connection: tried again next run
        logger.warning("Push to subscription %s failed: %s", subscription.pk, type(exc).__name__)
        return Outcome.FAILED
    return Outcome.SENT
