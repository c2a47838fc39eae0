"""The sequence diagram's rows and the raw HTTP text of each leg."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from app.cors import Scenario, ServerResponse, predict
from app.fix.sequence import Row, build_sequence, outcome_line, shorten, status_line, visible
from app.fix.wire import raw_legs

PAGE = "http://localhost:8000"


@dataclass(frozen=True)
class Req:
    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body_size: int = 0


@dataclass(frozen=True)
class Res:
    status: int
    headers: tuple[tuple[str, str], ...]
    body_size: int = 0


@dataclass(frozen=True)
class Leg:
    kind: str
    request: Req
    response: Res


def scenario(**doc: object) -> Scenario:
    return Scenario.from_json({"origin": PAGE, "url": "http://localhost:8001/r/x", **doc})


PUT = {"method": "PUT", "headers": [["X-Token", "1"]]}
PREFLIGHT = Leg(
    "preflight",
    Req("OPTIONS", "/r/x", (("Origin", PAGE), ("Access-Control-Request-Method", "PUT"),
                            ("Access-Control-Request-Headers", "x-token"))),
    Res(204, (("Access-Control-Allow-Origin", "*"),)),
)  # fmt: skip
ACTUAL = Leg("actual", Req("PUT", "/r/x", (("Origin", PAGE),)), Res(200, ()))


def shape(rows: tuple[Row, ...]) -> list[tuple[str, str, str]]:
    return [(r.kind, r.leg, r.state) for r in rows]


def test_a_failed_preflight_blocks_at_the_browser_and_the_request_is_never_sent() -> None:
    s = scenario(
        request=PUT, preflight_response={"headers": [["Access-Control-Allow-Origin", "*"]]}
    )
    prediction = predict(s)
    diagram = build_sequence(prediction, [PREFLIGHT], outcome="blocked", done=True,
                             method="PUT", path="/r/x")  # fmt: skip
    assert shape(diagram.rows) == [
        ("request", "preflight", "seen"),
        ("response", "preflight", "seen"),
        ("check", "preflight", "fail"),
        ("request", "actual", "never"),
    ]
    check = diagram.rows[2]
    assert prediction.blocked_by is not None and prediction.blocked_by in check.label
    assert diagram.rows[3].label == "PUT /r/x"
    assert diagram.rows[0].detail == "asks for PUT, headers x-token"
    assert diagram.rows[1].label == "204 No Content"
    assert diagram.source == "browser"


def test_a_failed_cors_check_is_marked_after_the_response_arrived() -> None:
    s = scenario()
    get = Leg("actual", Req("GET", "/r/x", (("Origin", PAGE),)), Res(200, ()))
    diagram = build_sequence(predict(s), [get], outcome="blocked", done=True)
    assert shape(diagram.rows) == [
        ("request", "actual", "seen"),
        ("response", "actual", "seen"),
        ("check", "actual", "fail"),
    ]
    assert "MissingAllowOriginHeader" in diagram.rows[2].label
    assert "after the response arrived" in diagram.rows[2].label
    assert diagram.rows[1].detail == "no Access-Control-Allow-Origin"


ALLOW_PAGE = ["Access-Control-Allow-Origin", PAGE]


@pytest.mark.parametrize(
    ("request_init", "answer", "label"),
    [({**PUT, "headers": [["Content-Type", "application/json"], ["X-Token", "1"]]},
      [ALLOW_PAGE, ["Access-Control-Allow-Methods", "PUT"],
       ["Access-Control-Allow-Headers", "content-type"]],
      "Allow-Headers: content-type"),
     (PUT, [ALLOW_PAGE, ["Access-Control-Allow-Headers", "x-token"]],
      "no Access-Control-Allow-Methods"),
     ({**PUT, "method": "DELETE"},
      [ALLOW_PAGE, ["Access-Control-Allow-Methods", "PUT"],
       ["Access-Control-Allow-Headers", "x-token"]],
      "Allow-Methods: PUT"),
     ({**PUT, "credentials": "include"},
      [ALLOW_PAGE, ["Access-Control-Allow-Methods", "PUT"],
       ["Access-Control-Allow-Headers", "x-token"]],
      "no Access-Control-Allow-Credentials"),
     (PUT, [["Access-Control-Allow-Origin", PAGE + "/"]], f"Allow-Origin: {PAGE}/")],
)  # fmt: skip
def test_the_failed_preflight_answer_is_labelled_with_the_header_whose_check_failed(
    request_init: dict[str, object], answer: list[list[str]], label: str
) -> None:
    s = scenario(request=request_init, preflight_response={"status": 204, "headers": answer})
    prediction = predict(s)
    sent = Leg("preflight", PREFLIGHT.request, Res(204, tuple((n, v) for n, v in answer)))
    diagram = build_sequence(prediction, [sent], outcome="blocked", done=True)
    assert shape(diagram.rows)[1] == ("response", "preflight", "seen")
    assert diagram.rows[1].detail == label
    assert diagram.rows[2].state == "fail"


def test_a_preflight_with_a_status_that_is_not_ok_is_labelled_so() -> None:
    s = scenario(request=PUT, preflight_response={"status": 404, "headers": [ALLOW_PAGE]})
    sent = Leg("preflight", PREFLIGHT.request, Res(404, (tuple(ALLOW_PAGE),)))
    diagram = build_sequence(predict(s), [sent], outcome="blocked", done=True)
    assert diagram.rows[1].label == "404 Not Found"
    assert diagram.rows[1].detail == "not an ok status (200 to 299)"


def test_a_failed_credentials_check_labels_the_actual_answer() -> None:
    s = scenario(request={"credentials": "include"}, response={"headers": [ALLOW_PAGE]})
    get = Leg("actual", Req("GET", "/r/x", (("Origin", PAGE),)), Res(200, (tuple(ALLOW_PAGE),)))
    diagram = build_sequence(predict(s), [get], outcome="blocked", done=True)
    assert diagram.rows[1].detail == "no Access-Control-Allow-Credentials"


def test_while_running_the_predicted_legs_are_expected() -> None:
    s = scenario(
        request=PUT,
        preflight_response={"headers": [["Access-Control-Allow-Origin", PAGE],
                                        ["Access-Control-Allow-Methods", "PUT"],
                                        ["Access-Control-Allow-Headers", "x-token"]]},
        response={"headers": [["Access-Control-Allow-Origin", PAGE]]},
    )  # fmt: skip
    diagram = build_sequence(predict(s), [], outcome=None, done=False, method="PUT", path="/r/x")
    assert shape(diagram.rows) == [
        ("request", "preflight", "expected"),
        ("response", "preflight", "expected"),
        ("check", "preflight", "pending"),
        ("request", "actual", "expected"),
        ("response", "actual", "expected"),
        ("check", "actual", "pending"),
    ]
    assert diagram.source == "prediction"
    done = build_sequence(predict(s), [PREFLIGHT, ACTUAL], outcome="allowed", done=True)
    assert shape(done.rows)[-1] == ("check", "actual", "ok")
    assert ("check", "preflight", "ok") in shape(done.rows)


def test_a_missing_preflight_after_the_request_arrived_is_a_cache_hit() -> None:
    s = scenario(request=PUT)
    diagram = build_sequence(predict(s), [ACTUAL], outcome="blocked", done=True)
    assert diagram.rows[0].kind == "note"
    assert "cached preflight" in diagram.rows[0].detail


def test_a_refused_fetch_sends_nothing() -> None:
    s = scenario(request={"method": "TRACE"})
    diagram = build_sequence(
        predict(s), [], outcome="error", done=True, method="TRACE", path="/r/x"
    )
    assert shape(diagram.rows) == [("check", "page", "fail"), ("request", "actual", "never")]
    assert "forbidden method" in diagram.rows[0].detail


def test_redirect_hops_each_get_their_arrows() -> None:
    s = scenario(response={"headers": [["Access-Control-Allow-Origin", PAGE]]})
    hop = Leg("actual", Req("GET", "/r/x/1", (("Origin", "null"),)), Res(200, ()))
    first = Leg("actual", Req("GET", "/r/x", (("Origin", PAGE),)),
                Res(302, (("Location", "/r/x/1"),)))  # fmt: skip
    diagram = build_sequence(predict(s), [first, hop], outcome="blocked", done=True)
    labels = [r.label for r in diagram.rows if r.kind in ("request", "response")]
    assert labels == ["GET /r/x", "302 Found", "GET /r/x/1", "200 OK"]
    assert diagram.rows[2].detail == "Origin: null"


def test_an_opaque_response_is_information_not_failure() -> None:
    s = scenario(request={"mode": "no-cors"})
    get = Leg("actual", Req("GET", "/r/x", ()), Res(200, ()))
    diagram = build_sequence(predict(s), [get], outcome="opaque", done=True)
    assert shape(diagram.rows)[-1] == ("check", "actual", "info")


def test_a_disagreeing_browser_is_not_given_the_engines_check_name() -> None:
    s = scenario(response={"headers": [["Access-Control-Allow-Origin", PAGE]]})
    get = Leg("actual", Req("GET", "/r/x", ()), Res(200, ()))
    diagram = build_sequence(predict(s), [get], outcome="blocked", done=True)
    assert diagram.rows[-1].label == "Blocked by the browser"


def test_control_characters_are_made_visible_and_long_text_is_cut() -> None:
    assert visible("a\x1b[2Jb\x00\r\n\x7f") == "a\\x1b[2Jb\\x00\\x0d\\x0a\\x7f"
    assert visible("café ✓") == "café ✓"
    assert shorten("x" * 10, 5) == "xxxx…"
    assert status_line(204) == "204 No Content"
    assert status_line(299) == "299"


def test_raw_legs_are_request_and_status_lines_with_every_header() -> None:
    hostile = Leg(
        "actual",
        Req("GET", "/r/x", (("Origin", PAGE), ("X-Evil", "<b>\x1b[31m"))),
        Res(200, (("X-Evil", "a\r\nSet-Cookie: b"),), body_size=5),
    )
    [pre, act] = raw_legs([PREFLIGHT, hostile])
    assert pre.title == "Preflight"
    assert pre.request.splitlines() == [
        "OPTIONS /r/x HTTP/1.1",
        f"Origin: {PAGE}",
        "Access-Control-Request-Method: PUT",
        "Access-Control-Request-Headers: x-token",
    ]
    assert pre.response == "HTTP/1.1 204 No Content\nAccess-Control-Allow-Origin: *"
    assert act.request.splitlines()[-1] == "X-Evil: <b>\\x1b[31m"
    # A value cannot forge a second header line.
    assert act.response.splitlines() == ["HTTP/1.1 200 OK", "X-Evil: a\\x0d\\x0aSet-Cookie: b"]
    assert act.response_body_size == 5


@pytest.mark.parametrize(
    ("doc", "outcome", "line"),
    [({"request": {**PUT, "headers": [["X-Token", "1"]]},
       "preflight_response": {"headers": [ALLOW_PAGE, ["Access-Control-Allow-Methods", "PUT"]]}},
      "blocked", "Blocked: the preflight's Access-Control-Allow-Headers does not allow x-token"),
     ({"request": {"method": "DELETE"}, "preflight_response": {"headers": [ALLOW_PAGE]}},
      "blocked", "Blocked: the preflight's Access-Control-Allow-Methods does not allow DELETE"),
     ({"request": PUT, "preflight_response": {"status": 404}},
      "blocked", "Blocked: the preflight has no Access-Control-Allow-Origin"),
     ({}, "blocked", "Blocked: the response has no Access-Control-Allow-Origin"),
     ({"response": {"headers": [["Access-Control-Allow-Origin", "http://a.test"]]}}, "blocked",
      "Blocked: the response's Access-Control-Allow-Origin (http://a.test) is not this page's "
      "origin"),
     ({"response": {"headers": [ALLOW_PAGE]}}, "allowed",
      "Allowed: JavaScript read the response (status 200)"),
     ({"request": {"mode": "no-cors"}}, "opaque",
      "Opaque: the response arrived, but mode no-cors hides it from JavaScript"),
     ({"response": {"headers": [ALLOW_PAGE]}}, "blocked",
      "Blocked, where the engine predicted allowed: a finding, described in the run's card")],
)  # fmt: skip
def test_the_outcome_line_says_what_happened_in_a_few_words(
    doc: dict[str, object], outcome: str, line: str
) -> None:
    assert outcome_line(predict(scenario(**doc)), outcome, 200) == line


def test_the_outcome_line_of_a_refused_fetch_and_of_a_running_one() -> None:
    prediction = predict(scenario(request={"method": "TRACE"}))
    assert outcome_line(prediction, "error").startswith(
        "Not sent: fetch() refused the request: TRACE is a forbidden method"
    )
    assert outcome_line(prediction, None) == "Sent: waiting for the browser's result…"


def chain_scenario() -> Scenario:
    """A PUT preflighted at http://localhost:8001/r/x, sent on by a 307 to 127.0.0.1:8001."""
    allow = [["Access-Control-Allow-Origin", "*"], ["Access-Control-Allow-Methods", "PUT"]]
    return scenario(
        request={"method": "PUT"},
        preflight_response={"status": 204, "headers": allow},
        response={"status": 307, "headers": [*allow, ["Location", "http://127.0.0.1:8001/r/x/1"]]},
        hops=[{"url": "http://127.0.0.1:8001/r/x/1", "preflight_response": {"headers": allow},
               "response": {"headers": allow}}],
    )  # fmt: skip


def chain_legs() -> list[Leg]:
    here, there = (("Host", "localhost:8001"),), (("Host", "127.0.0.1:8001"),)
    asks = (("Access-Control-Request-Method", "PUT"),)
    return [
        Leg("preflight", Req("OPTIONS", "/r/x", (*here, ("Origin", PAGE), *asks)), Res(204, ())),
        Leg("actual", Req("PUT", "/r/x", (*here, ("Origin", PAGE))),
            Res(307, (("Location", "http://127.0.0.1:8001/r/x/1"),
                      ("Access-Control-Allow-Origin", "*")))),
        Leg("preflight", Req("OPTIONS", "/r/x/1", (*there, ("Origin", "null"), *asks)),
            Res(204, ())),
        Leg("actual", Req("PUT", "/r/x/1", (*there, ("Origin", "null"))), Res(200, ())),
    ]  # fmt: skip


def test_a_whole_fetch_is_drawn_leg_by_leg_in_the_order_the_legs_arrived() -> None:
    diagram = build_sequence(predict(chain_scenario()), chain_legs(), outcome="allowed", done=True)
    arrows = [(r.leg, r.label) for r in diagram.rows if r.kind in ("request", "response")]
    assert arrows == [("preflight", "OPTIONS /r/x"), ("preflight", "204 No Content"),
                      ("actual", "PUT /r/x"), ("actual", "307 Temporary Redirect"),
                      ("preflight", "OPTIONS /r/x/1"), ("preflight", "204 No Content"),
                      ("actual", "PUT /r/x/1"), ("actual", "200 OK")]  # fmt: skip
    redirect = next(r for r in diagram.rows if r.label == "307 Temporary Redirect")
    assert redirect.detail == "Location: http://127.0.0.1:8001/r/x/1; Allow-Origin: *"
    hop = next(r for r in diagram.rows if r.label == "PUT /r/x/1")
    assert hop.detail == "Origin: null · at 127.0.0.1:8001"
    assert [r.state for r in diagram.rows if r.kind == "check"] == ["ok", "ok", "ok"]
    assert "response.url is http://127.0.0.1:8001/r/x/1" in diagram.rows[-1].detail


def test_while_a_whole_fetch_runs_the_legs_still_to_come_are_expected() -> None:
    prediction = predict(chain_scenario())
    diagram = build_sequence(prediction, chain_legs()[:2], outcome=None, done=False)
    expected = [(r.label, r.detail) for r in diagram.rows if r.state == "expected"]
    assert expected[0] == ("OPTIONS /r/x/1", "asks for PUT · at 127.0.0.1:8001")
    assert [label for label, _ in expected] == ["OPTIONS /r/x/1", "answer", "PUT /r/x/1", "answer"]
    done = build_sequence(prediction, chain_legs()[:2], outcome="blocked", done=True)
    assert [r.state for r in done.rows if r.kind == "note"] == ["missing"]
    assert done.rows[-1].label.startswith("Blocked at the redirect")


def test_a_hop_whose_preflight_fails_is_blocked_there_and_its_request_never_sent() -> None:
    s = chain_scenario()
    s = replace(s, hops=(replace(s.hops[0], preflight_response=ServerResponse(500, ())),))
    diagram = build_sequence(predict(s), chain_legs()[:3], outcome="blocked", done=True)
    assert diagram.rows[-2].label.startswith("Blocked at the preflight")
    assert diagram.rows[-1].state == "never"
