"""Reads about people: the partners of a couple, and the partner an invitation link names."""

from accounts.models import Couple, Partner


def couple_partners(couple: Couple) -> list[Partner]:
    """Both partners of `couple`, first slot first."""
    return list(couple.partners.all())


def couple_partner(couple: Couple, pk: int) -> Partner | None:
    """The partner `pk` if they belong to `couple`; None for anyone else's partner or a missing one."""
    return couple.partners.filter(pk=pk).first()


def partner_by_pk(pk: int) -> Partner | None:
    """The partner `pk`, if there is one: for invitation links, whose token the caller checks."""
    return Partner.objects.filter(pk=pk).first()
