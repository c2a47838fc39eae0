"""app/web/validation.py: each class of bad input gets a message on its own field."""

from __future__ import annotations

import pytest

from app.runs.origins import OriginPair
from app.runs.validation import (
    MAX_BODY_BYTES,
    MAX_HEADERS,
    MAX_VALUE_LENGTH,
    TRIM_NOTE,
    FormData,
    dom_id,
    scenario_from_form,
    scenario_from_json,
)

ORIGIN = "http://localhost:8000"
URL = "http://localhost:8001/r/x"


def check(doc: object):
    return scenario_from_json(doc, default_origin=ORIGIN, default_url=URL)


def request_headers(*pairs: tuple[str, str]) -> dict:
    return {"request": {"headers": [list(p) for p in pairs]}}


@pytest.mark.parametrize(
    ("doc", "field", "words"),
    [
        (request_headers(("X Bad", "1")), "request.headers[0].name", "token"),
        (request_headers(("X-A:", "1")), "request.headers[0].name", "token"),
        (request_headers(("", "1")), "request.headers[0].name", "needs a name"),
        (request_headers(("X-A", "a\r\nSet-Cookie: x")), "request.headers[0].value", "(CR)"),
        (request_headers(("X-A", "a\nb")), "request.headers[0].value", "(LF)"),
        (request_headers(("X-A", "a\0b")), "request.headers[0].value", "NUL"),
        (request_headers(("X-A", "a\x01b")), "request.headers[0].value", "\\x01"),
        (request_headers(("X-A", "a\x7fb")), "request.headers[0].value", "\\x7f"),
        (request_headers(("X-A", "price: 5€")), "request.headers[0].value", "not Latin-1"),
        (request_headers(("X-A", "x" * (MAX_VALUE_LENGTH + 1))), "request.headers[0].value",
         "too long"),
        (request_headers(*[(f"X-{i}", "1") for i in range(MAX_HEADERS + 1)]), "request.headers",
         "too many headers"),
        ({"request": {"body": "x" * (MAX_BODY_BYTES + 1)}}, "request.body", "too large"),
        ({"request": {"method": "GE T"}}, "request.method", "token"),
        ({"request": {"method": ""}}, "request.method", "required"),
        ({"response": {"headers": [["Content-Length", "5"]]}}, "response.headers[0].name",
         "framing"),
        ({"preflight_response": {"headers": [["Transfer-Encoding", "chunked"]]}},
         "preflight_response.headers[0].name", "framing"),
        ({"response": {"headers": [["X-A", "a\rb"]]}}, "response.headers[0].value", "(CR)"),
        ({"response": {"status": 99}}, "response.status", "200 to 599"),
        ({"request": {"credentials": "yes"}}, "request.credentials", "must be one of"),
    ],
)  # fmt: skip
def test_each_bad_input_class_names_its_field(doc: object, field: str, words: str) -> None:
    checked = check(doc)
    assert not checked.ok
    assert checked.errors[0].field == field
    assert words in checked.errors[0].message


def test_latin1_text_and_tabs_inside_values_are_fine() -> None:
    checked = check(request_headers(("X-A", "café\tcrème")))
    assert checked.ok


def test_surrounding_spaces_are_trimmed_with_a_note() -> None:
    checked = check({"response": {"headers": [["Access-Control-Allow-Origin", "  *  "]]}})
    assert checked.ok and checked.scenario is not None
    assert checked.scenario.response.headers == (("Access-Control-Allow-Origin", "*"),)
    assert checked.notes[0].field == "response.headers[0].value"
    assert checked.notes[0].message == TRIM_NOTE


def test_forbidden_methods_pass_validation_because_fetch_refusing_them_is_a_lesson() -> None:
    assert check({"request": {"method": "TRACE"}}).ok
    assert check({"request": {"method": "patch"}}).ok


def test_non_object_documents_are_errors_not_crashes() -> None:
    for doc in (None, [], "x", 5, {"request": []}, {"request": {"headers": "x"}}):
        assert not check(doc).ok


def form(**fields: str | list[str]) -> FormData:
    pairs: list[tuple[str, str]] = []
    for key, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((key, item))
    return FormData(pairs)


def test_form_skips_blank_rows_and_reports_by_row_position() -> None:
    checked = scenario_from_form(
        form(method="GET", rq_name=["", "X Bad"], rq_value=["", "1"]), origin=ORIGIN, url=URL
    )
    assert checked.errors[0].field == "request.headers[1].name"


def test_form_builds_the_scenario() -> None:
    checked = scenario_from_form(
        form(method="PUT", rq_name=["X-Token"], rq_value=[" abc "], has_body="1", body="{}",
             credentials="include", mode="cors", pf_status="204", rs_status="201",
             rs_name=["Access-Control-Allow-Origin"], rs_value=[ORIGIN]),
        origin=ORIGIN, url=URL,
    )  # fmt: skip
    assert checked.ok and checked.scenario is not None
    scenario = checked.scenario
    assert scenario.request.headers == (("X-Token", "abc"),)
    assert scenario.request.body == "{}" and scenario.request.credentials == "include"
    assert scenario.preflight_response.status == 204 and scenario.response.status == 201
    assert [n.field for n in checked.notes] == ["request.headers[0].value"]


@pytest.mark.parametrize(("host", "port", "page"),
                         [("localhost", 80, "http://localhost"),
                          ("LocalHost", 8000, "http://localhost:8000"),
                          ("::1", 8000, "http://[::1]:8000")])  # fmt: skip
def test_the_page_origin_is_serialized_so_the_composer_can_send_from_it(
    host: str, port: int, page: str
) -> None:
    origins = OriginPair.of(host, port, 8001)
    assert origins.page == page
    assert scenario_from_form(form(method="GET"), origin=origins.page, url=URL).ok


def test_form_status_must_be_a_number() -> None:
    checked = scenario_from_form(form(rs_status="abc"), origin=ORIGIN, url=URL)
    assert checked.errors[0].field == "response.status"


def test_dom_ids_follow_field_paths() -> None:
    assert dom_id("request.headers[2].value") == "f-request-headers-2-value"
    assert dom_id("preflight_response.status") == "f-preflight-response-status"
