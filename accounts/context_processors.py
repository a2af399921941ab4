from django.conf import settings

from accounts.models import Couple
from accounts.theme import Theme, theme_of


def tend(request) -> dict:
    # The couple's statuses by name, so templates never hand-write "active" or "closed".
    # theme: this device's colour choice, written into <html> by base.html (accounts/theme.py).
    return {
        "open_signup": settings.TEND_OPEN_SIGNUP,
        "CoupleStatus": Couple.Status,
        "theme": theme_of(request),
        "Theme": Theme,
    }
