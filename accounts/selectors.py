"""Reads about people: the partners of a couple, the partner an invitation link names, and what an
address is used for."""

import hashlib

from allauth.mfa.models import Authenticator
from django.db.models import QuerySet

from accounts.models import Couple, Partner, PushSubscription, User


def couple_partners(couple: Couple) -> list[Partner]:
    """Both partners of `couple`, first slot first."""
    return list(couple.partners.all())


def couple_partner(couple: Couple, pk: int) -> Partner | None:
    """The partner `pk` if they belong to `couple`; None for anyone else's partner or a missing one."""
    return couple.partners.filter(pk=pk).first()


def invitation_people(partner: Partner) -> dict[str, str]:
    """Who an invitation comes from and whom it is shared with, for the invitee's own pages only (the
    link holder's and the partner's): their therapist's name and the other partner's name. Never for
    an email, which anyone reading the mailbox could see."""
    other = partner.couple.partners.exclude(pk=partner.pk).first()
    return {"therapist_name": partner.couple.therapist.name, "other_name": other.name if other else ""}


def partner_by_pk(pk: int) -> Partner | None:
    """The partner `pk`, if there is one: for invitation links, whose token the caller checks."""
    return Partner.objects.filter(pk=pk).first()


def invited_without_account(email: str) -> bool:
    """Whether `email` has an invitation waiting and no Tend account yet: a client's address, which
    public pages must neither reveal nor let anyone else take (any case of letters)."""
    return (
        Partner.objects.filter(email__iexact=email, accepted_at__isnull=True).exists()
        and not User.objects.filter(email__iexact=email).exists()
    )


def address_has_account(email: str) -> bool:
    """Whether `email` is already some Tend account's sign-in (any case of letters)."""
    return User.objects.filter(email__iexact=email).exists()


def active_couples_of(therapist_id) -> "QuerySet[Couple]":
    """A therapist's active couples (`therapist_id` may be an OuterRef, for a subquery)."""
    return Couple.objects.filter(therapist_id=therapist_id, status=Couple.Status.ACTIVE)


def alerts_wanted(therapist: User) -> bool:
    """Whether a therapist's urgent emails go out: always while they have an active couple (they
    choose where, never nowhere), and otherwise as their "alert_emails" choice says."""
    return therapist.is_active and (therapist.alert_emails or active_couples_of(therapist.pk).exists())


def push_subscriptions_of(user_id: int) -> list[PushSubscription]:
    """The browsers where this person turned on notifications, oldest first."""
    return list(PushSubscription.objects.filter(user_id=user_id).order_by("pk"))


def push_endpoint_digests(user_id: int) -> list[str]:
    """SHA-256 of each of this person's subscribed endpoints, for the Reminders page: its script tells
    whether this browser's subscription is still kept (after "Sign out everywhere" it is not) without
    the page carrying the endpoints themselves."""
    endpoints = PushSubscription.objects.filter(user_id=user_id).values_list("endpoint", flat=True)
    return sorted(hashlib.sha256(endpoint.encode()).hexdigest() for endpoint in endpoints)


def push_users(user_ids) -> set[int]:
    """Of these people, those with at least one browser subscribed to notifications."""
    return set(PushSubscription.objects.filter(user_id__in=user_ids).values_list("user_id", flat=True).distinct())


def passkey_count(user: User) -> int:
    """How many passkeys (allauth's WebAuthn authenticators) the person has."""
    return Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.WEBAUTHN).count()
