"""``check``'s verdicts against real browsers: the answers a real Starlette server gave are
replayed by the harness's target to real Chromium, Firefox and WebKit, which must agree with
the prediction check printed; and real Chromium fetches the Starlette server itself."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.harness.verify import verify
from app.troubleshoot.probe import CheckRequest, check
from tests.helpers import headless_chromium
from tests.troubleshoot.servers import Servers, cors_servers

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    with cors_servers() as started:
        yield started


def requests(servers: Servers) -> list[CheckRequest]:
    page = servers.page
    return [
        CheckRequest(servers.url("strict"), page),
        CheckRequest(servers.url("strict"), "http://evil.test"),
        CheckRequest(servers.url("strict"), page, "PUT", (("X-Token", "1"),)),
        CheckRequest(servers.url("strict"), page, "DELETE"),
        CheckRequest(servers.url("wildcard"), page, credentials="include"),
        CheckRequest(servers.url("credentials"), page, "PATCH", (("X-A", "1"),), "include"),
        CheckRequest(servers.url("none"), page, "PUT"),
    ]


@pytest.mark.parametrize("browser", ["chromium", "firefox", "webkit"])
def test_real_browsers_agree_with_checks_verdict_on_the_real_answers(
    servers: Servers, browser: str
) -> None:
    scenarios = []
    predicted = []
    for request in requests(servers):
        (outcome,) = check(request, [browser])
        assert outcome.scenario is not None and outcome.error is None
        scenarios.append(outcome.scenario)
        predicted.append(outcome.predictions[browser])
    _, results = verify(scenarios, browser)
    for prediction, result in zip(predicted, results, strict=True):
        assert result["agree"], result["disagreements"]
        assert result["observation"]["outcome"] == prediction.outcome
    assert {p.outcome for p in predicted} == {"allowed", "blocked"}


def test_real_chromium_fetching_the_server_itself_agrees(servers: Servers) -> None:
    cases = [r for r in requests(servers) if r.origin == servers.page]
    with headless_chromium() as browser:
        page = browser.new_page()
        page.goto(servers.page + "/page")
        for request in cases:
            (outcome,) = check(request, ["chromium"])
            prediction = outcome.predictions["chromium"]
            seen = page.evaluate(
                """async ([url, init]) => {
                    try { const r = await fetch(url, init); return "allowed"; }
                    catch (e) { return "blocked"; } }""",
                [
                    request.url,
                    {
                        "method": request.method,
                        "headers": [list(h) for h in request.headers],
                        "credentials": request.credentials,
                    },
                ],
            )
            assert seen == prediction.outcome, (request, prediction.blocked_by)
