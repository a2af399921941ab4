"""Writes about people: therapists, couples, invitations and consent."""

from dataclasses import dataclass
from datetime import time

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from accounts.models import Couple, Partner, PushSubscription, ReminderSend, User
from accounts.selectors import active_couples_of
from accounts.tokens import ALERT_ADDRESS_MAX_AGE, alert_address_token, invite_days, invite_token_generator


@dataclass(frozen=True)
class NewPartner:
    name: str
    email: str


def email_in_use(email: str) -> bool:
    """Whether a Tend account or an invitation already uses this address (case-insensitive).

    For the practice's own tools (`create_therapist`); never for a therapist's screens, where it would
    tell them about other people's clients."""
    return User.objects.filter(email__iexact=email).exists() or Partner.objects.filter(email__iexact=email).exists()


def _caseload_conflict(therapist: User, email: str, *, exclude: Partner | None = None) -> str | None:
    """Why `email` can't be a new partner of `therapist`'s, judged by their own caseload alone.

    Only what the therapist already knows is said: their own address, or a partner of one of their own
    couples (other than `exclude`, whose address is being changed). Anywhere else in Tend the address
    is no concern of theirs (see `invite_send`)."""
    if email == therapist.email.lower():
        return _("This is your own address. Each partner needs an address of their own.")
    known = Partner.objects.filter(couple__therapist=therapist, email__iexact=email)
    if exclude is not None:
        known = known.exclude(pk=exclude.pk)
    known = known.select_related("couple").first()
    if known is not None:
        text = _("This is already the address of a partner in your couple “%(label)s”. Each partner needs their own.")
        return text % {"label": known.couple.label}
    return None


def therapist_create(*, email: str, password: str | None = None, name: str = "") -> User:
    """A therapist account with a verified address, for practices that close public sign-up."""
    email = email.strip().lower()
    with transaction.atomic():
        user = User(email=email, name=name, role=User.Role.THERAPIST)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.full_clean()
        user.save()
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def display_name_set(*, user: User, name: str) -> User:
    """Set the name Tend shows for `user`: for a therapist, the name their clients' invitations carry."""
    user.name = name.strip()
    user.full_clean()
    user.save(update_fields=["name"])
    return user


def partner_intro_dismiss(*, partner: Partner) -> Partner:
    """Hide the "How Tend works" card from `partner`'s home for good (the first dismissal counts)."""
    if partner.intro_dismissed_at is None:
        partner.intro_dismissed_at = timezone.now()
        partner.save(update_fields=["intro_dismissed_at"])
    return partner


def couple_create(*, therapist: User, label: str, time_zone: str, partners: list[NewPartner]) -> Couple:
    """A couple on `therapist`'s caseload with its two partners, each with a fresh invite nonce.

    Each partner needs their own address, not used in the therapist's caseload before. An address used
    anywhere else in Tend is accepted like any other: refusing it would tell the therapist whose it is.
    Invitations are sent separately (`invite_send`), once the rows are committed.
    """
    if len(partners) != 2:
        raise ValidationError(_("A couple has exactly two partners."))
    emails = [p.email.strip().lower() for p in partners]
    if emails[0] == emails[1]:
        raise ValidationError(_("Each partner needs their own email address."))
    conflicts = {f"partner{n}_email": _caseload_conflict(therapist, e) for n, e in enumerate(emails, start=1)}
    if any(conflicts.values()):
        raise ValidationError({field: text for field, text in conflicts.items() if text})
    with transaction.atomic():
        couple = Couple(therapist=therapist, label=label.strip(), time_zone=time_zone)
        couple.full_clean()
        couple.save()
        for slot, (new, email) in enumerate(zip(partners, emails, strict=True), start=1):
            partner = Partner(couple=couple, slot=slot, name=new.name.strip(), email=email)
            partner.new_invite_nonce()
            partner.full_clean()
            partner.save()
    return couple


def joined_refusal(partner: Partner) -> str:
    """Why a joined partner's address is not the therapist's to change (Tend has no email change)."""
    return _("%(name)s has joined: this address is their sign-in, so it can't be changed here.") % {
        "name": partner.name
    }


def _partner_address_problem(partner: Partner, email: str, name: str) -> ValidationError | None:
    """Why `partner` (locked, with their couple) can't take `email` and `name`: `couple_create`'s
    rules and words, and a change that changes nothing. None when it may go ahead."""
    if partner.has_accepted:
        return ValidationError(joined_refusal(partner))
    if email == partner.email.lower() and name == partner.name:
        return ValidationError(
            {"email": _("This is already their address. “Send a new invitation” sends the invitation again.")}
        )
    if partner.couple.partners.exclude(pk=partner.pk).filter(email__iexact=email).exists():
        return ValidationError({"email": _("Each partner needs their own email address.")})
    conflict = _caseload_conflict(partner.couple.therapist, email, exclude=partner)
    return ValidationError({"email": conflict}) if conflict else None


def partner_change_email(*, partner: Partner, email: str, site_url: str, name: str | None = None) -> Partner:
    """Correct the address (and first name) of a partner who has not joined, and invite them there.

    A mistyped address sends the only link to a stranger: the new invite nonce kills every link sent
    before (the token also covers the address), the invitation starts unsent and unopened, and then
    goes to the new address (`invite_send`, so an address that already has an account is handled as
    on "Add couple", without telling the therapist). Refused once the partner has joined, their
    address being their sign-in, and by the caseload rules of `couple_create`. If the email fails
    (OSError), the change stays and the page shows the invitation as not sent.
    """
    email = email.strip().lower()
    with transaction.atomic():
        # Locked as `invite_accept` locks it: an acceptance and a change never interleave.
        partner = Partner.objects.select_for_update().select_related("couple__therapist").get(pk=partner.pk)
        name = partner.name if name is None else name.strip()
        problem = _partner_address_problem(partner, email, name)
        if problem is not None:
            raise problem
        partner.email, partner.name = email, name
        partner.new_invite_nonce()
        partner.invited_at = partner.invite_opened_at = None
        partner.full_clean()
        partner.save(update_fields=["email", "name", "invite_nonce", "invited_at", "invite_opened_at"])
    return invite_send(partner=partner, site_url=site_url)


def invite_url(partner: Partner, *, site_url: str) -> str:
    """The partner's current "set your password" link (it dies with a re-send or once accepted).

    For the invitation email alone: only the invitee may hold it, so it is never shown to anyone."""
    uid = urlsafe_base64_encode(force_bytes(partner.pk))
    token = invite_token_generator.make_token(partner)
    return site_url.rstrip("/") + reverse("invite_accept", args=[uid, token])


def invite_send(*, partner: Partner, site_url: str, renew: bool = False) -> Partner:
    """Email `partner` their "set your password" link; the link reaches them by this email only.

    With `renew`, the invite nonce changes first, so every link sent before stops working, and the new
    invitation starts unopened. `invited_at` is set once the email went out: if sending fails (OSError
    from the mail server), nothing shows as sent and the therapist can try again later.
    The email names the therapist (their own display name, `User.name`) and says in one line what Tend
    is, so it does not read like phishing (issue 17); it names no couple, exercise or other partner, and
    its subject nothing clinical.

    An address that already has a Tend account (a therapist's, staff's, another couple's partner's)
    cannot take a second one, so it gets no link: its owner is told why instead, and the therapist's
    side looks as for any invitation, so they learn nothing about whose address it is.
    """
    if partner.has_accepted:
        raise ValidationError(_("This invitation was already accepted; the partner can reset their password instead."))
    if renew or not partner.invite_nonce:
        with transaction.atomic():
            partner.new_invite_nonce()
            # The earlier links are dead from here on: until the new one is out, none is.
            partner.invited_at = partner.invite_opened_at = None
            partner.save(update_fields=["invite_nonce", "invited_at", "invite_opened_at"])
    if User.objects.filter(email__iexact=partner.email).exists():
        subject = _("An invitation to Tend for this address")
        login_url = site_url.rstrip("/") + reverse("account_login")
        message = render_to_string("accounts/email/invite_address_taken.txt", {"login_url": login_url})
    else:
        # On one line: a name pasted with a line break would make the subject an invalid mail header.
        therapist = " ".join(partner.couple.therapist.name.split())
        if therapist:
            subject = _("%(therapist)s invited you to Tend") % {"therapist": therapist}
        else:  # not "Your therapist …": a subject shows on a locked screen, and therapy is nobody's business
            subject = _("You're invited to Tend")
        context = {
            "name": partner.name,
            "therapist": therapist,
            "url": invite_url(partner, site_url=site_url),
            "days": invite_days(),
        }
        message = render_to_string("accounts/email/invite.txt", context)
    send_mail(subject=subject, message=message, from_email=None, recipient_list=[partner.email])
    partner.invited_at = timezone.now()
    partner.save(update_fields=["invited_at"])
    return partner


def invite_mark_opened(*, partner: Partner) -> Partner:
    """Record the first time the partner's current invitation link was opened (a page shown to them).

    Called on a visit to the invitee's own link: the one write a GET of Tend does, so the therapist can
    see "opened" without ever seeing the link. Later visits keep the first time."""
    if partner.invite_opened_at is None and not partner.has_accepted:
        partner.invite_opened_at = timezone.now()
        partner.save(update_fields=["invite_opened_at"])
    return partner


class AddressTaken(ValidationError):
    """The invited address got a Tend account since the invitation was sent: it cannot take a second."""


def invite_accept(*, partner: Partner, password: str) -> User:
    """Create the partner's account with their chosen password; the invite link dies with it.

    Raises `AddressTaken` if the address already has an account (another invitation to it was accepted
    first, or it is a therapist's): one address, one account, and the database has the last word.
    """
    with transaction.atomic():
        checked, partner = partner, Partner.objects.select_for_update().get(pk=partner.pk)
        if partner.has_accepted:
            raise ValidationError(_("This invitation was already used."))
        # The link was checked against `checked`: a new invitation or a corrected address since then
        # (`partner_change_email`) means the link is dead, and the account must not take the new address.
        if (partner.invite_nonce, partner.email.lower()) != (checked.invite_nonce, checked.email.lower()):
            raise ValidationError(_("This invitation was already used."))
        if User.objects.filter(email__iexact=partner.email).exists():
            raise AddressTaken(_("This address already has a Tend account."))
        user = User(email=partner.email, name=partner.name, role=User.Role.PARTNER)
        user.set_password(password)
        user.full_clean()
        try:
            # Another invitation to the same address, accepted at the same moment, wins the insert.
            with transaction.atomic():
                user.save()
        except IntegrityError as exc:
            raise AddressTaken(_("This address already has a Tend account.")) from exc
        # They opened a link sent to this address, so it is theirs.
        EmailAddress.objects.create(user=user, email=partner.email, verified=True, primary=True)
        partner.user = user
        partner.accepted_at = timezone.now()
        partner.save(update_fields=["user", "accepted_at"])
    return user


def consent_accept(*, partner: Partner) -> Partner:
    """Record that the partner read and accepted the current consent text."""
    partner.consent_version = settings.TEND_CONSENT_VERSION
    partner.consent_accepted_at = timezone.now()
    partner.save(update_fields=["consent_version", "consent_accepted_at"])
    return partner


def couple_mark_exported(*, couple: Couple) -> Couple:
    """Record that the therapist took the couple's record out for the clinical file."""
    couple.exported_at = timezone.now()
    couple.save(update_fields=["exported_at"])
    return couple


def couple_set_status(*, couple: Couple, status: str) -> Couple:
    """Mark a couple active, paused or closed (closing keeps every record, read-only)."""
    couple.status = status
    couple.full_clean()
    couple.save(update_fields=["status"])
    return couple


def couple_set_progress_page(*, couple: Couple, enabled: bool) -> Couple:
    """Switch the partners' own progress page on or off for this couple."""
    couple.progress_page = enabled
    couple.save(update_fields=["progress_page"])
    return couple


def reminders_set(*, partner: Partner, on: bool, weekdays: list[int], at: time | None = None) -> Partner:
    """Save a partner's reminder choices: on or off, the days (Monday 0 … Sunday 6) and the time in
    their couple's time zone. Without `at` the time chosen before is kept."""
    partner.reminders_on = on
    partner.reminder_days = Partner.weekdays_to_bits(weekdays)
    if at is not None:
        partner.reminder_time = at.replace(second=0, microsecond=0)
    partner.save(update_fields=["reminders_on", "reminder_days", "reminder_time"])
    return partner


def reminders_turn_off(*, user: User) -> bool:
    """Stop the emails a signed "turn off" link was made for: a partner's reminders, or a therapist's
    "a client needs your attention" emails. Anything still waiting to be sent is not sent.

    A therapist with an active couple cannot turn urgent emails off (they never go nowhere; links
    from emails sent before urgent emails lost theirs still arrive here): nothing changes and the
    answer is False. True when the emails are now off."""
    partner = Partner.objects.filter(user=user).first() if user.role == User.Role.PARTNER else None
    if partner is None and active_couples_of(user.pk).exists():
        return False
    with transaction.atomic():
        if partner is not None:
            if partner.reminders_on:
                partner.reminders_on = False
                partner.save(update_fields=["reminders_on"])
        elif user.alert_emails:
            user.alert_emails = False
            user.save(update_fields=["alert_emails"])
        ReminderSend.objects.filter(recipient=user, status=ReminderSend.Status.PENDING).update(
            status=ReminderSend.Status.CANCELLED, claim=None
        )
    return True


def alert_address_use_signin(*, user: User) -> None:
    """Send a therapist's urgent emails to their sign-in address again (already confirmed)."""
    with transaction.atomic():
        user.alert_email = ""
        user.full_clean(validate_unique=False)
        user.save(update_fields=["alert_email"])


def alert_address_request(*, user: User, address: str) -> None:
    """Email `address` a signed link that, once opened and confirmed, sends this therapist's urgent
    emails there. Nothing changes until then, so a mistyped address never swallows an urgent email.
    The email names neither the therapist nor any client."""
    link = settings.TEND_SITE_URL.rstrip("/") + reverse(
        "alert_address_confirm", args=[alert_address_token(user, address)]
    )
    body = render_to_string(
        "accounts/email/alert_address_confirm.txt", {"url": link, "days": ALERT_ADDRESS_MAX_AGE.days}
    )
    send_mail(_("Confirm this address for Tend"), body, None, [address])


def alert_address_confirm(*, user: User, address: str) -> None:
    """Make `address` (confirmed through the signed link sent to it) where this therapist's urgent
    emails go. The sign-in address itself means "the sign-in address"."""
    with transaction.atomic():
        user.alert_email = "" if address.lower() == user.email.lower() else address
        user.full_clean(validate_unique=False)
        user.save(update_fields=["alert_email"])


# Push reminders (issue 17) ------------------------------------------------------------------------

PUSH_BROWSERS_MAX = 10


def push_subscription_save(*, user: User, endpoint: str, p256dh: str, auth: str) -> PushSubscription:
    """Keep this browser's push subscription for `user`: notifications now go there too. The same
    browser subscribing again (new keys, or another person signed in on it) replaces its row: a browser
    gets each notification once, for whoever turned it on there last."""
    with transaction.atomic():
        subscription = PushSubscription.objects.select_for_update().filter(endpoint=endpoint).first()
        subscription = subscription or PushSubscription(endpoint=endpoint)
        subscription.user, subscription.p256dh, subscription.auth = user, p256dh, auth
        subscription.full_clean(validate_unique=False)
        subscription.save()
        # A person's browsers are a handful: beyond PUSH_BROWSERS_MAX the oldest go, so no one can
        # make a run post to hundreds of addresses.
        keep = PushSubscription.objects.filter(user=user).order_by("-pk").values_list("pk", flat=True)
        PushSubscription.objects.filter(user=user).exclude(pk__in=list(keep[:PUSH_BROWSERS_MAX])).delete()
    return subscription


def push_subscription_delete(*, user: User, endpoint: str) -> bool:
    """ "Turn off" on one browser: forget its subscription, if it is this person's. True if one went."""
    with transaction.atomic():
        deleted, _ = PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()
    return bool(deleted)


def push_subscription_signed_out(*, user: User, pk) -> bool:
    """Signing out of a browser stops its notifications: the next person to use that phone must not get
    the last one's (a shared phone, a phone passed on). Only `user`'s own subscription goes: the browser
    may since have subscribed for someone else. True if one went."""
    with transaction.atomic():
        deleted, _ = PushSubscription.objects.filter(user=user, pk=pk).delete()
    return bool(deleted)


def push_subscriptions_delete_all(*, user: User) -> int:
    """ "Sign out everywhere": no browser gets this person's notifications any more (a lost phone
    included, signed out or not); they turn them on again where they want them. How many went."""
    with transaction.atomic():
        deleted, _ = PushSubscription.objects.filter(user=user).delete()
    return deleted


def push_subscription_expired(*, subscription: PushSubscription) -> None:
    """The push service no longer knows this browser (404/410): forget it."""
    with transaction.atomic():
        PushSubscription.objects.filter(pk=subscription.pk).delete()


def push_subscription_used(*, subscription: PushSubscription, at) -> None:
    """Record that a notification reached this browser's push service."""
    with transaction.atomic():
        PushSubscription.objects.filter(pk=subscription.pk).update(last_used_at=at)
