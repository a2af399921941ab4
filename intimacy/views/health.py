"""The load balancer's health check: public, and free of any detail."""

from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.templatetags.static import static
from django.utils.cache import patch_cache_control
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@require_GET
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """200 "ok" when the database answers, 503 otherwise. Public and free of any detail.

    The check opens a connection of its own each time (and closes it), so a database that hangs
    gets a 503 within the connect timeout (TEND_DB_CONNECT_TIMEOUT, 3 s), even when the worker's
    kept-open connection is stuck on it; and it answers what the load balancer asks: can this host
    reach the database now.
    """
    probe = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with probe.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return HttpResponse("unavailable", status=503, content_type="text/plain")
    finally:
        probe.close()
    return HttpResponse("ok", content_type="text/plain")


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers and tools ask for whatever the page says: Tend's own icon (issue 17).

    A temporary redirect to the static (hashed, long-cached) icon, itself cached for a day: a permanent
    one would outlive the hashed name after the next deploy."""
    response = HttpResponseRedirect(static("tend/icon-192.png"))
    patch_cache_control(response, public=True, max_age=86400)
    return response
