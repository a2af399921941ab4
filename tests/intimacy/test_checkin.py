"""The weekly check-in (CSI-4): scoring as published, one per partner per ISO week in the couple's time
zone, the partner's page, and privacy: the therapist sees both partners' check-ins on the dashboard;
the other partner never sees them in any form, and the appointment view holds none.

Expected values are worked out by hand in each test, never recomputed with the code under test.
"""

import dataclasses
import json
import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model, QuerySet
from django.urls import reverse

from intimacy import csi4, trends
from intimacy.audit import couple_key
from intimacy.models import CheckIn
from intimacy.services import checkin_save
from intimacy.trends import Scope, period_from

NOW = "2026-11-25 12:00:00+00:00"  # Wednesday; in London (the factories' zone) its ISO week starts Mon 23 Nov
TODAY = date(2026, 11, 25)

LOWEST = {"happiness": 0, "warm": 0, "rewarding": 0, "satisfied": 0}
HIGHEST = {"happiness": 6, "warm": 5, "rewarding": 5, "satisfied": 5}
# "Very happy" 4 + "Somewhat true" 2 + "Mostly" 3 + "A little" 1 = 10.
MIXED = {"happiness": 4, "warm": 2, "rewarding": 3, "satisfied": 1}


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def answers(**values) -> dict:
    return {**MIXED, **values}


def post_data(values: dict) -> dict:
    return {name: str(value) for name, value in values.items()}


def chart_data(response) -> dict:
    """The numbers a page's charts are built from (its tables, its legend, its script data); none on a
    page without charts."""
    context = response.context
    return (context.get("chart_data") if context is not None else None) or {"charts": [], "markers": []}


def checkins_in_context(response) -> list:
    """Every CheckIn (or queryset of them) anywhere in the template context, however deeply nested."""
    found, seen = [], set()

    def walk(value, depth=0):
        if depth > 6 or id(value) in seen:
            return
        seen.add(id(value))
        if isinstance(value, CheckIn) or (isinstance(value, QuerySet) and value.model is CheckIn):
            found.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v, depth + 1)
        elif isinstance(value, list | tuple | set):
            for v in value:
                walk(v, depth + 1)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            walk(vars(value), depth + 1)
        elif isinstance(value, Model):
            walk(getattr(value, "_prefetched_objects_cache", {}), depth + 1)

    for context in response.context or []:
        walk(context.flatten())
    return found


# The questionnaire and its scoring -------------------------------------------------------------------


def test_items_and_answers_are_worded_and_ordered_as_published():
    # Funk & Rogge (2007); each answer scores its position, 0 first (copied from issue 6).
    assert [(i.question, list(i.answers)) for i in csi4.ITEMS] == [
        (
            "Please indicate the degree of happiness, all things considered, of your relationship.",
            [
                "Extremely unhappy",
                "Fairly unhappy",
                "A little unhappy",
                "Happy",
                "Very happy",
                "Extremely happy",
                "Perfect",
            ],
        ),
        (
            "I have a warm and comfortable relationship with my partner.",
            [
                "Not at all true",
                "A little true",
                "Somewhat true",
                "Mostly true",
                "Almost completely true",
                "Completely true",
            ],
        ),
        (
            "How rewarding is your relationship with your partner?",
            ["Not at all", "A little", "Somewhat", "Mostly", "Almost completely", "Completely"],
        ),
        (
            "In general, how satisfied are you with your relationship?",
            ["Not at all", "A little", "Somewhat", "Mostly", "Almost completely", "Completely"],
        ),
    ]
    assert csi4.ITEMS[0].choices[6] == (6, "Perfect") and csi4.ITEMS[1].choices[0] == (0, "Not at all true")
    assert csi4.THRESHOLD == 13.5


@pytest.mark.parametrize("values,total", [(LOWEST, 0), (HIGHEST, 21), (MIXED, 10)])
def test_scoring_at_the_edges(partner_a, values, total):
    assert csi4.score(values) == total
    assert checkin_save(partner=partner_a, answers=values, today=TODAY).total == total
    assert CheckIn.objects.get().total == total


@pytest.mark.parametrize(
    "values",
    [
        answers(happiness=7),
        answers(warm=6),
        answers(rewarding=-1),
        answers(satisfied=None),
        answers(happiness="4"),
        answers(warm=True),
        {"happiness": 4, "warm": 2, "rewarding": 3},
    ],
)
def test_the_service_refuses_a_missing_or_out_of_range_answer_and_stores_nothing(partner_a, values):
    with pytest.raises(ValidationError) as exc:
        checkin_save(partner=partner_a, answers=values, today=TODAY)
    assert set(exc.value.message_dict) <= set(csi4.FIELDS)
    assert not CheckIn.objects.exists()


def test_the_service_ignores_a_total_handed_to_it(partner_a):
    assert checkin_save(partner=partner_a, answers=answers(total=21), today=TODAY).total == 10


@pytest.mark.parametrize(
    "values",
    [
        # Each answer past its published top (item 1: 6; items 2–4: 5), totals kept equal to the sum.
        {"happiness": 7, "warm": 0, "rewarding": 0, "satisfied": 0, "total": 7},
        {"happiness": 0, "warm": 6, "rewarding": 0, "satisfied": 0, "total": 6},
        {"happiness": 0, "warm": 0, "rewarding": 6, "satisfied": 0, "total": 6},
        {"happiness": 0, "warm": 0, "rewarding": 0, "satisfied": 6, "total": 6},
        # A total that is not the sum of the answers.
        {"happiness": 4, "warm": 2, "rewarding": 3, "satisfied": 1, "total": 11},
        {"happiness": 0, "warm": 0, "rewarding": 0, "satisfied": 0, "total": 22},
    ],
)
def test_the_database_refuses_out_of_range_answers_and_a_wrong_total(couple, partner_a, values):
    with pytest.raises(IntegrityError), transaction.atomic():
        CheckIn.objects.bulk_create([CheckIn(couple=couple, partner=partner_a, week=date(2026, 11, 23), **values)])


def test_the_database_holds_one_checkin_per_partner_per_week(couple, partner_a):
    row = {"couple": couple, "partner": partner_a, "week": date(2026, 11, 23), **MIXED, "total": 10}
    CheckIn.objects.bulk_create([CheckIn(**row)])
    with pytest.raises(IntegrityError), transaction.atomic():
        CheckIn.objects.bulk_create([CheckIn(**row)])


def test_answering_again_the_same_week_updates_that_weeks_checkin(partner_a, partner_b):
    first = checkin_save(partner=partner_a, answers=MIXED, today=date(2026, 11, 23))
    # Sunday of the same ISO week.
    again = checkin_save(partner=partner_a, answers=HIGHEST, today=date(2026, 11, 29))
    assert again.pk == first.pk and again.week == date(2026, 11, 23)
    stored = CheckIn.objects.get()
    assert (stored.happiness, stored.warm, stored.rewarding, stored.satisfied, stored.total) == (6, 5, 5, 5, 21)
    # The next Monday is a new week; the other partner's check-in is their own row.
    checkin_save(partner=partner_a, answers=LOWEST, today=date(2026, 11, 30))
    checkin_save(partner=partner_b, answers=MIXED, today=date(2026, 11, 25))
    assert sorted(CheckIn.objects.values_list("partner__name", "week", "total")) == [
        ("Alex", date(2026, 11, 23), 21),
        ("Alex", date(2026, 11, 30), 0),
        ("Sam", date(2026, 11, 23), 10),
    ]


def test_a_closed_case_takes_no_checkin(couple, partner_a, client_for):
    couple.status = couple.Status.CLOSED
    couple.save(update_fields=["status"])
    with pytest.raises(ValidationError):
        checkin_save(partner=partner_a, answers=MIXED, today=TODAY)
    client = client_for(partner_a)
    assert client.get(reverse("checkin")).status_code == 302
    response = client.post(reverse("checkin"), post_data(MIXED))
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert not CheckIn.objects.exists()
    assert "Weekly check-in (optional" not in client.get(reverse("home")).content.decode()


def test_a_checkin_is_audited_under_its_couple_without_content(partner_a):
    checkin = checkin_save(partner=partner_a, answers=MIXED, today=TODAY)
    entry = LogEntry.objects.get_for_object(checkin).get()
    assert entry.cid == couple_key(partner_a.couple_id)
    assert entry.object_repr == f"checkin {checkin.pk}"


# The week is the couple's own --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "zone,now,week",
    [
        # Sunday 29 Nov, 23:30 in Los Angeles (UTC−8) is already Monday in UTC: still the week of 23 Nov.
        ("America/Los_Angeles", "2026-11-30 07:30:00+00:00", date(2026, 11, 23)),
        # Half an hour after midnight there: Monday 30 Nov, a new week.
        ("America/Los_Angeles", "2026-11-30 08:30:00+00:00", date(2026, 11, 30)),
        # Monday 30 Nov, 00:30 in Auckland (UTC+13) is still Sunday in UTC: the new week already.
        ("Pacific/Auckland", "2026-11-29 11:30:00+00:00", date(2026, 11, 30)),
        # Sunday 29 Nov, 23:30 in Auckland.
        ("Pacific/Auckland", "2026-11-29 10:30:00+00:00", date(2026, 11, 23)),
    ],
)
def test_the_week_is_the_couples_local_iso_week(client_for, couple, partner_a, zone, now, week):
    couple.time_zone = zone
    couple.save(update_fields=["time_zone"])
    with time_machine.travel(now, tick=False):
        client = client_for(partner_a)  # signed in then: a partner is signed out after a day idle
        assert "Weekly check-in (optional" in client.get(reverse("home")).content.decode()
        assert client.post(reverse("checkin"), post_data(MIXED)).status_code == 302
        assert "Weekly check-in (optional" not in client.get(reverse("home")).content.decode()
    assert CheckIn.objects.get().week == week


def test_the_link_comes_back_on_the_couples_monday(client_for, couple, partner_a):
    couple.time_zone = "America/Los_Angeles"
    couple.save(update_fields=["time_zone"])
    with time_machine.travel("2026-11-30 07:30:00+00:00", tick=False):  # Sunday 23:30 there
        client = client_for(partner_a)
        client.post(reverse("checkin"), post_data(MIXED))
    with time_machine.travel("2026-11-30 07:59:00+00:00", tick=False):  # Sunday 23:59 there
        assert "Weekly check-in (optional" not in client.get(reverse("home")).content.decode()
    with time_machine.travel("2026-11-30 08:01:00+00:00", tick=False):  # Monday 00:01 there
        assert "Weekly check-in (optional" in client.get(reverse("home")).content.decode()


# The partner's page -----------------------------------------------------------------------------------


def test_anonymous_goes_to_sign_in(client):
    for response in (client.get(reverse("checkin")), client.post(reverse("checkin"), post_data(MIXED))):
        assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    assert not CheckIn.objects.exists()


def test_a_therapist_gets_403(client_for, therapist, couple, partner_a):
    client = client_for(therapist)
    assert client.get(reverse("checkin")).status_code == 403
    assert client.post(reverse("checkin"), post_data(MIXED)).status_code == 403
    assert not CheckIn.objects.exists()


def test_wrong_method_is_405(client_for, partner_a):
    client = client_for(partner_a)
    assert client.put(reverse("checkin")).status_code == 405
    assert client.delete(reverse("checkin")).status_code == 405


def test_the_page_asks_the_four_questions_cites_the_source_and_offers_a_way_out(client_for, partner_a):
    response = client_for(partner_a).get(reverse("checkin"))
    assert response.status_code == 200
    html = response.content.decode()
    for item in csi4.ITEMS:
        assert item.question in html
        for value, label in item.choices:
            assert f'name="{item.field}"' in html and f'value="{value}"' in html and label in html
    assert "Funk" in html and "Rogge" in html and "Journal of Family Psychology, 21(4), 572–583" in html
    assert f'href="{reverse("home")}">Not this week</a>' in html
    # Partners never see a score or the words the therapist reads them by.
    for word in ("distress", "dissatisf", "13.5", "score", "missed", "streak"):
        assert word not in html.lower(), word


def test_saving_thanks_and_goes_home(client_for, partner_a):
    client = client_for(partner_a)
    response = client.post(reverse("checkin"), post_data(MIXED), follow=True)
    assert response.redirect_chain == [(reverse("home"), 302)]
    assert "Thank you for checking in" in response.content.decode()
    stored = CheckIn.objects.get()
    assert (stored.partner, stored.week, stored.total) == (partner_a, date(2026, 11, 23), 10)


def test_bad_input_explains_and_keeps_every_answer_given(client_for, partner_a):
    data = {"happiness": "4", "warm": "2", "satisfied": "9"}  # item 3 unanswered, item 4 out of range
    response = client_for(partner_a).post(reverse("checkin"), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Everything you entered is still here" in html
    assert html.count("Please choose one answer.") == 2
    assert re.search(r'name="happiness" id="id_happiness_4" value="4" checked', html)
    assert re.search(r'name="warm" id="id_warm_2" value="2" checked', html)
    assert len(re.findall(r'value="\d" checked', html)) == 2
    assert not CheckIn.objects.exists()


def test_answered_this_week_the_form_shows_the_partners_own_answers_to_change(client_for, partner_a, partner_b):
    # Issue 17: answering again the same week starts from one's own earlier answers (and replaces them).
    client = client_for(partner_a)
    client.post(reverse("checkin"), post_data(MIXED))
    html = client.get(reverse("checkin")).content.decode()
    # NOW is Wednesday 25 November in London, the couple's zone.
    assert "You answered on Wednesday 25 November; change anything you like." in html
    # MIXED, by hand: happiness 4, warm 2, rewarding 3, satisfied 1, each checked and nothing else.
    checked = re.findall(r'name="(\w+)" id="id_\w+" value="(\d)" checked', html)
    assert sorted(checked) == [("happiness", "4"), ("rewarding", "3"), ("satisfied", "1"), ("warm", "2")]
    client.post(reverse("checkin"), post_data(LOWEST))
    assert CheckIn.objects.get().total == 0


def test_the_other_partners_answers_never_fill_the_form(client_for, partner_a, partner_b):
    client_for(partner_a).post(reverse("checkin"), post_data(HIGHEST))
    response = client_for(partner_b).get(reverse("checkin"))
    html = response.content.decode()
    assert "You answered on" not in html
    assert not re.search(r'value="\d" checked', html)
    assert checkins_in_context(response) == []


def test_last_weeks_answers_do_not_fill_this_weeks_form(client_for, partner_a):
    with time_machine.travel("2026-11-18 12:00:00+00:00", tick=False):  # the Wednesday before
        client_for(partner_a).post(reverse("checkin"), post_data(HIGHEST))
    html = client_for(partner_a).get(reverse("checkin")).content.decode()
    assert "You answered on" not in html
    assert not re.search(r'value="\d" checked', html)


def test_partner_home_offers_the_checkin_until_it_is_done(client_for, partner_a, assignment):
    client = client_for(partner_a)
    html = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("checkin")}">Weekly check-in (optional, 1 minute)</a>' in html
    client.post(reverse("checkin"), post_data(MIXED))
    html = client.get(reverse("home")).content.decode()
    assert "Weekly check-in (optional" not in html
    for word in ("missed", "streak", "check-in done"):
        assert word not in html.lower()


def test_each_home_asks_by_its_own_partner_and_week(client_for, partner_a, partner_b, assignment):
    # issue 16, "Fast": the read is compiled once per process (intimacy/prepared.py); each home still
    # asks about its own partner and its own week. Alex answers in the week of 23 November; Sam doesn't.
    offer = "Weekly check-in (optional"
    with time_machine.travel(datetime(2026, 11, 25, 12, 0, tzinfo=UTC), tick=False):
        client_for(partner_a).post(reverse("checkin"), post_data(MIXED))
        for partner, offered in ((partner_a, False), (partner_b, True), (partner_a, False)):
            assert (offer in client_for(partner).get(reverse("home")).content.decode()) is offered
    # The next week, a fresh start for both.
    with time_machine.travel(datetime(2026, 12, 2, 12, 0, tzinfo=UTC), tick=False):
        for partner in (partner_a, partner_b):
            assert offer in client_for(partner).get(reverse("home")).content.decode()


# Privacy: the other partner, the appointment view, the therapist -------------------------------------


@pytest.fixture
def checkins(couple, partner_a, partner_b):
    """Four weeks at TODAY (buckets 2, 9, 16, 23 Nov) and one before.

    Alex: week of 2 Nov total 10 (MIXED); week of 16 Nov 21 (HIGHEST).
    Sam:  week of 9 Nov total 0 (LOWEST); week of 23 Nov 14 (5 + 3 + 3 + 3); week of 26 Oct 7 (1 + 2 + 2 + 2).
    """
    checkin_save(partner=partner_a, answers=MIXED, today=date(2026, 11, 4))
    checkin_save(partner=partner_a, answers=HIGHEST, today=date(2026, 11, 20))
    checkin_save(partner=partner_b, answers=LOWEST, today=date(2026, 11, 9))
    checkin_save(partner=partner_b, answers={"happiness": 5, "warm": 3, "rewarding": 3, "satisfied": 3}, today=TODAY)
    checkin_save(
        partner=partner_b,
        answers={"happiness": 1, "warm": 2, "rewarding": 2, "satisfied": 2},
        today=date(2026, 10, 29),
    )
    return partner_a, partner_b


def test_visible_to_the_couples_therapist_and_to_each_partner_their_own(
    checkins, therapist, other_therapist, partner_a, partner_b, outsider, staff
):
    from django.contrib.auth.models import AnonymousUser

    assert CheckIn.objects.visible_to(therapist).count() == 5
    assert set(CheckIn.objects.visible_to(partner_a.user).values_list("partner", flat=True)) == {partner_a.pk}
    assert set(CheckIn.objects.visible_to(partner_b.user).values_list("partner", flat=True)) == {partner_b.pk}
    for nobody in (other_therapist, outsider.user, staff, AnonymousUser()):
        assert not CheckIn.objects.visible_to(nobody).exists()


def test_the_other_partner_sees_no_checkin_anywhere(client_for, couple, session, checkins):
    """Sam checked in this week and three other weeks; Alex's pages hold none of it."""
    alex, sam = checkins
    couple.progress_page = True
    couple.save(update_fields=["progress_page"])
    client = client_for(alex)
    for name in ("home", "history", "progress", "my_data", "checkin"):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        assert checkins_in_context(response) == [], name
        html = response.content.decode()
        assert "CSI-4 total" not in html and "Relationship satisfaction" not in html, name
        assert "checkin" not in [c["id"] for c in chart_data(response)["charts"]], name
    # This week Sam checked in, Alex didn't: Alex is still offered theirs, as if Sam had not.
    assert "Weekly check-in (optional" in client.get(reverse("home")).content.decode()
    assert "You already checked in" not in client.get(reverse("checkin")).content.decode()

    download = json.loads(client.get(reverse("my_data_download")).content)
    # Alex's own two weeks, and nothing of Sam's.
    assert [(c["by"], c["week_of"], c["total"]) for c in download["weekly_checkins"]] == [
        ("Alex", "2026-11-02", 10),
        ("Alex", "2026-11-16", 21),
    ]
    assert "Sam" not in json.dumps(download["weekly_checkins"])


def test_a_partners_download_holds_their_own_checkins_with_the_answers(client_for, checkins):
    alex, sam = checkins
    download = json.loads(client_for(sam).get(reverse("my_data_download")).content)
    assert download["weekly_checkins"] == [
        {
            "week_of": "2026-10-26",
            "by": "Sam",
            "happiness": 1,
            "warm": 2,
            "rewarding": 2,
            "satisfied": 2,
            "total": 7,
            "answered_at": "2026-11-25T12:00:00Z",
        },
        {
            "week_of": "2026-11-09",
            "by": "Sam",
            "happiness": 0,
            "warm": 0,
            "rewarding": 0,
            "satisfied": 0,
            "total": 0,
            "answered_at": "2026-11-25T12:00:00Z",
        },
        {
            "week_of": "2026-11-23",
            "by": "Sam",
            "happiness": 5,
            "warm": 3,
            "rewarding": 3,
            "satisfied": 3,
            "total": 14,
            "answered_at": "2026-11-25T12:00:00Z",
        },
    ]


def test_the_therapists_record_holds_both_partners_checkins(client_for, therapist, couple, checkins):
    record = json.loads(
        client_for(therapist, reauthenticated=True).post(reverse("couple_record", args=[couple.pk])).content
    )
    assert [(c["week_of"], c["by"], c["total"]) for c in record["weekly_checkins"]] == [
        ("2026-10-26", "Sam", 7),
        ("2026-11-02", "Alex", 10),
        ("2026-11-09", "Sam", 0),
        ("2026-11-16", "Alex", 21),
        ("2026-11-23", "Sam", 14),
    ]


def test_the_appointment_view_has_no_checkin(client_for, therapist, couple, session, checkins):
    response = client_for(therapist).get(reverse("appointment", args=[couple.pk]), {"weeks": "4"})
    assert response.status_code == 200
    assert "checkin" not in [c["id"] for c in chart_data(response)["charts"]]
    assert all(not row.checkin for row in response.context["trends"].rows)
    html = response.content.decode()
    for word in ("CSI", "check-in", "satisfaction", "13.5", "Funk"):
        assert word not in html, word


def test_the_therapists_dashboard_charts_each_partners_checkins(client_for, therapist, couple, session, checkins):
    response = client_for(therapist).get(reverse("couple_detail", args=[couple.pk]), {"weeks": "4"})
    assert response.status_code == 200
    chart = next(c for c in chart_data(response)["charts"] if c["id"] == "checkin")
    assert chart["labels"] == ["2 Nov", "9 Nov", "16 Nov", "23 Nov"]
    assert (chart["min"], chart["max"], chart["type"]) == (0, 21, "line")
    # Sam's check-in of 26 Oct is before the period.
    assert chart["series"] == [
        {"label": "Alex", "values": [10, None, 21, None], "kind": ""},
        {"label": "Sam", "values": [None, 0, None, 14], "kind": ""},
        {"label": "Threshold (13.5)", "values": [13.5, 13.5, 13.5, 13.5], "kind": "line"},
    ]
    assert chart["rows"][0] == ["2 Nov", 10, None, 13.5]
    assert "13.5" in chart["about"] and "Funk & Rogge 2007" in chart["about"]
    html = response.content.decode()
    assert "Relationship satisfaction (weekly check-in)" in html and "Numbers for" in html


def test_no_checkin_chart_without_checkins(client_for, therapist, couple, session):
    response = client_for(therapist).get(reverse("couple_detail", args=[couple.pk]))
    assert "checkin" not in [c["id"] for c in chart_data(response)["charts"]]
    assert "Relationship satisfaction" not in response.content.decode()


def test_the_printable_summary_has_a_checkin_column_per_partner(client_for, therapist, couple, checkins):
    response = client_for(therapist).get(reverse("couple_summary", args=[couple.pk]), {"weeks": "4"})
    html = response.content.decode()
    assert "Alex check-in" in html and "Sam check-in" in html
    assert [r["checkin"] for r in response.context["rows"]] == [[10, "–"], ["–", 0], [21, "–"], ["–", 14]]
    # Below 13.5 in print without colour (issue 16): Alex's 10 and Sam's 0 bold with a *, the caption says so.
    # (Totals print as floats: 10.0, 0.0.)
    assert "<strong>10.0*</strong>" in html and "<strong>0.0*</strong>" in html
    assert "21.0*" not in html and "14.0*" not in html
    assert "<strong>Bold with *</strong>: below 13.5." in html


# The trends selector ---------------------------------------------------------------------------------


def _checkin_rows(couple, params, scope=Scope.THERAPIST):
    data = trends.couple_trends(couple, period_from(params, TODAY), scope)
    return {row.bucket.label: row.checkin for row in data.rows}, data


def test_trends_weekly_checkins_for_the_therapist(couple, checkins):
    a, b = checkins
    rows, data = _checkin_rows(couple, {"weeks": "4"})
    assert rows == {"2 Nov": {a.pk: 10}, "9 Nov": {b.pk: 0}, "16 Nov": {a.pk: 21}, "23 Nov": {b.pk: 14}}
    assert trends.summary_rows(data)[1]["checkin"] == ["–", 0]
    # Marked below the threshold of 13.5: Alex's 10 (2 Nov), Sam's 0 (9 Nov); not 21 nor 14 (issue 16).
    assert [r["checkin_low"] for r in trends.summary_rows(data)] == [
        [True, False],
        [False, True],
        [False, False],
        [False, False],
    ]


def test_trends_monthly_checkins_are_each_partners_mean(couple, checkins):
    a, b = checkins
    # One more for each in November: Alex 23 Nov 15 (6 + 3 + 3 + 3), Sam 16 Nov 13 (4 + 3 + 3 + 3).
    checkin_save(partner=a, answers={"happiness": 6, "warm": 3, "rewarding": 3, "satisfied": 3}, today=TODAY)
    checkin_save(
        partner=b, answers={"happiness": 4, "warm": 3, "rewarding": 3, "satisfied": 3}, today=date(2026, 11, 17)
    )
    rows, _ = _checkin_rows(couple, {"weeks": "52"})
    # November: Alex (10 + 21 + 15) / 3 = 15.3; Sam (0 + 13 + 14) / 3 = 9.0. October: Sam's 7 alone.
    assert rows["Nov 2026"] == {a.pk: 15.3, b.pk: 9.0}
    assert rows["Oct 2026"] == {b.pk: 7.0}
    assert rows["Sep 2026"] == {}


def test_trends_a_custom_period_counts_the_whole_first_week(couple, checkins):
    a, b = checkins
    # From Wednesday 4 Nov: the week of 2 Nov is its first bucket, with Alex's check-in of that week.
    rows, _ = _checkin_rows(couple, {"from": "2026-11-04", "to": "2026-11-12"})
    assert rows == {"2 Nov": {a.pk: 10}, "9 Nov": {b.pk: 0}}


@pytest.mark.parametrize("scope", [Scope.SHARED, Scope.OWN])
def test_trends_never_give_checkins_to_what_the_couple_sees(couple, checkins, scope):
    a, b = checkins
    data = trends.couple_trends(couple, period_from({"weeks": "4"}, TODAY), scope, viewer_partner=b)
    assert all(row.checkin == {} for row in data.rows)
    assert "checkin" not in [c["id"] for c in trends.couple_charts(data)]


def test_deleting_the_couple_deletes_its_checkins_each_in_the_audit_trail(couple, checkins):
    from django.utils import timezone

    from intimacy.services import couple_delete

    couple.exported_at = timezone.now()
    couple.save(update_fields=["exported_at"])
    couple_delete(couple=couple, confirmation=couple.label)
    assert not CheckIn.objects.exists()
    assert LogEntry.objects.get_for_model(CheckIn).filter(action=LogEntry.Action.DELETE).count() == 5
