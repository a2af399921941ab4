"""The settings the suite runs with: production's (config/settings.py), then what tests need.

Nothing here is a branch in the production settings: each override is written out, so a reader sees
exactly where a test run differs from a deployment (fast password hashing, plain HTTP on the test
server, static files straight from the finders).
"""

import os

# Tests run with DEBUG off, as production does; the key is for this test run alone.
os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-secret-key-never-used-anywhere-else")  # noqa: S105

from config.settings import *  # noqa: E402, F403
from config.settings import PASSWORD_HASHERS, env_str  # noqa: E402

# Argon2 is slow on purpose; one test exercises it explicitly with override_settings.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]

# The test client and the live server speak plain HTTP on loopback; one test reads the production
# HTTPS defaults from config/settings.py itself (tests/config/test_deployment.py).
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = False

# Links in emails sent without a request point at the development server unless a test says otherwise.
TEND_SITE_URL = (env_str("TEND_SITE_URL", "http://127.0.0.1:8000") or "").rstrip("/")

# No collectstatic before a test run: static files come from the finders (node_modules included).
# One test runs collectstatic with the production storage.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
