"""Behind the proxy, the client's address is the one our proxy added to X-Forwarded-For, not the client's claim.

nginx's `$proxy_add_x_forwarded_for` appends the peer's address to whatever X-Forwarded-For the client
sent, so the left-most entry is whatever the client chose. The access log, django-axes' lockouts and
the throttle all take the right-most ATTEST_TRUSTED_PROXY_COUNT-th entry instead.
"""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory
from django.urls import reverse

from cases.models import AccessLog
from core.net import client_ip
from tests.factories import PASSWORD, EvidenceItemFactory, UserFactory
from tests.test_settings import run_python

PROXY = "127.0.0.1"  # nginx on the same host: every request's REMOTE_ADDR


@pytest.fixture
def behind_proxy(settings):
    """What BEHIND_PROXY=1 sets up, with one proxy of ours in front."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.ATTEST_TRUSTED_PROXY_COUNT = 1
    return settings


def through_proxy(client_address: str, forged: str = "") -> dict:
    """The headers a request from `client_address` carries once nginx passed it on."""
    forwarded = f"{forged}, {client_address}" if forged else client_address
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": forwarded}


@pytest.mark.django_db
def test_a_forged_left_most_entry_does_not_change_the_logged_address(api, team, behind_proxy):
    item = EvidenceItemFactory(case=team.case)
    api(team.charlie).get(f"/api/v1/evidence-items/{item.pk}/", **through_proxy("203.0.113.7", forged="10.0.0.1"))
    assert AccessLog.objects.filter(action="denied").latest("pk").ip == "203.0.113.7"


@pytest.mark.django_db
def test_a_lockout_is_per_client_address_and_forged_entries_do_not_escape_it(client, behind_proxy):
    from axes.models import AccessAttempt

    UserFactory(username="dmytro")
    login = reverse("admin:login")
    for attempt in range(5):  # each with another forged address, as an attacker would send
        extra = through_proxy("203.0.113.7", forged=f"10.0.0.{attempt}")
        client.post(login, {"username": "dmytro", "password": "not the password"}, **extra)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}
    extra = through_proxy("203.0.113.7", forged="10.9.9.9")
    locked = client.post(login, {"username": "dmytro", "password": PASSWORD}, **extra)
    assert locked.status_code == 429
    # The real user, from elsewhere behind the same proxy, is not locked out by someone else's guesses.
    from django.test import Client

    signed_in = Client().post(login, {"username": "dmytro", "password": PASSWORD}, **through_proxy("198.51.100.9"))
    assert signed_in.status_code == 302
    assert AccessLog.objects.filter(action="sign_in", username="dmytro").latest("pk").ip == "198.51.100.9"


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "10.0.0.1, 10.0.0.2,203.0.113.7", "203.0.113.7"),
        (2, "10.0.0.1, 203.0.113.7, 192.0.2.1", "203.0.113.7"),  # a load balancer, then nginx
        (2, "203.0.113.7", "203.0.113.7"),  # fewer entries than proxies: every one is a proxy's
        (1, "2001:db8::1", "2001:db8::1"),
        (1, "10.0.0.1, not-an-address", PROXY),  # no proxy of ours wrote that: the peer's address
        (1, "", PROXY),
        (0, "10.0.0.1", PROXY),  # not behind a proxy: the header is the client's alone
    ],
)
def test_the_entry_taken_is_the_one_the_outermost_trusted_proxy_added(settings, count, forwarded, expected):
    settings.ATTEST_TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_the_anonymous_throttle_key_ignores_forged_entries(behind_proxy):
    from core.api.throttling import TokenRateThrottle

    request = RequestFactory().get("/", **through_proxy("203.0.113.7", forged="10.0.0.1"))
    assert TokenRateThrottle().get_ident(request) == "203.0.113.7"
    # An IPv6 client holds a whole /64: any address inside it is the same client.
    request = RequestFactory().get("/", **through_proxy("2001:db8:7:8:9::1", forged="10.0.0.1"))
    assert TokenRateThrottle().get_ident(request) == "2001:db8:7:8::/64"


def test_behind_proxy_trusts_one_proxy_unless_told_otherwise():
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.ATTEST_TRUSTED_PROXY_COUNT, s.AXES_CLIENT_IP_CALLABLE]))"
    )

    def trusted(**env: str):
        result = run_python(code, **{"DEBUG": "1", "BEHIND_PROXY": "", "ATTEST_TRUSTED_PROXY_COUNT": "", **env})
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    assert trusted() == [0, "core.net.client_ip"]
    assert trusted(BEHIND_PROXY="1")[0] == 1
    assert trusted(BEHIND_PROXY="1", ATTEST_TRUSTED_PROXY_COUNT="2")[0] == 2
