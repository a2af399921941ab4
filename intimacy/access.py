"""The access gate for the homework: one helper per object kind, on top of accounts' gate for couples.

The same rule as `accounts.access`: each helper looks the object up only among those the user may
see at all (`visible_to`), so an outsider and a missing object get the same 404, and only then does
a role check answer 403.
"""

from accounts.access import visible_or_404
from accounts.models import Couple
from intimacy.models import (
    Alert,
    Assignment,
    CoupleNote,
    Exercise,
    Program,
    ProgramStage,
    ProgramStep,
    Reflection,
    Session,
)


def get_exercise_for_user(user, pk: int) -> Exercise:
    """The exercise `pk` if `user` may use it: built in, or their own (404 otherwise).

    Exercises are not clinical, but a therapist's own are theirs: another therapist's exercise is a
    404, exactly like a missing one. Whether the user may change it (not a built-in) is the view's to ask.
    """
    return visible_or_404(Exercise.objects.available_to(user), user, pk)


def get_assignment_for_user(user, pk: int, *, role: str | None = None) -> Assignment:
    """The assignment `pk` if it belongs to a couple `user` may see (404 otherwise); 403 on the wrong role."""
    visible = Assignment.objects.visible_to(user).select_related("couple", "exercise", "planned_giver")
    return visible_or_404(visible, user, pk, role=role)


def get_session_for_user(user, pk: int, *, role: str | None = None) -> Session:
    """The session `pk` if it belongs to a couple `user` may see (404 otherwise); 403 on the wrong role."""
    visible = Session.objects.visible_to(user).select_related(
        "assignment__couple", "assignment__exercise", "giver", "receiver", "logged_by"
    )
    return visible_or_404(visible, user, pk, role=role)


def get_reflection_for_user(user, pk: int, *, role: str | None = None) -> Reflection:
    """The reflection `pk` if `user` may see it in any form (404 otherwise); 403 on the wrong role.

    A partner's reflection that was not shared with the other partner is a 404 for them, exactly
    like one that does not exist.
    """
    visible = Reflection.objects.visible_to(user).select_related("session__assignment__couple", "partner")
    return visible_or_404(visible, user, pk, role=role)


def get_note_for_user(user, pk: int) -> CoupleNote:
    """The therapist's note `pk` on one of their couples; 404 for everyone else.

    Notes are the therapist's private record: to a partner, even of that couple, they do not exist.
    """
    return visible_or_404(CoupleNote.objects.visible_to(user).select_related("couple"), user, pk)


def get_alert_for_user(user, pk: int) -> Alert:
    """The alert `pk` on one of the therapist's couples; 404 for everyone else, partners included."""
    return visible_or_404(Alert.objects.visible_to(user).select_related("couple", "partner"), user, pk)


def get_program_for_user(user, pk: int) -> Program:
    """The program `pk` if `user` may use it: built in, or their own (404 otherwise, as for exercises).
    Whether they may change it (not a built-in) is the view's to ask."""
    return visible_or_404(Program.objects.available_to(user), user, pk)


def get_program_stage_for_user(user, pk: int) -> ProgramStage:
    """The stage `pk` of a program `user` may use (404 otherwise)."""
    visible = ProgramStage.objects.filter(program__in=Program.objects.available_to(user)).select_related("program")
    return visible_or_404(visible, user, pk)


def get_program_step_for_user(user, pk: int, *, role: str | None = None) -> ProgramStep:
    """A step of a couple's program if the couple is `user`'s to see (404 otherwise); 403 on the wrong role."""
    visible = ProgramStep.objects.filter(run__couple__in=Couple.objects.visible_to(user)).select_related(
        "run__couple", "stage"
    )
    return visible_or_404(visible, user, pk, role=role)
