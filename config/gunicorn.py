"""gunicorn's settings for Tend: `gunicorn -c config/gunicorn.py --bind … --workers …` (docs/DEPLOY.md).

Options given on the command line win over these (the benchmark sets its own log files and format).
What this file guarantees whatever the options:
- no secret link token in gunicorn's logs: `RedactingLogger` runs every access and error log line
  through accounts/redaction.py, whatever `--access-logformat` says (the request line, a Referer);
- no `Server: gunicorn` banner on responses (gunicorn has no setting for it; see `_without_server`);
- no full garbage collection walks what every worker holds for good (`post_worker_init`).
"""

import gc
import sys
from pathlib import Path

from gunicorn import glogging
from gunicorn.http import wsgi as _gunicorn_wsgi

# gunicorn reads this file before it changes into the project; the redaction lives in the project.
_BASE_DIR = str(Path(__file__).resolve().parent.parent)
if _BASE_DIR not in sys.path:
    sys.path.insert(0, _BASE_DIR)

from accounts.redaction import RedactTokensFilter  # noqa: E402

wsgi_app = "config.wsgi:application"
# Both logs to standard output and error, for systemd's journal or the container's log collector.
accesslog = "-"
errorlog = "-"
# No control socket (gunicorn ≥ 25 opens one in $HOME by default for `gunicornc`): signals (systemd's
# reload and stop) do the job, and instances side by side on one host (the benchmark's two, the
# tests') would otherwise share one socket path.
control_socket_disable = True
# A worker silent this long is killed. The database gives up on a statement sooner
# (TEND_DB_STATEMENT_TIMEOUT), so a stuck query ends as one failed request, not a killed worker.
timeout = 30

_REDACT = RedactTokensFilter()


class RedactingLogger(glogging.Logger):
    """gunicorn's logger, with the token of every secret link redacted from both of its logs.

    A filter on gunicorn's own two loggers sees each line fully formatted (the access format's every
    atom: request line, path, query, Referer, any header), so a custom `--access-logformat` cannot
    bring a token back. `setup` runs again when gunicorn reloads its configuration; adding the same
    filter twice is a no-op.
    """

    def setup(self, cfg) -> None:
        super().setup(cfg)
        self.error_log.addFilter(_REDACT)
        self.access_log.addFilter(_REDACT)


logger_class = RedactingLogger


def _without_server(default_headers):
    """Drops the `Server: gunicorn` line from the status line and headers gunicorn writes itself.

    gunicorn 27 writes that line in `Response.default_headers` with no setting to turn it off (it
    ignores none of its own headers when the application sends one), so the method is wrapped once,
    here, before the workers fork. tests/config/test_gunicorn.py reads real responses to show the
    banner gone, so a gunicorn upgrade that changes this fails there.
    """
    if getattr(default_headers, "tend_without_server", False):
        return default_headers

    def headers(self):
        return [line for line in default_headers(self) if not line.lower().startswith("server:")]

    headers.tend_without_server = True
    return headers


_gunicorn_wsgi.Response.default_headers = _without_server(_gunicorn_wsgi.Response.default_headers)


def post_worker_init(worker) -> None:
    """Once a worker has loaded Tend: import every view (the URLconf), then put everything alive into
    the garbage collector's permanent generation (`gc.freeze`), where no collection walks it.

    A full collection walks every tracked object: in a worker, ~100,000 made at start (Django's and
    Tend's modules, views, forms) and alive until it exits. One took 50–85 ms on the benchmark's machine
    (issue 16), holding up the request in hand. The two-year overview keeps more objects alive while
    it works, which the younger generations' collections promote, so it set off a full collection about
    once per hundred requests. Frozen, those start-up objects are left out; whatever the worker makes
    later is collected as before.
    """
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (the attribute imports every view and what they import)
    gc.collect()
    gc.freeze()
