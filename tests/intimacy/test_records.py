"""A partner's data as a readable page (issue 17): exactly what their JSON download holds, grouped with
headings, and nothing of the other partner beyond what that JSON includes."""

import html
import json
from datetime import UTC

import pytest
from django.urls import reverse

from intimacy import records
from intimacy.models import CheckIn, Reflection
from tests.factories import ReflectionFactory

pytestmark = pytest.mark.django_db

SAMS_PRIVATE = "sam-kept-this-to-himself-q7z"
SAMS_SHARED_NEXT = "sam-would-like-slower-w3x"


@pytest.fixture
def world(session, partner_a, partner_b):
    """Conftest's session (Alex gave, Alex's shared reflection "A-shared-words"); Sam's "Just me" one;
    a check-in each."""
    ReflectionFactory(
        session=session,
        partner=partner_b,
        role=Reflection.Role.RECEIVER,
        visibility=Reflection.Visibility.PRIVATE,
        notes=SAMS_PRIVATE,
        pressure="right",
        tension_before=6,
        tension_after=2,
    )
    for partner, happiness in ((partner_a, 4), (partner_b, 1)):
        CheckIn.objects.create(
            couple=partner.couple,
            partner=partner,
            week=session.date,
            happiness=happiness,
            warm=2,
            rewarding=3,
            satisfied=1,
            total=happiness + 6,
        )
    return session


def scalars(value):
    """Every leaf of a JSON document."""
    if isinstance(value, dict):
        for v in value.values():
            yield from scalars(v)
    elif isinstance(value, list):
        for v in value:
            yield from scalars(v)
    else:
        yield value


def on_page(value, page: str) -> bool:
    if value is None or value == "":
        return "Not answered" in page
    if isinstance(value, bool):
        return f'<data value="{json.dumps(value)}">' in page
    if isinstance(value, str):
        # Dates and choices carry the JSON's own text in an attribute; everything else is the words.
        return html.escape(value) in page
    return str(value) in page


@pytest.mark.parametrize("who", ["partner_a", "partner_b"])
def test_every_value_of_the_download_is_on_the_page(request, client_for, world, who):
    client = client_for(request.getfixturevalue(who))
    download = json.loads(client.get(reverse("my_data_download")).content)
    page = client.get(reverse("my_data_page")).content.decode()
    missing = [v for v in scalars(download) if not on_page(v, page)]
    assert missing == []
    # Grouped with headings: one section per part of the file, "about" said as the opening line.
    for heading in ("You", "Sessions and reflections", "Weekly check-ins", "Program steps: ready or not yet"):
        assert f">{heading}</h2>" in page


def test_the_other_partners_private_words_and_check_ins_stay_out(client_for, world, partner_a):
    page = client_for(partner_a).get(reverse("my_data_page")).content.decode()
    assert SAMS_PRIVATE not in page
    assert "sam@example.org" not in page
    # Alex's own check-in (happiness 4, total 10) is there; Sam's (happiness 1, total 7) is not, and
    # Sam's "Just me" ratings (tension 6 → 2) reach Alex in no form.
    assert page.count('<data value="right">') == 0
    assert page.count('<h3 class="h6 mb-2">Week of') == 1


def test_the_author_reads_her_own_private_words(client_for, world, partner_b):
    page = client_for(partner_b).get(reverse("my_data_page")).content.decode()
    assert SAMS_PRIVATE in page and "A-shared-words" in page


def test_the_page_asks_what_the_download_asks(client, client_for, therapist, partner_a):
    assert client.get(reverse("my_data_page")).status_code == 302  # to the sign-in page
    assert client_for(therapist).get(reverse("my_data_page")).status_code == 403
    assert client_for(partner_a).post(reverse("my_data_page")).status_code == 405


def test_your_data_offers_both(client_for, partner_a):
    page = client_for(partner_a).get(reverse("my_data")).content.decode()
    assert f'href="{reverse("my_data_page")}"' in page and f'href="{reverse("my_data_download")}"' in page


def test_a_reflection_on_the_page_leaves_out_the_other_roles_questions():
    """A giver is never asked "tension before": the readable page lists only the giver's own questions,
    while an empty question the giver was asked still reads "Not answered" (found on the walk-through)."""
    record = {
        "sessions": [
            {"date": "2026-11-30", "reflections": [{"role": "giver", "presence": None, "tension_before": None}]}
        ]
    }
    page = records.readable(record, UTC)
    fields = page[0]["body"]["entries"][0]["body"]["fields"][1]["entries"][0]["body"]["fields"]
    assert [(f["label"], f["text"]) for f in fields if f["kind"] != "data"] == [
        (records._label("presence"), "Not answered")
    ]
