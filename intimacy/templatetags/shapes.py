"""Role words from the exercise's shape (issue 15): "you gave" for a back rub, "you listened" for a
talk, "together" for a together exercise. One table per phrase, so every screen says it the same way."""

from django import template
from django.utils.translation import gettext_lazy as _

from intimacy.models import ExerciseShape, GiverPlan, ReflectionRole

register = template.Library()

# "· gave" on a reflection's card, after the partner's name.
ROLE_DONE = {
    ReflectionRole.GIVER: _("gave"),
    ReflectionRole.RECEIVER: _("received"),
    ReflectionRole.SPEAKER: _("spoke"),
    ReflectionRole.LISTENER: _("listened"),
    ReflectionRole.TOGETHER: _("together"),
}
YOU_DID = {
    ReflectionRole.GIVER: _("you gave"),
    ReflectionRole.RECEIVER: _("you received"),
    ReflectionRole.SPEAKER: _("you spoke"),
    ReflectionRole.LISTENER: _("you listened"),
    ReflectionRole.TOGETHER: _("together"),
}
# "Sam gave": the first column's partner, by shape.
NAME_DID = {
    ExerciseShape.TOUCH: _("%(name)s gave"),
    ExerciseShape.TALK: _("%(name)s spoke"),
    ExerciseShape.TOGETHER: _("together"),
}
# The first role's heading in the therapist's columns and the appointment view.
FIRST_ROLE = {ExerciseShape.TOUCH: _("Giver"), ExerciseShape.TALK: _("Speaker"), ExerciseShape.TOGETHER: _("Together")}
SECOND_ROLE = {
    ExerciseShape.TOUCH: _("Receiver"),
    ExerciseShape.TALK: _("Listener"),
    ExerciseShape.TOGETHER: _("Together"),
}


@register.filter
def role_done(role: str) -> str:
    """A reflection's role as a past verb: "gave", "spoke", "together"."""
    return ROLE_DONE.get(role, "")


@register.filter
def you_did(role: str) -> str:
    """ "you gave", "you listened", "together"."""
    return YOU_DID.get(role, "")


@register.simple_tag
def session_role(session, partner) -> str:
    """`partner`'s role in `session` (models.Session.role_of), for comparing and for the filters above."""
    return session.role_of(partner) or ""


@register.simple_tag
def who_did(session, partner) -> str:
    """Who had the first role of `session`, as `partner` reads it: "you gave", "Sam spoke", "together"."""
    if session.shape == ExerciseShape.TOGETHER:
        return str(NAME_DID[ExerciseShape.TOGETHER])
    if session.giver_id == partner.pk:
        return str(YOU_DID[session.role_of(partner)])
    return str(NAME_DID[session.shape]) % {"name": session.giver.name}


@register.filter
def first_role(shape: str) -> str:
    return FIRST_ROLE.get(shape, "")


@register.filter
def second_role(shape: str) -> str:
    return SECOND_ROLE.get(shape, "")


PARTS = {
    ExerciseShape.TOUCH: _("%(first)s gave, %(second)s received"),
    ExerciseShape.TALK: _("%(first)s spoke, %(second)s listened"),
    ExerciseShape.TOGETHER: _("%(first)s and %(second)s together"),
}


@register.simple_tag
def session_parts(session) -> str:
    """Both partners' parts in `session`: "Alex gave, Sam received", "Alex spoke, Sam listened"."""
    return str(PARTS[session.shape]) % {"first": session.giver.name, "second": session.receiver.name}


YOU_FIRST = {
    ExerciseShape.TOUCH: _("you gave, %(name)s received"),
    ExerciseShape.TALK: _("you spoke, %(name)s listened"),
    ExerciseShape.TOGETHER: _("you and %(name)s together"),
}
YOU_SECOND = {
    ExerciseShape.TOUCH: _("%(name)s gave, you received"),
    ExerciseShape.TALK: _("%(name)s spoke, you listened"),
    ExerciseShape.TOGETHER: _("you and %(name)s together"),
}


@register.simple_tag
def parts_for(session, partner) -> str:
    """Both parts in `session` as `partner` reads them: "you spoke, Sam listened"."""
    if session.giver_id == partner.pk:
        return str(YOU_FIRST[session.shape]) % {"name": session.receiver.name}
    return str(YOU_SECOND[session.shape]) % {"name": session.giver.name}


# The assignment's plan for the shape's first role (`Assignment.giver_plan`): who gives a back rub, who
# speaks first in a talk. A together exercise has no first role: no plan is asked or shown, and its
# assignments store "either" (services.assignment_create).
PLAN_LABEL = {ExerciseShape.TOUCH: _("Giver plan"), ExerciseShape.TALK: _("Who speaks first")}
PLAN_CHOICES = {
    ExerciseShape.TOUCH: {
        GiverPlan.TAKE_TURNS: _("Take turns to give"),
        GiverPlan.EITHER: _("Either partner gives"),
        GiverPlan.ONE: _("One named partner gives"),
    },
    ExerciseShape.TALK: {
        GiverPlan.TAKE_TURNS: _("Take turns to speak"),
        GiverPlan.EITHER: _("Either partner speaks first"),
        GiverPlan.ONE: _("One named partner speaks first"),
    },
}
PLANNED_LABEL = {ExerciseShape.TOUCH: _("Who gives"), ExerciseShape.TALK: _("Which partner speaks first")}
PLANNED_HELP = {
    ExerciseShape.TOUCH: _("Only for “One named partner gives”."),
    ExerciseShape.TALK: _("Only for “One named partner speaks first”."),
}
PLANNED_MISSING = {
    ExerciseShape.TOUCH: _("Choose which partner gives."),
    ExerciseShape.TALK: _("Choose which partner speaks first."),
}
# A named partner's plan, as the therapist's pages list an assignment: "Alex gives", "Alex speaks first".
PLANNED_NAME = {ExerciseShape.TOUCH: _("%(name)s gives"), ExerciseShape.TALK: _("%(name)s speaks first")}


@register.simple_tag
def plan_words(assignment) -> str:
    """An assignment's plan for its first role, in its shape's words: "Take turns to give", "Alex speaks
    first"; a together exercise's, "Together" (it has none)."""
    shape = assignment.exercise.shape
    if shape not in PLAN_CHOICES:
        return str(FIRST_ROLE[ExerciseShape.TOGETHER])
    if assignment.giver_plan == GiverPlan.ONE and assignment.planned_giver_id:
        return str(PLANNED_NAME[shape]) % {"name": assignment.planned_giver.name}
    return str(PLAN_CHOICES[shape].get(assignment.giver_plan, assignment.get_giver_plan_display()))
