"""The web app manifest and its icons: public, served as static files, and every icon it names exists."""

import json

from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.urls import reverse


def test_manifest_names_existing_icons_and_opens_at_home():
    path = finders.find("tend/manifest.webmanifest")
    manifest = json.loads(open(path, encoding="utf-8").read())  # noqa: SIM115
    assert (manifest["start_url"], manifest["display"]) == ("/", "standalone")
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes  # what browsers need to offer "Add to home screen"
    for icon in manifest["icons"]:
        assert finders.find(f"tend/{icon['src']}"), icon["src"]


def test_every_page_links_the_manifest_without_sign_in(client, db):
    html = client.get(reverse("account_login")).content.decode()
    assert f'<link rel="manifest" href="{static("tend/manifest.webmanifest")}">' in html
    assert client.get(static("tend/manifest.webmanifest")).status_code == 200
    assert client.get(static("tend/icon-192.png")).status_code == 200
