"""Browser tests: Debian's Chromium driven by Playwright (sync API) against pytest-django's live server.

Every page opened through `new_page` records console errors (a Content-Security-Policy violation is
one), uncaught page errors and failed responses; a test that leaves any behind fails at teardown.
"""

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Sync Playwright runs an event loop in the test thread; Django would otherwise refuse ORM calls there.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE, LAPTOP = 375, 1280
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        reason = (
            f"\n{'#' * 72}\n# SKIPPED: browser tests. {CHROMIUM} is missing; install Debian's chromium:\n"
            f"#   sudo apt-get install chromium\n{'#' * 72}"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing (CI=true makes this a failure).")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class PageProblems:
    """What went wrong in the pages of one test, as readable lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def watch(self, page, who: str) -> None:
        page.on("console", lambda msg: self._console(who, page, msg))
        page.on("pageerror", lambda exc: self.lines.append(f"[{who}] page error: {exc}"))
        page.on("response", lambda resp: self._response(who, resp))
        page.on("requestfailed", lambda req: self._failed(who, req))

    def _console(self, who: str, page, msg) -> None:
        if msg.type == "error":
            self.lines.append(f"[{who}] console error on {msg.location.get('url') or page.url}: {msg.text}")

    def _failed(self, who: str, req) -> None:
        # A page left before it finished loading cancels its own icon or stylesheet (ERR_ABORTED): that
        # is the test clicking on quickly, not something a person meets. Every other failure counts.
        if req.failure != "net::ERR_ABORTED":
            self.lines.append(f"[{who}] request failed: {req.url} {req.failure}")

    def _response(self, who: str, resp) -> None:
        if resp.status >= 400:
            self.lines.append(f"[{who}] HTTP {resp.status} for {resp.request.method} {resp.url}")


@pytest.fixture
def page_problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def new_page(browser, page_problems) -> Iterator[Callable]:
    """`new_page(width, who=..., javascript=True, scheme="light")`: a page in a fresh browser context (its own
    cookies: one person) on a device that prefers the colour `scheme` ("light" or "dark", issue 17)."""
    contexts = []

    def make(width: int = PHONE, who: str = "someone", javascript: bool = True, scheme: str = "light"):
        context = browser.new_context(
            viewport={"width": width, "height": 900},
            locale="en-GB",
            color_scheme=scheme,
            java_script_enabled=javascript,
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page_problems.watch(page, who)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not page_problems.lines, "The browser reported problems:\n" + "\n".join(page_problems.lines)


@pytest.fixture
def screenshot() -> Callable:
    """`screenshot(page, name)`: full-page PNGs of the current page at 375 px and 1280 px wide."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def shoot(page, name: str) -> None:
        original = page.viewport_size
        for width in (PHONE, LAPTOP):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=SCREENSHOTS / f"{name}-{width}.png", full_page=True, animations="disabled")
        page.set_viewport_size(original)

    return shoot


INVITE_LINK = re.compile(r"https?://\S+/invite/[^/\s]+/[^/\s]+/")


@pytest.fixture
def invite_link(mailoutbox) -> Callable[[str], str]:
    """`invite_link(email)`: the "set your password" link from the last invitation emailed there."""

    def find(email: str) -> str:
        for message in reversed(mailoutbox):
            if email in message.to:
                match = INVITE_LINK.search(message.body)
                assert match, f"no invite link in the email to {email}:\n{message.body}"
                return match.group(0)
        raise AssertionError(f"no email to {email}; sent to: {[m.to for m in mailoutbox]}")

    return find


@pytest.fixture(autouse=True)
def _site_url_is_the_live_server(request, settings) -> None:
    # Emailed links are built from TEND_SITE_URL, not from the request's host (accounts/views.py):
    # the links a browser test follows must lead to this test's live server.
    if "live_server" in request.fixturenames:
        settings.TEND_SITE_URL = request.getfixturevalue("live_server").url
