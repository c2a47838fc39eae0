"""The troubleshooting page: paste a console error, upload a HAR, and (only with
--allow-check) check a real server; every result opens in the composer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

import httpx
import pytest

from app.cli import build_parser
from app.web.server import BackgroundServer
from tests.troubleshoot.servers import Servers, cors_servers
from tests.web.conftest import new_session

CHROMIUM = (
    "Access to fetch at 'https://api.example/items' from origin 'https://app.example' has been "
    "blocked by CORS policy: Response to preflight request doesn't pass access control check: "
    "It does not have HTTP ok status."
)


def page_of(client: httpx.Client, live: BackgroundServer) -> str:
    return f"{live.site_url}/sessions/{new_session(client, live)}/troubleshoot"


def test_the_page_offers_the_three_starting_points(
    client: httpx.Client, live: BackgroundServer
) -> None:
    page = client.get(page_of(client, live))
    assert page.status_code == 200
    for section in ('id="console"', 'id="har"', 'id="check"'):
        assert section in page.text
    assert 'id="check-off"' in page.text  # no server check without --allow-check
    assert "--allow-check" in page.text


def test_every_page_links_to_it(client: httpx.Client, live: BackgroundServer) -> None:
    sid = new_session(client, live)
    assert (
        f'href="/sessions/{sid}/troubleshoot"' in client.get(f"{live.site_url}/sessions/{sid}").text
    )
    start = client.get(f"{live.site_url}/troubleshoot", follow_redirects=True)
    assert start.status_code == 200 and 'id="console"' in start.text


def test_a_pasted_error_gives_the_check_the_fix_and_a_scenario(
    client: httpx.Client, live: BackgroundServer
) -> None:
    url = page_of(client, live)
    answer = client.post(url + "/console", data={"text": CHROMIUM})
    assert answer.status_code == 200
    assert 'data-check="PreflightInvalidStatus"' in answer.text
    assert "Answer the preflight with" in answer.text  # the fix
    assert "FastAPI / Starlette CORSMiddleware" in answer.text
    link = unescape(re.search(r'class="open-scenario" href="([^"]+)"', answer.text)[1])
    opened = client.get(live.site_url + link)
    assert opened.status_code == 200 and 'aria-invalid="true"' not in opened.text


def test_unknown_text_is_said_to_be_unknown(client: httpx.Client, live: BackgroundServer) -> None:
    answer = client.post(page_of(client, live) + "/console", data={"text": "TypeError: oops"})
    assert answer.status_code == 422
    assert "not a CORS message this tool knows" in answer.text


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"har": ("x.har", b"{not json", "application/json")}, "not valid JSON"),
        ({"har": ("x.har", b'{"log": {}}', "application/json")}, "no “entries” list"),
        ({"other": ("x.txt", b"1", "text/plain")}, "choose a .har file"),
    ],
    ids=["broken", "no-entries", "no-file"],
)
def test_a_bad_upload_is_refused_with_a_reason(
    client: httpx.Client, live: BackgroundServer, files: dict[str, object], message: str
) -> None:
    answer = client.post(
        page_of(client, live) + "/har", files=files, headers={"accept": "text/html"}
    )
    assert answer.status_code == 400
    assert message.lower() in unescape(answer.text).lower()


def test_the_server_check_is_off_by_default(client: httpx.Client, live: BackgroundServer) -> None:
    answer = client.post(
        page_of(client, live) + "/check",
        data={"url": "http://127.0.0.1:9/", "origin": "http://a.test"},
    )
    assert answer.status_code == 403
    assert "--allow-check" in answer.text


def test_serve_takes_the_option() -> None:
    assert build_parser().parse_args(["serve"]).allow_check is False
    assert build_parser().parse_args(["serve", "--allow-check"]).allow_check is True


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    with cors_servers() as started:
        yield started


def test_with_allow_check_the_page_checks_a_real_server(servers: Servers) -> None:
    with BackgroundServer(allow_check=True) as live, httpx.Client(timeout=20) as client:
        url = page_of(client, live)
        assert 'id="check-off"' not in client.get(url).text
        answer = client.post(
            url + "/check",
            data={"url": servers.url("strict"), "origin": "http://evil.test", "method": "GET"},
        )
        assert answer.status_code == 200
        assert answer.text.count('data-outcome="blocked"') == 3
        assert "MissingAllowOriginHeader" in answer.text
        link = unescape(re.search(r'class="open-scenario" href="([^"]+)"', answer.text)[1])
        assert client.get(live.site_url + link).status_code == 200
        refused = client.post(url + "/check", data={"url": "ftp://x/", "origin": "http://a.b"})
        assert refused.status_code == 422
