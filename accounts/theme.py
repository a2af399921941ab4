"""Light, dark, or whatever the device asks for ("system"): the colours a person chose, kept on this device.

A cookie rather than a field on the account, for three reasons. The first byte of every page, the
sign-in page included (nobody is known yet), must already carry the right colours: the strict
Content-Security-Policy allows no inline script to correct them after a light flash. A phone in a dark
bedroom and a laptop at the practice may rightly want different answers. And nothing needs migrating.
The cookie holds only "light" or "dark" (no cookie: follow the device), so it tells nobody anything
about Tend's content; it outlives signing out on purpose, like a phone's own setting would.

base.html writes the choice into <html data-bs-theme> (Bootstrap 5.3's colour modes); for "system",
static/tend/theme.js sets it from prefers-color-scheme before the page paints.
"""

from django.conf import settings
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.utils.translation import pgettext_lazy

THEME_COOKIE = "tend_theme"
THEME_COOKIE_MAX_AGE = 365 * 24 * 60 * 60


class Theme(models.TextChoices):
    SYSTEM = "system", pgettext_lazy("colour theme", "System")
    LIGHT = "light", pgettext_lazy("colour theme", "Light")
    DARK = "dark", pgettext_lazy("colour theme", "Dark")


def theme_of(request: HttpRequest) -> str:
    """The choice stored on this device; anything else in the cookie counts as none ("system")."""
    value = request.COOKIES.get(THEME_COOKIE)
    return value if value in (Theme.LIGHT, Theme.DARK) else Theme.SYSTEM


def remember_theme(response: HttpResponse, theme: str) -> None:
    """Store the choice on the response; "system" is no cookie at all."""
    if theme == Theme.SYSTEM:
        response.delete_cookie(THEME_COOKIE, samesite="Lax")
        return
    response.set_cookie(
        THEME_COOKIE,
        theme,
        max_age=THEME_COOKIE_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,  # the server writes it into the page; no script needs to read it
        samesite="Lax",
    )
