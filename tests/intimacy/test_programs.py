"""Staged programs (issue 15): building a program, starting it, each partner's private readiness, the
therapist's approval of the next step, and a partner's private "go back a step" for both at once."""

import threading
from datetime import date

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse

from accounts.services import consent_accept
from intimacy import selectors, services
from intimacy.models import Alert, Assignment, Exercise, Program, ProgramRun, ProgramStage, ProgramStep, ReadinessAnswer
from intimacy.programs_builtin import EXAMPLE_PROGRAM_KEY, seed_builtin_programs
from tests.factories import AssignmentFactory

pytestmark = pytest.mark.django_db

READY, NOT_YET = ReadinessAnswer.Answer.READY, ReadinessAnswer.Answer.NOT_YET


def own_exercise(therapist, title):
    return services.exercise_create(owner=therapist, title=title, summary="s", guidance="g", suggested_minutes=10)


@pytest.fixture
def program(therapist):
    """Three stages: the back rub (2 a week, 15 min), then hands (3, 10), then feet (1, 20)."""
    program = services.program_create(owner=therapist, title="Steps", description="An example")
    services.program_stage_add(
        program=program, exercise=Exercise.objects.back_rub(), target_per_week=2, suggested_minutes=15
    )
    services.program_stage_add(
        program=program,
        exercise=own_exercise(therapist, "Hands"),
        target_per_week=3,
        suggested_minutes=10,
        guidance="Hands, slowly.",
    )
    services.program_stage_add(
        program=program, exercise=own_exercise(therapist, "Feet"), target_per_week=1, suggested_minutes=20
    )
    return program


@pytest.fixture
def run(program, couple, partner_a, partner_b):
    return services.program_assign(couple=couple, program=program)


def current(run) -> ProgramStep:
    return run.steps.get(ended_on__isnull=True)


def both_ready(step, partner_a, partner_b):
    services.readiness_answer(step=step, partner=partner_a, answer=READY)
    services.readiness_answer(step=step, partner=partner_b, answer=READY)


class TestBuilding:
    def test_stages_are_numbered_in_the_order_added(self, program):
        assert list(program.stages.values_list("position", "exercise__title")) == [
            (1, "Give a back rub"),
            (2, "Hands"),
            (3, "Feet"),
        ]

    def test_moving_a_stage_up_swaps_it_with_the_one_before(self, program):
        feet = program.stages.get(position=3)
        services.program_stage_move(stage=feet, offset=-1)
        assert list(program.stages.values_list("exercise__title", flat=True)) == ["Give a back rub", "Feet", "Hands"]

    def test_moving_the_first_stage_up_changes_nothing(self, program):
        services.program_stage_move(stage=program.stages.get(position=1), offset=-1)
        assert list(program.stages.values_list("position", flat=True)) == [1, 2, 3]

    def test_another_therapists_exercise_is_refused(self, program, other_therapist):
        with pytest.raises(ValidationError):
            services.program_stage_add(
                program=program,
                exercise=own_exercise(other_therapist, "Theirs"),
                target_per_week=1,
                suggested_minutes=10,
            )

    def test_a_builtin_program_is_read_only(self):
        builtin = Program.objects.get(builtin_key=EXAMPLE_PROGRAM_KEY)
        with pytest.raises(PermissionDenied):
            services.program_stage_add(
                program=builtin, exercise=Exercise.objects.back_rub(), target_per_week=1, suggested_minutes=10
            )


class TestExampleProgram:
    def test_it_is_an_example_not_a_protocol(self):
        assert "An example, not a protocol" in Program.objects.get(builtin_key=EXAMPLE_PROGRAM_KEY).description

    def test_it_walks_the_library_from_the_back_rub_to_curious_touch(self):
        program = Program.objects.get(builtin_key=EXAMPLE_PROGRAM_KEY)
        assert list(program.stages.values_list("position", "exercise__builtin_key")) == [
            (1, "back-rub"),
            (2, "hand-massage"),
            (3, "foot-rub"),
            (4, "curious-touch"),
        ]

    def test_stages_whose_exercise_is_missing_are_skipped_and_come_back_when_it_is_there(self):
        program = Program.objects.get(builtin_key=EXAMPLE_PROGRAM_KEY)
        curious = Exercise.objects.get(builtin_key="curious-touch")
        fields = {name: getattr(curious, name) for name in ("title", "summary", "guidance", "suggested_minutes")}
        for stage in program.stages.all():  # as before the library's migration: no stages yet
            stage.delete()
        curious.delete()
        seed_builtin_programs(Program, ProgramStage, Exercise)
        keys = list(program.stages.values_list("position", "exercise__builtin_key"))
        assert keys == [(1, "back-rub"), (2, "hand-massage"), (3, "foot-rub")]
        Exercise.objects.create(builtin_key="curious-touch", **fields)
        seed_builtin_programs(Program, ProgramStage, Exercise)
        keys = list(program.stages.values_list("position", "exercise__builtin_key"))
        assert keys[-1] == (4, "curious-touch")
        seed_builtin_programs(Program, ProgramStage, Exercise)  # idempotent
        assert list(program.stages.values_list("position", "exercise__builtin_key")) == keys


class TestStart:
    def test_assigning_starts_stage_one_as_an_assignment(self, run, couple):
        step = current(run)
        assert (step.stage.position, step.reason, step.started_on) == (1, "start", couple.today())
        assignment = step.assignment
        assert (assignment.exercise, assignment.target_per_week, assignment.suggested_minutes) == (
            Exercise.objects.back_rub(),
            2,
            15,
        )
        assert assignment.status == Assignment.Status.ACTIVE

    def test_one_program_at_a_time(self, run, program, couple):
        with pytest.raises(ValidationError):
            services.program_assign(couple=couple, program=program)

    def test_the_back_rub_already_under_way_can_be_the_first_step(self, program, couple, assignment):
        run = services.program_assign(couple=couple, program=program, current=assignment)
        assert (current(run).assignment, run.started_on) == (assignment, min(couple.today(), assignment.starts_on))

    def test_but_only_an_active_assignment_of_the_first_steps_exercise(self, therapist, program, couple):
        hands = AssignmentFactory(couple=couple, exercise=own_exercise(therapist, "Other"))
        with pytest.raises(ValidationError):
            services.program_assign(couple=couple, program=program, current=hands)

    def test_an_empty_program_cannot_start(self, therapist, couple):
        empty = services.program_create(owner=therapist, title="Empty")
        with pytest.raises(ValidationError):
            services.program_assign(couple=couple, program=empty)

    def test_another_therapists_program_cannot_start(self, other_therapist, couple):
        # The pages offer only the therapist's own and built-in programs; the service holds the line too, so
        # no other caller can walk a couple through exercises written by someone else's hand.
        theirs = services.program_create(owner=other_therapist, title="Theirs")
        services.program_stage_add(
            program=theirs, exercise=own_exercise(other_therapist, "Theirs"), target_per_week=2, suggested_minutes=10
        )
        with pytest.raises(PermissionDenied):
            services.program_assign(couple=couple, program=theirs)
        assert not ProgramRun.objects.filter(couple=couple).exists()


class TestReadinessAndApproval:
    def test_the_latest_answer_counts(self, run, partner_a):
        step = current(run)
        services.readiness_answer(step=step, partner=partner_a, answer=READY)
        services.readiness_answer(step=step, partner=partner_a, answer=NOT_YET)
        assert services.latest_readiness(step) == {partner_a.pk: NOT_YET}

    def test_nothing_moves_on_one_partners_word(self, run, partner_a, therapist):
        step = current(run)
        services.readiness_answer(step=step, partner=partner_a, answer=READY)
        with pytest.raises(ValidationError, match="Both partners"):
            services.program_stage_approve(step=step, by=therapist)
        assert current(run).pk == step.pk

    def test_nor_on_the_therapists_alone(self, run, therapist):
        with pytest.raises(ValidationError):
            services.program_stage_approve(step=current(run), by=therapist)

    def test_not_yet_after_ready_stops_it(self, run, partner_a, partner_b, therapist):
        step = current(run)
        both_ready(step, partner_a, partner_b)
        services.readiness_answer(step=step, partner=partner_b, answer=NOT_YET)
        with pytest.raises(ValidationError):
            services.program_stage_approve(step=step, by=therapist)

    def test_both_ready_and_approved_moves_to_stage_two(self, run, partner_a, partner_b, therapist):
        first = current(run)
        both_ready(first, partner_a, partner_b)
        second = services.program_stage_approve(step=first, by=therapist)
        first.refresh_from_db()
        first.assignment.refresh_from_db()
        assert first.ended_on is not None and first.assignment.status == Assignment.Status.ENDED
        assert (second.stage.position, second.reason) == (2, "approved")
        # Stage 2's target, minutes and guidance (hand-checked against the fixture).
        assert (second.assignment.exercise.title, second.assignment.target_per_week) == ("Hands", 3)
        assert (second.assignment.suggested_minutes, second.assignment.note) == (10, "Hands, slowly.")

    def test_answers_on_the_previous_step_do_not_carry_over(self, run, partner_a, partner_b, therapist):
        second = services.program_stage_approve(step=_ready(run, partner_a, partner_b), by=therapist)
        with pytest.raises(ValidationError):
            services.program_stage_approve(step=second, by=therapist)

    def test_approving_the_last_stage_finishes_the_run(self, run, partner_a, partner_b, therapist):
        for _stage in (1, 2):
            services.program_stage_approve(step=_ready(run, partner_a, partner_b), by=therapist)
        last = _ready(run, partner_a, partner_b)
        assert services.program_stage_approve(step=last, by=therapist) is None
        run.refresh_from_db()
        assert run.status == ProgramRun.Status.FINISHED
        last.assignment.refresh_from_db()
        assert last.assignment.status == Assignment.Status.ACTIVE  # the last exercise carries on

    def test_a_stale_page_is_refused(self, run, partner_a, partner_b, therapist):
        first = _ready(run, partner_a, partner_b)
        services.program_stage_approve(step=first, by=therapist)
        with pytest.raises(ValidationError, match="changed"):
            services.readiness_answer(step=first, partner=partner_a, answer=NOT_YET)
        with pytest.raises(ValidationError, match="changed"):
            services.program_stage_approve(step=first, by=therapist)

    def test_only_the_couples_therapist_approves(self, run, partner_a, partner_b, other_therapist):
        with pytest.raises(PermissionDenied):
            services.program_stage_approve(step=_ready(run, partner_a, partner_b), by=other_therapist)

    def test_an_outsider_cannot_answer(self, run, outsider):
        with pytest.raises(PermissionDenied):
            services.readiness_answer(step=current(run), partner=outsider, answer=READY)

    def test_a_ready_given_before_withdrawing_consent_does_not_count(self, run, partner_a, partner_b, therapist):
        # Withdrawing consent pauses the couple's exercises; a "ready" from before it must not let the next
        # step open (active) on the therapist's word alone, not even after consenting again.
        step = _ready(run, partner_a, partner_b)
        services.consent_withdraw(partner=partner_b)
        with pytest.raises(ValidationError, match="Both partners"):
            services.program_stage_approve(step=step, by=therapist)
        consent_accept(partner=partner_b)
        with pytest.raises(ValidationError, match="Both partners"):
            services.program_stage_approve(step=step, by=therapist)
        assert services.latest_readiness(step) == {partner_a.pk: READY}
        assert selectors.couple_program(run.couple, therapist).both_ready is False

    def test_back_is_not_a_readiness_answer(self, run, partner_a):
        with pytest.raises(ValidationError):
            services.readiness_answer(step=current(run), partner=partner_a, answer="back")


def _ready(run, partner_a, partner_b) -> ProgramStep:
    step = current(run)
    both_ready(step, partner_a, partner_b)
    return step


class TestBack:
    def test_one_partners_word_steps_back_for_both_and_tells_the_therapist(self, run, partner_a, partner_b, therapist):
        second = services.program_stage_approve(step=_ready(run, partner_a, partner_b), by=therapist)
        back = services.program_stage_back(step=second, partner=partner_b)
        second.refresh_from_db()
        second.assignment.refresh_from_db()
        assert second.assignment.status == Assignment.Status.ENDED
        assert (back.stage.position, back.reason) == (1, "back")
        assert back.assignment.exercise == Exercise.objects.back_rub()
        assert back.assignment.status == Assignment.Status.ACTIVE
        alert = Alert.objects.get(kind=Alert.Kind.PROGRAM_BACK)
        assert (alert.partner, alert.urgent) == (partner_b, False)
        # Who asked is kept for the therapist, on the step they asked from.
        assert list(second.readiness.values_list("partner", "answer")) == [(partner_b.pk, "back")]

    def test_on_the_first_step_there_is_nowhere_back(self, run, partner_a):
        with pytest.raises(ValidationError, match="first step"):
            services.program_stage_back(step=current(run), partner=partner_a)

    def test_the_path_keeps_every_step(self, run, partner_a, partner_b, therapist):
        second = services.program_stage_approve(step=_ready(run, partner_a, partner_b), by=therapist)
        services.program_stage_back(step=second, partner=partner_a)
        assert list(run.steps.values_list("stage__position", "reason")) == [
            (1, "start"),
            (2, "approved"),
            (1, "back"),
        ]

    @pytest.mark.parametrize("status", [Assignment.Status.PAUSED, Assignment.Status.ENDED])
    def test_stepping_back_keeps_the_therapists_pause(self, run, partner_a, partner_b, therapist, status):
        # The therapist paused (or ended) the current step's exercise, say after an alert: a partner's "go
        # back" still steps back, but must not reopen touch work the therapist stopped; the earlier step
        # comes back paused, for the therapist to resume.
        second = services.program_stage_approve(step=_ready(run, partner_a, partner_b), by=therapist)
        services.assignment_set_status(assignment=second.assignment, status=status)
        back = services.program_stage_back(step=second, partner=partner_a)
        assert back.stage.position == 1
        assert back.assignment.status == Assignment.Status.PAUSED

    def test_the_therapist_can_step_back_too(self, run, partner_a, partner_b, therapist):
        # If only a partner could step back, a step that went down would tell the other partner who asked
        # (it was not them): the therapist stepping back makes "Your therapist has changed this exercise"
        # true of every step back. Theirs records no readiness answer and raises no alert.
        second = services.program_stage_approve(step=_ready(run, partner_a, partner_b), by=therapist)
        back = services.program_stage_return(step=second, by=therapist)
        assert (back.stage.position, back.reason, back.assignment.status) == (1, "back", Assignment.Status.ACTIVE)
        assert not second.readiness.exists() and not Alert.objects.filter(kind=Alert.Kind.PROGRAM_BACK).exists()
        today = run.couple.today()
        seen = [selectors.partner_program(p, p.user, today) for p in (partner_a, partner_b)]
        assert [(s.step.pk, s.changed, s.my_answer) for s in seen] == [(back.pk, True, ""), (back.pk, True, "")]

    def test_only_the_couples_therapist_steps_back(self, run, partner_a, partner_b, therapist, other_therapist):
        second = services.program_stage_approve(step=_ready(run, partner_a, partner_b), by=therapist)
        with pytest.raises(PermissionDenied):
            services.program_stage_return(step=second, by=other_therapist)
        with pytest.raises(ValidationError, match="changed"):
            services.program_stage_return(step=current(run).run.steps.first(), by=therapist)

    def test_stepping_back_to_an_exercise_archived_since_still_works(self, run, partner_a, partner_b, therapist):
        # Archiving hides an exercise from "Assign"; a program that walks through it keeps it, as assignments
        # do. Otherwise a partner's private "go back" would fail with "This exercise is archived."
        services.program_stage_approve(step=_ready(run, partner_a, partner_b), by=therapist)
        third = services.program_stage_approve(step=_ready(run, partner_a, partner_b), by=therapist)
        hands = run.program.stages.get(position=2).exercise
        services.exercise_set_archived(exercise=hands, archived=True)
        back = services.program_stage_back(step=third, partner=partner_a)
        assert (back.stage.position, back.assignment.exercise, back.assignment.status) == (
            2,
            hands,
            Assignment.Status.ACTIVE,
        )

    def test_a_closed_case_moves_nowhere(self, run, partner_a, couple):
        couple.status = couple.Status.CLOSED
        couple.save(update_fields=["status"])
        partner_a.refresh_from_db()
        with pytest.raises(ValidationError):
            services.readiness_answer(step=current(run), partner=partner_a, answer=READY)


# Answers at the same moment, on PostgreSQL --------------------------------------------------------------

POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
pg_only = pytest.mark.skipif(not POSTGRES, reason="Real overlap needs PostgreSQL (scripts/with-postgres).")


def _run_together(bodies: dict) -> dict:
    results, start = {}, threading.Barrier(len(bodies))

    def run(name, body):
        try:
            start.wait(10)
            results[name] = body()
        except (ValidationError, PermissionDenied) as exc:
            results[name] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in bodies.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    return results


@pg_only
@pytest.mark.django_db(transaction=True)
def test_both_ready_at_once_are_both_kept_and_approval_moves_one_step(run, partner_a, partner_b, therapist):
    step = current(run)
    _run_together(
        {
            "alex": lambda: services.readiness_answer(step=step, partner=partner_a, answer=READY),
            "sam": lambda: services.readiness_answer(step=step, partner=partner_b, answer=READY),
        }
    )
    assert services.latest_readiness(step) == {partner_a.pk: READY, partner_b.pk: READY}
    # The therapist's double click: two approvals at once move one step, the second is refused.
    results = _run_together({n: lambda: services.program_stage_approve(step=step, by=therapist) for n in "ab"})
    assert sorted(type(r).__name__ for r in results.values()) == ["ProgramStep", "ValidationError"]
    assert list(run.steps.values_list("stage__position", flat=True)) == [1, 2]
    assert Assignment.objects.filter(couple=run.couple, status=Assignment.Status.ACTIVE).count() == 1


@pg_only
@pytest.mark.django_db(transaction=True)
def test_not_yet_and_approval_at_once_never_move_on_a_withdrawn_ready(run, partner_a, partner_b, therapist):
    """Sam takes back "ready" as the therapist approves: either the approval came first (and Sam's "not
    yet" is refused as out of date) or Sam's came first (and the approval is refused). Never both."""
    for _round in range(5):
        step = current(run)
        both_ready(step, partner_a, partner_b)
        results = _run_together(
            {
                "sam": lambda step=step: services.readiness_answer(step=step, partner=partner_b, answer=NOT_YET),
                "therapist": lambda step=step: services.program_stage_approve(step=step, by=therapist),
            }
        )
        moved = isinstance(results["therapist"], ProgramStep)
        assert moved != isinstance(results["sam"], ReadinessAnswer)
        if moved:
            services.program_stage_back(step=results["therapist"], partner=partner_a)


@pg_only
@pytest.mark.django_db(transaction=True)
def test_both_asking_to_go_back_at_once_step_back_once(run, partner_a, partner_b, therapist):
    second = services.program_stage_approve(step=_ready(run, partner_a, partner_b), by=therapist)
    results = _run_together(
        {
            "alex": lambda: services.program_stage_back(step=second, partner=partner_a),
            "sam": lambda: services.program_stage_back(step=second, partner=partner_b),
        }
    )
    assert sorted(type(r).__name__ for r in results.values()) == ["ProgramStep", "ValidationError"]
    assert list(run.steps.values_list("stage__position", flat=True)) == [1, 2, 1]


def test_dates_are_the_couples_today(run, couple):
    assert current(run).started_on == couple.today()
    assert isinstance(current(run).started_on, date)


# The pages ----------------------------------------------------------------------------------------------


class TestTherapistPages:
    def test_build_a_program_through_the_pages(self, client_for, therapist):
        client = client_for(therapist)
        response = client.post(reverse("program_create"), {"title": "Slowly", "description": ""})
        program = Program.objects.get(owner=therapist)
        assert response.url == reverse("program_detail", args=[program.pk])
        back_rub, hands = Exercise.objects.back_rub(), own_exercise(therapist, "Hands")
        for exercise in (back_rub, hands):
            step = {"exercise": exercise.pk, "target_per_week": 2, "suggested_minutes": 15, "guidance": ""}
            assert client.post(reverse("program_stage_add", args=[program.pk]), step).status_code == 302
        hands_stage = program.stages.get(exercise=hands)
        client.post(reverse("program_stage_move", args=[hands_stage.pk]), {"direction": "up"})
        assert list(program.stages.values_list("exercise__title", flat=True)) == ["Hands", "Give a back rub"]
        page = client.get(reverse("program_detail", args=[program.pk])).content.decode()
        assert page.index("Hands") < page.index("Give a back rub")

    def test_a_step_out_of_range_is_the_page_again_with_the_reason(self, client_for, therapist, program):
        client = client_for(therapist)
        bad = {"exercise": Exercise.objects.back_rub().pk, "target_per_week": 9, "suggested_minutes": 15}
        response = client.post(reverse("program_stage_add", args=[program.pk]), bad)
        assert response.status_code == 400 and program.stages.count() == 3

    def test_the_builtin_program_is_read_only(self, client_for, therapist):
        builtin = Program.objects.get(builtin_key=EXAMPLE_PROGRAM_KEY)
        client = client_for(therapist)
        page = client.get(reverse("program_detail", args=[builtin.pk])).content.decode()
        assert "Add a step" not in page and "An example, not a protocol" in page
        step = {"exercise": Exercise.objects.back_rub().pk, "target_per_week": 2, "suggested_minutes": 15}
        assert client.post(reverse("program_stage_add", args=[builtin.pk]), step).status_code == 403
        first = builtin.stages.get(position=1)
        assert client.post(reverse("program_stage_move", args=[first.pk]), {"direction": "down"}).status_code == 403

    def test_start_then_approve_from_the_couple_page(
        self, client_for, therapist, program, couple, partner_a, partner_b
    ):
        client = client_for(therapist)
        response = client.post(reverse("program_assign", args=[couple.pk]), {"program": program.pk})
        assert response.url == reverse("couple_exercises", args=[couple.pk]) + "#program"
        run = ProgramRun.objects.get(couple=couple)
        page = client.get(reverse("couple_exercises", args=[couple.pk])).content.decode()
        assert "Now at step 1: Give a back rub" in page and "Approve the next step" not in page
        both_ready(current(run), partner_a, partner_b)
        page = client.get(reverse("couple_exercises", args=[couple.pk])).content.decode()
        assert "Approve the next step" in page
        assert page.count("Ready for the next step") == 2 + 2  # each partner's latest, and each in the path
        client.post(reverse("program_approve", args=[current(run).pk]))
        assert current(run).stage.position == 2

    def test_step_back_from_the_couple_page(self, client_for, therapist, run, partner_a, partner_b):
        second = services.program_stage_approve(step=_ready(run, partner_a, partner_b), by=therapist)
        client = client_for(therapist)
        page = client.get(reverse("couple_exercises", args=[run.couple.pk])).content.decode()
        assert reverse("program_return", args=[second.pk]) in page
        response = client.post(reverse("program_return", args=[second.pk]))
        assert response.url == reverse("couple_exercises", args=[run.couple.pk]) + "#program"
        assert current(run).stage.position == 1


class TestPartnerPages:
    def test_the_home_reads_the_step_only_for_a_couple_on_a_program(
        self, client_for, run, partner_a, partner_b, django_assert_num_queries
    ):
        # issue 16, "Fast": this week's check-in and whether there is a step are one query (the home is 11,
        # as tests/intimacy/test_query_budgets.py::test_partner_home, ten here with no session's
        # reflections to read); there is a step, so its rows (the step with its stage and exercise, then
        # Alex's own latest answer) are two more.
        step = current(run)
        services.readiness_answer(step=step, partner=partner_b, answer=READY)
        alex = client_for(partner_a)
        with django_assert_num_queries(12):
            response = alex.get(reverse("home"))
        program = response.context["program"]
        assert (program.step.pk, program.my_answer) == (step.pk, "")  # Sam's "ready" is not Alex's
        assert "Your program: step 1, " in response.content.decode()

    def test_ready_from_home_is_mine_alone(self, client_for, run, partner_a, partner_b):
        step = current(run)
        alex = client_for(partner_a)
        assert alex.post(reverse("step_readiness", args=[step.pk]), {"answer": "ready"}).url == reverse("home")
        assert "You said you" in alex.get(reverse("home")).content.decode()
        sam_home = client_for(partner_b).get(reverse("home")).content.decode()
        assert "Ready for the next step" in sam_home  # Sam's own buttons
        assert "You said" not in sam_home  # nothing of Alex's answer

    def test_going_back_is_the_neutral_sentence_for_both(self, client_for, run, partner_a, partner_b, therapist):
        second = services.program_stage_approve(step=_ready(run, partner_a, partner_b), by=therapist)
        sam = client_for(partner_b)
        assert sam.post(reverse("step_back", args=[second.pk])).url == reverse("home")
        for partner in (partner_a, partner_b):
            home = client_for(partner).get(reverse("home")).content.decode()
            assert "Your therapist has changed this exercise." in home
            assert "Your program: step 1" in home

    def test_a_stale_card_is_told_calmly(self, client_for, run, partner_a, partner_b, therapist):
        first = _ready(run, partner_a, partner_b)
        services.program_stage_approve(step=first, by=therapist)
        response = client_for(partner_a).post(reverse("step_readiness", args=[first.pk]), {"answer": "not_yet"})
        assert response.url == reverse("home")
        assert services.latest_readiness(first) == {partner_a.pk: READY, partner_b.pk: READY}


# The demo (seed_demo) ----------------------------------------------------------------------------------


def test_jordan_and_riley_are_at_the_second_step_of_the_example_program_once_the_library_is_there(db, settings):
    """Issue 15. The example program's later steps name the library's exercises (intimacy/programs_builtin.py);
    here the hand massage is made by hand, as the library's data migration will, and the program re-seeded."""
    import io

    from django.core.management import call_command

    from intimacy.models import Exercise, Program, ProgramStage, ProgramStep
    from intimacy.programs_builtin import EXAMPLE_PROGRAM_KEY, HAND_MASSAGE_KEY, seed_builtin_programs

    Exercise.objects.get_or_create(
        builtin_key=HAND_MASSAGE_KEY,
        defaults={"title": "Hand massage", "summary": "s", "guidance": "g", "suggested_minutes": 10},
    )
    seed_builtin_programs(Program, ProgramStage, Exercise)
    settings.DEBUG = True  # the demo's secrets are public: seed_demo runs only with DEBUG on
    call_command("seed_demo", stdout=io.StringIO())
    step = ProgramStep.objects.get(run__couple__label="Jordan & Riley", ended_on__isnull=True)
    assert (step.stage.position, step.reason, step.run.program.builtin_key) == (2, "approved", EXAMPLE_PROGRAM_KEY)
    first = ProgramStep.objects.get(run=step.run, stage__position=1)
    # The eight weeks of back rubs are the first step: it started when they started.
    assert first.assignment.sessions.count() > 10 and first.started_on == first.assignment.starts_on
