"""The page's origins come from the host name its request used: a workshop's LAN name or
address is the page's own origin, the API origin and the security headers follow it.

Requests go to the loopback sockets with the ``Host`` header a browser on the LAN would send.
"""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from app.runs.origins import is_loopback, parse_host
from app.web.app import create_app
from app.web.config import Settings
from app.web.server import BackgroundServer, banner
from tests.web.conftest import new_session


def page(client: httpx.Client, live: BackgroundServer, sid: str, host: str) -> httpx.Response:
    """The session's playground page as a browser at ``host`` asks for it."""
    port = live.settings.site_port
    return client.get(f"http://127.0.0.1:{port}/sessions/{sid}", headers={"Host": host})


def directive(csp: str, name: str) -> list[str]:
    for part in csp.split(";"):
        words = part.split()
        if words and words[0] == name:
            return words[1:]
    raise AssertionError(f"no {name} in {csp}")


def test_a_page_opened_under_a_lan_name_is_that_origin(
    client: httpx.Client, live: BackgroundServer
) -> None:
    """Opened as http://laptop.local:<port>/, the page says so, pre-fills its own origin as
    Allow-Origin (the default run is allowed) and its CSP allows the API origin on that name."""
    sid = new_session(client, live)
    site, api = live.settings.site_port, live.settings.api_port
    answer = page(client, live, sid, f"laptop.local:{site}")
    assert answer.status_code == 200
    text = answer.text
    assert (
        f"This page: <code>http://laptop.local:{site}</code> → "
        f"API origin: <code>http://laptop.local:{api}</code>"
    ) in text
    allowed = re.findall(r'name="(?:pf|rs)_value" value="([^"]*)"', text)
    assert allowed.count(f"http://laptop.local:{site}") == 2, allowed
    assert "127.0.0.1" not in " ".join(allowed)
    csp = answer.headers["content-security-policy"]
    assert directive(csp, "connect-src") == ["'self'", f"http://laptop.local:{api}"]
    attacker = live.settings.attacker_port  # a room's attack question frames the attacker
    assert directive(csp, "frame-src") == [f"http://laptop.local:{api}", f"http://laptop.local:{attacker}"]

    # The page's server console, on the API origin under the same name, may be framed by it.
    console = client.get(
        f"http://127.0.0.1:{api}/console/{sid}", headers={"Host": f"laptop.local:{api}"}
    )
    assert console.status_code == 200
    ancestors = directive(console.headers["content-security-policy"], "frame-ancestors")
    assert ancestors == [f"http://laptop.local:{site}"]
    assert f'href="http://laptop.local:{site}/sessions/{sid}"' in console.text


def test_a_send_from_a_lan_name_targets_the_api_origin_on_that_name(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    site, api = live.settings.site_port, live.settings.api_port
    created = client.post(
        f"http://127.0.0.1:{site}/sessions/{sid}/runs",
        data={"method": "GET", "target": "cross"},  # no other name off loopback: same-site
        headers={"Host": f"192.0.2.7:{site}"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["target"].startswith(f"http://192.0.2.7:{api}/r/")


def test_the_loopback_pages_keep_both_names(client: httpx.Client, live: BackgroundServer) -> None:
    sid = new_session(client, live)
    site, api = live.settings.site_port, live.settings.api_port
    csp = page(client, live, sid, f"localhost:{site}").headers["content-security-policy"]
    assert directive(csp, "connect-src") == [
        "'self'", f"http://localhost:{api}", f"http://127.0.0.1:{api}"
    ]


def test_an_ipv6_page_allows_its_api_port_by_wildcard(
    client: httpx.Client, live: BackgroundServer
) -> None:
    """A CSP host-source cannot name an IPv6 address: the API origin's port on any host
    (which Chromium, Firefox and WebKit match against [::1])."""
    sid = new_session(client, live)
    site, api = live.settings.site_port, live.settings.api_port
    answer = page(client, live, sid, f"[::1]:{site}")
    assert f"This page: <code>http://[::1]:{site}</code>" in answer.text
    csp = answer.headers["content-security-policy"]
    assert directive(csp, "connect-src") == ["'self'", f"http://*:{api}"]


def test_a_host_without_a_port_is_the_default_port(
    client: httpx.Client, live: BackgroundServer
) -> None:
    """Behind a proxy on port 80 the browser's origin has no port."""
    sid = new_session(client, live)
    answer = page(client, live, sid, "playground.lan")
    assert "This page: <code>http://playground.lan</code>" in answer.text


@pytest.mark.parametrize(
    "host, coop",
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.0.0.5", True),
        ("[::1]", True),
        ("192.0.2.7", False),
        ("laptop.local", False),
    ],
)
def test_coop_only_where_the_origin_is_potentially_trustworthy(
    client: httpx.Client, live: BackgroundServer, host: str, coop: bool
) -> None:
    """Browsers ignore Cross-Origin-Opener-Policy on plain http off loopback, and print an
    error in the console a learner is told to read: it is sent only where it takes effect."""
    sid = new_session(client, live)
    site, api = live.settings.site_port, live.settings.api_port
    answers = [
        page(client, live, sid, f"{host}:{site}"),
        client.get(f"http://127.0.0.1:{api}/console/{sid}", headers={"Host": f"{host}:{api}"}),
    ]
    for answer in answers:
        assert answer.status_code == 200
        assert ("cross-origin-opener-policy" in answer.headers) is coop, answer.url
        assert answer.headers["x-content-type-options"] == "nosniff"


def test_host_headers_are_parsed_as_browsers_send_them() -> None:
    assert parse_host("laptop.local:8310") == ("laptop.local", 8310)
    assert parse_host("LAPTOP.Local") == ("laptop.local", None)
    assert parse_host("[::1]:8000") == ("::1", 8000)
    assert parse_host("192.0.2.7:80") == ("192.0.2.7", 80)
    for bad in ("", "a b", "::1", "[::1", "host:", "host:0", "host:65536", "1.2.3", "300.1.1.1",
                "-x", "a..b", "évil", "[fe80::1%eth0]", "x" * 64, "h:1:2", "h/x"):  # fmt: skip
        assert parse_host(bad) is None, bad
    assert [is_loopback(h) for h in ("localhost", "app.localhost", "127.9.9.9", "::1")] == [
        True, True, True, True
    ]
    assert not any(is_loopback(h) for h in ("192.0.2.7", "laptop.local", "localhost.example"))


def test_listening_on_every_interface_serves_each_name_attendees_use() -> None:
    """The Docker image listens on 0.0.0.0: an attendee's page at the machine's LAN address
    is that origin, and its runs target the API origin at the same address."""

    async def visit(host: str) -> tuple[str, str]:
        app = create_app(Settings(host="0.0.0.0"))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{host}") as c:
            started = await c.get("/", follow_redirects=True)
            created = await c.post(
                started.url.path + "/runs", data={"method": "GET"}, headers={"Accept": "json"}
            )
            return started.text, created.json()["target"]

    text, target = asyncio.run(visit("192.0.2.7:8000"))
    assert "This page: <code>http://192.0.2.7:8000</code>" in text
    assert "API origin: <code>http://192.0.2.7:8001</code>" in text
    assert target.startswith("http://192.0.2.7:8001/r/")


def test_the_banner_says_how_other_machines_reach_a_wildcard_address() -> None:
    everywhere = "\n".join(banner(Settings(host="0.0.0.0")))
    assert "open http://localhost:8000/" in everywhere
    assert "from other machines: http://<this machine's name or address>:8000/" in everywhere
    assert "other machines" not in "\n".join(banner(Settings(host="127.0.0.1")))
