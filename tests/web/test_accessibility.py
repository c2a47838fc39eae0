"""The composer for a screen reader, from its HTML: one live line instead of a live panel,
messages that name fields by the labels the page shows, and controls and links with names that
say what they do or reference."""

from __future__ import annotations

from html import unescape
from html.parser import HTMLParser

import httpx

from app.runs.validation import field_label
from app.web.server import BackgroundServer
from tests.web.conftest import new_session


class Controls(HTMLParser):
    """Each button and link as (tag, attributes, accessible text), and every aria-live."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None], str]] = []
        self.live: list[dict[str, str | None]] = []
        self.open: list[tuple[str, dict[str, str | None], list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if "aria-live" in found:
            self.live.append(found)
        if tag in ("a", "button", "label"):
            self.open.append((tag, found, []))

    def handle_data(self, data: str) -> None:
        for _, _, text in self.open:
            text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self.open and self.open[-1][0] == tag:
            name, attrs, text = self.open.pop()
            self.found.append((name, attrs, " ".join("".join(text).split())))

    def names(self, tag: str) -> list[str]:
        """The accessible names of every ``tag`` (aria-label wins over the text)."""
        return [attrs.get("aria-label") or text for t, attrs, text in self.found if t == tag]


def parse(html: str) -> Controls:
    parser = Controls()
    parser.feed(html)
    return parser


PREFLIGHT_FAILS = {
    "method": "PUT", "rq_name": ["X-Token"], "rq_value": ["1"],
    "pf_status": "204", "rs_status": "200",
    "pf_name": ["Access-Control-Allow-Origin", "Access-Control-Allow-Methods"],
}  # fmt: skip


def test_only_the_one_line_prediction_is_live(client: httpx.Client, live: BackgroundServer) -> None:
    sid = new_session(client, live)
    page = client.get(f"{live.site_url}/sessions/{sid}").text
    assert '<div id="prediction">' in page
    assert '<p id="prediction-status" class="visually-hidden" role="status"></p>' in page
    assert parse(page).live == []  # no field message and no panel re-read on each keystroke
    form = {**PREFLIGHT_FAILS, "pf_value": [live.site_url, "PUT"]}
    fragment = client.post(f"{live.site_url}/sessions/{sid}/explain", data=form).text
    assert parse(fragment).live == [] and 'role="alert"' not in fragment
    assert (
        'data-announce="Prediction: blocked, after a preflight: the preflight&#39;s '
        'Access-Control-Allow-Headers does not allow x-token"' in fragment
    )


def test_messages_name_fields_by_the_pages_labels_and_the_api_keeps_paths(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    form = {"method": "GET", "rq_name": ["X-Ok", "X Bad"], "rq_value": ["1", "2"],
            "pf_status": "abc", "rs_status": "200"}  # fmt: skip
    fragment = client.post(f"{live.site_url}/sessions/{sid}/explain", data=form).text
    links = parse(fragment).names("a")
    assert "Preflight (OPTIONS) status" in links and "Request header 2 name" in links
    assert not any("." in name or "[" in name for name in links)
    assert 'data-announce="2 problems to fix before sending: Preflight (OPTIONS) status: ' in (
        fragment
    )
    refused = client.post(f"{live.site_url}/sessions/{sid}/runs", data=form).json()
    assert refused["error"]["field"] == "preflight_response.status"
    assert refused["error"]["label"] == "Preflight (OPTIONS) status"
    api = client.post(f"{live.site_url}/api/explain",
                      json={"request": {"headers": [["X-Ok", "1"], ["X Bad", "2"]]}})  # fmt: skip
    assert api.json()["error"]["field"] == "request.headers[1].name"
    assert "label" not in api.json()["error"]


def test_field_labels_follow_the_composer() -> None:
    assert field_label("request.headers[0].value") == "Request header 1 value"
    assert field_label("preflight_response.headers[2].name") == "Preflight response header 3 name"
    assert field_label("response.status") == "Actual response status"
    assert field_label("origin") == "origin"  # no field on the page: the path stays


def test_each_add_and_remove_button_and_row_field_has_its_own_name(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    page = parse(client.get(f"{live.site_url}/sessions/{sid}").text)
    buttons = page.names("button")
    adds = [b for b in buttons if b.startswith("Add")]
    assert adds == ["Add a request header", "Add a preflight response header",
                    "Add an actual response header"]  # fmt: skip
    removes = [b for b in buttons if b.startswith("Remove")]
    assert len(removes) == len(set(removes)) > 3
    assert "Remove preflight response header 3" in removes
    labels = page.names("label")
    assert "Request header 1 name" in labels and "Preflight response header 3 value" in labels
    assert "Header name" not in labels


def test_reference_links_are_named_after_what_they_reference(
    client: httpx.Client, live: BackgroundServer
) -> None:
    sid = new_session(client, live)
    form = {**PREFLIGHT_FAILS, "pf_value": [live.site_url, "PUT"]}
    fragment = client.post(f"{live.site_url}/sessions/{sid}/explain", data=form).text
    links = [unescape(name) for name in parse(fragment).names("a")]
    assert "spec: the Fetch Standard on the allow-headers check" in links
    assert "Fetch Standard: allow-headers" in links
    assert "The Fetch Standard on the allow-headers check" in links
    assert not [name for name in links if name.lower() in ("spec", "(reference)", "fetch standard")]
