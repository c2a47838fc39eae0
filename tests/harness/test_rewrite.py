"""Origin rewriting: scenario ports to harness ports in, and back out in what is reported."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.cors.scenario import Scenario
from app.harness.rewrite import OriginMap, RewriteError, origin_of, prepare

PAGE, TARGET = 40000, 40001


def scenario(**overrides: object) -> Scenario:
    doc: dict[str, object] = {
        "id": "x",
        "origin": "http://localhost:8701",
        "url": "http://localhost:8702/t/s42-0000",
        "request": {
            "method": "PUT",
            "headers": [["X-Origin", "http://localhost:8701"], ["Referer", "http://evil.example/"]],
        },
        "preflight_response": {
            "status": 204,
            "headers": [
                ["Access-Control-Allow-Origin", "http://localhost:87010"],
                ["Access-Control-Allow-Origin", "HTTP://LOCALHOST:8701"],
                ["Access-Control-Allow-Origin", "http://localhost:8701, http://localhost:8701"],
            ],
        },
        "response": {
            "status": 200,
            "headers": [
                ["Access-Control-Allow-Origin", "http://localhost:8701/"],
                ["Location", "http://localhost:8702/t/s42-0000"],
            ],
        },
    }
    doc.update(overrides)
    return Scenario.from_json(doc)


def test_url_gets_the_target_port_and_a_unique_key_path() -> None:
    prepared = prepare(scenario(), "key1", PAGE, TARGET)
    assert prepared.url == "http://localhost:40001/t/key1"
    assert prepared.page_origin == "http://localhost:40000"


def test_every_declared_header_value_is_rewritten_keeping_its_meaning() -> None:
    prepared = prepare(scenario(), "key1", PAGE, TARGET)
    assert [v for _, v in prepared.preflight_response.headers] == [
        "http://localhost:400000",  # one digit too many, still
        "HTTP://LOCALHOST:8701",  # not the serialized origin: stays a mismatch
        "http://localhost:40000, http://localhost:40000",
    ]
    assert [v for _, v in prepared.response.headers] == [
        "http://localhost:40000/",
        "http://localhost:40001/t/key1",
    ]
    assert prepared.request.headers == (
        ("X-Origin", "http://localhost:40000"),
        ("Referer", "http://evil.example/"),
    )
    assert prepared.preflight_response.status == 204
    assert prepared.request.method == "PUT"


def test_reported_values_map_back_to_the_scenario_origins() -> None:
    back = prepare(scenario(), "key1", PAGE, TARGET).origins.to_scenario
    assert back("http://localhost:400000") == "http://localhost:87010"
    assert (
        back(
            "Access to fetch at 'http://localhost:40001/t/key1' from origin 'http://localhost:40000'"
        )
        == "Access to fetch at 'http://localhost:8702/t/s42-0000' from origin 'http://localhost:8701'"
    )
    assert back("") == ""


def test_host_name_is_kept() -> None:
    prepared = prepare(
        scenario(origin="http://127.0.0.1:9000", url="http://localhost:9001/x"), "k", PAGE, TARGET
    )
    assert prepared.page_origin == "http://127.0.0.1:40000"
    assert prepared.url == "http://localhost:40001/t/k"


def test_same_origin_request_targets_the_page_port() -> None:
    prepared = prepare(
        scenario(origin="http://localhost:8701", url="http://localhost:8701/api"), "k", PAGE, TARGET
    )
    assert prepared.url == "http://localhost:40000/t/k"


def test_origin_without_port_does_not_swallow_a_longer_host() -> None:
    origins = OriginMap((("http://localhost", "http://localhost:40000"),))
    assert origins.to_real("http://localhost") == "http://localhost:40000"
    assert origins.to_real("http://localhost, x") == "http://localhost:40000, x"
    assert origins.to_real("http://localhost:81") == "http://localhost:81"
    assert origins.to_real("http://localhost.example") == "http://localhost.example"


def test_default_port_is_normalized_like_the_browser() -> None:
    # Scenario.from_json refuses an origin that is not serialized; the harness still copes.
    unserialized = replace(scenario(url="http://localhost:8702/x"), origin="http://LOCALHOST:80")
    prepared = prepare(unserialized, "k", PAGE, TARGET)
    assert prepared.page_origin == "http://localhost:40000"
    assert prepared.origins.to_scenario("http://localhost:40000") == "http://localhost"


@pytest.mark.parametrize("url", ["null", "file:///x", "localhost:8701", "http://localhost:99999/"])
def test_unusable_origins_are_refused(url: str) -> None:
    with pytest.raises(RewriteError):
        prepare(replace(scenario(), origin=url), "k", PAGE, TARGET)


def test_origin_of_keeps_the_host_spelling() -> None:
    assert origin_of("HTTP://LocalHost:8702/a?b") == "http://LocalHost:8702"


def test_a_reported_url_with_a_password_maps_back_to_the_scenario_url() -> None:
    from app.harness.observation import url_back

    back = prepare(scenario(), "key1", PAGE, TARGET).origins.to_scenario
    assert url_back(back, "http://:pw@localhost:40001/t/key1") == (
        "http://:pw@localhost:8702/t/s42-0000"
    )
    assert url_back(back, "http://u:p@localhost:40001/t/key1/h1?q=1") == (
        "http://u:p@localhost:8702/t/s42-0000/h1?q=1"
    )
    assert url_back(back, "http://localhost:40001/t/key1") == "http://localhost:8702/t/s42-0000"
    assert url_back(back, "") == ""
