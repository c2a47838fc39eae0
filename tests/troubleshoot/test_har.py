"""Archives that are not what they claim: each gets a sentence (HarError), never a crash.
(Real archives, recorded by Chromium, are in test_har_recorded.py.)"""

from __future__ import annotations

import json

import pytest

from app.troubleshoot.har import HarError, read_har

ENTRY = {
    "request": {
        "method": "GET",
        "url": "http://api.test/x",
        "headers": [{"name": "Origin", "value": "http://page.test"}],
    },
    "response": {"status": 200, "headers": []},
}


def archive(*entries: object, **log: object) -> bytes:
    return json.dumps({"log": {"version": "1.2", "entries": list(entries), **log}}).encode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not valid JSON"),
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"log": {"entries": [' + b"9" * 5000 + b"]}}", "not usable JSON"),
        (b"[]", "no “log” object"),
        (b'{"log": []}', "no “log” object"),
        (b'{"log": {}}', "no “entries” list"),
        (b'{"log": {"entries": {}}}', "no “entries” list"),
    ],
    ids=[
        "empty",
        "broken",
        "not-utf8",
        "deep",
        "huge-int",
        "array",
        "log-list",
        "no-entries",
        "entries-object",
    ],
)
def test_not_an_archive_is_refused_with_a_reason(data: bytes, message: str) -> None:
    with pytest.raises(HarError, match=message):
        read_har(data)


def test_too_large_and_too_many_entries_are_refused() -> None:
    with pytest.raises(HarError, match="at most 1,000 are read"):
        read_har(b" " * 1001, max_bytes=1000)
    with pytest.raises(HarError, match="at most 3"):
        read_har(archive(ENTRY, ENTRY, ENTRY, ENTRY), max_entries=3)


@pytest.mark.parametrize(
    "entry",
    [
        None,
        7,
        "entry",
        {},
        {"request": []},
        {"request": {"method": 5, "url": "http://api.test/"}},
        {"request": {"method": "GET", "url": "not a url"}},
        {"request": {"method": "GET", "url": "http://api.test/", "headers": "x"}},
        {"request": {"method": "GET", "url": "http://api.test/", "headers": [1, [2], {"n": 3}]}},
        {"request": {"method": "GET", "url": "http://api.test/"}, "response": {"status": "x"}},
        {"request": {"method": "GET", "url": "http://api.test/"}, "response": {"status": True}},
        {"request": {"method": "GET", "url": "http://api.test/"}, "response": {"status": 10**9}},
        {
            "request": {
                "method": "GET",
                "url": "http://api.test/",
                "headers": [{"name": "Origin", "value": "http://[bad"}],
            }
        },
    ],
    ids=[
        "null",
        "number",
        "string",
        "empty",
        "request-list",
        "method-number",
        "bad-url",
        "headers-string",
        "headers-junk",
        "status-string",
        "status-bool",
        "status-huge",
        "bad-origin",
    ],
)
def test_malformed_entries_are_skipped_not_fatal(entry: object) -> None:
    report = read_har(archive(entry, ENTRY))
    assert report.entries == 2
    assert [item.url for item in report.items] == ["http://api.test/x"]


def test_huge_header_lists_and_values_are_bounded() -> None:
    headers = [{"name": f"X-{i}", "value": "v" * 20_000} for i in range(300)]
    entry = {
        "request": {
            "method": "GET",
            "url": "http://api.test/x",
            "headers": [{"name": "Origin", "value": "http://page.test"}, *headers],
        },
        "response": {"status": 200, "headers": headers},
    }
    report = read_har(archive(entry))
    (item,) = report.items
    assert len(item.scenario.response.headers) <= 200
    assert all(len(v) <= 16 * 1024 for _, v in item.scenario.response.headers)


def test_an_archive_without_a_page_origin_lists_nothing() -> None:
    entry = {**ENTRY, "request": {**ENTRY["request"], "headers": []}}  # type: ignore[dict-item]
    report = read_har(archive(entry))
    assert report.items == []
