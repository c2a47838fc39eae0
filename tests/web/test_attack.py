"""The attack lab over HTTP: the third origin and its CSP, the victim API's login cookies and
its answers (the policy for the Origin that arrived, nothing added, every leg recorded), the
lab's policy form and fix, and the command line's attacker port."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from app.attack import Attack, Policy
from app.cli import attacker_port, build_parser
from app.web.config import Settings
from app.web.server import BackgroundServer, banner
from tests.web.conftest import new_session

REPO = Path(__file__).resolve().parents[2]


def stored(live: BackgroundServer, attack_id: str) -> Attack:
    """The attack as the playground keeps it now."""
    attack = live.call(live.playground.attacks.get(attack_id))
    assert attack is not None
    return attack


async def set_policy(live: BackgroundServer, attack_id: str, policy: Policy) -> None:
    async with live.playground.attacks.editing(attack_id) as attack:
        assert attack is not None
        attack.policy = policy


def lab(client: httpx.Client, live: BackgroundServer, host: str = "") -> tuple[str, str]:
    """A new session's attack lab (optionally as reached by another host name): its URL and
    the attack id."""
    sid = new_session(client, live)
    url = f"{live.site_url}/sessions/{sid}/attack"
    headers = {"Host": f"{host}:{live.settings.site_port}"} if host else {}
    page = client.get(url, headers=headers)
    assert page.status_code == 200, page.text[:300]
    found = re.search(r'data-events="/sessions/([^/"]+)/events"', page.text)
    assert found is not None
    return url, found.group(1)


def test_three_ports_three_origins(live: BackgroundServer, client: httpx.Client) -> None:
    settings = live.settings
    assert len({settings.site_port, settings.api_port, settings.attacker_port}) == 3
    assert "attacker" in client.get(f"{settings.attacker_url}/").text
    assert client.get(f"{settings.attacker_url}/attack").status_code == 404  # the site's page
    assert client.get(f"{live.site_url}/attack", follow_redirects=False).status_code == 303
    assert f"  attacker origin (attack lab): {settings.attacker_url}" in banner(settings)


def test_the_attacker_s_pages_reach_only_the_playground_s_origins(
    live: BackgroundServer, client: httpx.Client
) -> None:
    _, aid = lab(client, live)
    page = client.get(f"{live.settings.attacker_url}/a/{aid}")
    policy = dict(
        part.strip().split(" ", 1) for part in page.headers["content-security-policy"].split(";")
    )
    port = live.settings
    attackers = f"http://localhost:{port.attacker_port} http://127.0.0.1:{port.attacker_port}"
    apis = f"http://localhost:{port.api_port} http://127.0.0.1:{port.api_port}"
    assert policy["default-src"] == "'none'"
    assert policy["connect-src"] == f"'self' {attackers} {apis}"
    assert policy["script-src"] == f"'self' {attackers}"
    # Framed by the attacker's origin, or by the site's pages (a room's attack question).
    sites = f"http://localhost:{port.site_port} http://127.0.0.1:{port.site_port}"
    assert policy["frame-ancestors"] == f"{attackers} {sites}" and policy["form-action"] == "'none'"
    # The frame is sandboxed by its own policy too, whoever opens it.
    run_id = client.post(f"{port.attacker_url}/a/{aid}/rounds").json()["attempts"][1]["run_id"]
    frame = client.get(f"{port.attacker_url}/a/{aid}/frame/{run_id}")
    assert "sandbox allow-scripts" in frame.headers.get_list("content-security-policy")


def test_login_sets_the_secure_cookie_only_where_a_browser_keeps_it(
    live: BackgroundServer, client: httpx.Client
) -> None:
    url, aid = lab(client, live)
    login = client.get(f"{live.api_url}/victim/{aid}/login", follow_redirects=False)
    assert login.status_code == 303 and login.headers["location"] == url
    cookies = login.headers.get_list("set-cookie")
    assert [c.split("=")[0] for c in cookies] == [cookies[0].split("=")[0]] * 1 + [
        cookies[0].split("=")[0] + "_lax"
    ]
    assert cookies[0].endswith("SameSite=None; Secure") and cookies[1].endswith("SameSite=Lax")
    on_lan = client.get(
        f"{live.api_url}/victim/{aid}/login?go=attacker",
        headers={"Host": f"laptop.local:{live.settings.api_port}"},
        follow_redirects=False,
    )
    assert [c.rsplit("; ", 1)[1] for c in on_lan.headers.get_list("set-cookie")] == ["SameSite=Lax"]
    assert on_lan.headers["location"] == f"{live.settings.attacker_url}/a/{aid}"
    assert client.get(f"{live.api_url}/victim/{aid}/login?go=evil").status_code == 422


def test_the_account_answers_the_origin_that_arrived_and_records_the_leg(
    live: BackgroundServer, client: httpx.Client
) -> None:
    _, aid = lab(client, live)  # the default policy reflects any Origin with credentials
    attempts = client.post(f"{live.settings.attacker_url}/a/{aid}/rounds").json()["attempts"]
    url = attempts[0]["url"]
    anonymous = client.get(url, headers={"Origin": "http://evil.example"})
    assert anonymous.status_code == 401 and "not logged in" in anonymous.text
    assert anonymous.headers["access-control-allow-origin"] == "http://evil.example"
    # Only what the policy and the account say: no page security headers on the victim's answers.
    assert "content-security-policy" not in anonymous.headers
    assert "x-content-type-options" not in anonymous.headers
    login = client.get(f"{live.api_url}/victim/{aid}/login", follow_redirects=False)
    lax = login.headers.get_list("set-cookie")[1].split(";")[0]
    attack = live.call(live.playground.attacks.get(aid))
    assert attack is not None
    signed = client.get(url, headers={"Origin": "null", "Cookie": lax})
    assert signed.status_code == 200 and attack.secret in signed.text
    assert signed.headers["access-control-allow-origin"] == "null"
    preflight = client.options(
        url, headers={"Origin": "http://a.example", "Access-Control-Request-Method": "PUT"}
    )
    assert preflight.status_code == 204 and preflight.content == b""
    run = live.call(live.playground.store.run(attempts[0]["run_id"]))
    assert run is not None
    legs = [(e.kind, e.request.header("origin"), e.response.status) for e in run.exchanges]
    assert legs == [
        ("actual", "http://evil.example", 401),
        ("actual", "null", 200),
        ("preflight", "http://a.example", 204),
    ]
    assert attack.cookies_carried(run.exchanges[1].request.header("cookie")) == ("same-site",)
    sent = dict(run.exchanges[1].response.headers)
    assert sent["Access-Control-Allow-Credentials"] == "true"
    assert sent["Content-Length"] == str(len(signed.content))
    # An exact allow-list answers the same request without Access-Control-Allow-Origin.
    live.call(set_policy(live, attack.id, Policy("list", True, allowed=(live.site_url,))))
    refused = client.get(url, headers={"Origin": "null", "Cookie": lax})
    assert refused.status_code == 200 and "access-control-allow-origin" not in refused.headers
    assert refused.headers["vary"] == "Origin"


def test_the_policy_form_and_the_fix(live: BackgroundServer, client: httpx.Client) -> None:
    url, aid = lab(client, live)
    attack = live.call(live.playground.attacks.get(aid))
    assert attack is not None and attack.case == "reflect"
    chosen = client.post(f"{url}/policy", data={"case": "null"}, follow_redirects=False)
    assert chosen.status_code == 303 and chosen.headers["location"].endswith("/attack#steps")
    assert stored(live, aid).policy == Policy("list", True, allowed=(live.site_url, "null"))
    written = client.post(
        f"{url}/policy",
        data={
            "case": "custom",
            "rule": "rows",
            "row_name": ["Access-Control-Allow-Origin", "", "Access-Control-Allow-Credentials"],
            "row_value": [live.settings.attacker_url, "", "true"],
            "where": "cross",
        },
        headers={"Accept": "application/json"},
    )
    attack = stored(live, aid)
    assert written.status_code == 200 and attack.case is None
    assert attack.stage.attacker == live.settings.attacker_url.replace("localhost", "127.0.0.1")
    assert attack.policy.rows == (
        ("Access-Control-Allow-Origin", live.settings.attacker_url),
        ("Access-Control-Allow-Credentials", "true"),
    )
    page = client.get(f"{url}/view").text
    assert 'data-change="exact"' in page and "moves the problem" in page
    fixed = client.post(f"{url}/fix", follow_redirects=False)
    assert fixed.status_code == 303
    attack = stored(live, aid)
    assert attack.policy == Policy("list", True, allowed=(live.site_url,))
    assert attack.case == "allow-list"
    assert 'id="apply-fix"' not in client.get(f"{url}/view").text  # nothing left to fix


def test_from_a_lan_name_the_attacker_stays_on_that_name(
    live: BackgroundServer, client: httpx.Client
) -> None:
    url, aid = lab(client, live, host="laptop.local")
    attack = live.call(live.playground.attacks.get(aid))
    assert attack is not None
    assert attack.stage.attacker == f"http://laptop.local:{live.settings.attacker_port}"
    refused = client.post(
        f"{url}/policy",
        data={"case": "reflect", "where": "cross"},
        headers={"Host": f"laptop.local:{live.settings.site_port}", "Accept": "application/json"},
    )
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "where"


def test_the_attacker_port_from_the_command_line_and_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert attacker_port(8001, None) == 8002 and attacker_port(0, None) == 0
    assert attacker_port(8001, 9000) == 9000 and attacker_port(65535, None) == 0
    assert build_parser().parse_args(["serve", "--attacker-port", "9100"]).attacker_port == 9100
    monkeypatch.setenv("CORS_PLAYGROUND_ATTACKER_PORT", "9200")
    assert build_parser().parse_args(["serve"]).attacker_port == 9200
    settings = Settings(host="127.0.0.1", site_port=1, api_port=2, attacker_port=3)
    assert settings.attacker_url == "http://127.0.0.1:3"
    assert settings.request_origins("laptop.local:3", 3).page == "http://laptop.local:1"


def test_a_taken_attacker_port_is_said_plainly() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1",
             "--site-port", "0", "--api-port", "0", "--attacker-port", str(port)],
            capture_output=True, text=True, timeout=30, cwd=REPO,
            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert f"cannot start the attacker origin: port {port}" in result.stderr
    assert "--attacker-port" in result.stderr and "CORS_PLAYGROUND_ATTACKER_PORT" in result.stderr


def test_the_attack_lessons_ask_first_then_run_the_lab_s_case(
    live: BackgroundServer, client: httpx.Client
) -> None:
    start = client.get(f"{live.site_url}/attack/lessons", follow_redirects=False)
    assert start.status_code == 303
    index = client.get(f"{live.site_url}{start.headers['location']}")
    assert index.text.count('<li data-slug="attack-') == 6
    sid = start.headers["location"].split("/sessions/")[1].split("/")[0]
    url = f"{live.site_url}/sessions/{sid}/attack/lessons/attack-null"
    page = client.get(url).text
    assert 'id="answer"' in page and 'id="steps"' not in page  # the question comes first
    aid = re.search(r'data-events="/sessions/([^/"]+)/events"', page)
    assert aid is not None
    attack = live.call(live.playground.attacks.get(aid.group(1)))
    assert attack is not None and attack.case == "null" and attack.lesson == "attack-null"
    bad = client.post(f"{url}/answer", data={"choice": "maybe"})
    assert bad.status_code == 422 and "Pick one of the answers" in bad.text
    answered = client.post(f"{url}/answer", data={"choice": "yes"}, follow_redirects=False)
    assert answered.status_code == 303 and answered.headers["location"].endswith("#run")
    page = client.get(url).text
    assert 'data-right="yes"' in page and 'id="steps"' in page and 'id="attack-live"' in page
    assert 'name="lesson" value="attack-null"' in page
    # The fix from the lesson comes back to the lesson, and opening it again keeps the fix.
    fix = f"{live.site_url}/sessions/{sid}/attack/fix"
    fixed = client.post(fix, data={"lesson": "attack-null"}, follow_redirects=False)
    assert fixed.headers["location"] == f"/sessions/{sid}/attack/lessons/attack-null#fix"
    client.get(url)
    assert stored(live, attack.id).case == "allow-list"
    # Another lesson sets its own case.
    client.get(f"{live.site_url}/sessions/{sid}/attack/lessons/attack-prefix")
    assert stored(live, attack.id).case == "prefix"
    progress = client.get(f"{live.site_url}/sessions/{sid}/attack/lessons").text
    assert 'data-answered="1"' in progress
    assert client.get(f"{live.site_url}/sessions/{sid}/attack/lessons/nope").status_code == 404
