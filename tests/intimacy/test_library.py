"""The exercise library (issue 15): filters, copies made only when saved, shapes chosen when written,
and the assign form's list by shape."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import escape

from intimacy import services
from intimacy.models import Exercise
from tests.factories import AssignmentFactory, back_rub

pytestmark = pytest.mark.django_db

WORDS = {"title": "Hands, our way", "summary": "Our summary.", "guidance": "Our words.", "suggested_minutes": "10"}


def _titles(html: str, exercises) -> set[str]:
    return {e.title for e in exercises if f">{escape(e.title)}</a>" in html}


class TestFilters:
    # The ten built-ins by shape, counted by hand from the list: touch six (back rub, hand
    # massage, foot rub, hair and scalp, hug, curious touch); talk two (the day's stresses,
    # speaker-listener); together two (breathing, appreciations); no touch is talk plus together, four.
    @pytest.mark.parametrize(
        "query, builtins",
        [({}, 10), ({"touch": "yes"}, 6), ({"touch": "no"}, 4), ({"shape": "talk"}, 2), ({"shape": "together"}, 2)],
    )
    def test_each_filter_shows_its_built_ins(self, client_for, therapist, query, builtins):
        response = client_for(therapist).get(reverse("exercise_list"), query)
        assert response.status_code == 200
        assert len(response.context["builtin"]) == builtins
        html = response.content.decode()
        assert len(_titles(html, Exercise.objects.filter(owner__isnull=True))) == builtins

    def test_filters_apply_to_the_therapists_own_too_and_nonsense_is_ignored(self, client_for, therapist):
        services.exercise_create(owner=therapist, shape="talk", **{**WORDS, "title": "Our talk"})
        services.exercise_create(owner=therapist, shape="touch", **{**WORDS, "title": "Our touch"})
        client = client_for(therapist)
        html = client.get(reverse("exercise_list"), {"touch": "no"}).content.decode()
        assert "Our talk" in html and "Our touch" not in html
        response = client.get(reverse("exercise_list"), {"shape": "massage", "touch": "maybe"})
        assert len(response.context["builtin"]) == 10 and len(response.context["own"]) == 2

    def test_each_exercise_shows_its_shape_minutes_and_summary(self, client_for, therapist):
        html = client_for(therapist).get(reverse("exercise_list"), {"shape": "together"}).content.decode()
        breathing = Exercise.objects.get(builtin_key="breathing-together")
        assert "Together: both do the same thing" in html and "About 5 minutes" in html
        assert breathing.summary in html
        # The filter links: plain links a keyboard reaches, the current one marked for screen readers.
        assert 'href="/exercises/?touch=no"' in html and 'aria-current="page"' in html


class TestCopyOnSave:
    def test_opening_the_customize_page_creates_nothing(self, client_for, therapist, tend_rows):
        client = client_for(therapist)  # signing in writes (last_login): before the count
        before = tend_rows()
        response = client.get(reverse("exercise_customize", args=[back_rub().pk]))
        assert response.status_code == 200
        assert response.context["form"].initial["title"] == "Give a back rub (my version)"
        assert tend_rows() == before

    def test_saving_creates_one_copy_with_the_originals_shape(self, client_for, therapist):
        talk = Exercise.objects.get(builtin_key="speaker-listener")
        response = client_for(therapist).post(reverse("exercise_customize", args=[talk.pk]), WORDS)
        copy = Exercise.objects.get(owner=therapist)
        assert response["Location"] == reverse("exercise_detail", args=[copy.pk])
        assert (copy.title, copy.shape, copy.copied_from) == ("Hands, our way", "talk", talk)
        talk.refresh_from_db()
        assert talk.title == "Take turns: one small topic, one speaks, one listens"

    def test_an_invalid_copy_creates_nothing(self, client_for, therapist):
        response = client_for(therapist).post(
            reverse("exercise_customize", args=[back_rub().pk]), {**WORDS, "title": ""}
        )
        assert response.status_code == 200 and not Exercise.objects.filter(owner=therapist).exists()

    def test_a_built_in_stays_read_only(self, client_for, therapist):
        client = client_for(therapist)
        response = client.post(reverse("exercise_edit", args=[back_rub().pk]), {**WORDS, "shape": "talk"})
        assert response.status_code == 403
        assert back_rub().title == "Give a back rub"

    def test_the_service_copies_only_a_built_in_or_ones_own(self, therapist, other_therapist):
        # The page's access helper answers 404 first; the service holds the line too, so no other caller
        # copies another therapist's words (and learns them through the copy).
        theirs = services.exercise_create(
            owner=other_therapist, title="Theirs", summary="s", guidance="Their words.", suggested_minutes=10
        )
        words = {**WORDS, "suggested_minutes": 10}
        with pytest.raises(PermissionDenied):
            services.exercise_customize(exercise=theirs, owner=therapist, **words)
        assert not Exercise.objects.filter(owner=therapist).exists()
        assert services.exercise_customize(exercise=back_rub(), owner=therapist, **words).copied_from == back_rub()


class TestShape:
    def test_a_new_exercise_chooses_its_shape_and_the_page_no_longer_says_every_one_is_touch(
        self, client_for, therapist
    ):
        client = client_for(therapist)
        html = client.get(reverse("exercise_create")).content.decode()
        assert "partnered-touch" not in html and 'name="shape"' in html
        client.post(reverse("exercise_create"), {**WORDS, "shape": "together"})
        assert Exercise.objects.get(owner=therapist).shape == "together"

    def test_the_shape_changes_until_a_couple_is_given_the_exercise(self, client_for, therapist, couple):
        exercise = services.exercise_create(owner=therapist, shape="touch", **WORDS)
        client = client_for(therapist)
        url = reverse("exercise_edit", args=[exercise.pk])
        client.post(url, {**WORDS, "shape": "talk"})
        exercise.refresh_from_db()
        assert exercise.shape == "talk"

        AssignmentFactory(couple=couple, exercise=exercise)
        response = client.post(url, {**WORDS, "title": "New title", "shape": "together"})
        assert response.status_code == 200
        assert "its shape stays as it is" in response.content.decode()
        exercise.refresh_from_db()
        assert (exercise.shape, exercise.title) == ("talk", "Hands, our way")
        # The wording still changes when the shape stays.
        client.post(url, {**WORDS, "title": "New title", "shape": "talk"})
        exercise.refresh_from_db()
        assert exercise.title == "New title"


def test_the_assign_form_lists_the_library_under_each_shape(client_for, therapist, couple):
    html = client_for(therapist).get(reverse("assignment_create", args=[couple.pk])).content.decode()
    touch, talk, together = (html.index(f'<optgroup label="{label}">') for label in Exercise.Shape.labels)
    assert touch < html.index(">Hand massage<") < talk < html.index(">Talk about the day&#x27;s stresses<") < together
    assert together < html.index(">Share appreciations<")
    # Each option carries its shape, for the plan's words (issue 15; tests/intimacy/test_shapes.py TestPlanWords).
    assert f'<option value="{back_rub().pk}" selected data-shape="touch">' in html


def test_the_exercise_page_shows_the_sections_and_the_shape(client_for, therapist):
    foot_rub = Exercise.objects.get(builtin_key="foot-rub")
    html = client_for(therapist).get(reverse("exercise_detail", args=[foot_rub.pk])).content.decode()
    for heading in ("How to do it", "What it is for", "How long and how often", "When not to do it"):
        assert f'<h2 class="h6 mt-2 mb-1">{heading}</h2>' in html
    assert "Touch: one gives, one receives" in html and "private safety check" in html
    talk = Exercise.objects.get(builtin_key="stress-of-the-day")
    html = client_for(therapist).get(reverse("exercise_detail", args=[talk.pk])).content.decode()
    assert "Talk: one speaks, one listens" in html and "private safety check" not in html


def test_programs_are_reached_from_the_library(client_for, therapist):
    # The main menu keeps one "Exercises" link (another item there tipped the printed summary onto a
    # third page); the library's own small menu leads to programs and back.
    exercises = client_for(therapist).get(reverse("exercise_list")).content.decode()
    programs = client_for(therapist).get(reverse("program_list")).content.decode()
    assert f'href="{reverse("program_list")}"' in exercises
    assert f'href="{reverse("exercise_list")}"' in programs
