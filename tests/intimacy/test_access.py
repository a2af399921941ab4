"""Every view against every member of the cast: anonymous → sign-in, outsider → 404, wrong role → 403,
wrong method → 405, and the happy path answers."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

LOGIN = "login"
# (url name, args from the cast, method) -> expected status for
# anonymous, partner_a (logged the session), partner_b, outsider, therapist, other_therapist
TABLE = [
    ("home", None, "get", [LOGIN, 200, 200, 200, 200, 200]),
    ("couple_add", None, "get", [LOGIN, 403, 403, 403, 200, 200]),
    ("couple_detail", "couple", "get", [LOGIN, 403, 403, 404, 200, 404]),
    ("couple_status", "couple", "post", [LOGIN, 403, 403, 404, 302, 404]),
    ("assignment_create", "couple", "get", [LOGIN, 403, 403, 404, 200, 404]),
    ("invite_resend", "couple_partner", "post", [LOGIN, 403, 403, 404, 302, 404]),
    ("assignment_status", "assignment", "post", [LOGIN, 403, 403, 404, 302, 404]),
    ("exercise_list", None, "get", [LOGIN, 403, 403, 403, 200, 200]),
    ("exercise_create", None, "get", [LOGIN, 403, 403, 403, 200, 200]),
    ("exercise_detail", "builtin", "get", [LOGIN, 403, 403, 403, 200, 200]),
    ("exercise_customize", "builtin", "post", [LOGIN, 403, 403, 403, 302, 302]),
    ("exercise_detail", "own_exercise", "get", [LOGIN, 403, 403, 403, 200, 404]),
    ("exercise_edit", "own_exercise", "get", [LOGIN, 403, 403, 403, 200, 404]),
    ("exercise_archive", "own_exercise", "post", [LOGIN, 403, 403, 403, 302, 404]),
    ("log_start", None, "get", [LOGIN, 302, 302, 200, 403, 403]),
    ("session_log", "assignment", "get", [LOGIN, 200, 200, 404, 403, 404]),
    ("history", None, "get", [LOGIN, 200, 200, 200, 403, 403]),
    ("reflection_add", "session", "get", [LOGIN, 302, 200, 404, 403, 404]),
    ("session_edit", "session", "get", [LOGIN, 200, 403, 404, 403, 404]),
    ("session_delete", "session", "post", [LOGIN, 302, 403, 404, 403, 404]),
    ("reflection_edit", "reflection_a", "get", [LOGIN, 200, 403, 404, 403, 404]),
    ("reflection_visibility", "reflection_a", "get", [LOGIN, 200, 403, 404, 403, 404]),
    ("consent", None, "get", [LOGIN, 200, 200, 200, 403, 403]),
]
WHO = ["anonymous", "partner_a", "partner_b", "outsider", "therapist", "other_therapist"]


@pytest.fixture
def cast(therapist, other_therapist, couple, partner_a, partner_b, outsider, assignment, session):
    from intimacy.models import Exercise
    from tests.factories import back_rub

    own = Exercise.objects.create(
        owner=therapist, title="Hand massage", summary="s", guidance="g", suggested_minutes=10
    )
    return {
        "people": {
            "partner_a": partner_a.user,
            "partner_b": partner_b.user,
            "outsider": outsider.user,
            "therapist": therapist,
            "other_therapist": other_therapist,
        },
        "args": {
            None: [],
            "couple": [couple.pk],
            "couple_partner": [couple.pk, partner_a.pk],
            "assignment": [assignment.pk],
            "builtin": [back_rub().pk],
            "own_exercise": [own.pk],
            "session": [session.pk],
            "reflection_a": [session.reflections.get(partner=partner_a).pk],
        },
    }


CASES = [
    pytest.param(name, args, method, who, expected, id=f"{name}-{args}-{who}")
    for name, args, method, expectations in TABLE
    for who, expected in zip(WHO, expectations, strict=True)
]


@pytest.mark.parametrize("name,args,method,who,expected", CASES)
def test_access(client, cast, name, args, method, who, expected):
    url = reverse(name, args=cast["args"][args])
    if who != "anonymous":
        client.force_login(cast["people"][who])
    response = getattr(client, method)(url)
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    else:
        assert response.status_code == expected


@pytest.mark.parametrize(
    "name,args,method,who",
    [
        (name, args, method, next(w for w, e in zip(WHO, exp, strict=True) if e in (200, 302)))
        for name, args, method, exp in TABLE
    ],
)
def test_wrong_method_is_405(client, cast, name, args, method, who):
    client.force_login(cast["people"][who])
    url = reverse(name, args=cast["args"][args])
    wrong = "post" if method == "get" else "get"
    if name in {"couple_add", "assignment_create", "exercise_create", "exercise_edit", "session_log"} | {
        "reflection_add",
        "session_edit",
        "reflection_edit",
        "reflection_visibility",
        "consent",
    }:
        wrong = "put"  # these accept GET and POST
    response = getattr(client, wrong)(url)
    assert response.status_code == 405


def test_partner_cannot_open_the_other_partners_private_reflection(client, session, partner_b, partner_a):
    from tests.factories import ReflectionFactory

    private = ReflectionFactory(session=session, partner=partner_b, role="receiver", visibility="private")
    client.force_login(partner_a.user)
    assert client.get(reverse("reflection_visibility", args=[private.pk])).status_code == 404
    assert client.get(reverse("reflection_edit", args=[private.pk])).status_code == 404


def test_partner_without_consent_is_sent_to_the_consent_page(client, partner_a, assignment):
    partner_a.consent_accepted_at = None
    partner_a.save()
    client.force_login(partner_a.user)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("consent")
