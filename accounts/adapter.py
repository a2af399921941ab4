from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.conf import settings

from accounts.models import Partner, User


class TendAccountAdapter(DefaultAccountAdapter):
    """Public sign-up creates therapists only; partners join through their therapist's invite."""

    def is_open_for_signup(self, request) -> bool:
        return settings.TEND_OPEN_SIGNUP

    def save_user(self, request, user, form, commit=True):
        user.role = User.Role.THERAPIST
        return super().save_user(request, user, form, commit=commit)

    def clean_email(self, email: str) -> str:
        # An address invited as a partner belongs to that partner: a sign-up with it would
        # otherwise block their invitation for good.
        email = super().clean_email(email)
        if Partner.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("This address can't be used to sign up. If you were invited, use your link.")
        return email
