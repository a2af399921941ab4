"""Secret links never reach a log: the token in a link's path is replaced before anything is written.

Four kinds of link carry a secret in their path, and whoever holds one can act as its owner:
  /invite/<uid>/<token>/                             an invitation (sets the partner's password)
  /accounts/password/reset/key/<uid>-<key>/          allauth's password reset
  /accounts/confirm-email/<key>/                     allauth's email confirmation
  /reminders/off/<token>/                            "turn these emails off"
Requests for them appear in gunicorn's access log (the request line, a later page's Referer), in
Django's own warnings ("Bad Request: <path>" for an expired link) and in error reports. Every one of
those passes through `redact`: `RedactTokensFilter` for Python logging (Django's handlers in
config/settings.py, gunicorn's loggers in config/gunicorn.py) and intimacy/reporting.py for error
reports. The uid stays (an opaque id, useful when debugging); the token becomes "[redacted]".

Standard library only: gunicorn's master process imports this before Django is set up.
"""

import logging
import re

REDACTED = "[redacted]"

# A path separator as written or percent-encoded (a link inside a query string, e.g. ?next=…).
_SEP = r"(?:/|%2[Ff])"
# One path segment: up to the next separator, query, fragment, space or quote. Percent-escapes stay
# inside the segment, so an email client that encodes the ':' of a signed token changes nothing.
_SEGMENT = r"(?:(?!%2[Ff])[^/\s?#&\"'<>])+"
# Group 1 is what stays, group 2 the secret.
_SECRET_PATHS = [
    re.compile(rf"({_SEP}invite{_SEP}{_SEGMENT}{_SEP})({_SEGMENT})"),
    re.compile(rf"({_SEP}password{_SEP}reset{_SEP}key{_SEP}[0-9A-Za-z]+-)({_SEGMENT})"),
    re.compile(rf"({_SEP}confirm-email{_SEP})({_SEGMENT})"),
    re.compile(rf"({_SEP}reminders{_SEP}off{_SEP})({_SEGMENT})"),
]
# Where a link's token was already swapped into the session (allauth's password reset, the
# invitation), the path says "set-password" instead: nothing secret, and useful to read.
_NOT_SECRET = {"set-password"}


def _replace(match: re.Match) -> str:
    secret = match.group(2)
    return match.group(0) if secret in _NOT_SECRET else match.group(1) + REDACTED


def redact(text: str) -> str:
    """`text` with the secret of every token-bearing link in it replaced by "[redacted]"."""
    for pattern in _SECRET_PATHS:
        text = pattern.sub(_replace, text)
    return text


class RedactTokensFilter(logging.Filter):
    """A logging filter that lets every record through with secret link tokens redacted.

    On a handler it covers every record that handler writes, whichever logger made it; on a logger,
    every record logged there (gunicorn's). The message is rebuilt only when it held a token, so
    records without one keep their arguments for formatters that read them. A traceback is
    formatted here, redacted, and kept as the record's `exc_text`, which formatters print as is.
    """

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message, broken = record.getMessage(), False
        except Exception:  # arguments that don't fit the format: the format alone, redacted, is kept
            message, broken = str(record.msg), True
        clean = redact(message)
        if broken or clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
