"""URLs as a redirect's Location sees them: https://url.spec.whatwg.org/"""

import pytest

from app.cors.urls import parse_url, url_key

BASE = parse_url("http://localhost:8722/g2/x/r0#frag")


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("h1", "http://localhost:8722/g2/x/h1"),
        ("?n=h1", "http://localhost:8722/g2/x/r0?n=h1"),
        ("/g2/y/h1", "http://localhost:8722/g2/y/h1"),
        ("//127.0.0.1:8723/a", "http://127.0.0.1:8723/a"),
        ("  http://localhost:8723/b ", "http://localhost:8723/b"),
        ("HTTP://LOCALHOST:80/a/../b/./c", "http://localhost/b/c"),
        ("http://127.1/", "http://127.0.0.1/"),
        ("http:relative", "http://localhost:8722/g2/x/relative"),
        ("\\\\localhost:8723\\a", "http://localhost:8723/a"),
        ("http://u:p@localhost:8722/x", "http://u:p@localhost:8722/x"),
    ],
)
def test_a_location_resolves_against_the_url_that_answered(location: str, expected: str) -> None:
    parsed = parse_url(location, BASE)
    assert parsed is not None
    assert parsed.serialize(exclude_fragment=True) == expected


@pytest.mark.parametrize(
    "location", ["http://exa mple/", "http://localhost:99999/", "http://[::1/"]
)
def test_a_location_that_does_not_parse_is_failure(location: str) -> None:
    assert parse_url(location, BASE) is None


def test_user_info_is_credentials_and_not_part_of_the_origin() -> None:
    parsed = parse_url("http://:pw@127.0.0.1:8721/x")
    assert parsed is not None and parsed.includes_credentials
    assert parsed.origin == "http://127.0.0.1:8721"


def test_other_schemes_parse_but_are_not_http() -> None:
    parsed = parse_url("data:text/plain,x", BASE)
    assert parsed is not None and not parsed.is_http and parsed.origin == "null"


def test_hops_match_without_fragment() -> None:
    assert url_key("http://LOCALHOST:8722/a#f") == url_key("http://localhost:8722/a")
