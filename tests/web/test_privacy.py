"""A run id is a capability: sharing a run shares that run, nothing more.

The run's page, its JSON and the card answered to a result posted with only the run id name no
session (so they lead to none of its other runs) and show the credentials the learner's browser
sent (cookies, authorization) only redacted; the session's own page and console show them whole.
"""

from __future__ import annotations

import re

import httpx

from app.web.server import BackgroundServer
from tests.web.conftest import new_session

COOKIE = "theme=dark; sessionid=s3cr3t-cookie-value"
AUTHORIZATION = "Bearer s3cr3t-token"
PROXY_AUTHORIZATION = "Basic cHJveHk6czNjcjN0"
SECRETS = ("s3cr3t-cookie-value", "s3cr3t-token", "cHJveHk6czNjcjN0")
# A preflighted PUT the server does not allow: blocked, so the card offers a fix.
SCENARIO = {"request": {"method": "PUT", "headers": [["X-Token", "1"]]}}


def start_run(client: httpx.Client, live: BackgroundServer, sid: str) -> dict[str, str]:
    """A run of the session, both legs answered with the browser's credentials on them."""
    form = {"method": "PUT", "rq_name": "X-Token", "rq_value": "1", "target": "same"}
    created = client.post(f"{live.site_url}/sessions/{sid}/runs", data=form)
    assert created.status_code == 201, created.text
    doc: dict[str, str] = created.json()
    credentials = {
        "Cookie": COOKIE,
        "Authorization": AUTHORIZATION,
        "Proxy-Authorization": PROXY_AUTHORIZATION,
        "Origin": live.site_url,
    }
    preflight = {
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "x-token",
    }
    client.options(doc["target"], headers={**credentials, **preflight})
    client.put(doc["target"], headers={**credentials, "X-Token": "1"})
    return doc


BLOCKED = {"outcome": "blocked", "status": None, "headers": [], "body": None,
           "error": "TypeError: Failed to fetch"}  # fmt: skip


def test_a_run_link_reveals_neither_its_session_nor_the_browsers_credentials(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    run = start_run(client, live, sid)
    answered = client.post(f"{live.site_url}/runs/{run['run_id']}/result", json=BLOCKED)
    assert answered.status_code == 200
    page = client.get(f"{live.site_url}/runs/{run['run_id']}")
    document = client.get(f"{live.site_url}/api/runs/{run['run_id']}")
    assert page.status_code == document.status_code == 200
    for shown in (page.text, document.text, answered.text):
        assert sid not in shown
        assert not any(secret in shown for secret in SECRETS)
        assert f"(redacted: 2 cookies, {len(COOKIE)} bytes)" in shown
        assert f"(redacted: {len(AUTHORIZATION)} bytes)" in shown
        assert f"(redacted: {len(PROXY_AUTHORIZATION)} bytes)" in shown
    # The fix opens in a new session.
    assert re.search(r'class="fix-try" href="/\?s=[\w-]+"', page.text)
    legs = document.json()["exchanges"]
    assert [dict(leg["request"]["headers"])["cookie"] for leg in legs] == [
        f"(redacted: 2 cookies, {len(COOKIE)} bytes)"
    ] * 2


def test_the_sessions_own_page_and_console_show_every_header(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    run = start_run(client, live, sid)
    # The session's page posts its result to the session's own URL and shows the answered card.
    assert run["result"] == f"/sessions/{sid}/runs/{run['run_id']}/result"
    answered = client.post(f"{live.site_url}{run['result']}", json=BLOCKED)
    assert answered.status_code == 200
    own = [
        answered.json()["card"],
        client.get(f"{live.site_url}/sessions/{sid}").text,
        client.get(f"{live.api_url}/console/{sid}").text,
    ]
    for shown in own:
        assert all(secret in shown for secret in SECRETS)
    assert f'class="fix-try" href="/sessions/{sid}?s=' in own[0]
    # Another session cannot use that URL for this run.
    other = new_session(client, live)
    again = client.post(f"{live.site_url}/sessions/{other}/runs/{run['run_id']}/result", json={})
    assert again.status_code == 404


def test_the_api_page_says_a_run_id_is_a_capability(
    client: httpx.Client, live: BackgroundServer
) -> None:
    page = client.get(f"{live.site_url}/api").text
    assert "capability" in page and "redacted" in page
