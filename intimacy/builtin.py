"""The built-in exercise library, written in Tend's own words. Seeded by a data migration."""

# Each built-in exercise's stable handle (`Exercise.builtin_key`): code finds it by this, never by title.
BACK_RUB_KEY = "back-rub"

BACK_RUB = {
    "builtin_key": BACK_RUB_KEY,
    "title": "Give a back rub",
    "summary": "A slow, gentle back rub where the care you put into it matters more than technique.",
    "suggested_minutes": 15,
    "guidance": """\
This is not a massage course, and it is not a lead-in to sex. It is a few quiet minutes in which one of you offers care and the other lets themselves be cared for.

Before you start
• Agree who gives and who receives this time. Find a warm, private spot where you won't be interrupted, and put your phones away.
• The receiver decides how much clothing stays on. Bare skin is fine if the receiver wants it; a T-shirt is fine too.
• Agree a simple non-verbal stop signal, such as a raised hand or a tap on the arm. When either of you gives it, the touch stops.
• Choose a calm moment: not straight after an argument, and not when either of you is very tired.
• Either of you may say "not today". That is a complete answer.

For the one who gives
• Use slow, gentle strokes with light pressure, moving in one direction, for example from the shoulders down the back.
• This exercise keeps away from breasts and genitals.
• Strong hands are not the point. Your attention is: notice your breathing, slow down, and let your hands say "I'm here with you".
• Nobody is born knowing how to do this. It gets easier with a little practice.

For the one who receives
• Your only task is to notice what you feel and to say what you'd like. "A little lighter", "slower", "can we pause?" are all welcome, at any moment.
• The giver honours every request straight away, without discussion.

Both of you
• There is no expectation of sex, before, during or after.
• Either of you may stop at any time. Stopping early is a fine outcome, not a failure; write down what happened if you'd like to.
• Sore or knotted muscles need a trained massage therapist, not this exercise.
• If there is pain, an injury, a pregnancy, or anything in your history that makes touch hard, talk it over with your therapist before you begin.
• If something worries you, "Tell my therapist privately" in Tend's menu reaches only your therapist. Your partner does not see it.

Why it helps: the giver practises a calm, unselfish gesture of care; the receiver gets to relax and feel put first. Afterwards, each of you can write a short reflection in Tend from your own side.""",
}

BUILTIN_EXERCISES = [BACK_RUB]


def seed_builtin_exercises(exercise_model) -> None:
    """Create or refresh the built-in exercises (idempotent; also used by tests that flush the database)."""
    for spec in BUILTIN_EXERCISES:
        exercise_model.objects.update_or_create(
            builtin_key=spec["builtin_key"],
            defaults={k: v for k, v in spec.items() if k != "builtin_key"},
        )
