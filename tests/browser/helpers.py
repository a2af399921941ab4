"""What people do in the browser, shared by the browser tests."""

import re
import time

from playwright.sync_api import Page, expect

from tests.factories import totp_code


def wait_for_a_fresh_code() -> None:
    """A code is valid for one 30-second step, and the browser's clock can't be frozen: near the end
    of a step, wait for the next one so the code is still valid when the server checks it."""
    left = 30 - time.time() % 30
    if left < 4:
        time.sleep(left + 0.2)


def sign_in(page: Page, base_url: str, email: str, password: str, totp_secret: str | None = None) -> None:
    """Sign in through the real form; therapists (`totp_secret`) then type their authenticator's code."""
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    if totp_secret:
        expect(page).to_have_url(f"{base_url}/accounts/2fa/authenticate/")
        wait_for_a_fresh_code()
        page.locator("input[name=code]").fill(totp_code(totp_secret))
        page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(f"{base_url}/")
    # The address changes before the page has arrived: a `goto` straight after would abort it.
    page.wait_for_load_state()


def set_up_authenticator(page: Page, base_url: str) -> str:
    """A therapist without a second factor is sent to set one up: do it as an authenticator app would."""
    expect(page).to_have_url(f"{base_url}/accounts/2fa/totp/activate/")
    secret = page.locator("#authenticator_secret").input_value()
    wait_for_a_fresh_code()
    page.locator("input[name=code]").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    expect(page).to_have_url(f"{base_url}/accounts/2fa/recovery-codes/")
    return secret


def confirm_password(page: Page, base_url: str, password: str) -> None:
    """On allauth's "Confirm it's you" page, Tend's question before a sensitive change: type it again."""
    expect(page).to_have_url(re.compile(re.escape(f"{base_url}/accounts/reauthenticate/")))
    page.locator("input[name=password]").fill(password)
    page.get_by_role("button", name="Confirm").click()


def rate(page: Page, question: str, value: int) -> None:
    """Click the label of one 0–10 button (the radio itself is visually hidden)."""
    page.get_by_role("group", name=question).get_by_text(str(value), exact=True).click()


def choose(page: Page, question: str, option: str) -> None:
    page.get_by_role("group", name=question).get_by_text(option, exact=True).click()


def choose_readers(page: Page, option: str) -> None:
    """Pick who may read a reflection: nothing is preselected the first time (issue 13)."""
    page.get_by_role("group", name="Who may read what I wrote?").get_by_label(option, exact=True).check()


def strict_csp(policy: str) -> bool:
    """Whether a Content-Security-Policy header allows only Tend's own scripts and no framing."""
    return "script-src 'self'" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy


def wait_until(page: Page, expression: str, arg=None, *, seconds: float = 10) -> None:
    """Wait until `expression` (a JavaScript function of `arg`, or an expression) is true in the page.

    Polled from Python: Playwright's `wait_for_function` re-evaluates a string in the page, which Tend's
    CSP (no 'unsafe-eval') refuses once the first check is false, so on a loaded machine it never
    passes. Fails the test with the expression when the time is up."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(expression, arg):
        if time.monotonic() > deadline:
            raise AssertionError(f"Still false after {seconds} s on {page.url}: {expression}")
        page.wait_for_timeout(100)
