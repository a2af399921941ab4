"""A partner's screens: home, logging a session, their reflection, and the couple's history."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import drafts
from accounts import services as accounts_services
from accounts.access import partner_context, partner_exit_context, partner_exit_required, partner_required
from accounts.drafts import keeps_draft
from accounts.forms import add_service_errors
from accounts.models import User
from intimacy import holds, selectors, services
from intimacy.access import (
    get_assignment_for_user,
    get_reflection_for_user,
    get_session_for_user,
)
from intimacy.builtin import BACK_RUB_KEY
from intimacy.forms import LogSessionForm, ReflectionForm, SessionEditForm, VisibilityForm, asks_second_thought
from intimacy.models import EDIT_WINDOW_DAYS, SHAPE_ROLES, Assignment, ExerciseShape, PersonalPause, Reflection

PARTNER = User.Role.PARTNER


@partner_exit_required
def partner_home(request: HttpRequest) -> HttpResponse:
    partner = request.partner
    if partner.withdrew_consent:
        return _withdrawn_home(request)
    today = partner.couple.today()
    data = selectors.partner_home(partner, request.user, today)
    other = partner.other_partner()
    # The check-in is offered until answered, then not mentioned again that week: no streaks, nothing "missed".
    checkin_done, program = selectors.partner_home_reads(partner, request.user, today)
    return render(
        request,
        "intimacy/partner_home.html",
        {
            "home": data,
            "partner": partner,
            "other": other,
            "checkin_due": not checkin_done,
            "program": program,
        },
    )


def _withdrawn_home(request: HttpRequest) -> HttpResponse:
    """After withdrawing consent: only the ways that stay open, calmly (accounts/access.py)."""
    reflections = selectors.own_reflections_not_private(request.partner)
    return render(request, "intimacy/withdrawn_home.html", {"partner": request.partner, "reflections": reflections})


@partner_required
@require_GET
def history(request: HttpRequest) -> HttpResponse:
    # Both partners are read with this one (accounts/access.py): attached, not joined into the page's read.
    known = selectors.Known.of(request.partner)
    page = selectors.couple_sessions_page(request.partner.couple, request.user, request.GET.get("page"), known=known)
    context = {"page": page, "partner": request.partner, "window_days": EDIT_WINDOW_DAYS}
    # Two accounts of one back rub, logged before they joined on saving: offered to make one.
    couple = request.partner.couple
    if not couple.is_closed:
        pairs = selectors.session_pairs(couple, kind=selectors.PAIR_SAME_BACK_RUB, partner=request.partner)
        context["same_back_rub"] = pairs
    return render(request, "intimacy/history.html", context)


@partner_required
@require_GET
def log_start(request: HttpRequest) -> HttpResponse:
    """Pick the assignment to log for; with only one active, go straight to it."""
    assignments = selectors.loggable_assignments(request.user)
    # Paused, not missing: the neutral words of the exercise's own card, never "no exercise set"
    # (and only while there is an exercise to pause).
    # Holds and pauses stop touch exercises only: talk and together ones stay open to log.
    clearance = holds.clearance(request.partner.couple) if any(a.exercise.is_touch for a in assignments) else None
    paused = clearance is not None and not clearance.open
    active = [a for a in assignments if not (paused and a.exercise.is_touch)]
    if len(active) == 1:
        return redirect("session_log", pk=active[0].pk)
    # This partner's own private check comes first, as on the home page; the other partner, and anyone
    # paused for another reason, read only the neutral pause.
    check_due = paused and clearance.check_due(request.partner)
    return render(request, "intimacy/log_start.html", {"assignments": active, "paused": paused, "check_due": check_due})


@keeps_draft(LogSessionForm)
@partner_context
@require_http_methods(["GET", "POST"])
def session_log(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = get_assignment_for_user(request.user, pk, role=PARTNER)
    partner = request.partner
    today = assignment.couple.today()
    # Words kept from a form that could not be saved come back first, whatever else would be offered.
    kept = drafts.restore(request)
    if request.method == "GET" and not kept:
        offer = _before_logging(request, assignment, today)
        if offer is not None:
            return offer
    initial = {"date": today, "role": _suggested_role(assignment, partner)}
    if request.method == "GET":
        initial["visibility"] = selectors.last_visibility(partner)
    shape = assignment.exercise.shape
    form = LogSessionForm(
        request.POST or None, suggested_minutes=assignment.suggested_minutes, initial={**initial, **kept}, shape=shape
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            logged = services.session_log(
                assignment=assignment,
                partner=partner,
                day=data["date"],
                minutes=data["minutes"],
                role=data["role"],
                answers=form.answers(),
                idempotency_key=data["idempotency_key"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if not logged.created:
                return _logged_again(request, logged.session, form)
            notice = _joined_notice(logged.session) if logged.joined else _saved_notice(logged.session, partner)
            messages.success(request, notice)
            return redirect("home")
    return render(
        request,
        "intimacy/session_log.html",
        {
            "form": form,
            "assignment": assignment,
            "today": today,
            "other": partner.other_partner(),
            # Together has one role, so its questions show without choosing one.
            "role": Reflection.Role.TOGETHER if shape == ExerciseShape.TOGETHER else None,
        },
    )


def _before_logging(request: HttpRequest, assignment: Assignment, today) -> HttpResponse | None:
    if assignment.status != Assignment.Status.ACTIVE:
        messages.info(request, _("This exercise is paused or finished, so there is nothing to log for it right now."))
        return redirect("home")
    if assignment.exercise.is_touch and holds.touch_paused(request.partner):
        # The same words whatever the reason, and for either partner.
        messages.info(request, holds.PAUSED_MESSAGE)
        return redirect("home")
    # "Did you mean this one?": offer recent sessions the partner hasn't reflected on, once.
    if request.GET.get("new") != "1":
        recent = selectors.recent_unreflected(request.partner, assignment, today)
        if recent:
            return render(request, "intimacy/log_maybe.html", {"assignment": assignment, "sessions": recent})
    return None


def _saved_notice(session, partner) -> str:
    thanks = _("Thank you. Your session is saved.")
    # Another role the same day, minutes ago: a turn each, or the wrong role picked and corrected
    # with Back. Both are possible, so it is saved, and the partner told how to undo a mistake.
    if selectors.logged_in_the_other_role(session, partner, since=session.created_at - services.REPEAT_WINDOW):
        more = _(
            "You also saved a session for the same day a few minutes ago, in the other role. If one of them "
            "is a mistake, delete it under Your sessions."
        )
        return f"{thanks} {more}"
    return thanks


def _joined_notice(session) -> str:
    # One back rub, one session: the reflection joined the session the other partner logged.
    exercise = session.assignment.exercise
    if exercise.builtin_key == BACK_RUB_KEY:
        return _("Added to the back rub %(name)s logged.") % {"name": session.logged_by.name}
    return _("Added to the session of “%(title)s” %(name)s logged.") % {
        "title": exercise.title,
        "name": session.logged_by.name,
    }


def _logged_again(request: HttpRequest, session, form: LogSessionForm) -> HttpResponse:
    """The session was already saved (the same form twice, or Back and Save again): it is kept once.
    New words in the second form wait in the reflection's edit form, another date or length in the
    session's edit form, for the person to confirm."""
    notice = _("You had already saved this session, so it is kept once.")
    sent = form.cleaned_data
    mine = selectors.own_reflection(session, request.partner)
    if mine is not None and services.reflection_answers_differ(reflection=mine, answers=form.answers()):
        more = _("Here is what you just wrote: press Save to keep it instead of what you saved first.")
        return _edit_sent_again(request, mine, session, form, f"{notice} {more}")
    # The date and minutes of a session the other partner logged are theirs to correct, not this one's.
    own = session.logged_by_id == request.partner.pk
    if own and (sent["date"], sent["minutes"]) != (session.date, session.minutes):
        return _session_sent_again(request, session, sent)
    messages.info(request, notice)
    return redirect("home")


def _session_sent_again(request: HttpRequest, session, sent: dict) -> HttpResponse:
    # The session's edit form, filled from the second post: saving it posts to session_edit, which
    # applies the usual edit rules.
    text = ngettext(
        "You had already saved this session: %(minutes)d minute on %(date)s.",
        "You had already saved this session: %(minutes)d minutes on %(date)s.",
        session.minutes,
    ) % {"minutes": session.minutes, "date": date_format(session.date)}
    more = _("Here is what you just sent: press Save to keep it instead.")
    messages.info(request, f"{text} {more}")
    form = SessionEditForm(initial={"date": sent["date"], "minutes": sent["minutes"]})
    return render(request, "intimacy/session_edit.html", {"form": form, "session": session})


def _reflected_again(request: HttpRequest, mine: Reflection, session, form: ReflectionForm) -> HttpResponse:
    """A reflection form sent again after the first one was saved: the same words change nothing;
    new ones wait in the edit form for the person to confirm, neither dropped nor saved silently."""
    if form.is_valid() and not services.reflection_answers_differ(reflection=mine, answers=form.answers()):
        messages.info(request, _("You had already saved your reflection, so nothing changed."))
        return redirect("home")
    notice = _(
        "You had already saved your reflection. Here is what you just wrote: press Save to keep it instead "
        "of what you saved first."
    )
    return _edit_sent_again(request, mine, session, form, notice)


def _edit_sent_again(request: HttpRequest, mine: Reflection, session, form, notice: str) -> HttpResponse:
    # The edit form of the saved reflection, filled from the second post: saving it posts to
    # reflection_edit, which applies the usual edit rules.
    context = {
        "form": form,
        "session": session,
        "role": mine.role,
        "other": request.partner.other_partner(),
        "editing": True,
        "reflection": mine,
        "notice": notice,
    }
    return render(request, "intimacy/reflection_form.html", context)


def _suggested_role(assignment: Assignment, partner) -> str | None:
    # The named partner has the shape's first role (gives, or speaks); together has no role to suggest.
    first, second = SHAPE_ROLES[assignment.exercise.shape]
    if assignment.giver_plan == Assignment.GiverPlan.ONE and assignment.planned_giver_id:
        return first if assignment.planned_giver_id == partner.pk else second
    return None


@keeps_draft(ReflectionForm)
@partner_context
@require_http_methods(["GET", "POST"])
def reflection_add(request: HttpRequest, pk: int) -> HttpResponse:
    session = get_session_for_user(request.user, pk, role=PARTNER)
    partner = request.partner
    role = session.role_of(partner)
    if role is None:
        raise PermissionDenied
    mine = selectors.own_reflection(session, partner)
    kept = drafts.restore(request)
    if mine is not None:
        if request.method == "POST" or kept:
            # Sent again, or kept from before a sign-out while another device saved the first.
            form = ReflectionForm(request.POST or None, initial=kept, shape=session.shape)
            return _reflected_again(request, mine, session, form)
        return redirect("reflection_edit", pk=mine.pk)
    if request.method == "GET" and _touch_paused(session, partner):
        messages.info(request, holds.PAUSED_MESSAGE)
        return redirect("home")
    offered = {} if request.method == "POST" else {"visibility": selectors.last_visibility(partner)}
    form = ReflectionForm(request.POST or None, initial={**offered, **kept}, shape=session.shape)
    if request.method == "POST" and form.is_valid():
        try:
            services.reflection_add(session=session, partner=partner, answers=form.answers())
        except ValidationError as exc:
            # A twin of this post (a double tap, another tab) may have saved it a moment ago.
            mine = selectors.own_reflection(session, partner)
            if mine is not None:
                return _reflected_again(request, mine, session, form)
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Thank you. Your reflection is saved."))
            return redirect("home")
    context = {"form": form, "session": session, "role": role, "other": partner.other_partner(), "editing": False}
    return render(request, "intimacy/reflection_form.html", {**context, **_pair_offer(session, partner)})


def _touch_paused(session, partner) -> bool:
    """Holds and pauses stop touch exercises only (issue 15): a talk or together one goes on."""
    return session.shape == ExerciseShape.TOUCH and holds.touch_paused(partner)


def _pair_offer(session, partner) -> dict:
    # The other partner's account of a back rub this partner logged too: offered to make one (or, for the
    # same role twice, the conflict card) above the form, which still works.
    pair = selectors.session_pair_of(session, partner)
    if pair is None:
        return {}
    key = "same_back_rub" if pair.kind == selectors.PAIR_SAME_BACK_RUB else "conflict"
    return {key: pair, "partner": partner}


@partner_context
@require_POST
def reflection_decline(request: HttpRequest, pk: int) -> HttpResponse:
    """ "I won't reflect on this one", from the "Add your reflection" card or the reflection form."""
    session = get_session_for_user(request.user, pk, role=PARTNER)
    if session.role_of(request.partner) is None:
        raise PermissionDenied
    try:
        services.reflection_decline(session=session, partner=request.partner)
    except ValidationError as exc:
        messages.info(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Done. You can still add your reflection later, from Your sessions."))
    return redirect("home")


@keeps_draft(ReflectionForm)
@partner_context
@require_http_methods(["GET", "POST"])
def reflection_edit(request: HttpRequest, pk: int) -> HttpResponse:
    reflection = get_reflection_for_user(request.user, pk, role=PARTNER)
    partner = request.partner
    if reflection.partner_id != partner.pk:
        raise PermissionDenied
    session = get_session_for_user(request.user, reflection.session_id, role=PARTNER)
    # On a POST the service explains the closed window next to the form, so nothing typed is lost.
    if request.method == "GET" and not services.within_edit_window(reflection.created_at):
        return redirect("reflection_visibility", pk=reflection.pk)
    initial = {name: getattr(reflection, name) for name in ReflectionForm.ANSWER_FIELDS}
    # Words already shared after the second question are not asked about again on every correction.
    confirmed = asks_second_thought(visibility=reflection.visibility, paused=reflection.paused, safe=reflection.safe)
    form = ReflectionForm(
        request.POST or None,
        initial={**initial, **drafts.restore(request)},
        already_confirmed=confirmed,
        shape=session.shape,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.reflection_update(reflection=reflection, partner=partner, answers=form.answers())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Your reflection is updated."))
            return redirect("history")
    return render(
        request,
        "intimacy/reflection_form.html",
        {
            "form": form,
            "session": session,
            "role": reflection.role,
            "other": partner.other_partner(),
            "editing": True,
            "reflection": reflection,
        },
    )


@partner_exit_context
@require_http_methods(["GET", "POST"])
def reflection_visibility(request: HttpRequest, pk: int) -> HttpResponse:
    reflection = get_reflection_for_user(request.user, pk, role=PARTNER)
    if reflection.partner_id != request.partner.pk:
        raise PermissionDenied
    was_shared = reflection.visibility == Reflection.Visibility.SHARED
    form = VisibilityForm(request.POST or None, initial={"visibility": reflection.visibility})
    if request.method == "POST" and form.is_valid():
        try:
            services.reflection_set_visibility(
                reflection=reflection, partner=request.partner, visibility=form.cleaned_data["visibility"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            readers = reflection.get_visibility_display().lower()
            said = _("Now readable by: %(readers)s.") % {"readers": readers}
            if was_shared and reflection.visibility != Reflection.Visibility.SHARED:
                said = f"{said} {_('Your partner may already have read it.')}"
            messages.success(request, said)
            return redirect(_back_from_visibility(request))
    return render(
        request,
        "intimacy/reflection_visibility.html",
        {"form": form, "reflection": reflection, "window_days": EDIT_WINDOW_DAYS, "was_shared": was_shared},
    )


# Where the one-tap buttons on a reflection's card may send the partner back to (never a free address).
_VISIBILITY_BACK = {"home", "history"}


def _back_from_visibility(request: HttpRequest) -> str:
    if request.partner.withdrew_consent:
        return "home"
    back = request.POST.get("back")
    return back if back in _VISIBILITY_BACK else "history"


def _own_session(request: HttpRequest, pk: int):
    session = get_session_for_user(request.user, pk, role=PARTNER)
    if session.logged_by_id != request.partner.pk:
        raise PermissionDenied
    return session


@partner_context
@require_http_methods(["GET", "POST"])
def session_edit(request: HttpRequest, pk: int) -> HttpResponse:
    session = _own_session(request, pk)
    if request.method == "GET" and not services.within_edit_window(session.created_at):
        messages.info(request, services.session_edit_window_closed())
        return redirect("history")
    form = SessionEditForm(request.POST or None, initial={"date": session.date, "minutes": session.minutes})
    if request.method == "POST" and form.is_valid():
        try:
            services.session_update(
                session=session,
                partner=request.partner,
                day=form.cleaned_data["date"],
                minutes=form.cleaned_data["minutes"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Session updated."))
            return redirect("history")
    return render(request, "intimacy/session_edit.html", {"form": form, "session": session})


@partner_context
@require_POST
def session_delete(request: HttpRequest, pk: int) -> HttpResponse:
    session = _own_session(request, pk)
    try:
        services.session_delete(session=session, partner=request.partner)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Session deleted."))
    return redirect("history")


@partner_required
@require_POST
def intro_dismiss(request: HttpRequest) -> HttpResponse:
    """Hide the "How Tend works" card on the partner's home (issue 17)."""
    accounts_services.partner_intro_dismiss(partner=request.partner)
    return redirect("home")


# A partner's own ways to step back: private, and the other partner sees only the neutral pause.


@partner_required
@require_POST
def touch_pause(request: HttpRequest) -> HttpResponse:
    """ "Not this week" or "pause for me", without withdrawing consent."""
    kind = request.POST.get("kind")
    if kind not in PersonalPause.Kind.values:
        messages.error(request, _("Choose “Not this week” or “Pause for me”."))
        return redirect("home")
    try:
        services.pause_for_me(partner=request.partner, kind=kind)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Done. Nothing to log, and no reminders, until you are ready."))
    return redirect("home")


@partner_required
@require_POST
def touch_resume(request: HttpRequest) -> HttpResponse:
    services.pause_resume(partner=request.partner)
    messages.success(request, _("Welcome back."))
    return redirect("home")


@partner_context
@require_http_methods(["GET", "POST"])
def session_dispute(request: HttpRequest, pk: int) -> HttpResponse:
    """ "This didn't happen / I didn't agree": for the partner named in a session the other logged."""
    session = get_session_for_user(request.user, pk, role=PARTNER)
    if session.role_of(request.partner) is None or session.logged_by_id == request.partner.pk:
        raise PermissionDenied
    if request.method == "POST":
        services.session_dispute(session=session, partner=request.partner)
        messages.success(request, _("Thank you. Your therapist will see this; your partner will not."))
        return redirect("home")
    return render(request, "intimacy/session_dispute.html", {"session": session})


# One back rub, one session: two accounts of the same back rub made one, or said to be two.


def _other_of_pair(request: HttpRequest):
    """The other session of the pair a form names (`other`), through the gate; None when it is not there
    to see: made one a moment ago by the other partner's tap on their own card, most likely, but the
    same None if it never existed or is another couple's, so the answer tells nothing. A
    ValidationError, said to the partner, if the form names none."""
    other = request.POST.get("other", "")
    # ASCII digits only: "²" passes str.isdigit() and then fails int() (a 500).
    if not (other.isascii() and other.isdigit()):
        raise ValidationError(_("Choose the two sessions to make one."))
    try:
        return get_session_for_user(request.user, int(other), role=PARTNER)
    except Http404:
        return None


# Where the pair cards may send the partner back to (never a free address).
_PAIR_BACK = {"home", "history"}


def _back_from_pair(request: HttpRequest, default: str) -> str:
    back = request.POST.get("back")
    return back if back in _PAIR_BACK else default


def _already_sorted(request: HttpRequest, back: str) -> HttpResponse:
    # A card left open while the other partner answered theirs: calm, and the same whatever the reason.
    messages.info(request, _("Already sorted: it's one back rub now."))
    return redirect(back)


@partner_context
@require_POST
def session_merge(request: HttpRequest, pk: int) -> HttpResponse:
    """ "You both logged the back rub of Tue 17 Nov: make it one", from the home, history or reflection
    form. The cards name the earlier session as `pk`: the one a merge keeps, so a stale card still finds it."""
    session = get_session_for_user(request.user, pk, role=PARTNER)
    back = _back_from_pair(request, "history")
    try:
        other = _other_of_pair(request)
        if other is None:
            return _already_sorted(request, back)
        services.session_merge(keep=session, duplicate=other, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Done: one back rub, with both of your reflections."))
    return redirect(back)


@partner_context
@require_POST
def session_conflict_join(request: HttpRequest, pk: int) -> HttpResponse:
    """ "It was one back rub": the partner had the other role, so their account joins the other's."""
    mine = _own_session(request, pk)
    back = _back_from_pair(request, "home")
    try:
        theirs = _other_of_pair(request)
        if theirs is None:
            return _already_sorted(request, back)
        services.session_conflict_join(mine=mine, theirs=theirs, partner=request.partner)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        # One sentence for every shape: the role's own questions are on the reflection's edit page.
        more = _("You can add the answers for your role by editing your reflection.")
        messages.success(request, f"{_('Done: one back rub, with both of your reflections.')} {more}")
    return redirect(back)


@partner_context
@require_POST
def session_pair_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    """ "These were two different back rubs": the card goes, for both partners. `pk` is either session
    of the pair (the service checks this partner logged one of them): the same-role card names the
    partner's own, the "make it one" card the earlier one, which a merge keeps."""
    session = get_session_for_user(request.user, pk, role=PARTNER)
    back = _back_from_pair(request, "home")
    try:
        other = _other_of_pair(request)
        if other is None:
            return _already_sorted(request, back)
        services.session_pair_dismiss(mine=session, theirs=other, partner=request.partner)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Thank you. Both stay as two back rubs."))
    return redirect(back)
