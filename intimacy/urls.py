"""Root URLconf. Paths carry only opaque numeric ids: nothing clinical, no labels or names."""

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from accounts import views as accounts_views
from intimacy import audit_views, checkin_views, dashboard, privacy, views

# The admin signs in through allauth like everyone else: the same rate limits and second factor.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # Therapist
    path("couples/new/", accounts_views.couple_add, name="couple_add"),
    path("couples/<int:pk>/", dashboard.couple_detail, name="couple_detail"),
    path("couples/<int:pk>/appointment/", dashboard.appointment, name="appointment"),
    path("couples/<int:pk>/summary/", dashboard.couple_summary, name="couple_summary"),
    path("couples/<int:pk>/export.csv", dashboard.couple_export, name="couple_export"),
    path("couples/<int:pk>/history/", audit_views.couple_audit, name="couple_audit"),
    path("couples/<int:pk>/notes/", dashboard.note_add, name="note_add"),
    path("couples/<int:pk>/progress-page/", dashboard.progress_page_switch, name="progress_page_switch"),
    path("couples/<int:pk>/record/", privacy.couple_record, name="couple_record"),
    path("couples/<int:pk>/delete/", privacy.couple_delete, name="couple_delete"),
    path("notes/<int:pk>/delete/", dashboard.note_delete, name="note_delete"),
    path("alerts/<int:pk>/acknowledge/", dashboard.alert_acknowledge, name="alert_acknowledge"),
    path("couples/<int:pk>/status/", views.couple_status, name="couple_status"),
    path("couples/<int:pk>/assign/", views.assignment_create, name="assignment_create"),
    path(
        "couples/<int:pk>/partners/<int:partner_pk>/resend-invite/",
        accounts_views.invite_resend,
        name="invite_resend",
    ),
    path("assignments/<int:pk>/status/", views.assignment_status, name="assignment_status"),
    path("exercises/", views.exercise_list, name="exercise_list"),
    path("exercises/new/", views.exercise_create, name="exercise_create"),
    path("exercises/<int:pk>/", views.exercise_detail, name="exercise_detail"),
    path("exercises/<int:pk>/edit/", views.exercise_edit, name="exercise_edit"),
    path("exercises/<int:pk>/customize/", views.exercise_customize, name="exercise_customize"),
    path("exercises/<int:pk>/archive/", views.exercise_archive, name="exercise_archive"),
    # Partner
    path("invite/<str:uidb64>/<str:token>/", accounts_views.invite_accept, name="invite_accept"),
    path("welcome/", accounts_views.consent, name="consent"),
    path("log/", views.log_start, name="log_start"),
    path("assignments/<int:pk>/log/", views.session_log, name="session_log"),
    path("history/", views.history, name="history"),
    path("progress/", dashboard.progress, name="progress"),
    path("checkin/", checkin_views.checkin, name="checkin"),
    path("tell-my-therapist/", privacy.safety, name="safety"),
    path("tell-my-therapist/sent/", privacy.safety_sent, name="safety_sent"),
    path("my-data/", privacy.my_data, name="my_data"),
    path("reminders/", accounts_views.reminder_settings, name="reminder_settings"),
    # From an email, no sign-in: the signed token is the whole authority (turning emails off).
    path("reminders/off/<str:token>/", accounts_views.reminders_off, name="reminders_off"),
    path("my-data/download/", privacy.my_data_download, name="my_data_download"),
    path("welcome/withdraw/", privacy.consent_withdraw, name="consent_withdraw"),
    path("sign-out-now/", privacy.quick_sign_out, name="quick_sign_out"),
    path("sessions/<int:pk>/reflect/", views.reflection_add, name="reflection_add"),
    path("sessions/<int:pk>/edit/", views.session_edit, name="session_edit"),
    path("sessions/<int:pk>/delete/", views.session_delete, name="session_delete"),
    path("reflections/<int:pk>/edit/", views.reflection_edit, name="reflection_edit"),
    path("reflections/<int:pk>/visibility/", views.reflection_visibility, name="reflection_visibility"),
    # Accounts (allauth) and operations
    # A partner's address is their identity in the couple; it changes through their therapist.
    path("accounts/email/", accounts_views.email_unavailable, name="account_email"),
    path("accounts/", include("allauth.urls")),
    path("keepalive/", dashboard.keepalive, name="keepalive"),
    path("admin/", admin.site.urls),
]
