"""Night mode (issue 17): the colours a person picks (System, Light, Dark) are kept on their device in
a cookie, and every page's first byte already carries them, so a dark room never sees a light flash
(the strict CSP allows no inline script to fix colours up after the page has painted)."""

import re

import pytest
from django.urls import reverse

from accounts.theme import THEME_COOKIE

pytestmark = pytest.mark.django_db

URL = reverse("theme_set")


def html_tag(response) -> str:
    return re.search(r"<html[^>]*>", response.content.decode()).group(0)


def color_scheme_meta(response) -> str:
    return re.search(r'<meta name="color-scheme" content="([^"]*)">', response.content.decode()).group(1)


def test_choosing_dark_lands_back_on_the_page_with_a_cookie(client_for, partner_a):
    client = client_for(partner_a)
    response = client.post(URL, {"theme": "dark", "next": reverse("history")})
    assert (response.status_code, response["Location"]) == (302, reverse("history"))
    cookie = response.cookies[THEME_COOKIE]
    assert cookie.value == "dark"
    # A year, the server's alone to read, and not sent along from other sites' pages.
    assert (cookie["max-age"], cookie["httponly"], cookie["samesite"]) == (365 * 24 * 60 * 60, True, "Lax")


def test_the_script_sends_no_next_and_gets_204(client_for, partner_a):
    response = client_for(partner_a).post(URL, {"theme": "light"})
    assert response.status_code == 204
    assert response.cookies[THEME_COOKIE].value == "light"


def test_system_forgets_the_choice(client_for, partner_a):
    client = client_for(partner_a)
    client.cookies[THEME_COOKIE] = "dark"
    response = client.post(URL, {"theme": "system"})
    cookie = response.cookies[THEME_COOKIE]
    assert (cookie.value, cookie["max-age"]) == ("", 0)


@pytest.mark.parametrize("theme", ["", "blue", "DARK"])
def test_an_unknown_theme_is_refused_and_nothing_stored(client_for, partner_a, theme):
    response = client_for(partner_a).post(URL, {"theme": theme})
    assert response.status_code == 400
    assert THEME_COOKIE not in response.cookies


def test_next_elsewhere_lands_home(client_for, therapist):
    response = client_for(therapist).post(URL, {"theme": "dark", "next": "https://elsewhere.example/"})
    assert (response.status_code, response["Location"]) == (302, reverse("home"))


@pytest.mark.parametrize(
    "cookie,bs_theme,scheme",
    [
        ("dark", ' data-bs-theme="dark"', "dark"),
        ("light", ' data-bs-theme="light"', "light"),
        # No choice (or nonsense): the device decides. theme.js sets data-bs-theme before the first paint;
        # the browser's own canvas already follows the device through the color-scheme meta.
        (None, "", "light dark"),
        ("mauve", "", "light dark"),
    ],
)
def test_the_first_byte_carries_the_choice(client_for, partner_a, cookie, bs_theme, scheme):
    client = client_for(partner_a)
    if cookie:
        client.cookies[THEME_COOKIE] = cookie
    response = client.get(reverse("home"))
    expected_choice = cookie if cookie in ("dark", "light") else "system"
    assert html_tag(response) == f'<html lang="en" data-tend-theme="{expected_choice}"{bs_theme}>'
    assert color_scheme_meta(response) == scheme
    # theme.js runs before the stylesheets are applied: in <head>, not deferred (it must beat the paint).
    head = response.content.decode().split("</head>")[0]
    assert re.search(r'<script src="/static/tend/theme\.js"></script>', head)


def test_the_sign_in_page_is_dark_too(client):
    client.cookies[THEME_COOKIE] = "dark"
    assert 'data-bs-theme="dark"' in html_tag(client.get(reverse("account_login")))


def test_the_menu_offers_the_three_with_the_current_one_checked(client_for, partner_a):
    client = client_for(partner_a)
    client.cookies[THEME_COOKIE] = "light"
    page = client.get(reverse("history")).content.decode()
    options = re.findall(r'<option value="(\w+)"( selected)?>', page)
    assert options == [("system", ""), ("light", " selected"), ("dark", "")]
    assert f'name="next" value="{reverse("history")}"' in page


def test_signing_out_keeps_the_choice(client_for, partner_a):
    client = client_for(partner_a)
    client.post(URL, {"theme": "dark"})
    response = client.post(reverse("account_logout"))
    assert THEME_COOKIE not in response.cookies  # neither deleted nor changed
    assert 'data-bs-theme="dark"' in html_tag(client.get(reverse("account_login")))
