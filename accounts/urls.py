"""People: adding a couple, invitations, consent, reminder choices. Paths carry only opaque ids."""

from django.urls import path

from accounts import views

urlpatterns = [
    # Therapist
    path("couples/new/", views.couple_add, name="couple_add"),
    path("couples/<int:pk>/partners/<int:partner_pk>/resend-invite/", views.invite_resend, name="invite_resend"),
    path(
        "couples/<int:pk>/partners/<int:partner_pk>/address/", views.partner_change_email, name="partner_change_email"
    ),
    path("settings/alerts/", views.alert_settings, name="alert_settings"),
    path("settings/name/", views.display_name, name="display_name"),
    # From an email to the new address, no sign-in: the signed token names the therapist and address.
    path("settings/alerts/confirm/<str:token>/", views.alert_address_confirm, name="alert_address_confirm"),
    # Partner
    path("invite/<str:uidb64>/<str:token>/", views.invite_accept, name="invite_accept"),
    path("welcome/", views.consent, name="consent"),
    path("reminders/", views.reminder_settings, name="reminder_settings"),
    # After a passkey sign-in on a phone: "Stay signed in on this phone" (accounts/staying.py).
    path("stay-signed-in/", views.stay_signed_in, name="stay_signed_in"),
    # From an email, no sign-in: the signed token is the whole authority (turning emails off).
    path("reminders/off/<str:token>/", views.reminders_off, name="reminders_off"),
    # Push reminders (issue 17): JSON from static/tend/push.js; the service worker at the root.
    path("reminders/push/on/", views.push_subscribe, name="push_subscribe"),
    path("reminders/push/off/", views.push_unsubscribe, name="push_unsubscribe"),
    path("sw.js", views.service_worker, name="service_worker"),
    # allauth's "Sign out everywhere" (before allauth's URLs), also ending notifications everywhere.
    path("accounts/sessions/", views.sign_out_everywhere, name="sign_out_everywhere"),
    # A partner's address is their identity in the couple; it changes through their therapist.
    # (Before allauth's own URLs, which the root URLconf includes after this file.)
    path("accounts/email/", views.email_unavailable, name="account_email"),
    # Anyone signed in: this device's colours (a cookie; no state changes on GET).
    path("settings/theme/", views.theme_set, name="theme_set"),
]
