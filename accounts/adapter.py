from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings

from accounts.models import User


class TendAccountAdapter(DefaultAccountAdapter):
    """Public sign-up creates therapists only; partners join through their therapist's invite."""

    def is_open_for_signup(self, request) -> bool:
        return settings.TEND_OPEN_SIGNUP

    def save_user(self, request, user, form, commit=True):
        user.role = User.Role.THERAPIST
        return super().save_user(request, user, form, commit=commit)
