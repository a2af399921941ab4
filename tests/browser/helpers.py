"""What people do in the browser, shared by the browser tests."""

from playwright.sync_api import Page, expect


def sign_in(page: Page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}/")


def rate(page: Page, question: str, value: int) -> None:
    """Click the label of one 0–10 button (the radio itself is visually hidden)."""
    page.get_by_role("group", name=question).get_by_text(str(value), exact=True).click()


def choose(page: Page, question: str, option: str) -> None:
    page.get_by_role("group", name=question).get_by_text(option, exact=True).click()
