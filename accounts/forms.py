import base64
import zoneinfo

from allauth.account.forms import SignupForm
from allauth.mfa.base import forms as mfa_base_forms
from allauth.mfa.totp import forms as mfa_totp_forms
from allauth.mfa.webauthn import forms as mfa_webauthn_forms
from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.dates import WEEKDAYS
from django.utils.formats import number_format
from django.utils.functional import lazy
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts import push, selectors
from accounts.models import (
    COUPLE_LABEL_MAX_LENGTH,
    EMAIL_MAX_LENGTH,
    PARTNER_NAME_MAX_LENGTH,
    PUSH_ENDPOINT_MAX_LENGTH,
    PUSH_KEY_MAX_LENGTH,
    USER_NAME_MAX_LENGTH,
    User,
)


def time_zone_choices() -> list[tuple[str, str]]:
    zones = sorted(z for z in zoneinfo.available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
    return [(z, z.replace("_", " ")) for z in zones]


def _format(message, values: dict) -> str:
    return message % values


# `lazy_format(_("From %(low)s to %(high)s."), {"low": 1, "high": 7})`: formatted when shown, in the language
# active then. For form text written once at import (help texts, error messages) that names a constant.
lazy_format = lazy(_format, str)


def count(number: int) -> str:
    """A count as people read it in the active language: 5,000 in English."""
    return number_format(number, force_grouping=True)


def _up_to(limit: int) -> str:
    return ngettext("Up to %(limit)s character.", "Up to %(limit)s characters.", limit) % {"limit": count(limit)}


# `up_to(5000)`: "Up to 5,000 characters.", in the language active when it is shown (a help text).
up_to = lazy(_up_to, str)


def password_min_length() -> int | None:
    """The shortest password the configured validators accept, if one of them sets a length."""
    lengths = [getattr(v, "min_length", None) for v in password_validation.get_default_password_validators()]
    return max((n for n in lengths if n is not None), default=None)


def add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Put a service's validation errors beside the fields they name, or at the top of the form, so
    the person sees why and keeps everything they typed."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class TendSignupForm(SignupForm):
    """allauth's sign-up form (settings.ACCOUNT_FORMS), which also keeps an invited client's address.

    A therapist account on an invited address would block that person's invitation, and refusing it
    on the page would tell anyone that the address belongs to a client. So it goes down allauth's own
    "account already exists" path: the same answer as for any address, no account made, and an email
    to the address, which the adapter (accounts/adapter.py) words for someone invited."""

    def validate_unique_email(self, value: str) -> str:
        email = super().validate_unique_email(value)
        if not self.account_already_exists and selectors.invited_without_account(email):
            self.account_already_exists = True
        return email


class AddCoupleForm(forms.Form):
    label = forms.CharField(
        label=_("Label"),
        max_length=COUPLE_LABEL_MAX_LENGTH,
        help_text=_("How you'll recognise this couple, e.g. “Alex & Sam”. First names are enough."),
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=time_zone_choices,
        help_text=_("Where the couple lives; their week runs Monday to Sunday there."),
    )
    partner1_name = forms.CharField(label=_("First partner's first name"), max_length=PARTNER_NAME_MAX_LENGTH)
    partner1_email = forms.EmailField(label=_("First partner's email"), max_length=EMAIL_MAX_LENGTH)
    partner2_name = forms.CharField(label=_("Second partner's first name"), max_length=PARTNER_NAME_MAX_LENGTH)
    partner2_email = forms.EmailField(label=_("Second partner's email"), max_length=EMAIL_MAX_LENGTH)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].initial = settings.TIME_ZONE

    def _clean_email(self, name: str) -> str:
        # Whether the address is free in the therapist's caseload is the service's question
        # (`couple_create`); anywhere else in Tend it is not the form's business (see there).
        return self.cleaned_data[name].strip().lower()

    def clean_partner1_email(self) -> str:
        return self._clean_email("partner1_email")

    def clean_partner2_email(self) -> str:
        return self._clean_email("partner2_email")

    def clean(self):
        data = super().clean()
        first, second = data.get("partner1_email"), data.get("partner2_email")
        if first and second and first == second:
            self.add_error(
                "partner2_email",
                gettext(
                    "Both partners have the same address. Each partner signs in with their own email, "
                    "so their reflections stay their own."
                ),
            )
        return data


class PartnerAddressForm(forms.Form):
    """A pending partner's corrected first name and address (`services.partner_change_email`)."""

    name = forms.CharField(label=_("First name"), max_length=PARTNER_NAME_MAX_LENGTH)
    email = forms.EmailField(label=_("Email"), max_length=EMAIL_MAX_LENGTH)

    def clean_email(self) -> str:
        # Whether the address is free in the therapist's caseload is the service's question.
        return self.cleaned_data["email"].strip().lower()


class SetPasswordForm(forms.Form):
    password1 = forms.CharField(
        label=_("Choose a password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Type it again"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args, email: str, name: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email
        self.name = name
        shortest = password_min_length()
        if shortest:
            text = ngettext(
                "At least %(count)d character. A few unrelated words make a good one.",
                "At least %(count)d characters. A few unrelated words make a good one.",
                shortest,
            )
            self.fields["password1"].help_text = text % {"count": shortest}

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", gettext("The two passwords don't match."))
        elif p1:
            try:
                password_validation.validate_password(p1, User(email=self.email, name=self.name))
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class ConsentForm(forms.Form):
    agree = forms.BooleanField(
        label=_("I have read this and I agree to use Tend on these terms."),
        error_messages={"required": _("Tick the box if you agree. If you don't, you don't have to use Tend.")},
    )


WEEKDAY_CHOICES = [(number, name) for number, name in WEEKDAYS.items()]


class ReminderSettingsForm(forms.Form):
    """A partner's reminder emails: on or off, the days they plan to do their exercise, and a time."""

    on = forms.BooleanField(
        label=_("Send me reminder emails"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input", "role": "switch"}),
    )
    days = forms.TypedMultipleChoiceField(
        label=_("The days you plan to do your exercise"),
        choices=WEEKDAY_CHOICES,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "btn-check"}),
        help_text=_("Choose none if you'd rather not plan days: the other reminders still come."),
    )
    time = forms.TimeField(
        label=_("At this time"),
        required=False,
        input_formats=["%H:%M", "%H:%M:%S"],
        widget=forms.TimeInput(attrs={"type": "time", "class": "form-control form-control-lg"}, format="%H:%M"),
    )

    def __init__(self, *args, time_zone: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if time_zone:
            self.fields["time"].help_text = _("Your couple's time zone: %(zone)s.") % {
                "zone": time_zone.replace("_", " ")
            }
        self.fields["time"].error_messages["invalid"] = _("Enter a time like 19:00.")

    def clean(self):
        data = super().clean()
        if data.get("on") and data.get("time") is None and "time" not in self.errors:
            self.add_error("time", _("Choose a time for your reminders, like 19:00."))
        return data


class DisplayNameForm(forms.Form):
    """A therapist's name as their clients know it: the invitations they send carry it (issue 17)."""

    name = forms.CharField(
        label=_("Your name, as your clients know you"),
        max_length=USER_NAME_MAX_LENGTH,
        widget=forms.TextInput(attrs={"class": "form-control form-control-lg", "autocomplete": "name"}),
        help_text=_("Invitations to your clients say they come from you by this name, for example “Dana Rivera”."),
        error_messages={"required": _("Please give the name your clients know you by.")},
    )


class AlertAddressForm(forms.Form):
    """Where a therapist's urgent emails go: the sign-in address or another (confirmed) one."""

    SIGNIN = "signin"
    OTHER = "other"

    where = forms.ChoiceField(
        label=_("Send urgent emails to"),
        widget=forms.RadioSelect,
        choices=[(SIGNIN, _("My sign-in address")), (OTHER, _("Another address"))],
    )
    address = forms.EmailField(
        label=_("Other address"),
        required=False,
        max_length=EMAIL_MAX_LENGTH,
        help_text=_("We email it a link. Urgent emails go there only once the link is opened and confirmed."),
    )

    def clean(self):
        data = super().clean()
        if data.get("where") == self.OTHER and not data.get("address"):
            self.add_error("address", gettext("Please give the address."))
        return data


def _b64url(value: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (ValueError, TypeError):
        return None


class PushSubscriptionForm(forms.Form):
    """A browser's push subscription, as its script sends it (PushSubscription.toJSON()): an endpoint at
    a known push service, and its keys (a P-256 public key, 65 bytes; a 16-byte secret), base64url."""

    endpoint = forms.CharField(max_length=PUSH_ENDPOINT_MAX_LENGTH)
    p256dh = forms.CharField(max_length=PUSH_KEY_MAX_LENGTH)
    auth = forms.CharField(max_length=PUSH_KEY_MAX_LENGTH)

    @classmethod
    def from_json(cls, data) -> "PushSubscriptionForm":
        keys = data.get("keys") if isinstance(data, dict) else None
        keys = keys if isinstance(keys, dict) else {}
        fields = {"endpoint": data.get("endpoint") if isinstance(data, dict) else None, **keys}
        names = ("endpoint", "p256dh", "auth")
        return cls({name: fields[name] for name in names if isinstance(fields.get(name), str)})

    def clean_endpoint(self) -> str:
        endpoint = self.cleaned_data["endpoint"]
        if not push.endpoint_allowed(endpoint):
            raise ValidationError(gettext("This browser's notification service is not one Tend knows."))
        return endpoint

    def clean_p256dh(self) -> str:
        key = _b64url(self.cleaned_data["p256dh"])
        if key is None or len(key) != 65 or key[0] != 4:
            raise ValidationError(gettext("This browser's notification key is not valid."))
        return self.cleaned_data["p256dh"]

    def clean_auth(self) -> str:
        secret = _b64url(self.cleaned_data["auth"])
        if secret is None or len(secret) != 16:
            raise ValidationError(gettext("This browser's notification key is not valid."))
        return self.cleaned_data["auth"]


# allauth's second-factor forms (MFA_FORMS) ------------------------------------------------------------

# A phone's number pad, its keyboard's code suggestion (an SMS or an authenticator app's), and nothing
# the keyboard "corrects". Codes are digits only: the app's 6, a recovery code's 8 (allauth's
# RECOVERY_CODE_DIGITS), which allauth compares as typed.
CODE_FIELD_ATTRS = {
    "inputmode": "numeric",
    "autocomplete": "one-time-code",
    "pattern": "[0-9]*",
    "autocapitalize": "off",
    "autocorrect": "off",
    "spellcheck": "false",
}


def _code_field_for_phones(form: forms.Form) -> None:
    form.fields["code"].widget.attrs.update(CODE_FIELD_ATTRS)


class TendAuthenticateForm(mfa_base_forms.AuthenticateForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _code_field_for_phones(self)


class TendReauthenticateForm(mfa_base_forms.ReauthenticateForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _code_field_for_phones(self)


class TendActivateTOTPForm(mfa_totp_forms.ActivateTOTPForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _code_field_for_phones(self)


class TendAddWebAuthnForm(mfa_webauthn_forms.AddWebAuthnForm):
    """Adding a passkey: one that signs in alone, unless the person unticks it (a plain security key,
    then only a second step after the password)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # allauth's own default names ("Master key", "Backup key") are a key-ring's, not a phone's.
        self.initial["name"] = self._default_name()
        self.fields["name"].label = _("A name for it")
        self.fields["name"].help_text = _("So you can tell your passkeys apart, for example “My phone”.")
        self.fields["name"].widget.attrs.update(
            {"class": "form-control form-control-lg", "autocomplete": "off", "maxlength": "60"}
        )
        if "passwordless" in self.fields:
            field = self.fields["passwordless"]
            field.initial = True
            field.label = _("Sign in with it alone, without the password")
            field.help_text = _("Your phone or key then asks for your fingerprint, face or PIN each time.")

    def _default_name(self) -> str:
        count = selectors.passkey_count(self.user)
        return gettext("Passkey") if count == 0 else gettext("Passkey %(number)d") % {"number": count + 1}

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip() or self._default_name()
