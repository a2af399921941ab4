"""The homework's screens. Paths carry only opaque numeric ids: nothing clinical, no labels or names."""

from django.urls import path

from intimacy.views import appointment, audit, checkin, dashboard, health, home, partner, privacy, therapist

urlpatterns = [
    path("", home.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    # Therapist
    path("couples/<int:pk>/", dashboard.couple_detail, name="couple_detail"),
    path("couples/<int:pk>/appointment/", appointment.appointment, name="appointment"),
    path("couples/<int:pk>/appointment/put-back/", appointment.appointment_put_back, name="appointment_put_back"),
    path(
        "appointment/sessions/<int:pk>/leave-out/",
        appointment.appointment_leave_out_session,
        name="appointment_leave_out_session",
    ),
    path(
        "appointment/reflections/<int:pk>/leave-out/",
        appointment.appointment_leave_out_reflection,
        name="appointment_leave_out_reflection",
    ),
    path("couple-sessions/<int:pk>/make-one/", dashboard.session_merge, name="session_merge_by_therapist"),
    path("couples/<int:pk>/summary/", dashboard.couple_summary, name="couple_summary"),
    path("couples/<int:pk>/export.csv", dashboard.couple_export, name="couple_export"),
    path("couples/<int:pk>/history/", audit.couple_audit, name="couple_audit"),
    path("couples/<int:pk>/notes/", dashboard.note_add, name="note_add"),
    path("couples/<int:pk>/progress-page/", dashboard.progress_page_switch, name="progress_page_switch"),
    path("couples/<int:pk>/record/", privacy.couple_record, name="couple_record"),
    path("couples/<int:pk>/delete/", privacy.couple_delete, name="couple_delete"),
    path("notes/<int:pk>/delete/", dashboard.note_delete, name="note_delete"),
    path("couples/<int:pk>/hold/lift/", dashboard.hold_lift, name="hold_lift"),
    path("couples/<int:pk>/screening/", dashboard.screening_add, name="screening_add"),
    path("alerts/<int:pk>/acknowledge/", dashboard.alert_acknowledge, name="alert_acknowledge"),
    path("couples/<int:pk>/status/", therapist.couple_status, name="couple_status"),
    path("couples/<int:pk>/assign/", therapist.assignment_create, name="assignment_create"),
    path("assignments/<int:pk>/status/", therapist.assignment_status, name="assignment_status"),
    path("exercises/", therapist.exercise_list, name="exercise_list"),
    path("exercises/new/", therapist.exercise_create, name="exercise_create"),
    path("exercises/<int:pk>/", therapist.exercise_detail, name="exercise_detail"),
    path("exercises/<int:pk>/edit/", therapist.exercise_edit, name="exercise_edit"),
    path("exercises/<int:pk>/customize/", therapist.exercise_customize, name="exercise_customize"),
    path("exercises/<int:pk>/archive/", therapist.exercise_archive, name="exercise_archive"),
    path("keepalive/", dashboard.keepalive, name="keepalive"),
    # Partner
    path("log/", partner.log_start, name="log_start"),
    path("assignments/<int:pk>/log/", partner.session_log, name="session_log"),
    path("history/", partner.history, name="history"),
    path("progress/", dashboard.progress, name="progress"),
    path("checkin/", checkin.checkin, name="checkin"),
    # A neutral address: the browser's history on a shared phone must not name the safety line.
    path("note/", privacy.safety, name="safety"),
    # Neutral too: the private check before touch work.
    path("questions/", privacy.safety_check, name="safety_check"),
    path("my-data/", privacy.my_data, name="my_data"),
    path("my-data/download/", privacy.my_data_download, name="my_data_download"),
    path("welcome/withdraw/", privacy.consent_withdraw, name="consent_withdraw"),
    path("sign-out-now/", privacy.quick_sign_out, name="quick_sign_out"),
    path("break/", partner.touch_pause, name="touch_pause"),
    path("break/end/", partner.touch_resume, name="touch_resume"),
    path("sessions/<int:pk>/not-so/", partner.session_dispute, name="session_dispute"),
    path("sessions/<int:pk>/reflect/", partner.reflection_add, name="reflection_add"),
    path("sessions/<int:pk>/make-one/", partner.session_merge, name="session_merge"),
    path("sessions/<int:pk>/one-back-rub/", partner.session_conflict_join, name="session_conflict_join"),
    path("sessions/<int:pk>/two-back-rubs/", partner.session_pair_dismiss, name="session_pair_dismiss"),
    path("sessions/<int:pk>/no-reflection/", partner.reflection_decline, name="reflection_decline"),
    path("sessions/<int:pk>/edit/", partner.session_edit, name="session_edit"),
    path("sessions/<int:pk>/delete/", partner.session_delete, name="session_delete"),
    path("reflections/<int:pk>/edit/", partner.reflection_edit, name="reflection_edit"),
    path("reflections/<int:pk>/visibility/", partner.reflection_visibility, name="reflection_visibility"),
]
