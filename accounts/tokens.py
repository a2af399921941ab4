"""Signed links in emails: invitations (Django's password-reset token machinery, with Tend's own
lifetime and state) and the "turn off these emails" link."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import signing
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int

from accounts.models import User


class InviteTokenGenerator(PasswordResetTokenGenerator):
    """Tokens for a Partner's "set your password" link.

    The hash covers the partner's per-invite nonce (a re-send changes it, so earlier links die) and
    whether the invite was accepted (so a link works once). Links expire after
    TEND_INVITE_TIMEOUT_SECONDS, independently of PASSWORD_RESET_TIMEOUT.
    """

    key_salt = "tend.accounts.tokens.InviteTokenGenerator"

    def _make_hash_value(self, partner, timestamp: int) -> str:
        accepted = "" if partner.accepted_at is None else partner.accepted_at.replace(microsecond=0, tzinfo=None)
        return f"{partner.pk}:{partner.email.lower()}:{partner.invite_nonce}:{accepted}:{timestamp}"

    def check_token(self, partner, token: str) -> bool:
        # The parent enforces PASSWORD_RESET_TIMEOUT, which is not ours to use, so the (short)
        # signature check is repeated here with the invite's own lifetime.
        if not (partner and token and partner.invite_nonce):
            return False
        try:
            ts_b36, _ = token.split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        for secret in [self.secret, *self.secret_fallbacks]:
            if constant_time_compare(self._make_token_with_timestamp(partner, ts, secret), token):
                break
        else:
            return False
        return (self._num_seconds(self._now()) - ts) <= settings.TEND_INVITE_TIMEOUT_SECONDS


invite_token_generator = InviteTokenGenerator()


def invite_days() -> int:
    """How many days an invitation link works, for the sentences that say so."""
    return settings.TEND_INVITE_TIMEOUT_SECONDS // (24 * 60 * 60)


UNSUBSCRIBE_SALT = "tend.reminders.unsubscribe"
UNSUBSCRIBE_MAX_AGE = timedelta(days=60)


def unsubscribe_token(user: User) -> str:
    return signing.TimestampSigner(salt=UNSUBSCRIBE_SALT).sign(str(user.pk))


def user_from_unsubscribe_token(token: str) -> User | None:
    """The person a "turn off" link was made for, if it is genuine and younger than UNSUBSCRIBE_MAX_AGE; else None."""
    try:
        pk = signing.TimestampSigner(salt=UNSUBSCRIBE_SALT).unsign(token, max_age=UNSUBSCRIBE_MAX_AGE)
    except signing.BadSignature:  # tampered, made up, or expired (SignatureExpired is a BadSignature)
        return None
    return User.objects.filter(pk=pk).first() if pk.isdigit() else None


ALERT_ADDRESS_SALT = "tend.accounts.alert_address"
ALERT_ADDRESS_MAX_AGE = timedelta(days=3)


def alert_address_token(user: User, address: str) -> str:
    """The signed link that confirms `address` for this therapist's urgent emails (sent to it)."""
    return signing.dumps({"user": user.pk, "address": address}, salt=ALERT_ADDRESS_SALT)


def alert_address_from_token(token: str) -> tuple[User, str] | None:
    """The therapist and the address a confirmation link was made for, if it is genuine and younger
    than ALERT_ADDRESS_MAX_AGE; else None."""
    try:
        data = signing.loads(token, salt=ALERT_ADDRESS_SALT, max_age=ALERT_ADDRESS_MAX_AGE)
    except signing.BadSignature:  # tampered, made up, or expired
        return None
    user = User.objects.filter(pk=data.get("user"), role=User.Role.THERAPIST, is_active=True).first()
    return (user, data["address"]) if user and isinstance(data.get("address"), str) else None
