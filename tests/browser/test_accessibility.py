"""axe (axe-playwright-python, which ships its own axe.min.js) on every partner page and the therapist's
pages, at 375 px and 1280 px: no serious or critical violations, no sideways scrolling on a phone, and
each page under the strict Content-Security-Policy (a violation is a console error, which `new_page`
fails the test on).
Keyboard-only use: a partner logs a back rub with the keyboard alone."""

from datetime import date, timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from playwright.sync_api import expect

from intimacy.models import CheckIn, Exercise, Reflection, Session
from intimacy.weeks import week_start
from tests.browser.conftest import LAPTOP, PHONE, SCREENSHOTS
from tests.browser.helpers import confirm_password, sign_in, strict_csp
from tests.factories import PASSWORD, TOTP_SECRET, ReflectionFactory

pytestmark = pytest.mark.browser
# The couple page's tabs (issue 16), each its own page.
COUPLE_TABS = ("couple_detail", "couple_trends", "couple_reflections", "couple_notes", "couple_exercises")

AXE = Axe()


def serious_findings(page) -> list[str]:
    violations = AXE.run(page).response["violations"]
    return [
        f"{v['id']}: {v['help']} ({', '.join(n['target'][0] for n in v['nodes'][:3])})"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]


# Buttons, fields and choice labels a thumb must hit: at least 44 px tall (links inside sentences are exempt).
SMALL_TARGETS_JS = """() => [...document.querySelectorAll(
  'main button, main .btn, main input:not([type=hidden]):not([type=radio]):not([type=checkbox]), main select,'
  + ' main textarea, main label.btn, main .form-check-label')]
  .filter((el) => el.offsetParent !== null)
  .map((el) => [el.outerHTML.slice(0, 80), Math.round(el.getBoundingClientRect().height)])
  .filter(([, h]) => h < 44)"""


def check_pages(page, base: str, paths: list[str], *, phone_targets: bool = False) -> None:
    problems = []
    for width in (PHONE, LAPTOP):
        page.set_viewport_size({"width": width, "height": 900})
        for path in paths:
            response = page.goto(base + path)
            page.wait_for_load_state("networkidle")
            if response is None or response.status != 200:
                problems.append(f"{path}: answered {response and response.status}")
            elif not strict_csp(response.headers.get("content-security-policy", "")):
                problems.append(f"{path}: no strict Content-Security-Policy")
            problems += [f"{path} @ {width}px: {finding}" for finding in serious_findings(page)]
            wide = page.evaluate("document.documentElement.scrollWidth")
            if wide > width:
                problems.append(f"{path} @ {width}px: scrolls sideways ({wide} px)")
            if phone_targets and width == PHONE:
                problems += [f"{path}: target {h} px tall: {html}" for html, h in page.evaluate(SMALL_TARGETS_JS)]
                name = path.strip("/").replace("/", "-").replace("?", "-").replace("=", "") or "home"
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=SCREENSHOTS / f"a11y-partner-{name}-375.png", full_page=True)
    assert not problems, "\n".join(problems)


def test_partner_pages(live_server, new_page, couple, partner_a, partner_b, session):
    couple.progress_page = True
    couple.save()
    theirs = ReflectionFactory(session=session, partner=partner_b, role="receiver")
    page = new_page(PHONE, who="partner")
    sign_in(page, live_server.url, partner_b.email, PASSWORD)
    check_pages(
        page,
        live_server.url,
        [
            reverse("home"),
            reverse("session_log", args=[session.assignment_id]) + "?new=1",
            reverse("history"),
            reverse("progress"),
            reverse("reflection_edit", args=[theirs.pk]),
            reverse("reflection_visibility", args=[theirs.pk]),
            reverse("safety"),
            reverse("my_data"),
            reverse("consent_withdraw"),
            reverse("checkin"),
            reverse("reminder_settings"),
            reverse("mfa_index"),
            reverse("usersessions_list"),
            reverse("account_change_password"),
        ],
        phone_targets=True,
    )


def test_therapist_pages(live_server, new_page, couple, therapist, session, partner_a, partner_b):
    ReflectionFactory(session=session, partner=partner_b, role="receiver")
    # Three weekly check-ins each, so the check-in panel draws its table (totals 15, 16, 12 and 17, 17, 18).
    monday = week_start(date.today())
    for partner, answers in (
        (partner_a, [(3, 4, 4, 4), (4, 4, 4, 4), (2, 3, 3, 4)]),
        (partner_b, [(5, 4, 4, 4)] * 2 + [(6, 4, 4, 4)]),
    ):
        for weeks_back, (happiness, warm, rewarding, satisfied) in zip((2, 1, 0), answers, strict=True):
            CheckIn.objects.create(
                couple=couple,
                partner=partner,
                week=monday - timedelta(weeks=weeks_back),
                happiness=happiness,
                warm=warm,
                rewarding=rewarding,
                satisfied=satisfied,
                total=happiness + warm + rewarding + satisfied,
            )
    page = new_page(LAPTOP, who="therapist")
    sign_in(page, live_server.url, therapist.email, PASSWORD, TOTP_SECRET)
    # The deletion page comes after the password again; the question's page is checked too.
    page.goto(live_server.url + reverse("account_reauthenticate"))
    confirm_password(page, live_server.url, PASSWORD)
    pk = couple.pk
    check_pages(
        page,
        live_server.url,
        [
            reverse("home"),
            *(reverse(tab, args=[pk]) for tab in COUPLE_TABS),
            reverse("appointment", args=[pk]),
            reverse("couple_summary", args=[pk]),
            reverse("couple_audit", args=[pk]),
            reverse("assignment_create", args=[pk]),
            reverse("couple_delete", args=[pk]),
            reverse("screening_add", args=[pk]),
            reverse("couple_add"),
            reverse("exercise_list"),
            reverse("exercise_list") + "?touch=no",
            reverse("exercise_detail", args=[Exercise.objects.back_rub().pk]),
            reverse("exercise_customize", args=[Exercise.objects.back_rub().pk]),
            reverse("exercise_create"),
            reverse("mfa_index"),
            reverse("usersessions_list"),
            reverse("account_reauthenticate"),
        ],
    )
    # The couple's page on a phone too: its wide tables scroll sideways, and must be reachable by keyboard.
    page.set_viewport_size({"width": PHONE, "height": 800})
    check_pages(page, live_server.url, [reverse(tab, args=[pk]) for tab in COUPLE_TABS])


def test_a_partner_logs_a_back_rub_with_the_keyboard_alone(live_server, new_page, assignment, partner_a):
    page = new_page(PHONE, who="partner")
    sign_in(page, live_server.url, partner_a.email, PASSWORD)
    page.goto(live_server.url + reverse("session_log", args=[assignment.pk]) + "?new=1")
    form = page.locator("form[data-role-form]")

    def tab_to(locator) -> None:
        for _ in range(80):
            if locator.evaluate("el => el === document.activeElement"):
                return
            page.keyboard.press("Tab")
        raise AssertionError(f"could not reach {locator} with Tab")

    # Who gave: Tab into the group, then arrows pick a choice, as in any radio group.
    tab_to(form.locator('input[name="role"]').first)
    page.keyboard.press("Space")
    for name, value in (("connection", 7), ("comfort", 8), ("safe", 9)):
        tab_to(form.locator(f'input[name="{name}"]').first)
        for _ in range(value):
            page.keyboard.press("ArrowRight")
    # Who may read it: nothing is preselected (issue 13); Space picks the first, "My partner and my therapist".
    tab_to(form.locator('input[name="visibility"]').first)
    page.keyboard.press("Space")
    submit = form.locator('button[type="submit"]').last
    tab_to(submit)
    page.keyboard.press("Enter")
    expect(page).to_have_url(live_server.url + "/")
    session = Session.objects.get()
    mine = Reflection.objects.get(session=session)
    assert (mine.role, mine.connection, mine.comfort, mine.safe) == ("giver", 7, 8, 9)


def test_a_partner_logs_and_reflects_with_javascript_off(live_server, new_page, session, partner_b):
    page = new_page(PHONE, who="partner without JavaScript", javascript=False)
    sign_in(page, live_server.url, partner_b.email, PASSWORD)
    page.goto(live_server.url + reverse("reflection_add", args=[session.pk]))
    # Without the script, the receiver's questions are simply all shown.
    page.get_by_role("group", name="How connected did you feel?").get_by_text("6", exact=True).click()
    page.get_by_role("group", name="How comfortable did you feel?").get_by_text("9", exact=True).click()
    page.get_by_role("group", name="How safe did you feel?").get_by_text("8", exact=True).click()
    page.get_by_label("My therapist only").check()
    # Save, not the "I won't reflect on this one" button below the form (issue 14).
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page).to_have_url(live_server.url + "/")
    theirs = Reflection.objects.get(session=session, partner=partner_b)
    assert (theirs.role, theirs.connection, theirs.comfort, theirs.safe) == ("receiver", 6, 9, 8)


def test_program_pages(live_server, new_page, couple, therapist, assignment, partner_a, partner_b):
    """Staged programs (issue 15): the therapist's pages and the partner's card, at step 2 with answers."""
    from intimacy import services
    from intimacy.models import Exercise, ReadinessAnswer

    program = services.program_create(owner=therapist, title="Steps", description="An example, not a protocol.")
    for _n in range(3):
        services.program_stage_add(
            program=program, exercise=Exercise.objects.back_rub(), target_per_week=2, suggested_minutes=15
        )
    run = services.program_assign(couple=couple, program=program)
    first = run.steps.get()
    for partner in (partner_a, partner_b):
        services.readiness_answer(step=first, partner=partner, answer=ReadinessAnswer.Answer.READY)
    second = services.program_stage_approve(step=first, by=therapist)
    services.readiness_answer(step=second, partner=partner_b, answer=ReadinessAnswer.Answer.NOT_YET)
    page = new_page(LAPTOP, who="therapist")
    sign_in(page, live_server.url, therapist.email, PASSWORD, TOTP_SECRET)
    check_pages(
        page,
        live_server.url,
        [
            reverse("program_list"),
            reverse("program_create"),
            reverse("program_detail", args=[program.pk]),
            reverse("program_assign", args=[couple.pk]),
            reverse("couple_exercises", args=[couple.pk]),
        ],
    )
    partner_page = new_page(PHONE, who="partner")
    sign_in(partner_page, live_server.url, partner_b.email, PASSWORD)
    check_pages(partner_page, live_server.url, [reverse("home")], phone_targets=True)
    expect(partner_page.get_by_text("Your therapist has changed this exercise.")).to_be_visible()
