"""The generated FastAPI/Starlette configuration, run: a Starlette CORSMiddleware built from the
generated keyword arguments answers the scenario's preflight and actual request; its answers go
back into the scenario as the server's, and the engine must let the request through (and let
JavaScript read the headers the page wants) in every browser."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Receive, Scope, Send

from app.cors import Prediction, Scenario, ServerResponse, predict
from app.cors.engines import ENGINES
from app.fix.configs import starlette, starlette_kwargs
from app.fix.policy import Policy, policy_for
from app.fix.search import find_fix
from tests.fix.conftest import LESSONS, generated_scenarios, sample_scenarios

HOP_BY_HOP = {"content-length", "transfer-encoding", "connection"}


def application(answer: ServerResponse) -> Any:
    """The app behind the middleware: the scenario's own response, without CORS headers."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [
            (n.lower().encode("latin-1"), v.encode("latin-1"))
            for n, v in answer.headers
            if not n.lower().startswith("access-control-") and n.lower() not in HOP_BY_HOP
        ]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    return app


def _answer(response: httpx.Response) -> ServerResponse:
    return ServerResponse(
        response.status_code,
        tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw),
    )


def _wire(headers: Any) -> list[tuple[bytes, bytes]]:
    """Header lines as the bytes a browser puts on the wire (isomorphic encoding)."""
    return [(n.encode("latin-1"), v.encode("latin-1")) for n, v in headers]


def client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")


async def _serve(scenario: Scenario, policy: Policy, browser: str) -> Scenario:
    middleware = CORSMiddleware(application(scenario.response), **starlette_kwargs(policy))
    prediction: Prediction = predict(scenario, browser)
    path = "/" + scenario.url.split("/", 3)[3] if scenario.url.count("/") >= 3 else "/"
    preflight_answer = scenario.preflight_response
    async with client(middleware) as api:
        if prediction.preflight_request is not None:
            sent = _wire(prediction.preflight_request.headers)
            preflight_answer = _answer(await api.request("OPTIONS", path, headers=sent))
        actual = [*prediction.request_headers, ("Origin", scenario.origin)]
        if scenario.request.credentials == "include":
            actual.append(("Cookie", "session=1"))
        body = None if scenario.request.body is None else scenario.request.body.encode("utf-8")
        response = await api.request(
            scenario.request.method, path, headers=_wire(actual), content=body
        )
    return Scenario(
        origin=scenario.origin,
        url=scenario.url,
        request=scenario.request,
        preflight_response=preflight_answer,
        response=_answer(response),
        id=scenario.id,
    )


def served_by_starlette(scenario: Scenario, policy: Policy, browser: str) -> Scenario:
    """The scenario with Starlette's answers to the browser's preflight and actual request."""
    return asyncio.run(_serve(scenario, policy, browser))


def check(scenario: Scenario, browser: str) -> int:
    """Run the generated configuration for the scenario's fix; 1 when it was exercised."""
    fix = find_fix(scenario, browser)
    policy = policy_for(fix)
    if policy is None:
        return 0
    for engine in (browser, *(e for e in ENGINES if e != browser)):
        served = served_by_starlette(fix.scenario, policy, engine)
        result = predict(served, engine)
        if result.outcome == "error":
            continue
        assert result.outcome == "allowed", (scenario.id, engine, result.failed_step)
        wanted = {w.lower() for w in fix.wanted}
        assert wanted <= set(result.readable_headers), (scenario.id, engine)
    return 1


@pytest.mark.parametrize("scenario", LESSONS, ids=[s.id or "" for s in LESSONS])
def test_the_generated_starlette_config_lets_each_lesson_through(scenario: Scenario) -> None:
    check(scenario, "chromium")


@pytest.mark.parametrize("browser", ["chromium", "firefox"])
def test_the_generated_starlette_config_lets_generated_scenarios_through(browser: str) -> None:
    scenarios = sample_scenarios() + generated_scenarios(300, seed=11)
    exercised = sum(check(s, browser) for s in scenarios)
    assert exercised > 300


def test_the_config_text_is_the_kwargs_that_were_run() -> None:
    lesson = next(s for s in LESSONS if s.id == "reflect-any-origin-with-credentials")
    policy = policy_for(find_fix(lesson))
    assert policy is not None
    kwargs = starlette_kwargs(policy)
    text = starlette(policy).code
    namespace: dict[str, Any] = {}
    call = text.split("app.add_middleware(", 1)[1].rsplit(")", 1)[0]
    exec(  # the rendered call, evaluated with a stand-in for add_middleware
        "def capture(_cls, **kw):\n    return kw\nresult = capture(" + call + ")",
        {"CORSMiddleware": CORSMiddleware},
        namespace,
    )
    assert namespace["result"] == kwargs
    assert kwargs["allow_credentials"] is True
    assert kwargs["allow_origins"] == ["http://localhost:8000"]


def test_starlette_reflects_any_origin_with_credentials_and_star() -> None:
    """The surprise the notes warn about, shown by running Starlette itself."""
    middleware = CORSMiddleware(
        application(ServerResponse()), allow_origins=["*"], allow_credentials=True
    )

    async def ask() -> httpx.Response:
        async with client(middleware) as api:
            return await api.get("/", headers={"Origin": "http://evil.example"})

    response = asyncio.run(ask())
    assert response.headers["access-control-allow-origin"] == "http://evil.example"
    lesson = next(s for s in LESSONS if s.id == "star-with-credentials")
    policy = policy_for(find_fix(lesson))
    assert policy is not None
    assert any("echoes whatever Origin" in note for note in starlette(policy).notes)
