"""The sequence diagram's rows and the raw HTTP text of each leg."""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.cors import Scenario, ServerResponse, predict
from app.fix.sequence import Row, build_sequence, shorten, status_line, visible
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
    labels = [r.label for r in diagram.rows if r.arrow]
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
    arrows = [(r.leg, r.label) for r in diagram.rows if r.arrow]
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
