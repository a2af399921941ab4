"""Tend's settings: one module, configured through environment variables.

Every variable goes through a small strict helper so that a typo in production fails at start-up
instead of silently falling back to a default. See .env.example for the full list.
"""

import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no, on/off), got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}") from None


def env_seconds(name: str, default: int) -> int:
    """A duration in whole seconds; 0 means no limit."""
    value = env_int(name, default)
    if value < 0:
        raise ImproperlyConfigured(f"{name} must be 0 (no limit) or a number of seconds, got {value!r}")
    return value


def env_float(name: str) -> float | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {value!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off.")
    # Local runs only: never reachable with DEBUG off (tests/settings.py sets a key of its own).
    SECRET_KEY = "insecure-local-development-key-do-not-use-in-production"  # noqa: S105

# Without DJANGO_ALLOWED_HOSTS Tend answers only on this machine: a public name gets 400 until listed.
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "auditlog",
    "accounts",
    "intimacy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Inside SecurityMiddleware: its Referrer-Policy (same-origin) is a default this one overrides.
    "accounts.middleware.SecretLinkReferrerMiddleware",
    # Before whitenoise, so static files carry the header too (PERMISSIONS_POLICY below).
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "intimacy.middleware.NoStoreForSignedInMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language of each response (English ships; see LANGUAGES and LOCALE_PATHS below).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # auditlog's middleware (actor and address on every audit row), with the address read safely.
    "intimacy.audit.AuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "accounts.middleware.SessionRulesMiddleware",
    # After the session rules: the appointment view's lock asks for the password before any other page.
    "intimacy.middleware.AppointmentModeMiddleware",
    # After the sign-out above: a form that arrives from someone signed out is kept for them.
    "accounts.drafts.KeepDraftsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.tend",
                "intimacy.context_processors.choices",
            ],
        },
    },
]

# Lets project templates override form widgets (the 0–10 rating scale).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# How long a worker keeps its database connection open between requests. 0 opens a new one for each
# request: slower by a connection, but a frozen server is then met by connect_timeout, which a
# kept-open connection never meets (docs/DEPLOY.md "Database timeouts").
TEND_DB_CONN_MAX_AGE = env_seconds("TEND_DB_CONN_MAX_AGE", 60)
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=TEND_DB_CONN_MAX_AGE,
        conn_health_checks=True,
    )
}
# A PostgreSQL that cannot be reached costs a request a few seconds, and /healthz answers 503.
# Connecting gives up after TEND_DB_CONNECT_TIMEOUT seconds, and so does a connection whose database
# stops acknowledging what is sent (the host gone: tcp_user_timeout). A server that is frozen but
# still acknowledging is not bounded on a kept-open connection: the worker waits for gunicorn's
# timeout (config/gunicorn.py: 30 s). A statement is cancelled by the server after
# TEND_DB_STATEMENT_TIMEOUT seconds: a page of Tend needs well under one. Management commands run with
# TEND_DB_COMMAND_STATEMENT_TIMEOUT instead (manage.py: migrations and bulk seeding take longer).
# Options given in DATABASE_URL's query string win.
TEND_DB_CONNECT_TIMEOUT = env_seconds("TEND_DB_CONNECT_TIMEOUT", 3)
TEND_DB_STATEMENT_TIMEOUT = env_seconds("TEND_DB_STATEMENT_TIMEOUT", 10)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _db_options = DATABASES["default"].setdefault("OPTIONS", {})
    _db_options.setdefault("connect_timeout", TEND_DB_CONNECT_TIMEOUT)
    _db_options.setdefault("tcp_user_timeout", TEND_DB_CONNECT_TIMEOUT * 1000)
    _statement_timeout = f"-c statement_timeout={TEND_DB_STATEMENT_TIMEOUT * 1000}"
    _db_options["options"] = f"{_statement_timeout} {_db_options.get('options', '')}".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Shared by every worker and server, so sessions' rate limits cannot be multiplied by the worker count.
CACHES = {
    # allauth's sign-in limits and used authenticator codes. Django culls a database cache past
    # MAX_ENTRIES (300 by default), and culling would forget a lockout: room for far more rows than
    # a practice's sign-ins ever make, so nothing is culled in practice.
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "tend_cache",
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    },
    # Words kept across a sign-out (accounts/drafts.py): a table of their own, one row per person at
    # most, so kept forms never crowd out the rows above. Left out of backups (docs/DEPLOY.md).
    "drafts": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "tend_drafts",
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    },
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

# django-allauth: email is the sign-in; only therapists sign up (partners come through an invite).
ACCOUNT_ADAPTER = "accounts.adapter.TendAccountAdapter"
ACCOUNT_FORMS = {"signup": "accounts.forms.TendSignupForm"}
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
# A password change keeps the session that made it signed in (True would sign that one out too);
# every other session of the person ends (Django's session hash, and accounts.middleware ends them).
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "Tend: "
# allauth emails the owner whenever a password or second factor is changed, added or removed, so a
# change made from a borrowed or stolen session does not go unnoticed (templates/account/email/
# base_notification.txt words it; nothing clinical).
ACCOUNT_EMAIL_NOTIFICATIONS = True
# Public therapist sign-up: closed unless a practice opens it on purpose (therapists are added with
# `manage.py create_therapist`); `make run` opens it for the demo.
TEND_OPEN_SIGNUP = env_bool("TEND_OPEN_SIGNUP", False)

# Invitations have their own lifetime, independent of password reset's.
TEND_INVITE_TIMEOUT_SECONDS = 7 * 24 * 60 * 60
# Where Tend is reached, for links in emails sent without a request (`send_reminders` from cron).
# Locally it defaults to the development server; in production set it, or
# `send_reminders` refuses to run (the web app itself does not need it).
TEND_SITE_URL = (env_str("TEND_SITE_URL", "http://127.0.0.1:8000" if DEBUG else "") or "").rstrip("/")
if TEND_SITE_URL and not TEND_SITE_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured(f"TEND_SITE_URL must start with https:// (or http://), got {TEND_SITE_URL!r}")
# Sign-out (accounts.middleware.SessionRulesMiddleware): therapists and staff after 30 idle minutes
# and 12 hours after signing in however active (the appointment view's keep-alive included);
# partners after 24 idle hours and 30 days after signing in however active. These follow NIST SP
# 800-63B: a second factor (AAL2) allows 30 idle minutes and 12 hours; a password alone (AAL1), a
# sign-in at least every 30 days. Partners use Tend on their phones, a few times a week, with a
# password: a shorter limit would mostly mean more forgotten passwords.
TEND_IDLE_SECONDS_THERAPIST = 30 * 60
TEND_SESSION_ABSOLUTE_SECONDS = 12 * 60 * 60
TEND_IDLE_SECONDS_PARTNER = 24 * 60 * 60
TEND_SESSION_ABSOLUTE_SECONDS_PARTNER = 30 * 24 * 60 * 60
# A session lapses server-side after the partners' idle limit without a request (each request renews
# it); the middleware enforces every other limit, absolute ones included.
SESSION_COOKIE_AGE = TEND_IDLE_SECONDS_PARTNER
# A form that could not be saved (its writer was signed out meanwhile, or its page was out of date)
# is kept this long for the same person to find again, prefilled (accounts/drafts.py).
TEND_DRAFT_SECONDS = 60 * 60

# Second factor (django-allauth mfa): an authenticator app, with recovery codes. Required for
# therapists and staff by SessionRulesMiddleware, offered to partners.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = "Tend"
# Passkeys (issue 17): sign in with one alone ("Sign in with a passkey"). allauth asks the device to
# verify its owner (fingerprint, face, PIN) for a passkey sign-in, so one counts as two factors and
# satisfies the therapists' second-factor rule; with the password, a passkey is the second step. Its
# scripts are allauth's own from static; their data travel as JSON (templates/mfa/webauthn/).
MFA_PASSKEY_LOGIN_ENABLED = True
# Every passkey use asks the device for its owner's fingerprint, face or PIN, and the server refuses an
# answer without it (allauth's default, "preferred", only hopes for it): a confirmation is how a therapist
# leaves the appointment view with the couple in the room, and a security key left in the laptop would
# otherwise answer a touch from any hand. A key without a PIN is asked to set one.
MFA_WEBAUTHN_USER_VERIFICATION = "required"
# The 2FA code fields (sign-in, confirming, setting up the app) as phones expect them: accounts/forms.py.
MFA_FORMS = {
    "authenticate": "accounts.forms.TendAuthenticateForm",
    "reauthenticate": "accounts.forms.TendReauthenticateForm",
    "activate_totp": "accounts.forms.TendActivateTOTPForm",
    "add_webauthn": "accounts.forms.TendAddWebAuthnForm",
}
# "Stay signed in on this phone" (accounts/staying.py): offered to a partner after signing in with a
# passkey on a device. That session then ends after 30 unused days instead of 24 hours, and 90 days
# after signing in however used; "Sign out everywhere", "Sign out now" and signing out end it at once.
# Why: the phone holds the passkey and unlocks it only for its owner, so signing in again proves little
# more than the phone's own lock already does; homework comes twice a week, and a sign-in almost every
# time is what makes partners stop. 90 days bounds a phone that is lost or changes hands unnoticed.
TEND_IDLE_SECONDS_STAY = 30 * 24 * 60 * 60
TEND_SESSION_ABSOLUTE_SECONDS_STAY = 90 * 24 * 60 * 60
# Changing how someone signs in (a factor, recovery codes; an address, were Tend to offer it) asks for
# the password or a code again unless they confirmed within 5 minutes; signing in is not confirming
# (allauth's rule).
# The one exception, a first factor moments after signing in, is in accounts/adapter.py; Tend's
# record exports and deletion ask the same way (accounts/reauthentication.py).
ACCOUNT_REAUTHENTICATION_REQUIRED = True
MFA_REAUTHENTICATION_REQUIRED = True
ACCOUNT_REAUTHENTICATION_TIMEOUT = 5 * 60
# Per IP and per account; after 5 failures in 5 minutes even the right password waits (allauth's
# rate limits live in the shared database cache, so every worker counts the same tries).
# Tend's own: a therapist re-sends a partner's invitation at most 3 times an hour (accounts/views.py).
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/300s/key", "tend_invite_resend": "3/h/key"}
# "Sign out everywhere" (allauth usersessions).
USERSESSIONS_TRACK_ACTIVITY = False
# Bump when the consent text changes materially; partners then accept the new version.
TEND_CONSENT_VERSION = "2026-11"

# The CSI-4's published standard deviation, for the reliable change index (intimacy/csi4.py), and
# where it is printed. Unset, reliable change is "not judged": Tend ships no unconfirmed figure.
TEND_CSI4_SD = env_float("TEND_CSI4_SD")
TEND_CSI4_SD_SOURCE = env_str("TEND_CSI4_SD_SOURCE")
if TEND_CSI4_SD is not None and (TEND_CSI4_SD <= 0 or not TEND_CSI4_SD_SOURCE):
    raise ImproperlyConfigured("TEND_CSI4_SD must be above 0 and come with TEND_CSI4_SD_SOURCE (the table and paper).")

# Every user-facing string is marked for translation; English, the source language, ships (its
# catalogue, locale/en/LC_MESSAGES/django.po, needs no compiled .mo). See README.md, "Translations".
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/London")
try:
    ZoneInfo(TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError) as exc:
    raise ImproperlyConfigured(f"TIME_ZONE {TIME_ZONE!r} is not a known IANA time zone") from exc
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Only each npm package's dist folder is published, never the whole node_modules tree.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/chartjs", BASE_DIR / "node_modules" / "chart.js" / "dist"),
    ("vendor/chartjs-plugin-annotation", BASE_DIR / "node_modules" / "chartjs-plugin-annotation" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Seconds before a silent mail server counts as a failed send (retried by the next `send_reminders`).
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Tend <tend@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Security headers. The CSP allows no inline script or style, so every page's JS and CSS are files.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# HTTPS only in production (DEBUG off); each default can be overridden.
PRODUCTION = not DEBUG
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# DJANGO_SSL_REDIRECT is the older name, still read so existing deployments keep their choice.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", env_bool("DJANGO_SSL_REDIRECT", PRODUCTION))
# A load balancer's plain-HTTP health check gets its answer instead of a redirect; it carries nothing.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Behind a TLS-terminating proxy (DJANGO_BEHIND_PROXY): its X-Forwarded-Proto says whether the
# client used HTTPS, and its X-Forwarded-For carries the client's address (read by the audit trail and
# allauth's limits below).
TEND_BEHIND_PROXY = env_bool("DJANGO_BEHIND_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TEND_BEHIND_PROXY else None
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 365 * 24 * 60 * 60 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
# No HSTS preload: a preload list entry binds every subdomain of the practice's domain, which Tend's
# deployer may not control, and takes months to undo. So Django's reminder about it (W021) is silenced.
SECURE_HSTS_PRELOAD = False
SILENCED_SYSTEM_CHECKS = ["security.W021"]
# A form refused by the CSRF check (most often a page from before signing out and in again in another
# tab) gets Tend's explanation, and its words are kept for the person it was shown to.
CSRF_FAILURE_VIEW = "accounts.errors.csrf_failure"
# Error reports (admin emails, the debug page) show no value anyone typed and no secret link token:
# see intimacy/reporting.py.
DEFAULT_EXCEPTION_REPORTER = "intimacy.reporting.TendExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "intimacy.reporting.TendExceptionReporterFilter"

# Powerful browser features Tend never uses, off for every page and anything framed or injected
# into one: above all the camera, microphone, location and payment; sensors, device access, screen
# capture and ad-interest tracking too. Left alone: what Tend or its browsers may use (fullscreen,
# clipboard, passkeys' publickey-credentials-*, web-share). Only names today's browsers know, so no
# console fills with warnings about unknown ones (tests/browser/test_csp_walk.py fails on a console error;
# Debian's Chromium reports "bluetooth" as unrecognised, so it is left out).
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # Bootstrap draws its form-control icons as data: SVG.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        # The service worker for push reminders (/sw.js, issue 17).
        "worker-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

# The largest request body Tend reads (forms only: Tend takes no uploads). Its largest form, a reflection
# with all three texts at their limit in 4-byte characters, percent-encoded, is under 200 KB
# (tests/config/test_error_pages.py). A bigger body is refused before it is read, with the calm 400
# page (templates/400.html); a proxy in front should allow at least this much (docs/DEPLOY.md).
DATA_UPLOAD_MAX_MEMORY_SIZE = 512 * 1024

# Push reminders (issue 17): optional. With all three set, a partner can turn on notifications under
# "Reminders"; with none, Tend sends emails only and the page says so. The keys are a P-256 pair,
# base64url without padding: the private key's 32 raw bytes, the public key's 65-byte uncompressed
# point (docs/DEPLOY.md, "Push reminders", shows one line that makes a pair). The subject is how a push
# service reaches the practice about its messages: a mailto: or https: address.
TEND_VAPID_PUBLIC_KEY = env_str("TEND_VAPID_PUBLIC_KEY", "") or ""
TEND_VAPID_PRIVATE_KEY = env_str("TEND_VAPID_PRIVATE_KEY", "") or ""
TEND_VAPID_SUBJECT = env_str("TEND_VAPID_SUBJECT", "") or ""


def _check_vapid(public: str, private: str, subject: str) -> None:
    """All three or none; the subject an address; the public key the private key's own."""
    if not (public or private or subject):
        return
    if not (public and private and subject):
        raise ImproperlyConfigured(
            "Set all of TEND_VAPID_PUBLIC_KEY, TEND_VAPID_PRIVATE_KEY and TEND_VAPID_SUBJECT for push reminders, "
            "or none of them."
        )
    if not subject.startswith(("mailto:", "https://")):
        raise ImproperlyConfigured(f"TEND_VAPID_SUBJECT must start with mailto: or https://, got {subject!r}")
    import base64

    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    def b64(value: str) -> bytes:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))

    try:
        key = ec.derive_private_key(int.from_bytes(b64(private), "big"), ec.SECP256R1())
        derived = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        ok = len(b64(private)) == 32 and derived == b64(public)
    except ValueError:
        ok = False
    if not ok:  # the keys themselves are never echoed into a log
        raise ImproperlyConfigured(
            "TEND_VAPID_PRIVATE_KEY must be a P-256 private key (32 bytes, base64url) and TEND_VAPID_PUBLIC_KEY "
            "its public key (65 bytes, base64url): see docs/DEPLOY.md, Push reminders."
        )


_check_vapid(TEND_VAPID_PUBLIC_KEY, TEND_VAPID_PRIVATE_KEY, TEND_VAPID_SUBJECT)
TEND_PUSH_ENABLED = bool(TEND_VAPID_PRIVATE_KEY)

# Request paths carry only opaque ids; nothing clinical is ever logged. Some paths carry a secret
# (an invitation, a password reset, "turn emails off"): every handler below redacts those tokens
# (accounts/redaction.py), whichever logger the record came from. Django's own handlers are replaced
# by these ones, so none of its defaults writes a path unfiltered.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_tokens": {"()": "accounts.redaction.RedactTokensFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_tokens"]},
        # Error emails to ADMINS (none unless configured); the report itself: intimacy/reporting.py.
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false", "redact_tokens"],
        },
        # `runserver`'s request lines (local only; gunicorn logs through config/gunicorn.py).
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server", "filters": ["redact_tokens"]},
    },
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": ["mail_admins"], "level": "INFO"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        # Push reminders (issue 17): urllib3, under pywebpush, logs each request's path, which for a
        # push service is the subscription's secret endpoint. Only its errors, whatever DJANGO_LOG_LEVEL.
        "urllib3": {"level": "ERROR"},
    },
}

# Audit trail (django-auditlog, registered in intimacy/audit.py). Rows name who, which object (an
# opaque id), what and from where; clinical free text is excluded from every registered model.
# Behind a proxy the client address is the one the proxy appended to X-Forwarded-For; otherwise
# REMOTE_ADDR, so a client cannot write its own address into the trail.
# allauth's per-address limits (sign-in, failed sign-ins, sign-up, password reset) read the same
# address. Left at 0 behind a proxy, every client would share the proxy's address, and its limits:
# ten failed sign-ins a minute from anyone would refuse everyone's.
ALLAUTH_TRUSTED_PROXY_COUNT = 1 if TEND_BEHIND_PROXY else 0
# The correlation-id column holds the couple key the access history filters on (it is indexed),
# so a client-sent X-Correlation-ID header is not read.
AUDITLOG_CID_HEADER = None
# Foreign keys in the recorded changes stay ids: a partner's name never enters the trail.
AUDITLOG_USE_FK_STRING_REPRESENTATION = False

# Locally whitenoise serves straight from the finders (node_modules included); in production from
# the collected, hashed and compressed STATIC_ROOT.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
