"""The homework's TextChoices on every page, so templates compare and post statuses and roles by name
(`AssignmentStatus.PAUSED`), never by a hand-written value."""

from intimacy.models import Assignment, ProgramRun, ReadinessAnswer, Reflection


def choices(request) -> dict:
    return {
        "AssignmentStatus": Assignment.Status,
        "GiverPlan": Assignment.GiverPlan,
        "ReflectionRole": Reflection.Role,
        "ReflectionVisibility": Reflection.Visibility,
        "ReadinessAnswer": ReadinessAnswer.Answer,
        "ProgramRunStatus": ProgramRun.Status,
    }
