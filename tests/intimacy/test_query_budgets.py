"""Query budgets: every list, dashboard and home page costs the same number of queries whatever the
amount of data behind it (issue 7; docs/PERFORMANCE.md). Each test renders its page at two sizes and
pins one count, with the queries listed in a comment.

Pinned elsewhere, next to their pages' other tests: the caseload at one size and the partner home
(tests/intimacy/test_views.py), the dashboard and the appointment view over a week and two years
(tests/intimacy/test_dashboard.py), a couple's access history (tests/intimacy/test_audit.py) and the
alert engine (tests/intimacy/test_alerts.py). The CSV export streams its rows 500 at a time, so its
count grows by design with every 500 sessions; below that it is pinned here.
"""

import json
from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.models import Couple
from intimacy.models import Alert, Exercise, Session
from tests.factories import AssignmentFactory, CoupleFactory, PartnerFactory, weeks_of_homework

# Wednesday: "this week" began on Monday 23 November 2026.
NOW = "2026-11-25 12:00:00+00:00"
TODAY = date(2026, 11, 25)
SMALL, LARGE = 1, 104  # weeks of history


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


# Two sessions a week up to three days ago (Sunday and the Thursday before), both reflected: the
# receiver's "Just me" every sixth session, a paused one every tenth, and both partners' check-ins.
HOMEWORK = {
    "latest_week": (TODAY - timedelta(days=3), TODAY - timedelta(days=6)),
    "private_every": 6,
    "paused_every": 10,
    "receiver_notes": "words",
    "checkins_until": date(2026, 11, 23),
}


@pytest.fixture(params=[SMALL, LARGE], ids=["1-week", "104-weeks"])
def weeks(request):
    return request.param


@pytest.fixture
def homework(assignment, partner_a, partner_b, weeks):
    weeks_of_homework(assignment, partner_a, partner_b, weeks, **HOMEWORK)
    return assignment


# Therapist ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("couples", [1, 25])
@pytest.mark.parametrize("status", ["active", "all"])
def test_caseload(client_for, therapist, couples, status, django_assert_num_queries):
    """The caseload's cost does not grow with couples, their sessions or their alert history."""
    for n in range(couples):
        couple = CoupleFactory(therapist=therapist, status=Couple.Status.PAUSED if n % 5 == 4 else "active")
        a, b = PartnerFactory(couple=couple, slot=1), PartnerFactory(couple=couple, slot=2, accepted_at=None)
        weeks_of_homework(AssignmentFactory(couple=couple), a, b, 12 if n % 2 else 2, **HOMEWORK)
        Alert.objects.bulk_create(
            Alert(
                couple=couple,
                kind=Alert.Kind.LOW_SAFE,
                partner=a,
                week=date(2026, 11, 23) - timedelta(weeks=w),
                urgent=True,
                acknowledged_at=timezone.now() if w else None,
            )
            for w in range(10)
        )
    client = client_for(therapist)
    # session, user; the couples, each with its last session, this week's target, pending invites and
    # open and urgent alerts (subqueries); the last 8 weeks' sessions by couple and day
    with django_assert_num_queries(4):
        response = client.get(reverse("home"), {"status": status})
    assert response.status_code == 200
    assert response.content.decode().count("1 urgent") == (couples if status == "all" else couples - couples // 5)


def test_couple_page_with_alerts_that_lead_somewhere(
    client_for, therapist, couple, homework, weeks, django_assert_num_queries
):
    """Issue 14: every open and seen alert links to its session or exercise and may offer "Pause the
    exercise"; none of that costs a query per alert. Asking for one session by id (`?session=`, an
    alert's "Open the session") costs two reads more, whatever the history."""
    sessions = list(Session.objects.filter(assignment=homework).order_by("date", "pk"))
    kinds = [Alert.Kind.LOW_COMFORT, Alert.Kind.PAUSED, Alert.Kind.TENSION_WORSE, Alert.Kind.PERCEPTION_GAP]
    Alert.objects.bulk_create(
        Alert(
            couple=couple,
            kind=kinds[n % len(kinds)],
            partner=session.receiver,
            week=date(2026, 11, 23) - timedelta(weeks=n),
            session=session,
            assignment=homework,
            acknowledged_at=timezone.now() if n % 2 else None,
        )
        for n, session in enumerate(sessions[-12:])
    )
    Alert.objects.create(couple=couple, kind=Alert.Kind.NO_SESSION, week=date(2026, 11, 23), assignment=homework)
    client = client_for(therapist)
    url = reverse("couple_detail", args=[couple.pk])
    # As pinned in tests/intimacy/test_dashboard.py TAB_QUERIES (the overview over a week and two years,
    # issue 16): session, user, couple; the audit row of this viewing (insert); touch work: the partners
    # with their private checks and screenings and whether a hold is open (one query, issue 16: the
    # trends' partners too); trends: every assignment of the couple (the header's too, since issue 16),
    # sessions by week, reflections by week, notes in the period, program steps started in the period,
    # check-ins by week; open alerts and the latest seen ones (with their exercise, joined; one query
    # since issue 16); safety messages; the partners' latest private checks, their separate screenings.
    # The open hold and the partners' own pauses in force are read only when there are some (none here).
    with django_assert_num_queries(15):
        response = client.get(url)
    html = response.content.decode()
    assert html.count("Open the session") == min(12, len(sessions)) and "See the exercise" in html
    oldest = sessions[-min(12, len(sessions))]
    # The reflections tab as pinned in TAB_QUERIES (12), and: the session asked for (its date), the
    # newer sessions of its week (a count)
    with django_assert_num_queries(14):
        response = client.get(reverse("couple_reflections", args=[couple.pk]), {"session": oldest.pk})
    assert f'id="session-{oldest.pk}"' in response.content.decode()


def test_exercise_list(client_for, therapist, other_therapist, django_assert_num_queries):
    client = client_for(therapist)
    # session, user; the built-in and the therapist's own exercises
    with django_assert_num_queries(3):
        assert client.get(reverse("exercise_list")).status_code == 200
    for n in range(12):
        Exercise.objects.create(owner=therapist, title=f"Mine {n}", summary="s", guidance="g", suggested_minutes=10)
        Exercise.objects.create(
            owner=other_therapist, title=f"Theirs {n}", summary="s", guidance="g", suggested_minutes=10
        )
    Exercise.objects.filter(owner=therapist, title="Mine 3").update(archived_at=timezone.now())
    with django_assert_num_queries(3):
        html = client.get(reverse("exercise_list")).content.decode()
    assert "Mine 11" in html and "Theirs" not in html
    # Issue 15: the ten built-ins, each with its shape and minutes, and a filter: still one read of
    # the exercises (the filter is in that query's WHERE).
    for query in ({"touch": "no"}, {"shape": "talk"}):
        with django_assert_num_queries(3):
            response = client.get(reverse("exercise_list"), query)
        assert response.status_code == 200 and "Mine 11" not in response.content.decode()


def test_printable_summary(client_for, therapist, couple, homework, django_assert_num_queries):
    client = client_for(therapist)
    # session, user, couple; the audit row recording this viewing (insert); trends: partners,
    # assignments, sessions by month, reflections by month (each from the period's whole months' parts,
    # models.TrendPart: issue 16), notes in the period, program steps started
    # in the period (issue 15), check-ins by month; open alerts
    with django_assert_num_queries(12):
        response = client.get(reverse("couple_summary", args=[couple.pk]), {"weeks": "104"})
    assert response.status_code == 200


def test_csv_export(client_for, therapist, couple, homework, weeks, django_assert_num_queries):
    client = client_for(therapist, reauthenticated=True)
    # session, user, couple; allauth's re-authentication check, which first asks which kinds of second
    # factor the person has (3: recovery codes, app, passkey) before reading the session's confirmation;
    # the audit row (insert); the period's sessions with their exercise and partners, then their
    # reflections (one such pair per 500 sessions: at most 208 here)
    with django_assert_num_queries(9):
        response = client.get(reverse("couple_export", args=[couple.pk]), {"weeks": "104"})
        rows = b"".join(response.streaming_content).decode().splitlines()
    # 104 weeks back from Wednesday 25 Nov 2026 is the week of Monday 2 Dec 2024; shown month by month, the
    # period starts on the 1st (period._last_weeks).
    in_period = Session.objects.filter(assignment=homework, date__gte=date(2024, 12, 1)).count()
    assert len(rows) == 1 + in_period and in_period >= weeks


def test_couple_record(client_for, therapist, couple, homework, django_assert_num_queries):
    client = client_for(therapist, reauthenticated=True)
    # session, user, couple; allauth's re-authentication check (3, see test_csv_export); the record:
    # sessions with their partners and exercise, partners, assignments, the sessions' reflections,
    # notes, check-ins, safety messages; the safety loop (issue 13, added deliberately: screenings,
    # private checks, holds, personal pauses, disputes, one read each, whatever their number); the
    # audit row of this access (insert); marking the couple exported: the couple as stored, its audit
    # row, the update; the program's path (issue 15): its steps, and the readiness answers
    with django_assert_num_queries(24):
        response = client.post(reverse("couple_record", args=[couple.pk]))
    assert response.status_code == 200


# Partner ------------------------------------------------------------------------------------------


def test_partner_home(client_for, partner_a, homework, django_assert_num_queries):
    client = client_for(partner_a)
    # session, user, both partners + couple (the other partner read with this one, issue 16), the couple's
    # exercises (on their own since the assignments are a prepared query, intimacy/prepared.py: one more
    # query, about 1 ms less of Django's work), all the
    # couple's assignments with this week's count (and, issue 17, whether this partner
    # has a session of each yet: its guidance opens above "Log …" until then; the sessions below get their
    # assignment and partners from these rows, not from joins), sessions awaiting a reflection (less
    # those declined), the latest sessions (with this partner's own signals: disputed, declined, a shared
    # reflection waiting, as subqueries), their visible reflections (the reveal rule, issue 14, a
    # condition in the same query), whether this partner has checked in this week and the couple's current
    # program step (one query, issue 16: the step's rows are read only when there is one; none here);
    # whether touch work is open (intimacy/holds.py, added deliberately: the partners' private checks
    # and separate screenings and whether the couple has an open hold, one query since issue 16); both
    # partners logging the same day in the same role, or each in their own (issue 14: the days that could
    # hold a pair, one light query, issue 16; the pairs themselves are read only on such a day, also keeping
    # the other partner's account of a back rub this partner logged too out of the awaiting list; dismissed
    # pairs are read only when there is one)
    with django_assert_num_queries(11):
        assert client.get(reverse("home")).status_code == 200


def _logged_twice(assignment, alex, sam, days: int) -> list[Session]:
    """`days` back rubs (from yesterday back) each logged by both, in their own roles, before logs joined:
    Sam's accounts, which wait for no one now."""
    from tests.factories import ReflectionFactory, SessionFactory

    sams = []
    for n in range(1, days + 1):
        for logger, role in ((alex, "giver"), (sam, "receiver")):
            s = SessionFactory(
                assignment=assignment, date=TODAY - timedelta(days=n), giver=alex, receiver=sam, logged_by=logger
            )
            ReflectionFactory(session=s, partner=logger, role=role)
        sams.append(s)
    return sams


@pytest.mark.parametrize("days", [1, 6])
def test_partner_home_with_back_rubs_logged_twice(
    client_for, assignment, partner_a, partner_b, days, django_assert_num_queries
):
    _logged_twice(assignment, partner_a, partner_b, days)
    client = client_for(partner_a)
    # as test_partner_home (11), the pairs on the days that can hold one (issue 16: read only then) and
    # the dismissed pairs, read once there is a pair: one card per pair, none of Sam's accounts in
    # "Waiting for your reflection" (issue 14)
    with django_assert_num_queries(13):
        response = client.get(reverse("home"))
    assert len(response.context["home"].same_back_rub) == days and response.context["home"].awaiting == []


def test_reflection_form_with_the_offer_to_make_one(
    client_for, assignment, partner_a, partner_b, django_assert_num_queries
):
    sams = _logged_twice(assignment, partner_a, partner_b, 6)
    client = client_for(partner_a)
    # session, user, own partner + couple; the session with its couple, exercise and partners; this
    # partner's own reflection on it; words kept from before a sign-out (accounts/drafts.py); whether
    # touch work is open (intimacy/holds.py: private checks, screenings and holds, one query); the last
    # visibility chosen; the pairs and the dismissed ones (issue 14: the offer to make one above the
    # form). The other partner is read with this one (accounts/access.py, issue 16).
    with django_assert_num_queries(10):
        response = client.get(reverse("reflection_add", args=[sams[0].pk]))
    assert response.context["same_back_rub"].theirs == sams[0]


@pytest.mark.parametrize("page", ["1", "2"])
def test_partner_history(client_for, partner_a, homework, weeks, page, django_assert_num_queries):
    client = client_for(partner_a)
    # session, user, own partner + couple; the page: count, its sessions with partners and exercise
    # (and this partner's own signals, as subqueries), their visible reflections (revealed ones only:
    # the reveal rule of issue 14 is a condition in the same query); sessions logged twice, offered to
    # make one (issue 14)
    with django_assert_num_queries(7):
        response = client.get(reverse("history"), {"page": page})
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == (20 if weeks == LARGE else 2)


def test_progress_page(client_for, couple, partner_a, homework, django_assert_num_queries):
    couple.progress_page = True
    couple.save()
    client = client_for(partner_a)
    # session, user, own partner + couple; trends: partners, assignments, sessions by month, own
    # reflections by month (no notes, no check-ins: they are not the couple's to see)
    with django_assert_num_queries(7):
        response = client.get(reverse("progress"), {"weeks": "104"})
    assert response.status_code == 200


def test_log_offers_recent_sessions_without_a_reflection(
    client_for, partner_a, assignment, partner_b, weeks, django_assert_num_queries
):
    """ "Did you mean this one?": the sessions of the last two days lacking this partner's reflection."""
    recent = [
        Session.objects.create(
            assignment=assignment,
            date=TODAY - timedelta(days=n % 2),
            minutes=10,
            giver=partner_b,
            receiver=partner_a,
            logged_by=partner_b,
        )
        for n in range(1 if weeks == SMALL else 6)
    ]
    weeks_of_homework(assignment, partner_a, partner_b, weeks, **HOMEWORK)
    client = client_for(partner_a)
    # session, user, own partner + couple; the assignment with its couple and exercise; words kept
    # from before a sign-out (one cache row by key: accounts/drafts.py, added deliberately); the recent
    # sessions lacking this partner's reflection, with their partners and exercise; whether touch
    # work is open (intimacy/holds.py, added deliberately: the partners' private checks and separate
    # screenings and whether the couple has an open hold, one query since issue 16); sessions logged twice
    # (issue 14: the pairs, one query; the other partner's account of a back rub this partner logged too is
    # not offered; dismissed pairs are read only when there is one)
    with django_assert_num_queries(8):
        response = client.get(reverse("session_log", args=[assignment.pk]))
    assert response.status_code == 200 and len(response.context["sessions"]) == len(recent)


def test_partner_data_download(client_for, partner_a, homework, django_assert_num_queries):
    client = client_for(partner_a)
    # session, user, own partner + couple; the record: the couple's sessions with their partners and
    # exercise, the reflections this partner may see (revealed ones only, in the same query), their
    # own check-ins, their own readiness answers on a program's steps (issue 15)
    with django_assert_num_queries(7):
        response = client.get(reverse("my_data_download"))
    assert response.status_code == 200
    json.loads(response.content)


def test_partner_data_page(client_for, partner_a, homework, django_assert_num_queries):
    client = client_for(partner_a)
    # The same reads as the download above (issue 17: the page is drawn from the same record), no more.
    with django_assert_num_queries(7):
        response = client.get(reverse("my_data_page"))
    assert response.status_code == 200


# Staged programs (issue 15) -------------------------------------------------------------------------------


@pytest.fixture(params=[1, 6], ids=["1-step", "6-steps"])
def on_a_program(request, therapist, couple, partner_a, partner_b):
    """The couple on a program after `param` changes of step, each with both partners' answers and a
    session logged: the path grows, the pages' reads do not."""
    from intimacy import services
    from intimacy.models import ProgramStep, ReadinessAnswer
    from tests.factories import SessionFactory

    program = services.program_create(owner=therapist, title="Steps")
    for _n in range(2):
        services.program_stage_add(
            program=program, exercise=Exercise.objects.back_rub(), target_per_week=2, suggested_minutes=15
        )
    run = services.program_assign(couple=couple, program=program)
    for n in range(request.param):
        step = run.steps.get(ended_on__isnull=True)
        SessionFactory(assignment=step.assignment, giver=partner_a, receiver=partner_b, logged_by=partner_a)
        for partner in (partner_a, partner_b):
            services.readiness_answer(step=step, partner=partner, answer=ReadinessAnswer.Answer.READY)
        if n % 2 == 0:
            services.program_stage_approve(step=step, by=therapist)
        else:
            services.program_stage_back(step=step, partner=partner_b)
    assert run.steps.count() == request.param + 1
    services.readiness_answer(
        step=run.steps.get(ended_on__isnull=True), partner=partner_a, answer=ReadinessAnswer.Answer.NOT_YET
    )
    return run, ProgramStep


def test_couple_page_on_a_program(client_for, therapist, couple, on_a_program, django_assert_num_queries):
    client = client_for(therapist)
    # The program is on the partners and exercises tab (issue 16): its reads as pinned in
    # tests/intimacy/test_dashboard.py TAB_QUERIES (8, the program's one read included), and the program's
    # three more: its steps with their sessions and mean ratings (one aggregate), every readiness answer
    # with its partner, the couple's partners
    with django_assert_num_queries(11):
        response = client.get(reverse("couple_exercises", args=[couple.pk]))
    assert "Now at step" in response.content.decode()


def test_partner_home_on_a_program(client_for, partner_a, on_a_program, django_assert_num_queries):
    client = client_for(partner_a)
    # as test_partner_home (12, the current step's read included), and this partner's own latest answer
    # on it (1 more)
    with django_assert_num_queries(13):
        response = client.get(reverse("home"))
    assert "Your program: step" in response.content.decode()


@pytest.mark.parametrize("programs", [1, 10])
def test_program_pages(client_for, therapist, programs, django_assert_num_queries):
    from intimacy import services

    for n in range(programs):
        program = services.program_create(owner=therapist, title=f"Program {n}")
        for _stage in range(n + 1):
            services.program_stage_add(
                program=program, exercise=Exercise.objects.back_rub(), target_per_week=2, suggested_minutes=15
            )
    client = client_for(therapist)
    # session, user; the programs with their number of stages
    with django_assert_num_queries(3):
        assert client.get(reverse("program_list")).status_code == 200
    # session, user; the program; its stages with their exercises; the exercises for the step form
    # (read twice while the form is drawn: a choice field reads its queryset each time it is iterated)
    with django_assert_num_queries(6):
        assert client.get(reverse("program_detail", args=[program.pk])).status_code == 200
