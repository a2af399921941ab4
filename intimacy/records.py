"""Selectors for whole records as plain data: a partner's own download and the couple's clinical record.

Both read through the same `visible_to` gates as the pages, so each holds exactly what its reader may
see: a partner's download has their own words and only what the other partner shared; the therapist's
record has every rating but never the words of a "Just me" reflection, and the safety loop (separate
screenings, private-check answers, holds, personal pauses, disputes). A partner's download holds no
safety-line message and no check answers.

Weekly check-ins (CSI-4) are for the therapist, but a partner's own answers are their data: their
download holds their own check-ins and never the other partner's; the therapist's record holds both.
"""

import json
from datetime import date, datetime, time

from django.core.exceptions import FieldDoesNotExist
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _lazy

from accounts.models import Couple, Partner, User
from intimacy import csi4
from intimacy.models import (
    SHAPE_ROLES,
    Assignment,
    CheckIn,
    CoupleNote,
    ExerciseShape,
    PersonalPause,
    ProgramRun,
    ProgramStep,
    ReadinessAnswer,
    ReadinessAnswerKind,
    Reflection,
    SafetyCheck,
    SafetyMessage,
    ScreeningRecord,
    Session,
    SessionDispute,
    TouchHold,
)

RATINGS = ("connection", "comfort", "safe", "presence", "giving_felt", "tension_before", "tension_after", "cared_for")
CHOICES = ("pressure", "pace", "paused", "visibility")


# Every shape's reflection has these; a touch reflection has the touch questions as ever (RATINGS), a
# talk or together one its role's own questions (models.Reflection.ROLE_QUESTIONS), issue 15.
COMMON_RATINGS = ("connection", "comfort", "safe")
_JSON = DjangoJSONEncoder()
TOUCH_ROLES = (Reflection.Role.GIVER, Reflection.Role.RECEIVER)


def _reflection(reflection: Reflection, viewer: User) -> dict:
    data = {"role": reflection.role, "by": reflection.partner.name}
    if reflection.role in TOUCH_ROLES:
        names = RATINGS + CHOICES
    else:
        names = COMMON_RATINGS + Reflection.ROLE_QUESTIONS[reflection.role] + ("paused", "visibility")
    data.update({name: getattr(reflection, name) for name in names})
    if reflection.text_visible_to(viewer):
        data.update({name: getattr(reflection, name) for name in Reflection.TEXT_FIELDS})
    data["written_at"] = reflection.created_at
    return data


def _parts(session) -> dict:
    """Who had which role, named by the shape: giver and receiver, speaker and listener, or together."""
    first, second = SHAPE_ROLES[session.assignment.exercise.shape]
    if first == second:
        return {str(first): [session.giver.name, session.receiver.name]}
    return {str(first): session.giver.name, str(second): session.receiver.name}


def _sessions(sessions, viewer: User) -> list[dict]:
    reflections = Reflection.objects.visible_to(viewer).select_related("partner").order_by("session_id", "role")
    by_session: dict[int, list[Reflection]] = {}
    for reflection in reflections.filter(session__in=sessions):
        by_session.setdefault(reflection.session_id, []).append(reflection)
    return [
        {
            "date": session.date,
            "exercise": session.assignment.exercise.title,
            "minutes": session.minutes,
            "shape": session.assignment.exercise.shape,
            **_parts(session),
            "logged_by": session.logged_by.name,
            "reflections": [_reflection(r, viewer) for r in by_session.get(session.pk, [])],
        }
        for session in sessions
    ]


def _checkins(checkins) -> list[dict]:
    return [
        {
            "week_of": c.week,
            "by": c.partner.name,
            **{name: getattr(c, name) for name in csi4.FIELDS},
            "total": c.total,
            "answered_at": c.updated_at,
        }
        for c in checkins.select_related("partner").order_by("week", "partner__slot", "pk")
    ]


def partner_record(partner: Partner, viewer: User) -> dict:
    """A partner's own data: the sessions they took part in, their reflections, their partner's shared ones,
    and their own check-ins."""
    sessions = list(
        Session.objects.visible_to(viewer)
        .filter(assignment__couple_id=partner.couple_id)
        .select_related("assignment__exercise", "giver", "receiver", "logged_by")
        .order_by("date", "pk")
    )
    return {
        "about": gettext(
            "Your data in Tend: the sessions you took part in, your reflections, what your partner shared, "
            "and your own weekly check-ins."
        ),
        "you": {
            "name": partner.name,
            "email": partner.email,
            "joined": partner.accepted_at,
            "consent_version": partner.consent_version,
            "consent_accepted_at": partner.consent_accepted_at,
        },
        "sessions": _sessions(sessions, viewer),
        # Through the gate, then narrowed to this partner: the other partner's check-ins are never here.
        "weekly_checkins": _checkins(CheckIn.objects.visible_to(viewer).filter(partner=partner)),
        # Their own answers about the program's steps (issue 15), through the gate: never the other's.
        "program_readiness": _readiness(ReadinessAnswer.objects.visible_to(viewer).filter(partner=partner)),
    }


def _readiness(answers) -> list[dict]:
    return [
        {"step": a.step.stage.position, "exercise": a.step.stage.exercise.title, "answer": a.answer, "at": a.created_at}
        for a in answers.select_related("step__stage__exercise").order_by("created_at", "pk")
    ]


def _program_steps(couple: Couple, viewer: User) -> list[dict]:
    """The couple's program path (issue 15): each step, when, why, and each partner's answers on it."""
    steps = ProgramStep.objects.filter(run__couple=couple, run__in=ProgramRun.objects.visible_to(viewer))
    answers = ReadinessAnswer.objects.visible_to(viewer).filter(step__run__couple=couple).select_related("partner")
    by_step: dict[int, list[dict]] = {}
    for a in answers.order_by("created_at", "pk"):
        by_step.setdefault(a.step_id, []).append({"partner": a.partner.name, "answer": a.answer, "at": a.created_at})
    return [
        {
            "program": step.run.program.title,
            "step": step.stage.position,
            "exercise": step.stage.exercise.title,
            "reason": step.reason,
            "started_on": step.started_on,
            "ended_on": step.ended_on,
            "readiness": by_step.get(step.pk, []),
        }
        for step in steps.select_related("run__program", "stage__exercise").order_by("pk")
    ]


def couple_record(couple: Couple, viewer: User) -> dict:
    """The couple's whole record for the clinical file, as the therapist may read it."""
    sessions = list(
        Session.objects.visible_to(viewer)
        .filter(assignment__couple=couple)
        .select_related("assignment__exercise", "giver", "receiver", "logged_by")
        .order_by("date", "pk")
    )
    return {
        "couple": {
            "label": couple.label,
            "status": couple.status,
            "time_zone": couple.time_zone,
            "added": couple.created_at,
        },
        "partners": [
            {
                "name": p.name,
                "email": p.email,
                "joined": p.accepted_at,
                "consent_version": p.consent_version,
                "consent_accepted_at": p.consent_accepted_at,
                "consent_withdrawn_at": p.consent_withdrawn_at,
            }
            for p in couple.partners.all()
        ],
        "assignments": [
            {
                "exercise": a.exercise.title,
                "target_per_week": a.target_per_week,
                "suggested_minutes": a.suggested_minutes,
                "starts_on": a.starts_on,
                "ends_on": a.ends_on,
                "giver_plan": a.giver_plan,
                "status": a.status,
                "note_to_couple": a.note,
            }
            for a in Assignment.objects.filter(couple=couple).select_related("exercise").order_by("starts_on", "pk")
        ],
        "sessions": [
            {"id": session.pk, **s, "withdrawn": session.withdrawn_at is not None}
            for s, session in zip(_sessions(sessions, viewer), sessions, strict=True)
        ],
        "therapist_notes": [{"date": n.date, "text": n.text} for n in CoupleNote.objects.filter(couple=couple)],
        "weekly_checkins": _checkins(CheckIn.objects.visible_to(viewer).filter(couple=couple)),
        "safety_messages": [
            {"from": m.partner.name, "feeling": m.feeling, "message": m.message, "at": m.created_at}
            for m in SafetyMessage.objects.visible_to(viewer).filter(couple=couple).select_related("partner")
        ],
        "program_steps": _program_steps(couple, viewer),
        **_safety_loop(couple, viewer),
    }


def _safety_loop(couple: Couple, viewer: User) -> dict:
    """The safety loop's record (issue 13), for the therapist's export only: a partner's own download
    never holds check answers (a phone may be shared, and the answers are for the therapist)."""

    def of(model):
        return model.objects.visible_to(viewer).filter(couple=couple).select_related("partner")

    return {
        "screenings": [
            {"id": r.pk, "partner": r.partner.name, "date": r.date, "how": r.how, "note": r.note}
            for r in of(ScreeningRecord).order_by("date", "pk")
        ],
        "private_checks": [
            {
                "id": c.pk,
                "partner": c.partner.name,
                "at": c.created_at,
                **{q: getattr(c, q) for q in SafetyCheck.QUESTIONS},
                "flagged": c.flagged,
            }
            for c in of(SafetyCheck).order_by("created_at", "pk")
        ],
        "holds": [
            {
                "id": h.pk,
                "reason": h.reason,
                "placed_at": h.placed_at,
                "lifted_at": h.lifted_at,
                "lift_note": h.lift_note,
            }
            for h in TouchHold.objects.visible_to(viewer).filter(couple=couple).order_by("placed_at", "pk")
        ],
        "personal_pauses": [
            {
                "id": p.pk,
                "partner": p.partner.name,
                "kind": p.kind,
                "from": p.created_at,
                "until": p.until,
                "ended_at": p.ended_at,
            }
            for p in of(PersonalPause).order_by("created_at", "pk")
        ],
        "disputes": [
            {
                "id": d.pk,
                "session_id": d.session_id,
                "session_date": d.session.date,
                "partner": d.partner.name,
                "at": d.created_at,
            }
            for d in of(SessionDispute).select_related("session").order_by("created_at", "pk")
        ],
    }


# A partner's record as a page (issue 17) ------------------------------------------------------------
# The readable page is drawn from the very dict the JSON download holds (`partner_record`), so it holds
# exactly that and nothing more: every key gets a label (its own words below, else the model field's
# name, else the key itself), every value its words, and dates and choices keep the JSON's own text in
# `<time datetime>` / `<data value>` so a reader (and a test) can match the two.

ROLE_NAMES = {
    "giver": _lazy("Giver"),
    "receiver": _lazy("Receiver"),
    "speaker": _lazy("Speaker"),
    "listener": _lazy("Listener"),
    "together": _lazy("Together"),
}
LABELS = {
    "you": _lazy("You"),
    "name": _lazy("Name"),
    "email": _lazy("Email address"),
    "joined": _lazy("Joined Tend"),
    "consent_version": _lazy("Consent given (version)"),
    "consent_accepted_at": _lazy("Consent given on"),
    "sessions": _lazy("Sessions and reflections"),
    "date": _lazy("Date"),
    "exercise": _lazy("Exercise"),
    "minutes": _lazy("Minutes"),
    "shape": _lazy("Kind of exercise"),
    "logged_by": _lazy("Logged by"),
    "reflections": _lazy("Reflections"),
    "role": _lazy("Role"),
    "by": _lazy("By"),
    "pause_reason": _lazy("Why we paused"),
    "notes": _lazy("Notes"),
    "pressure": _lazy("Pressure"),
    "pace": _lazy("Pace"),
    "visibility": _lazy("Who can read it"),
    "written_at": _lazy("Written"),
    "weekly_checkins": _lazy("Weekly check-ins"),
    "week_of": _lazy("Week of"),
    "answered_at": _lazy("Answered"),
    "program_readiness": _lazy("Program steps: ready or not yet"),
    "step": _lazy("Step"),
    "answer": _lazy("Answer"),
    "at": _lazy("When"),
    **ROLE_NAMES,
}
CHOICE_WORDS = {
    "role": ROLE_NAMES,
    "visibility": dict(Reflection.Visibility.choices),
    "shape": dict(ExerciseShape.choices),
    "pressure": dict(Reflection.Pressure.choices),
    "pace": dict(Reflection.Pace.choices),
    "answer": dict(ReadinessAnswerKind.choices),
}
# Reflection ratings, 0 to 10: "7 of 10" reads better than a bare 7 on paper.
RATING_KEYS = frozenset(COMMON_RATINGS + Reflection.ROLE_ANSWERS) - {"pressure", "pace"}
# What names one entry of a list in its heading, in this order, where the entry has it.
TITLE_KEYS = ("week_of", "date", "step", "exercise", "by", "role")


def _label(key: str) -> str:
    if key in LABELS:
        return str(LABELS[key])
    for model in (Reflection, CheckIn):
        try:
            return capfirst(str(model._meta.get_field(key).verbose_name))
        except FieldDoesNotExist:
            continue
    return capfirst(key.replace("_", " "))


def _scalar(key: str, value, tz) -> dict:
    """One value in words, with the JSON's own text beside it (`raw`) where the words differ."""
    if value is None or value == "":
        return {"kind": "empty", "text": gettext("Not answered")}
    if isinstance(value, bool):
        return {"kind": "data", "raw": json.dumps(value), "text": gettext("Yes") if value else gettext("No")}
    if isinstance(value, datetime):
        text = date_format(timezone.localtime(value, tz), "j F Y, H:i")
        return {"kind": "time", "raw": _JSON.default(value), "text": text}
    if isinstance(value, date):
        return {"kind": "time", "raw": _JSON.default(value), "text": date_format(value, "l j F Y")}
    if key in CHOICE_WORDS and value in CHOICE_WORDS[key]:
        return {"kind": "data", "raw": value, "text": str(CHOICE_WORDS[key][value])}
    if key in RATING_KEYS and isinstance(value, int):
        return {"kind": "text", "text": gettext("%(n)s of 10") % {"n": value}}
    if isinstance(value, time):
        return {"kind": "time", "raw": _JSON.default(value), "text": value.strftime("%H:%M")}
    return {"kind": "text", "text": str(value)}


def _title(entry: dict, tz) -> str:
    parts = [_scalar(k, entry[k], tz)["text"] for k in TITLE_KEYS if entry.get(k) not in (None, "")]
    if "week_of" in entry and parts:
        parts[0] = gettext("Week of %(day)s") % {"day": parts[0]}
    if "step" in entry and isinstance(entry["step"], int):
        parts = [gettext("Step %(n)s") % {"n": entry["step"]} if p == str(entry["step"]) else p for p in parts]
    return " · ".join(parts)


def _applies(entry: dict, key: str, value) -> bool:
    """Whether a reflection's question is one its role is asked: a giver is never asked the receiver's
    "tension before", so an empty one is left off the page rather than read as "Not answered"."""
    role = entry.get("role")
    if value is not None or key not in Reflection.ROLE_ANSWERS or role not in Reflection.ROLE_QUESTIONS:
        return True
    return key in Reflection.ROLE_QUESTIONS[role]


def _node(key: str, value, tz, level: int) -> dict:
    if isinstance(value, dict):
        fields = [{"label": _label(k), **_node(k, v, tz, level)} for k, v in value.items() if _applies(value, k, v)]
        return {"kind": "fields", "fields": fields}
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        entries = [
            {"title": _title(v, tz) or str(n), "body": _node(key, v, tz, level + 1)} for n, v in enumerate(value, 1)
        ]
        return {"kind": "entries", "level": min(level, 6), "entries": entries}
    if isinstance(value, list):
        return {"kind": "values", "values": [_scalar(key, v, tz) for v in value]}
    return _scalar(key, value, tz)


def readable(record: dict, tz) -> list[dict]:
    """`record` (a partner's download, `partner_record`) as sections for a page: one per top-level key
    but "about", each headed, with every value of the record in words; times in `tz`."""
    return [
        {"key": key, "title": _label(key), "body": _node(key, value, tz, 3)}
        for key, value in record.items()
        if key != "about"
    ]
