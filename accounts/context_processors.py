from django.conf import settings


def tend(request) -> dict:
    return {"open_signup": settings.TEND_OPEN_SIGNUP}
