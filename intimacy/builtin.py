"""The built-in exercise library, written in Tend's own words. Seeded by data migrations.

Each exercise is plain data: a stable `builtin_key`, its shape ("touch", "talk" or "together", the
values of `models.ExerciseShape`; this module cannot import models, which import it), a title, a
one-sentence summary, suggested minutes, and the guidance the couple reads. The guidance carries its
sections as headed paragraphs, in this order: how to do it, what it is for, how long and how often,
when not to do it. They live in the guidance rather than in fields of their own because the couple
needs every one of them (above all "when not to do it") on the page they read before they begin, and
because a therapist's customised copy should carry and reword them all in one place.

Every touch exercise carries the back rub's safety points in its own words: the non-verbal stop
signal, keeping away from breasts and genitals, not straight after an argument, not when very tired,
and the private line ("Tell my therapist privately"). The screening rules apply to touch exercises
and to no other, so nothing outside the touch shape asks the couple to touch.
"""

# Each built-in exercise's stable handle (`Exercise.builtin_key`): code finds it by this, never by title.
BACK_RUB_KEY = "back-rub"
# The daily stress talk: the demo's steady couple do it beside their back rub (seed_demo).
STRESS_OF_THE_DAY_KEY = "stress-of-the-day"

TOUCH, TALK, TOGETHER = "touch", "talk", "together"

# The section headings every exercise but the original back rub uses (tests check each is there).
SECTIONS = ("How to do it", "What it is for", "How long and how often", "When not to do it")

BACK_RUB = {
    "builtin_key": BACK_RUB_KEY,
    "shape": TOUCH,
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

HAND_MASSAGE = {
    "builtin_key": "hand-massage",
    "shape": TOUCH,
    "title": "Hand massage",
    "summary": "One of you gently strokes and holds the other's hands, slowly, with your full attention.",
    "suggested_minutes": 10,
    "guidance": """\
Hands are easy to offer and easy to receive. This is a short, quiet way of caring for each other that you can do sitting on the sofa or at the kitchen table.

How to do it
• Agree who gives and who receives this time. Sit comfortably facing each other or side by side, with phones away.
• Agree a simple non-verbal stop signal, such as pulling the hand back gently or a tap on the arm. When either of you gives it, the touch stops.
• The giver holds one hand in both of theirs for a moment, then strokes slowly from the wrist to the fingertips, palm and back, one finger at a time. A little lotion is fine if you both like it.
• Keep the pressure light. Move slowly. Then the other hand.
• The receiver says what they'd like: "lighter", "slower", "stay there", "let's pause". The giver honours it straight away.
• This exercise stays with the hands and forearms: it keeps away from breasts and genitals, and there is no expectation of sex.

What it is for
The giver practises unhurried, attentive care; the receiver practises letting care in and saying what they like. It is a gentle first step for couples who find longer touch hard at the moment.

How long and how often
About 10 minutes, five for each hand. Two or three times a week, or as your therapist suggests. Swap roles another day if you both want to.

When not to do it
• Not straight after an argument, and not when either of you is very tired or rushed.
• Either of you may say "not today". That is a complete answer, and stopping early is fine.
• If there is pain, swelling, an injury or a skin problem in the hands, leave it out and talk it over with your therapist.
• If something worries you, "Tell my therapist privately" in Tend's menu reaches only your therapist. Your partner does not see it.""",
}

FOOT_RUB = {
    "builtin_key": "foot-rub",
    "shape": TOUCH,
    "title": "Foot rub",
    "summary": "A slow, gentle foot rub at the end of the day, given for care rather than technique.",
    "suggested_minutes": 15,
    "guidance": """\
Feet carry you all day. A slow foot rub is a simple way to say "rest now, I've got you".

How to do it
• Agree who gives and who receives this time. The receiver lies or sits back comfortably; the giver sits at their feet with a towel over their lap. Phones away.
• Agree a simple non-verbal stop signal, such as drawing the foot back or a raised hand. When either of you gives it, the touch stops.
• Start by simply holding one foot in both hands. Then stroke slowly from the toes to the heel and ankle with light, even pressure. Spend a little time on each toe. Then the other foot.
• Some people are ticklish: firmer, slower strokes usually help, and the receiver says what works.
• The receiver can ask for more, less, or a pause at any moment, and the giver honours it straight away.
• This exercise stays with the feet and lower legs: it keeps away from breasts and genitals, and there is no expectation of sex.

What it is for
The receiver gets to be looked after without having to do anything; the giver practises a calm, patient gesture of care. It is a good way to wind down together.

How long and how often
About 15 minutes, half for each foot. Two or three times a week, or as your therapist suggests. Take turns on different days if you both like.

When not to do it
• Not straight after an argument, and not when either of you is very tired.
• Either of you may say "not today", and stopping early is a fine outcome.
• If there is pain, an injury, a wound, diabetes affecting the feet, or a pregnancy, talk it over with your therapist before you begin.
• If something worries you, "Tell my therapist privately" in Tend's menu reaches only your therapist. Your partner does not see it.""",
}

HAIR_AND_SCALP = {
    "builtin_key": "hair-and-scalp",
    "shape": TOUCH,
    "title": "Slow stroking of hair and scalp",
    "summary": "One of you slowly strokes the other's hair and scalp while they rest.",
    "suggested_minutes": 10,
    "guidance": """\
Having your hair stroked slowly is one of the most soothing kinds of touch there is. This exercise is about slowing right down together.

How to do it
• Agree who gives and who receives this time. The receiver sits or lies with their head resting somewhere comfortable, perhaps on a cushion on the giver's lap. Phones away.
• Agree a simple non-verbal stop signal, such as a raised hand. When either of you gives it, the touch stops.
• The giver strokes the hair slowly from the forehead back, and lets the fingertips move in small, gentle circles over the scalp. Go slower than feels natural.
• Keep the pressure light and avoid pulling the hair. The receiver says what they'd like: "slower", "a bit firmer", "just there", "let's pause". The giver honours it straight away.
• This exercise stays with the head, hair and neck: it keeps away from breasts and genitals, and there is no expectation of sex.

What it is for
The receiver practises resting and being cared for; the giver practises slow, patient attention. Many couples find it helps them settle at the end of a busy day.

How long and how often
About 10 minutes. Two or three times a week, or as your therapist suggests. Swap roles on another day if you both want to.

When not to do it
• Not straight after an argument, and not when either of you is very tired.
• Either of you may say "not today", and stopping early is a fine outcome.
• If there is a headache, a scalp problem, a head or neck injury, or anything in your history that makes touch around the head hard, talk it over with your therapist first.
• If something worries you, "Tell my therapist privately" in Tend's menu reaches only your therapist. Your partner does not see it.""",
}

RELAXING_HUG = {
    "builtin_key": "relaxing-hug",
    "shape": TOUCH,
    "title": "Hug until you both relax",
    "summary": "A standing hug that lasts until both of you feel your body let go a little.",
    "suggested_minutes": 5,
    "guidance": """\
A quick hug says hello. A long, still hug, held until you both soften, can help two busy people arrive back with each other.

How to do it
• One of you offers the hug this time; the other is free to accept or say "not now". Stand somewhere quiet, feet steady.
• Agree a simple non-verbal stop signal, such as a light pat on the back. When either of you gives it, you let go.
• Hold each other comfortably, with your arms around the back or shoulders. Breathe slowly. Notice your own shoulders, jaw and hands, and let them loosen.
• Stay until you both feel more relaxed, or for a minute or two if that comes first. There is no need to talk.
• Hands stay on the back and shoulders: this exercise keeps away from breasts and genitals, and there is no expectation of sex.

What it is for
It helps each of you feel the other's steadiness and calm down together, rather than alone. The one who offers practises reaching out; the other practises letting themselves be held.

How long and how often
A minute or two, up to five. Once a day is a good rhythm, for example when one of you comes home.

When not to do it
• Not straight after an argument, and not when either of you is very tired or simply wants space. "Not now" is a complete answer.
• If being held tightly or standing close feels hard for either of you, or there is pain or an injury, talk it over with your therapist first.
• If something worries you, "Tell my therapist privately" in Tend's menu reaches only your therapist. Your partner does not see it.""",
}

CURIOUS_TOUCH = {
    "builtin_key": "curious-touch",
    "shape": TOUCH,
    "title": "Touch for curiosity, with no goal",
    "summary": "Taking turns to touch for your own curiosity, with no aim of relaxing or pleasing anyone.",
    "suggested_minutes": 20,
    "guidance": """\
Most touch between partners has a purpose: to soothe, to please, to lead somewhere. This exercise has none. You touch to find out what you notice, and that is all.

How to do it
• Agree who touches first. The one who touches explores their partner's body for their own interest: textures, warmth, shapes, the difference between skin and hair. The one who is touched simply notices what they feel.
• The one who touches is not trying to relax or please their partner, and the one who is touched does not need to enjoy it or react. Neither of you has a job to do well.
• This exercise keeps away from breasts and genitals. There is no expectation of sex, before, during or after; your therapist will talk with you about any later steps.
• Agree a simple non-verbal stop signal before you begin, such as a hand placed over the other's hand. When either of you gives it, the touch stops, and it is fine to start again or to end there.
• The one who is touched may also ask for "lighter", "somewhere else" or a pause, and that is honoured straight away.
• After about half the time, swap. Keep talking to a minimum while you touch; afterwards you can each write down what you noticed.

What it is for
It takes pressure off touch. Without a goal, there is nothing to get right or wrong, and each of you can find out what you notice, what you like, and what feels uncomfortable, at your own pace.

How long and how often
About 20 minutes, ten for each of you. Once or twice a week, or as your therapist suggests. Your therapist may have given you your own steps: follow those.

When not to do it
• Not straight after an argument, and not when either of you is very tired.
• Either of you may say "not today", and stopping part way is a fine outcome, not a failure.
• If there is pain, an injury, a pregnancy, or anything in your history that makes touch hard, talk it over with your therapist before you begin.
• If something worries you, "Tell my therapist privately" in Tend's menu reaches only your therapist. Your partner does not see it.""",
}

BREATHING_TOGETHER = {
    "builtin_key": "breathing-together",
    "shape": TOGETHER,
    "title": "Breathe together for a few minutes",
    "summary": "Sitting together quietly and letting your breathing slow down side by side.",
    "suggested_minutes": 5,
    "guidance": """\
A few slow breaths, taken together, can quiet a busy head and help you both feel on the same side again. You don't need to touch for this.

How to do it
• Sit side by side or facing each other, somewhere quiet. Put your phones away and set a gentle timer for five minutes.
• Close your eyes or rest them on the floor. Breathe in through your nose for a slow count of four and out for a slow count of six. Let the breath be easy, not forced.
• If it helps, one of you can count quietly aloud for the first minute, and then you both carry on in silence.
• When your mind wanders, that is normal: notice it, and come back to the next breath.
• When the timer goes, look at each other for a moment before you get up.

What it is for
It helps each of you settle your own body, and doing it side by side reminds you that you are in this together. It is a calm way to start or end the day, or to reset before a harder conversation.

How long and how often
About five minutes. Once a day, or most days, works well.

When not to do it
• If slow breathing makes you dizzy or anxious, stop and breathe normally; it is fine to keep your eyes open.
• If either of you has a breathing or heart condition, check with your therapist or doctor first.
• This is not a way to end an argument on the spot: if you are in the middle of one, take a break first.
• If something worries you, "Tell my therapist privately" in Tend's menu reaches only your therapist. Your partner does not see it.""",
}

STRESS_OF_THE_DAY = {
    "builtin_key": STRESS_OF_THE_DAY_KEY,
    "shape": TALK,
    "title": "Talk about the day's stresses",
    "summary": "Each day, one of you talks about stress from outside the relationship while the other listens and takes their side.",
    "suggested_minutes": 20,
    "guidance": """\
Stress from work, family or friends often spills into a couple without either of you noticing. A short daily talk gives it somewhere else to go.

How to do it
• Pick a regular time, for example after work or after dinner. Sit down together with phones away.
• One of you speaks, the other listens. The speaker talks about what was stressful today outside your relationship: work, family, friends, health, money worries, anything but each other.
• The listener's job is to understand, not to fix. Ask what it was like, show you get it ("no wonder you're fed up"), and be on your partner's side. Hold back advice unless it is asked for.
• After about ten minutes, swap if you both want to. Some days only one of you needs to talk, and that is fine.

What it is for
The speaker feels heard and supported; the listener practises staying with their partner's feelings without defending, judging or solving. Over time it helps you feel like a team against the pressures of life.

How long and how often
About 20 minutes, ten each if you swap. Daily, or on most working days.

When not to do it
• This talk is not for problems between the two of you. If a complaint about each other comes up, put it aside for a separate time, or bring it to your therapist.
• If one of you is too tired to listen well, say so kindly and pick another time today.
• If the talk turns into an argument, stop and come back to it later. Stopping is fine.
• If something worries you, "Tell my therapist privately" in Tend's menu reaches only your therapist. Your partner does not see it.""",
}

APPRECIATION_EXCHANGE = {
    "builtin_key": "appreciation-exchange",
    "shape": TOGETHER,
    "title": "Share appreciations",
    "summary": "Each of you names a few specific things you appreciated about the other lately.",
    "suggested_minutes": 10,
    "guidance": """\
It is easy to notice what goes wrong and to let what goes right pass without a word. This exercise makes room for the good things.

How to do it
• Sit together with phones away. Each of you thinks of three things your partner did or said recently that you appreciated. Small things count: making tea, a kind message, listening well.
• Take turns. Be specific: "Thank you for picking up the children on Tuesday when I was running late; it took the pressure off."
• The one hearing it only says "thank you". No "but", no "you're welcome, however", no turning it back.
• When you have both had your turn, you're done.

What it is for
Both of you practise noticing each other's efforts and saying so, and both of you get to hear that what you do is seen. Regular appreciation makes harder conversations easier.

How long and how often
About ten minutes. Once or twice a week, for example at the weekend.

When not to do it
• Not as a bargaining chip or a lead-in to a complaint. Keep it only for appreciation.
• If it feels forced after a hard day, skip it and do it another day.
• If one of you finds it very hard to think of anything, that is worth talking over with your therapist, not a reason to argue.
• If something worries you, "Tell my therapist privately" in Tend's menu reaches only your therapist. Your partner does not see it.""",
}

SPEAKER_LISTENER = {
    "builtin_key": "speaker-listener",
    "shape": TALK,
    "title": "Take turns: one small topic, one speaks, one listens",
    "summary": "A structured conversation about one small topic, where the listener sums up before replying.",
    "suggested_minutes": 20,
    "guidance": """\
When a topic keeps turning into an argument, slowing the conversation down helps. Here only one of you speaks at a time, and the other shows they've understood before they answer.

How to do it
• Choose one small topic together, something that matters but is not your biggest or oldest disagreement. For example, how to share a chore or plan a weekend.
• Decide who speaks first. The speaker holds something, a pen or a cushion, as a sign that it is their turn.
• The speaker says a little at a time, about their own thoughts and feelings ("I feel…", "I'd like…"), not about what the other does wrong.
• The listener then sums up in their own words what they heard ("So you're saying…"), without arguing, correcting or adding their view. The speaker says whether that was right and adds anything missed.
• After a few rounds, hand over the pen or cushion and swap.
• Try to understand each other first. Only when you both feel understood, look for a solution, or agree to leave it for now.

What it is for
The speaker practises saying what matters without blame; the listener practises understanding without defending. Both learn that you can disagree and still feel heard.

How long and how often
About 20 minutes. Once a week is enough; more often only if you both want to.

When not to do it
• Not for big or painful topics yet: bring those to your therapist and use this in the session first.
• Not straight after an argument, and not when either of you is very tired.
• If voices rise or either of you feels unsafe, stop. Take a break of at least twenty minutes, and try again another day if you both want to.
• If something worries you, "Tell my therapist privately" in Tend's menu reaches only your therapist. Your partner does not see it.""",
}

BUILTIN_EXERCISES = [
    BACK_RUB,
    HAND_MASSAGE,
    FOOT_RUB,
    HAIR_AND_SCALP,
    RELAXING_HUG,
    CURIOUS_TOUCH,
    BREATHING_TOGETHER,
    STRESS_OF_THE_DAY,
    APPRECIATION_EXCHANGE,
    SPEAKER_LISTENER,
]


def seed_builtin_exercises(exercise_model, keys: list[str] | None = None) -> None:
    """Create or refresh the built-in exercises (idempotent, by `builtin_key`; also used by tests that
    flush the database). `keys`: only these (an early migration seeds only the back rub). Fields the
    given model lacks are left out, so a migration's historical model from before a field works too."""
    fields = {field.name for field in exercise_model._meta.get_fields()}
    for spec in BUILTIN_EXERCISES:
        if keys is not None and spec["builtin_key"] not in keys:
            continue
        exercise_model.objects.update_or_create(
            builtin_key=spec["builtin_key"],
            defaults={k: v for k, v in spec.items() if k != "builtin_key" and k in fields},
        )


def remove_unused_builtin_exercises(exercise_model, keys: list[str]) -> None:
    """Delete the built-in exercises named by `keys` that no assignment uses (a data migration's
    reverse); one in use stays, with its assignments and their history."""
    exercise_model.objects.filter(builtin_key__in=keys, assignments__isnull=True).delete()
