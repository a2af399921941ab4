"""Assigning an exercise (issue 15): the plan for the first role follows the exercise chosen, in the
browser. The back rub asks who gives; choosing a talk rewords it to who speaks first; a together exercise
has no plan at all, and is saved with "either partner"."""

import pytest
from playwright.sync_api import expect

from intimacy.models import Exercise
from tests.browser.conftest import PHONE
from tests.browser.helpers import sign_in
from tests.factories import PASSWORD, TOTP_SECRET, ExerciseFactory

pytestmark = pytest.mark.browser


def test_the_plan_follows_the_exercise_chosen(live_server, new_page, couple, therapist, partner_a, partner_b):
    talk = ExerciseFactory(title="Stress-reducing talk", shape=Exercise.Shape.TALK, owner=therapist)
    together = ExerciseFactory(title="Breathing together", shape=Exercise.Shape.TOGETHER, owner=therapist)
    base = live_server.url
    page = new_page(PHONE, who="therapist")
    sign_in(page, base, therapist.email, PASSWORD, TOTP_SECRET)
    page.goto(f"{base}/couples/{couple.pk}/assign/")
    plan = page.get_by_role("group", name="Giver plan")
    expect(plan.get_by_label("Take turns to give")).to_be_checked()
    page.get_by_label("Exercise").select_option(label=talk.title)
    plan = page.get_by_role("group", name="Who speaks first")
    expect(plan.get_by_label("Take turns to speak")).to_be_visible()
    expect(page.get_by_label("Which partner speaks first")).to_be_visible()
    expect(page.get_by_text("Giver plan")).to_have_count(0)
    page.get_by_label("Exercise").select_option(label=together.title)
    expect(page.get_by_role("group", name="Who speaks first")).to_be_hidden()
    expect(page.get_by_label("Which partner speaks first")).to_be_hidden()
    page.get_by_role("button", name="Assign").click()
    expect(page).to_have_url(f"{base}/couples/{couple.pk}/")
    assert couple.assignments.get(exercise=together).giver_plan == "either"
