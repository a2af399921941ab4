"""The built-in example program (issue 15), as data: its stages name exercises by `builtin_key`, so the
program can be seeded once the library's exercises exist. "An example, not a protocol": a therapist
assigns it as it is or builds their own.

`seed_builtin_programs` skips a stage whose exercise is not there (yet): the library's exercises arrive
in their own data migration, and this one must not depend on their order. Run it again (it is
idempotent) once they are there, and the missing stages are added in their place.
"""

from intimacy.builtin import BACK_RUB_KEY

EXAMPLE_PROGRAM_KEY = "gentle-touch-steps"
# The library's keys for the later stages (intimacy/builtin.py).
HAND_MASSAGE_KEY = "hand-massage"
FOOT_RUB_KEY = "foot-rub"
NON_DEMAND_TOUCH_KEY = "curious-touch"

EXAMPLE_PROGRAM = {
    "builtin_key": EXAMPLE_PROGRAM_KEY,
    "title": "Gentle touch, step by step",
    "description": (
        "An example, not a protocol. Four steps of unhurried touch with no goal and no expectation of sex:"
        " a back rub, then hands, then feet, then slow touch on the front of the body that keeps away from"
        " breasts and genitals. The couple moves on only when both say they are ready and you agree;"
        " either may ask to go back a step at any time. Change it, shorten it, or build your own."
    ),
    "stages": [
        {
            "exercise": BACK_RUB_KEY,
            "target_per_week": 2,
            "suggested_minutes": 15,
            "guidance": "Start here: the back is an easy place to give and receive care.",
        },
        {
            "exercise": HAND_MASSAGE_KEY,
            "target_per_week": 2,
            "suggested_minutes": 15,
            "guidance": "Hands, one at a time. Take your time; there is nowhere to get to.",
        },
        {
            "exercise": FOOT_RUB_KEY,
            "target_per_week": 2,
            "suggested_minutes": 15,
            "guidance": "Feet next. Say at once if anything tickles or hurts.",
        },
        {
            "exercise": NON_DEMAND_TOUCH_KEY,
            "target_per_week": 2,
            "suggested_minutes": 20,
            "guidance": "The front of the body, keeping away from breasts and genitals. Touch for your own curiosity.",
        },
    ],
}

BUILTIN_PROGRAMS = [EXAMPLE_PROGRAM]


def seed_builtin_programs(program_model, stage_model, exercise_model) -> None:
    """Create or refresh the built-in programs; a stage whose exercise is missing is skipped (idempotent).

    Takes the models as arguments so a data migration can pass its historical ones. Stages are written
    in order, numbered 1, 2, 3 … over those whose exercise exists; a program already in use keeps its
    stages (a couple's path points at them), only its title and description are refreshed.
    """
    for spec in BUILTIN_PROGRAMS:
        program, _created = program_model.objects.update_or_create(
            builtin_key=spec["builtin_key"], defaults={"title": spec["title"], "description": spec["description"]}
        )
        if program.runs.exists():
            continue
        exercises = {e.builtin_key: e for e in exercise_model.objects.filter(builtin_key__isnull=False)}
        stages = [s for s in spec["stages"] if s["exercise"] in exercises]
        program.stages.all().delete()
        for position, stage in enumerate(stages, start=1):
            stage_model.objects.create(
                program=program,
                position=position,
                exercise=exercises[stage["exercise"]],
                **{k: v for k, v in stage.items() if k != "exercise"},
            )
