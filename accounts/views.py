"""Views about people: adding a couple, invitations and consent."""

import functools
import json
import logging
from pathlib import Path

from allauth.core import ratelimit
from allauth.usersessions.views import ListUserSessionsView
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.encoding import force_str
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST, require_safe

from accounts import push, selectors, services, staying
from accounts.access import (
    get_couple_for_user,
    partner_exit_required,
    partner_of,
    partner_required,
    therapist_required,
)
from accounts.forms import (
    AddCoupleForm,
    AlertAddressForm,
    ConsentForm,
    DisplayNameForm,
    PartnerAddressForm,
    PushSubscriptionForm,
    ReminderSettingsForm,
    SetPasswordForm,
    add_service_errors,
)
from accounts.models import Partner, User
from accounts.theme import Theme, remember_theme
from accounts.tokens import (
    UNSUBSCRIBE_MAX_AGE,
    alert_address_from_token,
    invite_days,
    invite_token_generator,
    user_from_unsubscribe_token,
)

logger = logging.getLogger(__name__)

# allauth's rate limits (ACCOUNT_RATE_LIMITS): new invitations per partner, so Tend can't flood an address.
INVITE_RESEND_RATE = "tend_invite_resend"


def _site_url(request: HttpRequest) -> str:
    """Where links in emails point: TEND_SITE_URL, as reminders do. The request's own Host is only a
    fallback for a deployment that has not set it: a Host header is the client's to choose (any name
    in ALLOWED_HOSTS), and an invitation must lead to the practice's own address."""
    return settings.TEND_SITE_URL or request.build_absolute_uri("/")


def _send_invites(request: HttpRequest, couple) -> list[str]:
    """Email both partners their invitation; the names of those whose email could not be sent."""
    failed = []
    for partner in selectors.couple_partners(couple):
        try:
            services.invite_send(partner=partner, site_url=_site_url(request))
        except OSError:  # the mail server is down: the couple exists, and the page offers "send" again
            logger.exception("Invite email failed for partner %s", partner.pk)
            failed.append(partner.name)
    return failed


@therapist_required
@require_http_methods(["GET", "POST"])
def couple_add(request: HttpRequest) -> HttpResponse:
    form = AddCoupleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            couple = services.couple_create(
                therapist=request.user,
                label=data["label"],
                time_zone=data["time_zone"],
                partners=[
                    services.NewPartner(data["partner1_name"], data["partner1_email"]),
                    services.NewPartner(data["partner2_name"], data["partner2_email"]),
                ],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            failed = _send_invites(request, couple)
            if failed:
                text = _(
                    "Couple added, but the invitation email to %(names)s could not be sent just now. "
                    "Please send it again later from this page."
                )
                messages.warning(request, text % {"names": get_text_list(failed, _("and"))})
            else:
                messages.success(request, _("Couple added. Both partners have been emailed an invitation."))
            # Where the invitations and the first exercise are: the couple page's partners tab (issue 16).
            return redirect(reverse("couple_exercises", args=[couple.pk]) + "#details")
    return render(request, "accounts/couple_add.html", {"form": form})


@login_required
@require_POST
def invite_resend(request: HttpRequest, pk: int, partner_pk: int) -> HttpResponse:
    """Email a partner a new invitation (earlier links die), a few times an hour at most."""
    couple = get_couple_for_user(request.user, pk, role=User.Role.THERAPIST)
    partner = selectors.couple_partner(couple, partner_pk)
    if partner is None:
        raise Http404
    if partner.has_accepted:
        text = _("%(name)s has already joined. They can use “Forgot password” if needed.")
        messages.warning(request, text % {"name": partner.name})
    elif not _too_many_invitations(request, partner):
        _resend(request, partner)
    return redirect(reverse("couple_exercises", args=[couple.pk]) + "#details")


def _too_many_invitations(request: HttpRequest, partner: Partner, *, dry_run: bool = False) -> bool:
    """Whether `partner` had their hour's invitations (re-sent or to a corrected address); says so if so."""
    if ratelimit.consume(request, action=INVITE_RESEND_RATE, key=str(partner.pk), dry_run=dry_run):
        return False
    text = _("%(name)s has been sent several invitations in the last hour. Please wait an hour before sending another.")
    messages.warning(request, text % {"name": partner.name})
    return True


@login_required
@require_POST
def partner_change_email(request: HttpRequest, pk: int, partner_pk: int) -> HttpResponse:
    """Correct a pending partner's address (and first name) and invite them there; earlier links die.

    Counted with "Send a new invitation" (the same limit per partner), but only once an invitation
    went out, so a refused address uses up nothing. A refusal shows the form again, as typed."""
    couple = get_couple_for_user(request.user, pk, role=User.Role.THERAPIST)
    partner = selectors.couple_partner(couple, partner_pk)
    if partner is None:
        raise Http404
    if partner.has_accepted:  # no form for them on the page: back to it with why
        messages.warning(request, services.joined_refusal(partner))
        return redirect(reverse("couple_exercises", args=[couple.pk]) + "#details")
    form = PartnerAddressForm(request.POST)
    if not form.is_valid() or _too_many_invitations(request, partner, dry_run=True):
        return _address_form(request, couple, partner, form)
    try:
        services.partner_change_email(
            partner=partner,
            email=form.cleaned_data["email"],
            name=form.cleaned_data["name"],
            site_url=_site_url(request),
        )
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _address_form(request, couple, partner, form)
    except OSError:
        _too_many_invitations(request, partner)
        logger.exception("Invite email failed for partner %s", partner.pk)
        text = _("Saved, but the invitation to %(name)s could not be sent just now. Please send it again later.")
        messages.warning(request, text % {"name": form.cleaned_data["name"]})
    else:
        _too_many_invitations(request, partner)
        text = _("A new invitation was emailed to %(name)s at the new address. Earlier links no longer work.")
        messages.success(request, text % {"name": form.cleaned_data["name"]})
    return redirect(reverse("couple_exercises", args=[couple.pk]) + "#details")


def _address_form(request: HttpRequest, couple, partner: Partner, form: PartnerAddressForm) -> HttpResponse:
    if not form.errors:  # held back by the rate limit, which said so: back to the page
        return redirect(reverse("couple_exercises", args=[couple.pk]) + "#details")
    context = {"couple": couple, "partner": partner, "form": form}
    return render(request, "accounts/partner_change_email.html", context, status=400)


def _resend(request: HttpRequest, partner: Partner) -> None:
    try:
        services.invite_send(partner=partner, site_url=_site_url(request), renew=True)
    except OSError:
        logger.exception("Invite email failed for partner %s", partner.pk)
        text = _("The invitation to %(name)s could not be sent just now. Please try again later.")
        messages.warning(request, text % {"name": partner.name})
    else:
        text = _("A new invitation was emailed to %(name)s. Earlier links no longer work.")
        messages.success(request, text % {"name": partner.name})


def _partner_from_link(uidb64: str, token: str) -> Partner | None:
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None
    partner = selectors.partner_by_pk(pk)
    if partner is None or not invite_token_generator.check_token(partner, token):
        return None
    return partner


def _invite_invalid(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/invite_invalid.html", {"days": invite_days()}, status=400)


def _address_taken(request: HttpRequest, partner: Partner) -> HttpResponse:
    # Only someone holding a good link sees this: the invitation went to this address alone.
    return render(request, "accounts/invite_address_taken.html", {"email": partner.email}, status=409)


@require_http_methods(["GET", "POST"])
def invite_accept(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """Set a password from an invite link. A GET only shows the form: nobody is signed in by a visit.

    The first visit records that the invitation was opened (the therapist sees "opened"): a write on a
    GET, allowed here because the link is the invitee's own and reaches no one else."""
    partner = _partner_from_link(uidb64, token)
    if partner is None:
        return _invite_invalid(request)
    if request.user.is_authenticated and request.user.email.lower() != partner.email.lower():
        return render(request, "accounts/invite_signed_in.html", status=400)
    services.invite_mark_opened(partner=partner)
    if selectors.address_has_account(partner.email):
        return _address_taken(request, partner)
    form = SetPasswordForm(request.POST or None, email=partner.email, name=partner.name)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invite_accept(partner=partner, password=form.cleaned_data["password1"])
        except services.AddressTaken:
            return _address_taken(request, partner)
        except ValidationError:
            return _invite_invalid(request)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("consent")
    context = {"form": form, "partner": partner, **selectors.invitation_people(partner)}
    return render(request, "accounts/invite_accept.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest) -> HttpResponse:
    if not request.user.is_partner:
        raise PermissionDenied
    partner = partner_of(request.user)
    form = ConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.consent_accept(partner=partner)
        messages.success(request, _("Welcome to Tend."))
        return redirect("home")
    context = {"form": form, "partner": partner, **selectors.invitation_people(partner)}
    return render(request, "accounts/consent.html", context)


@login_required
@require_GET
def email_unavailable(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/email_unavailable.html")


# Reminder emails ---------------------------------------------------------------------------------


@partner_required
@require_http_methods(["GET", "POST"])
def reminder_settings(request: HttpRequest) -> HttpResponse:
    """A partner's reminder emails: on or off, which days, what time (their couple's time zone)."""
    partner = request.partner
    initial = {"on": partner.reminders_on, "days": partner.reminder_weekdays, "time": partner.reminder_time}
    # Bound on every POST, even an empty one: a switch turned off and no day ticked send nothing at all.
    data = request.POST if request.method == "POST" else None
    form = ReminderSettingsForm(data, initial=initial, time_zone=partner.couple.time_zone)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.reminders_set(partner=partner, on=data["on"], weekdays=data["days"], at=data["time"])
        messages.success(request, _("Saved. Your reminders are on.") if data["on"] else _("Saved. Reminders are off."))
        return redirect("reminder_settings")
    return render(
        request,
        "accounts/reminder_settings.html",
        {"form": form, "partner": partner, **_push_context(request)},
        status=400 if form.is_bound else 200,
    )


# Push reminders (issue 17) ------------------------------------------------------------------------


def _push_context(request: HttpRequest) -> dict:
    """What the Reminders page's notification switch needs (static/tend/push.js): the public key, the
    two addresses, and digests of the browsers already subscribed (never the endpoints)."""
    if not push.enabled():
        return {"push_enabled": False}
    return {
        "push_enabled": True,
        "push_public_key": settings.TEND_VAPID_PUBLIC_KEY,
        "push_digests": " ".join(selectors.push_endpoint_digests(request.user.pk)),
    }


def _json_body(request: HttpRequest):
    """The request's JSON body, or None when it is not JSON."""
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return None


@partner_required
@require_POST
def push_subscribe(request: HttpRequest) -> JsonResponse:
    """Keep this browser's push subscription (JSON from static/tend/push.js, with the CSRF header)."""
    form = PushSubscriptionForm.from_json(_json_body(request))
    if not form.is_valid():
        return JsonResponse({"ok": False}, status=400)
    if not push.enabled():
        return JsonResponse({"ok": False}, status=409)
    subscription = services.push_subscription_save(user=request.user, **form.cleaned_data)
    # Which subscription is this browser's, so signing out here stops its notifications (accounts/push.py).
    request.session[push.SESSION_KEY] = subscription.pk
    return JsonResponse({"ok": True})


@partner_required
@require_POST
def push_unsubscribe(request: HttpRequest) -> JsonResponse:
    """ "Turn off" in this browser: forget its subscription ({"endpoint": …}); the script unsubscribes."""
    data = _json_body(request)
    endpoint = data.get("endpoint") if isinstance(data, dict) else None
    if not isinstance(endpoint, str) or not endpoint:
        return JsonResponse({"ok": False}, status=400)
    services.push_subscription_delete(user=request.user, endpoint=endpoint)
    return JsonResponse({"ok": True})


@require_safe
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker (static/tend/sw.js) at the site's root, so its scope covers every page. It
    shows notifications and opens Tend when one is tapped; it caches nothing and reads no page.
    Public: it is the same file for everyone, and browsers fetch it again on their own."""
    response = HttpResponse(_service_worker_source(), content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    # A changed worker reaches browsers on their next visit.
    response["Cache-Control"] = "no-cache"
    return response


@functools.cache
def _service_worker_source() -> bytes:
    # The notification's icon by its static URL (hashed in production); the rest is the file as it is.
    source = Path(finders.find("tend/sw.js")).read_bytes()
    return source.replace(b"__TEND_ICON__", static("tend/icon-192.png").encode())


class SignOutEverywhereView(ListUserSessionsView):
    """allauth's "Sign out everywhere", which also stops notifications to every browser (a lost
    phone's included): the person turns them on again where they want them."""

    http_method_names = ["get", "post", "head", "options"]

    def form_valid(self, form) -> HttpResponse:
        if services.push_subscriptions_delete_all(user=self.request.user):
            messages.info(
                self.request,
                _("Notifications from Tend are off on every device. You can turn them on again under Reminders."),
            )
        return super().form_valid(form)


sign_out_everywhere = SignOutEverywhereView.as_view()


# Staying signed in on a phone ----------------------------------------------------------------------


@partner_exit_required
@require_http_methods(["GET", "POST"])
def stay_signed_in(request: HttpRequest) -> HttpResponse:
    """The offer after a passkey sign-in on a device: stay signed in here (longer limits), or not now.
    Only a session signed in with a passkey can choose; any other is sent on (nothing to offer)."""
    next_url = staying.safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if not staying.may_stay(request):
        return redirect(next_url)
    if request.method == "GET":
        return render(request, "accounts/stay_signed_in.html", {"next": next_url})
    if request.POST.get("choice") == "stay":
        staying.stay_start(request)
        messages.success(
            request,
            _("This phone stays signed in. It signs you out after 30 days unused, and after 90 days in any case."),
        )
    response = redirect(next_url)
    staying.remember_answer(response)
    return response


# Mail providers' one-click unsubscribe (RFC 8058) POSTs here with no cookie and no CSRF token: the
# signed link itself is the authority, and all it can do is turn emails off.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def reminders_off(request: HttpRequest, token: str) -> HttpResponse:
    """The "Turn off these reminders" page from an email: no sign-in needed; a GET changes nothing."""
    user = user_from_unsubscribe_token(token)
    if user is None:
        return render(request, "accounts/reminders_off_invalid.html", {"days": UNSUBSCRIBE_MAX_AGE.days}, status=400)
    therapist = user.role == User.Role.THERAPIST
    # Old links from urgent emails still arrive here; while a couple is active they change nothing.
    if therapist and selectors.active_couples_of(user.pk).exists():
        return render(request, "accounts/reminders_off_kept.html")
    if request.method == "POST":
        services.reminders_turn_off(user=user)
        return render(request, "accounts/reminders_off_done.html", {"therapist": therapist})
    return render(request, "accounts/reminders_off.html", {"therapist": therapist})


@therapist_required
@require_http_methods(["GET", "POST"])
def alert_settings(request: HttpRequest) -> HttpResponse:
    """Where a therapist's urgent emails go: their sign-in address, or another one once confirmed."""
    user = request.user
    form = AlertAddressForm(
        request.POST if request.method == "POST" else None, initial={"where": "other" if user.alert_email else "signin"}
    )
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["where"] == form.SIGNIN:
            services.alert_address_use_signin(user=user)
            messages.success(request, _("Saved. Urgent emails go to your sign-in address."))
        else:
            services.alert_address_request(user=user, address=form.cleaned_data["address"])
            messages.success(request, _("We sent a link to that address. Urgent emails go there once it is confirmed."))
        return redirect("alert_settings")
    return render(
        request,
        "accounts/alert_settings.html",
        {"form": form, "address": user.alert_address},
        status=400 if form.is_bound else 200,
    )


@therapist_required
@require_http_methods(["GET", "POST"])
def display_name(request: HttpRequest) -> HttpResponse:
    """The name a therapist's invitations carry ("Dana Rivera invited you to Tend")."""
    form = DisplayNameForm(request.POST if request.method == "POST" else None, initial={"name": request.user.name})
    if request.method == "POST" and form.is_valid():
        try:
            services.display_name_set(user=request.user, name=form.cleaned_data["name"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Saved. Invitations you send from now on carry this name."))
            return redirect("display_name")
    return render(request, "accounts/display_name.html", {"form": form}, status=400 if form.is_bound else 200)


# From an email, no sign-in: the signed link (sent to the new address) is the authority; GET changes
# nothing, so a mail scanner opening the link does not confirm it.
@require_http_methods(["GET", "POST"])
def alert_address_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """Confirm an address for a therapist's urgent emails."""
    found = alert_address_from_token(token)
    if found is None:
        return render(request, "accounts/alert_address_invalid.html", status=400)
    user, address = found
    if request.method == "POST":
        services.alert_address_confirm(user=user, address=address)
        return render(request, "accounts/alert_address_done.html", {"address": address})
    return render(request, "accounts/alert_address_confirm.html", {"address": address})


# Colours (issue 17, night mode) ---------------------------------------------------------------------


@login_required
@require_POST
def theme_set(request: HttpRequest) -> HttpResponse:
    """Remember this device's colours: System, Light or Dark (accounts/theme.py says why a cookie).

    The menu's form sends `next`, the page it was on, and lands back there; theme.js sends the choice
    without it and gets 204, having already switched the page's colours itself.
    """
    choice = request.POST.get("theme")
    if choice not in Theme.values:
        raise BadRequest("unknown theme")
    next_url = request.POST.get("next", "")
    host = request.get_host()
    safe = url_has_allowed_host_and_scheme(next_url, allowed_hosts={host}, require_https=request.is_secure())
    if not next_url:
        response = HttpResponse(status=204)
    elif safe:
        response = redirect(next_url)
    else:
        response = redirect("home")
    remember_theme(response, choice)
    return response
