"""Security headers on real responses, and the production settings that `check --deploy` accepts."""

import os
import runpy
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parents[2]
ONE_YEAR = 365 * 24 * 60 * 60
# Variables the settings read, and pytest's own: none may leak into "production".
PROJECT_PREFIXES = ("DJANGO_", "PYTEST_", "TEND_", "EMAIL_")
PROJECT_NAMES = {"DATABASE_URL", "TIME_ZONE", "DEFAULT_FROM_EMAIL"}


def production_env(**extra: str) -> dict[str, str]:
    """This process's environment without any setting or test marker, plus DEBUG off and a real secret."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(PROJECT_PREFIXES) and k not in PROJECT_NAMES}
    env.update(DJANGO_DEBUG="0", DJANGO_SECRET_KEY=secrets.token_urlsafe(50), **extra)
    return env


def production_settings(monkeypatch, **extra: str) -> dict:
    """config/settings.py as it evaluates in production (optionally with `extra` variables set)."""
    env = production_env(**extra)
    for name in list(os.environ):
        if name not in env:
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(BASE_DIR / "config" / "settings.py"))


def csp_directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in (part.strip() for part in policy.split(";")) if d}


# Headers on real responses ---------------------------------------------------------------------


def signed_in_pages(client_for, therapist, partner_a, session):
    couple = session.assignment.couple
    yield client_for(partner_a), reverse("home")
    yield client_for(partner_a), reverse("history")
    yield client_for(therapist), reverse("couple_detail", args=[couple.pk])
    yield client_for(therapist), reverse("appointment", args=[couple.pk])


def test_strict_csp_on_every_kind_of_page(client, client_for, therapist, partner_a, session):
    responses = [client.get(reverse("account_login"))]
    responses += [c.get(url) for c, url in signed_in_pages(client_for, therapist, partner_a, session)]
    for response in responses:
        assert response.status_code == 200
        assert "Content-Security-Policy-Report-Only" not in response.headers
        csp = csp_directives(response)
        assert csp["default-src"] == ["'self'"]
        assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
        assert csp["img-src"] == ["'self'", "data:"]
        assert csp["object-src"] == ["'none'"]
        assert csp["base-uri"] == ["'none'"]
        assert csp["frame-ancestors"] == ["'none'"]
        assert not any(s in ("'unsafe-inline'", "'unsafe-eval'", "*") for sources in csp.values() for s in sources)


def test_other_security_headers_on_every_kind_of_page(client, client_for, therapist, partner_a, session):
    responses = [client.get(reverse("account_login")), client.get(reverse("healthz"))]
    responses += [c.get(url) for c, url in signed_in_pages(client_for, therapist, partner_a, session)]
    for response in responses:
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def permissions_policy(response) -> dict[str, str]:
    return dict(item.strip().split("=", 1) for item in response["Permissions-Policy"].split(","))


def test_permissions_policy_turns_devices_off_on_every_kind_of_response(
    client, client_for, therapist, partner_a, session
):
    # Tend asks for no camera, microphone, location or payment: no page, nor anything injected into
    # one, may ask either. A page that fails (404, 400) and a static file carry the same header.
    responses = [
        client.get(reverse("account_login")),
        client.get(reverse("healthz")),
        client.get("/no-such-page/"),
        client.get("/invite/MQ/not-a-token/"),
        client.get("/static/tend/tend.css"),
    ]
    responses += [c.get(url) for c, url in signed_in_pages(client_for, therapist, partner_a, session)]
    for response in responses:
        policy = permissions_policy(response)
        for feature in ("camera", "microphone", "geolocation", "payment", "usb", "display-capture"):
            assert policy[feature] == "()", (response.request["PATH_INFO"], feature)


def test_production_defaults_send_hsts_and_redirect_to_https(monkeypatch, client):
    prod = production_settings(monkeypatch)
    monkeypatch.undo()
    https_settings = {
        name: prod[name]
        for name in ("SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD")
        + ("SECURE_SSL_REDIRECT", "SECURE_REDIRECT_EXEMPT")
    }
    with override_settings(**https_settings):
        response = client.get(reverse("account_login"), secure=True)
        assert response["Strict-Transport-Security"] == f"max-age={ONE_YEAR}; includeSubDomains"
        redirect = client.get(reverse("account_login"))
        assert redirect.status_code == 301 and redirect["Location"].startswith("https://")
        # A load balancer's plain-HTTP health check still gets its answer.
        assert client.get(reverse("healthz")).status_code == 200


def test_no_hsts_in_tests_and_local_runs(client):
    assert "Strict-Transport-Security" not in client.get(reverse("account_login"), secure=True).headers


# Production settings ---------------------------------------------------------------------------


def test_production_defaults(monkeypatch):
    prod = production_settings(monkeypatch)
    assert prod["DEBUG"] is False and "TESTING" not in prod
    assert prod["SECURE_SSL_REDIRECT"] is True
    assert prod["SESSION_COOKIE_SECURE"] is True and prod["CSRF_COOKIE_SECURE"] is True
    assert prod["SECURE_HSTS_SECONDS"] == ONE_YEAR
    assert prod["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert prod["SECURE_HSTS_PRELOAD"] is False
    assert prod["SECURE_PROXY_SSL_HEADER"] is None
    assert prod["SILENCED_SYSTEM_CHECKS"] == ["security.W021"]
    assert prod["DEFAULT_EXCEPTION_REPORTER_FILTER"] == "intimacy.reporting.TendExceptionReporterFilter"
    assert prod["DEFAULT_EXCEPTION_REPORTER"] == "intimacy.reporting.TendExceptionReporter"


def test_behind_a_tls_proxy(monkeypatch):
    prod = production_settings(monkeypatch, DJANGO_BEHIND_PROXY="1", DJANGO_SECURE_SSL_REDIRECT="0")
    assert prod["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert prod["SECURE_SSL_REDIRECT"] is False
    assert prod["SECURE_HSTS_SECONDS"] == ONE_YEAR and prod["SESSION_COOKIE_SECURE"] is True


def test_https_settings_can_be_overridden(monkeypatch):
    prod = production_settings(monkeypatch, DJANGO_HSTS_SECONDS="0", DJANGO_HSTS_INCLUDE_SUBDOMAINS="no")
    assert prod["SECURE_HSTS_SECONDS"] == 0 and prod["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    # The older name of the redirect switch still works; the new one wins when both are set.
    assert production_settings(monkeypatch, DJANGO_SSL_REDIRECT="0")["SECURE_SSL_REDIRECT"] is False
    both = production_settings(monkeypatch, DJANGO_SSL_REDIRECT="0", DJANGO_SECURE_SSL_REDIRECT="1")
    assert both["SECURE_SSL_REDIRECT"] is True


@pytest.mark.parametrize(
    "name, value",
    [
        ("DJANGO_HSTS_SECONDS", "a year"),
        ("DJANGO_SECURE_SSL_REDIRECT", "maybe"),
        ("EMAIL_PORT", "smtp"),
        ("TEND_DB_CONNECT_TIMEOUT", "3s"),
        ("TEND_DB_STATEMENT_TIMEOUT", "-1"),
        ("TEND_DB_CONN_MAX_AGE", "a minute"),
        ("TEND_CSI4_SD", "four"),
        ("TEND_CSI4_SD", "4"),  # a published figure comes with where it is printed (TEND_CSI4_SD_SOURCE)
    ],
)
def test_malformed_settings_stop_start_up(monkeypatch, name, value):
    with pytest.raises(ImproperlyConfigured, match=name):
        production_settings(monkeypatch, **{name: value})


def test_check_deploy_passes_with_production_settings():
    result = subprocess.run(  # noqa: S603 - a fixed command line: this interpreter and manage.py
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


# Database timeouts -----------------------------------------------------------------------------

POSTGRES_URL = "postgres://tend:secret@db.example.org:5432/tend"


def test_postgresql_connections_give_up_instead_of_hanging(monkeypatch):
    options = production_settings(monkeypatch, DATABASE_URL=POSTGRES_URL)["DATABASES"]["default"]["OPTIONS"]
    # Connecting (and a database that stops acknowledging) gives up after 3 s, well within gunicorn's
    # 30 s worker timeout and the load balancer's 5 s for /healthz; a statement after 10 s.
    assert options["connect_timeout"] == 3
    assert options["tcp_user_timeout"] == 3000
    assert options["options"] == "-c statement_timeout=10000"


def test_database_timeouts_can_be_changed(monkeypatch):
    env = {"TEND_DB_CONNECT_TIMEOUT": "5", "TEND_DB_STATEMENT_TIMEOUT": "30"}
    options = production_settings(monkeypatch, DATABASE_URL=POSTGRES_URL, **env)["DATABASES"]["default"]["OPTIONS"]
    assert options["connect_timeout"] == 5 and options["tcp_user_timeout"] == 5000
    assert options["options"] == "-c statement_timeout=30000"
    # Options in the URL itself are kept, and win.
    url = POSTGRES_URL + "?sslmode=require&connect_timeout=7&options=-c%20search_path%3Dtend"
    options = production_settings(monkeypatch, DATABASE_URL=url)["DATABASES"]["default"]["OPTIONS"]
    assert options["sslmode"] == "require" and options["connect_timeout"] == 7
    assert options["options"] == "-c statement_timeout=10000 -c search_path=tend"


def test_kept_open_connections_last_a_minute_unless_changed(monkeypatch):
    # A kept-open connection to a frozen PostgreSQL (it still acknowledges, so tcp_user_timeout never
    # fires) holds a worker until gunicorn's timeout; 0 opens a new connection, bounded by
    # connect_timeout, for every request (docs/DEPLOY.md "Database timeouts").
    assert production_settings(monkeypatch, DATABASE_URL=POSTGRES_URL)["DATABASES"]["default"]["CONN_MAX_AGE"] == 60
    strict = production_settings(monkeypatch, DATABASE_URL=POSTGRES_URL, TEND_DB_CONN_MAX_AGE="0")
    assert strict["DATABASES"]["default"]["CONN_MAX_AGE"] == 0


def test_sqlite_gets_no_postgresql_options(monkeypatch):
    database = production_settings(monkeypatch, DATABASE_URL="sqlite:////tmp/tend.sqlite3")["DATABASES"]["default"]
    assert "connect_timeout" not in database.get("OPTIONS", {})


def command_options(**extra: str) -> str:
    """The database options a management command runs with (printed by `manage.py shell`)."""
    code = "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS'])"
    result = subprocess.run(  # noqa: S603 - a fixed command line: this interpreter and manage.py
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=BASE_DIR,
        env=production_env(DATABASE_URL=POSTGRES_URL, **extra),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_management_commands_take_their_own_statement_timeout():
    # Migrations and seeding run long statements: by default no limit, whatever the web's is.
    assert "statement_timeout=0'" in command_options(TEND_DB_STATEMENT_TIMEOUT="5")
    assert "statement_timeout=600000'" in command_options(TEND_DB_COMMAND_STATEMENT_TIMEOUT="600")
    # Connecting still gives up as the web's connections do.
    assert "'connect_timeout': 3" in command_options()


def test_statement_timeout_is_in_force_on_postgresql():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (scripts/with-postgres)")
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone() == ("10s",)
