"""Several app hosts behind one proxy (docs/DEPLOY.md, "Beyond one machine"): what each host must agree
on. `make bench BENCH_INSTANCES=2` shows the same end to end with two gunicorn instances."""

from django.test import Client, override_settings
from django.urls import reverse

from tests.config.test_deployment import production_settings
from tests.factories import PASSWORD

PROXY = "10.0.0.2"  # every request reaches Tend from the proxy's address


def test_behind_a_proxy_allauth_reads_the_address_the_proxy_appended(monkeypatch):
    assert production_settings(monkeypatch, DJANGO_BEHIND_PROXY="1")["ALLAUTH_TRUSTED_PROXY_COUNT"] == 1
    # Without a proxy a client-sent X-Forwarded-For is never believed.
    assert production_settings(monkeypatch)["ALLAUTH_TRUSTED_PROXY_COUNT"] == 0


def _fail_ten_sign_ins(address: str) -> None:
    client = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=address)
    for n in range(10):  # a different account each time: only the per-address limit (10 a minute) is hit
        client.post(reverse("account_login"), {"login": f"nobody{n}@example.org", "password": "wrong-password"})


def _signs_in(who, address: str) -> bool:
    client = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=address)
    response = client.post(reverse("account_login"), {"login": who.email, "password": PASSWORD})
    return response.status_code == 302


@override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=1)
def test_one_clients_failed_sign_ins_do_not_lock_out_the_others(partner_a):
    _fail_ten_sign_ins("203.0.113.5")
    assert not _signs_in(partner_a.user, "203.0.113.5")  # that address has had its ten tries
    assert _signs_in(partner_a.user, "198.51.100.7")  # another client, through the same proxy


@override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=0)
def test_without_it_everyone_behind_the_proxy_shares_one_limit(partner_a):
    _fail_ten_sign_ins("203.0.113.5")
    assert not _signs_in(partner_a.user, "198.51.100.7")
