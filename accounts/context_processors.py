from django.conf import settings

from accounts.models import Couple


def tend(request) -> dict:
    # The couple's statuses by name, so templates never hand-write "active" or "closed".
    return {"open_signup": settings.TEND_OPEN_SIGNUP, "CoupleStatus": Couple.Status}
