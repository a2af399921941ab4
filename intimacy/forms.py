import json
import uuid

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.forms import count, lazy_format, up_to
from intimacy import csi4
from intimacy.alerts import LOW_SAFE_MAX
from intimacy.models import (
    ACKNOWLEDGEMENT_MAX_LENGTH,
    EXERCISE_TITLE_MAX_LENGTH,
    MAX_RATING,
    MAX_SESSION_MINUTES,
    MAX_SUGGESTED_MINUTES,
    MAX_TARGET,
    MIN_RATING,
    MIN_SESSION_MINUTES,
    MIN_SUGGESTED_MINUTES,
    MIN_TARGET,
    NOTE_MAX_LENGTH,
    REFLECTION_TEXT_MAX_LENGTH,
    SAFETY_MESSAGE_MAX_LENGTH,
    SHAPE_ROLES,
    Assignment,
    Exercise,
    ExerciseShape,
    Program,
    ProgramStage,
    Reflection,
    SafetyCheck,
    SafetyMessage,
    ScreeningRecord,
)
from intimacy.templatetags import shapes as shape_words

RATING_CHOICES = [(i, str(i)) for i in range(MIN_RATING, MAX_RATING + 1)]
SUGGESTED_MINUTES_RANGE = {"low": MIN_SUGGESTED_MINUTES, "high": MAX_SUGGESTED_MINUTES}


class LongTextField(forms.CharField):
    """Text over several lines, held to its limit here rather than by the browser.

    A browser's `maxlength` cuts a pasted text short without a word, so the end of what someone wrote
    would be lost unseen; here they get all of it back, with a message saying how much to shorten.
    Line breaks count once, as the person sees them (browsers send each as two characters, CR LF), and
    are stored so. The help text ends with the limit: "Up to 5,000 characters."
    """

    widget = forms.Textarea

    def __init__(self, *, max_length: int, help_text="", **kwargs):
        self.limit = max_length
        help_text = format_lazy("{} {}", help_text, up_to(max_length)) if help_text else up_to(max_length)
        super().__init__(help_text=help_text, **kwargs)

    def to_python(self, value) -> str:
        return super().to_python(value).replace("\r\n", "\n")

    def validate(self, value) -> None:
        super().validate(value)
        if len(value) > self.limit:
            raise forms.ValidationError(
                gettext(
                    "Please keep this to %(limit)s characters; it has %(count)s now. "
                    "Everything you wrote is still here."
                ),
                code="max_length",
                params={"limit": count(self.limit), "count": count(len(value))},
            )


class RatingWidget(forms.RadioSelect):
    """0–10 as eleven large buttons that wrap on a phone; an unanswered optional scale stays empty."""

    template_name = "widgets/rating.html"

    def __init__(self, low: str = "", high: str = "", attrs=None):
        super().__init__(attrs)
        self.low, self.high = low, high

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["low"], context["widget"]["high"] = self.low, self.high
        return context


class ChoiceButtons(forms.RadioSelect):
    template_name = "widgets/choice_buttons.html"


def rating_field(
    label: str, low: str, high: str, required: bool = False, help_text: str = ""
) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=RATING_CHOICES,
        coerce=int,
        empty_value=None,
        required=required,
        widget=RatingWidget(low=low, high=high),
        help_text=help_text,
        error_messages={
            "required": lazy_format(
                _("Please choose a number from %(low)s to %(high)s."), {"low": MIN_RATING, "high": MAX_RATING}
            )
        },
    )


def optional_choice(label: str, choices) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, choices=choices, required=False, widget=ChoiceButtons)


def style_fields(form: forms.BaseForm, invalid=()) -> None:
    """Bootstrap classes for hand-laid forms (crispy does this for the others); `is-invalid` on the
    widgets of the fields named in `invalid`."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, RatingWidget | ChoiceButtons | forms.HiddenInput):
            continue
        if isinstance(widget, forms.RadioSelect):
            widget.attrs.setdefault("class", "form-check-input")
            continue
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select form-select-lg")
        else:
            widget.attrs.setdefault("class", "form-control form-control-lg")
    for name in invalid:
        if name in form.fields:
            css = form.fields[name].widget.attrs.get("class", "")
            form.fields[name].widget.attrs["class"] = f"{css} is-invalid".strip()


class StyledForm(forms.Form):
    """A hand-laid form whose widgets carry Bootstrap's classes, with errors marked once validated."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self)

    def full_clean(self):
        super().full_clean()
        # Validation has just run, so reading `errors` returns its result rather than starting it again
        # (read in __init__, it would validate half-built fields).
        style_fields(self, invalid=self.errors)


def asks_second_thought(*, visibility, paused, safe) -> bool:
    """Sharing words with the partner after a pause or a low "safe" rating is asked about once more:
    those are the words most likely to be regretted, or read by someone who should not read them."""
    if visibility != Reflection.Visibility.SHARED:
        return False
    return bool(paused) or (safe is not None and safe <= LOW_SAFE_MAX)


class ReflectionForm(StyledForm):
    """One partner's reflection in one role. The questions of the other role are ignored on save."""

    connection = rating_field(_("How connected did you feel?"), _("Not at all"), _("Very"), required=True)
    comfort = rating_field(_("How comfortable did you feel?"), _("Not at all"), _("Completely"), required=True)
    safe = rating_field(_("How safe did you feel?"), _("Not at all"), _("Completely"), required=True)
    presence = rating_field(_("How present did you feel?"), _("Distracted"), _("Fully present"))
    giving_felt = rating_field(_("How did it feel to give?"), _("Hard"), _("Lovely"))
    tension_before = rating_field(_("Tension before"), _("None"), _("A lot"))
    tension_after = rating_field(_("Tension after"), _("None"), _("A lot"))
    cared_for = rating_field(_("How cared for did you feel?"), _("Not at all"), _("Very"))
    pressure = optional_choice(_("The pressure was"), Reflection.Pressure.choices)
    pace = optional_choice(_("The pace was"), Reflection.Pace.choices)
    felt_heard = rating_field(_("How heard did you feel?"), _("Not at all"), _("Completely"))
    felt_understood = rating_field(_("How understood did you feel?"), _("Not at all"), _("Completely"))
    safe_to_say = rating_field(_("How safe did it feel to say it?"), _("Not at all"), _("Completely"))
    stayed_open = rating_field(
        _("How well could you stay with it without defending yourself?"), _("Not at all"), _("Completely")
    )
    understood_what_mattered = rating_field(
        _("How well did you understand what mattered to them?"), _("Not at all"), _("Completely")
    )
    paused = forms.BooleanField(
        label=_("We paused or stopped early"),
        required=False,
        help_text=_("That is a fine outcome: stopping when something doesn't feel right is part of the exercise."),
    )
    pause_reason = LongTextField(
        label=_("If you'd like to, say what happened"),
        max_length=REFLECTION_TEXT_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    next_time = LongTextField(
        label=_("What I'd like next time"),
        max_length=REFLECTION_TEXT_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    notes = LongTextField(
        label=_("Anything else"),
        max_length=REFLECTION_TEXT_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # No choice is preselected the first time (`visibility_offered` gives the partner's last one later):
    # sharing is something a partner chooses, never something they failed to change.
    visibility = forms.ChoiceField(
        label=_("Who may read what I wrote?"),
        choices=Reflection.Visibility.choices,
        widget=forms.RadioSelect,
        help_text=_("Your therapist always sees your numbers. “Just me” keeps your words as a private journal."),
        error_messages={"required": _("Please choose who may read what you wrote.")},
    )
    confirm_share = forms.BooleanField(label=_("Yes, share it with my partner"), required=False)

    ANSWER_FIELDS = (
        "connection",
        "comfort",
        "safe",
        "presence",
        "giving_felt",
        "tension_before",
        "tension_after",
        "cared_for",
        "pressure",
        "pace",
        "felt_heard",
        "felt_understood",
        "safe_to_say",
        "stayed_open",
        "understood_what_mattered",
        "paused",
        "pause_reason",
        "next_time",
        "notes",
        "visibility",
    )

    # The heading over a role's own questions on the log form, where the role is chosen on the page.
    ROLE_HEADINGS = {
        Reflection.Role.GIVER: _("If you gave"),
        Reflection.Role.RECEIVER: _("If you received"),
        Reflection.Role.SPEAKER: _("If you spoke"),
        Reflection.Role.LISTENER: _("If you listened"),
        Reflection.Role.TOGETHER: "",
    }

    def __init__(self, *args, already_confirmed: bool = False, shape: str = ExerciseShape.TOUCH, **kwargs):
        super().__init__(*args, **kwargs)
        # An edit of a reflection already shared after its second question is not asked about again.
        self.already_confirmed = already_confirmed
        self.shape = shape
        # The questions of the exercise's shape only (models.SHAPE_ROLES); those of other shapes go.
        own = {name for role in SHAPE_ROLES[shape] for name in Reflection.ROLE_QUESTIONS[role]}
        for name in set(Reflection.ROLE_ANSWERS) - own:
            del self.fields[name]

    @property
    def role_sections(self) -> list[dict]:
        """Each role of the shape with its heading and its own questions, for reflection_fields.html."""
        return [
            {
                "role": role,
                "heading": self.ROLE_HEADINGS[role],
                "fields": [self[name] for name in Reflection.ROLE_QUESTIONS[role]],
            }
            for role in dict.fromkeys(SHAPE_ROLES[self.shape])
        ]

    def clean(self):
        data = super().clean()
        if self.asks_second_thought(data) and not data.get("confirm_share"):
            # Not a mistake, a pause: nothing is saved until the partner says yes or picks another option.
            self.add_error("confirm_share", forms.ValidationError(gettext("Please confirm."), code="confirm"))
        return data

    def asks_second_thought(self, data: dict) -> bool:
        return not self.already_confirmed and asks_second_thought(
            visibility=data.get("visibility"), paused=data.get("paused"), safe=data.get("safe")
        )

    @property
    def asks_to_confirm(self) -> bool:
        """Whether the form came back only for the second question (shown calmly, not as an error)."""
        return self.is_bound and set(self.errors) == {"confirm_share"}

    def answers(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.ANSWER_FIELDS if name in self.cleaned_data}


class LogSessionForm(ReflectionForm):
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)
    date = forms.DateField(label=_("When was it?"), widget=forms.DateInput(attrs={"type": "date"}))
    minutes = forms.TypedChoiceField(
        label=_("About how long?"),
        coerce=int,
        choices=[],
        error_messages={"required": _("Please say roughly how many minutes.")},
    )
    role = forms.ChoiceField(
        label=_("This time"),
        choices=Reflection.Role.choices,
        widget=ChoiceButtons,
        error_messages={"required": _("Please say whether you gave or received.")},
    )

    field_order = ["idempotency_key", "date", "minutes", "role"]

    def __init__(self, *args, suggested_minutes: int = 15, **kwargs):
        super().__init__(*args, **kwargs)
        roles = dict.fromkeys(SHAPE_ROLES[self.shape])
        self.fields["role"].choices = [(role, Reflection.Role(role).label) for role in roles]
        if len(roles) == 1:
            # Together: no role to choose.
            self.fields["role"].widget = forms.HiddenInput()
            self.initial["role"] = next(iter(roles))
        elif self.shape == ExerciseShape.TALK:
            self.fields["role"].error_messages["required"] = gettext("Please say whether you spoke or listened.")
        options = sorted({5, 10, 15, 20, 25, 30, 45, 60, suggested_minutes})
        self.fields["minutes"].choices = (
            [("", gettext("Choose…"))]
            + [(m, ngettext("%(count)d minute", "%(count)d minutes", m) % {"count": m}) for m in options]
            + [(90, gettext("More than an hour"))]
        )
        self.fields["minutes"].initial = suggested_minutes
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4())

    def clean_minutes(self) -> int:
        minutes = self.cleaned_data["minutes"]
        if not MIN_SESSION_MINUTES <= minutes <= MAX_SESSION_MINUTES:
            raise forms.ValidationError(gettext("Please choose how long it lasted."))
        return minutes


class SessionEditForm(StyledForm):
    date = forms.DateField(label=_("When was it?"), widget=forms.DateInput(attrs={"type": "date"}))
    minutes = forms.IntegerField(label=_("Minutes"), min_value=MIN_SESSION_MINUTES, max_value=MAX_SESSION_MINUTES)


class VisibilityForm(StyledForm):
    visibility = forms.ChoiceField(
        label=_("Who may read what I wrote?"), choices=Reflection.Visibility.choices, widget=forms.RadioSelect
    )


class ExerciseForm(forms.ModelForm):
    """A therapist's own exercise: its wording and its shape (chosen when it is written; the service
    refuses a new shape once a couple has been given it)."""

    class Meta:
        model = Exercise
        fields = ["title", "shape", "summary", "guidance", "suggested_minutes"]
        widgets = {"guidance": forms.Textarea(attrs={"rows": 12}), "shape": forms.RadioSelect}
        field_classes = {"guidance": LongTextField}
        # The model's field names would make the same labels, but only these are translatable.
        labels = {
            "title": _("Title"),
            "shape": _("Shape"),
            "summary": _("Summary"),
            "guidance": _("Guidance"),
            "suggested_minutes": _("Suggested minutes"),
        }
        help_texts = {
            "shape": _(
                "Decides who does what and which questions each partner answers. Only touch exercises"
                " need the private safety check and stop when touch is paused."
            ),
            "summary": _("One sentence the couple sees first."),
            "guidance": _("What the couple reads before they begin. Plain words; blank lines separate paragraphs."),
            "suggested_minutes": lazy_format(_("Between %(low)s and %(high)s."), SUGGESTED_MINUTES_RANGE),
        }


class ExerciseCopyForm(ExerciseForm):
    """A therapist's copy of an exercise, before it exists: it starts from the original's wording and
    keeps its shape (the guidance is written for those roles)."""

    class Meta(ExerciseForm.Meta):
        fields = ["title", "summary", "guidance", "suggested_minutes"]

    def __init__(self, *args, original: Exercise, **kwargs):
        kwargs["initial"] = {
            "title": (gettext("%(title)s (my version)") % {"title": original.title})[:EXERCISE_TITLE_MAX_LENGTH],
            "summary": original.summary,
            "guidance": original.guidance,
            "suggested_minutes": original.suggested_minutes,
            **kwargs.get("initial", {}),
        }
        super().__init__(*args, **kwargs)


def exercise_choices_by_shape(exercises) -> list[tuple[str, list[tuple[int, str]]]]:
    """`exercises` as the choices of a select, grouped under their shape (touch, talk, together, in
    that order; a shape with none is left out). Read once here; the field still validates against
    the queryset."""
    groups = {value: [] for value in Exercise.Shape.values}
    for exercise in exercises:
        groups[exercise.shape].append((exercise.pk, exercise.title))
    return [(label, groups[value]) for value, label in Exercise.Shape.choices if groups[value]]


class ShapeSelect(forms.Select):
    """A select of exercises whose options carry their shape (`data-shape`), so that static/tend/tend.js
    can word the giver plan for the exercise chosen. `shapes`: exercise id -> shape."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.shapes = {}

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        shape = self.shapes.get(getattr(value, "value", value))
        if shape:
            option["attrs"]["data-shape"] = shape
        return option


def plan_words_by_shape() -> dict:
    """The giver plan's words for each shape with a first role (touch, talk), for the page's script;
    a together exercise has no plan (None: the script hides it)."""
    words = {}
    for shape in Exercise.Shape.values:
        if shape not in shape_words.PLAN_CHOICES:
            words[shape] = None
            continue
        words[shape] = {
            "legend": str(shape_words.PLAN_LABEL[shape]),
            "choices": {value: str(label) for value, label in shape_words.PLAN_CHOICES[shape].items()},
            "planned": str(shape_words.PLANNED_LABEL[shape]),
            "help": str(shape_words.PLANNED_HELP[shape]),
        }
    return words


class AssignmentForm(forms.ModelForm):
    """Assign an exercise. The plan for the first role (who gives, who speaks first) is worded by the chosen
    exercise's shape (intimacy/templatetags/shapes.py); a together exercise has none, and stores "either"."""

    class Meta:
        model = Assignment
        fields = [
            "exercise",
            "target_per_week",
            "suggested_minutes",
            "starts_on",
            "ends_on",
            "giver_plan",
            "planned_giver",
            "note",
        ]
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}),
            "ends_on": forms.DateInput(attrs={"type": "date"}),
            "giver_plan": forms.RadioSelect,
            "note": forms.Textarea(attrs={"rows": 3}),
            "exercise": ShapeSelect,
        }
        field_classes = {"note": LongTextField}
        labels = {
            "exercise": _("Exercise"),
            "suggested_minutes": _("Suggested minutes"),
            "starts_on": _("Starts on"),
            "giver_plan": _("Giver plan"),
            "planned_giver": _("Who gives"),
            "ends_on": _("End date (optional)"),
        }
        help_texts = {
            "target_per_week": lazy_format(
                _("%(low)s to %(high)s. Shown to the couple as “this week: 1 of 2”, never as a streak."),
                {"low": MIN_TARGET, "high": MAX_TARGET},
            ),
            "suggested_minutes": lazy_format(_("%(low)s to %(high)s."), SUGGESTED_MINUTES_RANGE),
            "planned_giver": _("Only for “One named partner gives”."),
            "note": _("The couple both see this."),
        }

    def __init__(self, *args, couple, exercises, **kwargs):
        super().__init__(*args, **kwargs)
        self.couple = couple
        # The couple is not a form field; set it so the model's own validation sees a whole row.
        self.instance.couple = couple
        self.fields["exercise"].queryset = exercises
        self.fields["exercise"].empty_label = None
        self.fields["exercise"].choices = exercise_choices_by_shape(exercises)
        # The queryset was read once just above (its cache holds the rows): no second query here.
        self.fields["exercise"].widget.shapes = {exercise.pk: exercise.shape for exercise in exercises}
        self.fields["planned_giver"].queryset = couple.partners.all()
        self.fields["planned_giver"].required = False
        # Not required: a together exercise has no plan (clean() asks for one for the other shapes).
        self.fields["giver_plan"].required = False
        self.shape = self._chosen_shape(self.fields["exercise"].widget.shapes)
        self._word_the_plan(self.shape)

    def _chosen_shape(self, shapes: dict) -> str:
        """The shape of the exercise sent, or else of the one offered first; touch when neither is known."""
        chosen = self.data.get(self.add_prefix("exercise")) if self.is_bound else self.initial.get("exercise")
        try:
            return shapes.get(int(getattr(chosen, "pk", chosen)), Exercise.Shape.TOUCH)
        except (TypeError, ValueError):
            return Exercise.Shape.TOUCH

    def _word_the_plan(self, shape: str) -> None:
        words = plan_words_by_shape()[shape] or plan_words_by_shape()[Exercise.Shape.TOUCH]
        plan = self.fields["giver_plan"]
        plan.label = words["legend"]
        plan.choices = list(words["choices"].items())
        self.fields["planned_giver"].label = words["planned"]
        self.fields["planned_giver"].help_text = words["help"]

    @property
    def plan_words_json(self) -> str:
        """Every shape's plan words, for static/tend/tend.js (a data attribute; escaped by the template)."""
        return json.dumps(plan_words_by_shape())

    def clean(self):
        data = super().clean()
        exercise = data.get("exercise")
        shape = exercise.shape if exercise is not None else Exercise.Shape.TOUCH
        if shape not in shape_words.PLAN_CHOICES:
            # Together: no first role, so no plan; whatever a stale page sent, "either" is stored.
            data["giver_plan"] = Assignment.GiverPlan.EITHER
        elif not data.get("giver_plan"):
            self.add_error("giver_plan", gettext("Choose a plan."))
        elif data["giver_plan"] == Assignment.GiverPlan.ONE and not data.get("planned_giver"):
            self.add_error("planned_giver", str(shape_words.PLANNED_MISSING[shape]))
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", gettext("The end date is before the start date."))
        # A named giver belongs only to the plan that names one; the model's validation sees it so.
        if data.get("giver_plan") != Assignment.GiverPlan.ONE:
            data["planned_giver"] = None
        return data


class NoteForm(StyledForm):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    text = forms.CharField(
        label=_("Note"),
        max_length=NOTE_MAX_LENGTH,
        help_text=_("Private to you. Shown as a marker on the charts, e.g. “started weekly sessions” or “holiday”."),
    )


class AcknowledgeForm(StyledForm):
    note = forms.CharField(
        label=_("Note (optional)"),
        max_length=ACKNOWLEDGEMENT_MAX_LENGTH,
        required=False,
        help_text=_("For your own record, e.g. “discussed in session”."),
    )


class HoldLiftForm(StyledForm):
    """Lifting a hold: a new separate conversation with each partner (day, how) and a note."""

    note = forms.CharField(
        label=_("Note"),
        max_length=ACKNOWLEDGEMENT_MAX_LENGTH,
        help_text=_("For your own record: why touch work can resume."),
    )

    def __init__(self, *args, partners, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.partners = list(partners)
        how = [c for c in ScreeningRecord.How.choices if c[0] != ScreeningRecord.How.NOT_RECORDED]
        for partner in self.partners:
            self.fields[f"day_{partner.pk}"] = forms.DateField(
                label=format_lazy(_("Spoke with {name} alone on"), name=partner.name),
                initial=today,
                widget=forms.DateInput(attrs={"type": "date"}),
            )
            self.fields[f"how_{partner.pk}"] = forms.ChoiceField(
                label=format_lazy(_("How you spoke with {name}"), name=partner.name), choices=how
            )
        self.order_fields([name for p in self.partners for name in (f"day_{p.pk}", f"how_{p.pk}")] + ["note"])
        style_fields(self)

    def screenings(self) -> dict[int, dict]:
        data = self.cleaned_data
        return {p.pk: {"day": data[f"day_{p.pk}"], "how": data[f"how_{p.pk}"]} for p in self.partners}


class SafetyForm(StyledForm):
    feeling = forms.ChoiceField(
        label=_("What happened?"), choices=SafetyMessage.Feeling.choices, widget=forms.RadioSelect
    )
    message = LongTextField(
        label=_("Anything you want your therapist to know (optional)"),
        max_length=SAFETY_MESSAGE_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class SafetyCheckForm(StyledForm):
    """The private check before touch work: four questions, each yes / no / not sure."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in SafetyCheck.QUESTIONS:
            self.fields[name] = forms.ChoiceField(
                label=SafetyCheck._meta.get_field(name).verbose_name,
                choices=SafetyCheck.Answer.choices,
                widget=ChoiceButtons,
                error_messages={"required": _("Please choose an answer.")},
            )
        style_fields(self)


class ScreeningForm(StyledForm):
    """The therapist's record of a separate conversation with one partner."""

    partner = forms.TypedChoiceField(label=_("Partner"), coerce=int, choices=())
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    how = forms.ChoiceField(
        label=_("How"), choices=[c for c in ScreeningRecord.How.choices if c[0] != ScreeningRecord.How.NOT_RECORDED]
    )
    note = forms.CharField(label=_("Note (optional)"), max_length=NOTE_MAX_LENGTH, required=False)

    def __init__(self, *args, partners, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partner"].choices = [(p.pk, p.name) for p in partners]
        self.fields["date"].initial = today


class AnswerList(ChoiceButtons):
    """A short list of worded answers as full-width buttons, one under the other: easy to tap on a phone."""

    template_name = "widgets/answer_list.html"


class CheckInForm(StyledForm):
    """The weekly check-in: the four CSI-4 questions, worded and offered exactly as published."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for number, item in enumerate(csi4.ITEMS, start=1):
            self.fields[item.field] = forms.TypedChoiceField(
                label=item.question,
                choices=item.choices,
                coerce=int,
                widget=AnswerList,
                error_messages={
                    "required": _("Please choose one answer."),
                    "invalid_choice": _("Please choose one answer."),
                },
            )
            self.fields[item.field].number = number

    def answers(self) -> dict:
        return {name: self.cleaned_data[name] for name in csi4.FIELDS}


# Staged programs (issue 15) -----------------------------------------------------------------------------


class ProgramForm(forms.ModelForm):
    class Meta:
        model = Program
        fields = ["title", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}
        field_classes = {"description": LongTextField}
        labels = {"title": _("Title"), "description": _("Description")}
        help_texts = {"description": _("For you and other therapists; the couple sees only each step's exercise.")}


class ProgramStageForm(forms.ModelForm):
    class Meta:
        model = ProgramStage
        fields = ["exercise", "target_per_week", "suggested_minutes", "guidance"]
        widgets = {"guidance": forms.Textarea(attrs={"rows": 3})}
        field_classes = {"guidance": LongTextField}
        labels = {
            "exercise": _("Exercise"),
            "target_per_week": _("Sessions per week"),
            "suggested_minutes": _("Suggested minutes"),
            "guidance": _("Guidance for this step (optional)"),
        }
        help_texts = {
            "target_per_week": lazy_format(_("%(low)s to %(high)s."), {"low": MIN_TARGET, "high": MAX_TARGET}),
            "suggested_minutes": lazy_format(_("%(low)s to %(high)s."), SUGGESTED_MINUTES_RANGE),
            "guidance": _("The couple both see this while they are at this step."),
        }

    def __init__(self, *args, exercises, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["exercise"].queryset = exercises
        self.fields["exercise"].empty_label = None


class ProgramAssignForm(forms.Form):
    program = forms.ModelChoiceField(queryset=Program.objects.none(), label=_("Program"), empty_label=None)

    def __init__(self, *args, programs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = programs
