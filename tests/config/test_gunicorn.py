"""gunicorn as deployed (config/gunicorn.py), read from the outside: its logs and its headers.

One gunicorn runs for the module, with the shipped config file, against a throwaway SQLite database
(DEBUG off; tests/settings.py for plain HTTP and static files from the finders). Secret links are
requested as a person (and a later page's Referer) would; then every line gunicorn and Django wrote —
the access log on standard output, gunicorn's error log and Django's log on standard error — is read.
"""

import http.client
import os
import re
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
PROJECT_PREFIXES = ("DJANGO_", "PYTEST_", "TEND_", "EMAIL_")
PROJECT_NAMES = {"DATABASE_URL", "TIME_ZONE", "DEFAULT_FROM_EMAIL"}

# Made at run time, so no source line holds them. Shaped like the real ones.
INVITE_TOKEN = "cx1abc-" + secrets.token_hex(16)
RESET_KEY = "cx1abd-" + secrets.token_hex(16)
CONFIRM_KEY = "Mw:1uAbCd:" + secrets.token_urlsafe(32)
OFF_TOKEN = "7:1uAbCe:" + secrets.token_urlsafe(32)
# What each request is, and the part of each token that must appear nowhere.
REQUESTS = [
    ("GET", f"/invite/Mw/{INVITE_TOKEN}/", {}),
    ("POST", f"/invite/Mw/{INVITE_TOKEN}/", {}),
    ("GET", f"/accounts/password/reset/key/3-{RESET_KEY}/", {}),
    ("GET", f"/accounts/confirm-email/{CONFIRM_KEY}/", {}),
    ("GET", f"/reminders/off/{OFF_TOKEN}/", {}),
    ("POST", f"/reminders/off/{OFF_TOKEN}/", {}),  # a mail provider's one-click unsubscribe
    ("GET", f"/invite/Mw/{INVITE_TOKEN}/oops", {}),  # 404: "Not Found: <path>"
    ("GET", "/healthz", {"Referer": f"https://tend.example.org/invite/Mw/{INVITE_TOKEN}/"}),
    ("GET", f"/accounts/login/?next=%2Freminders%2Foff%2F{OFF_TOKEN.replace(':', '%3A')}%2F", {}),
]
SECRETS = [INVITE_TOKEN.split("-")[1], RESET_KEY.split("-")[1], CONFIRM_KEY.split(":")[2], OFF_TOKEN.split(":")[2]]


def server_env(database: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(PROJECT_PREFIXES) and k not in PROJECT_NAMES}
    env.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL=f"sqlite:///{database}",
        DJANGO_LOG_LEVEL="INFO",
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
    )
    return env


def run_checked(cmd: list[str], env: dict) -> None:
    result = subprocess.run(cmd, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=300)  # noqa: S603
    assert result.returncode == 0, result.stdout + result.stderr


class Served:
    """The answers gunicorn gave, and everything it and Django wrote."""

    def __init__(self) -> None:
        self.responses: list[tuple[str, str, http.client.HTTPResponse, bytes]] = []
        self.access_log = self.error_log = ""


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Served:
    tmp = tmp_path_factory.mktemp("gunicorn")
    env = server_env(tmp / "db.sqlite3")
    run_checked([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env)
    run_checked([sys.executable, "manage.py", "createcachetable"], env)
    cmd = [GUNICORN, "-c", "config/gunicorn.py", "--bind", "127.0.0.1:0", "--workers", "1"]
    process = subprocess.Popen(  # noqa: S603 - a fixed command line: the venv's gunicorn
        cmd, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    served, startup = Served(), []
    try:
        # The socket is bound once gunicorn says so; requests wait in its backlog until the worker is up.
        for line in process.stderr:
            startup.append(line)
            if match := re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", line):
                port = int(match.group(1))
                break
        else:
            pytest.fail("gunicorn did not start:\n" + "".join(startup))
        for method, path, headers in REQUESTS:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            body = "" if method == "POST" else None
            conn.request(method, path, body=body, headers={"Host": "127.0.0.1", **headers})
            response = conn.getresponse()
            served.responses.append((method, path, response, response.read()))
            conn.close()
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    served.access_log, served.error_log = out, "".join(startup) + err
    return served


def test_no_secret_token_reaches_any_log(served):
    logs = served.access_log + served.error_log
    for secret in SECRETS:
        assert secret not in logs
    # The lines are there, with the tokens redacted: the access log (Referer included) ...
    assert '"GET /invite/Mw/[redacted]/ HTTP/1.1" 400' in served.access_log
    assert '"POST /reminders/off/[redacted]/ HTTP/1.1" 400' in served.access_log
    assert '"GET /accounts/password/reset/key/3-[redacted]/ HTTP/1.1" 200' in served.access_log
    assert '"https://tend.example.org/invite/Mw/[redacted]/"' in served.access_log
    # ... and Django's own warnings about the dead links, which name their paths.
    assert "Bad Request: /invite/Mw/[redacted]/" in served.error_log
    assert "Bad Request: /reminders/off/[redacted]/" in served.error_log
    assert "Not Found: /invite/Mw/[redacted]/oops" in served.error_log
    assert len(served.access_log.splitlines()) == len(REQUESTS)


def test_no_server_banner(served):
    for method, path, response, _ in served.responses:
        assert response.getheader("Server") is None, f"{method} {path}"
        assert response.getheader("Date") and response.getheader("Content-Type")
        # Django's own headers come through the deployment unchanged.
        assert "camera=()" in response.getheader("Permissions-Policy")


def test_gunicorn_error_log_lines_are_redacted_too(tmp_path):
    # gunicorn itself names the path when a request fails in a worker ("Error handling request
    # <uri>"); its error log goes through the same filter as the access log.
    from gunicorn.config import Config

    from config.gunicorn import RedactingLogger

    cfg = Config()
    cfg.set("errorlog", str(tmp_path / "error.log"))
    logger = RedactingLogger(cfg)
    try:
        raise RuntimeError(f"while reading /reminders/off/{OFF_TOKEN}/")
    except RuntimeError:
        logger.exception("Error handling request %s", f"/invite/Mw/{INVITE_TOKEN}/")
    logger.setup(cfg)  # gunicorn's reload runs setup again: still one filter, still redacted
    logger.error("Error handling request %s", f"/invite/Mw/{INVITE_TOKEN}/")
    text = (tmp_path / "error.log").read_text()
    assert text.count("Error handling request /invite/Mw/[redacted]/") == 2
    assert "while reading /reminders/off/[redacted]/" in text
    for secret in SECRETS:
        assert secret not in text


def test_a_worker_freezes_what_it_holds_for_good():
    """post_worker_init, in a fresh interpreter that has loaded Tend as a worker does (the WSGI application,
    no view yet): afterwards every view is imported and the start-up objects are in the permanent
    generation, out of reach of full collections. gunicorn takes the hook as one."""
    from gunicorn.config import Config

    from config import gunicorn as shipped

    Config().set("post_worker_init", shipped.post_worker_init)  # gunicorn's own check of the hook
    script = (
        "import gc, sys\n"
        "from django.core.wsgi import get_wsgi_application\n"
        "get_wsgi_application()\n"
        "before = 'intimacy.views.dashboard' in sys.modules\n"
        "from config.gunicorn import post_worker_init\n"
        "post_worker_init(None)\n"
        "print(before, 'intimacy.views.dashboard' in sys.modules, gc.get_freeze_count())\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    command = [sys.executable, "-c", script]  # fixed: this interpreter and the script above
    done = subprocess.run(command, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120)  # noqa: S603
    assert done.returncode == 0, done.stderr
    before, after, frozen = done.stdout.split()
    assert (before, after) == ("False", "True")
    assert int(frozen) > 50_000
