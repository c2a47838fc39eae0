"""An HTTP Archive (HAR 1.2, as Chromium's and Firefox's DevTools and Playwright save it)
rebuilt as scenarios: every cross-origin request, its preflight paired with it where the
archive has both, the page's origin from the request's Origin or Referer or the archive's
pages, predicted for the browser that recorded it.

Cookies and Authorization values are masked before anything is kept; response bodies and
request bodies are never kept. The archive is bounded in bytes and entries, and anything that
is not an archive is refused with a sentence (``HarError``), never an exception from deep in
the parser. http://www.softwareishard.com/blog/har-12-spec/
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.cors import Prediction, RequestInit, Scenario, ServerResponse, predict
from app.cors.headers import get
from app.cors.methods import is_cors_safelisted_method, normalize_method
from app.cors.names import (
    ALLOW_CREDENTIALS,
    ALLOW_HEADERS,
    ALLOW_METHODS,
    ALLOW_ORIGIN,
    ORIGIN,
    REQUEST_HEADERS,
    REQUEST_METHOD,
)
from app.cors.origins import serialize_origin
from app.cors.scenario import MAX_STATUS, MIN_STATUS
from app.runs.validation import invalid_text
from app.troubleshoot.mask import masked
from app.troubleshoot.words import label_of

Header = tuple[str, str]

MAX_BYTES = 64 * 1024 * 1024
MAX_ENTRIES = 20_000
MAX_ITEMS = 500
MAX_HEADERS_PER_MESSAGE = 200
MAX_TEXT = 16 * 1024
NOT_RECORDED = "(not recorded)"
# Headers the browser (or DevTools) adds to a request: the page's fetch() never set them.
BROWSER_ADDED = frozenset(
    {
        "accept-encoding",
        "accept-language",
        "alt-used",
        "connection",
        "content-length",
        "cookie",
        "dnt",
        "host",
        "if-modified-since",
        "if-none-match",
        "keep-alive",
        "origin",
        "priority",
        "referer",
        "te",
        "upgrade-insecure-requests",
        "user-agent",
    }
)
# DevTools' "Disable cache" adds these two; a page rarely sets them.
CACHE_DISABLED = {"cache-control": "no-cache", "pragma": "no-cache"}
CORS_RESOURCE_TYPES = frozenset({"fetch", "xhr", "eventsource", "preflight"})


class HarError(ValueError):
    """The upload is not an archive this reader can use; the message says why."""


@dataclass(frozen=True)
class HarItem:
    """One cross-origin request of the archive, rebuilt as a scenario."""

    index: int
    method: str
    url: str
    page_origin: str
    scenario: Scenario
    # The archive had the preflight's own entry / the server's answer to the request.
    preflight_recorded: bool
    answered: bool
    prediction: Prediction
    # What the browser recorded when the request failed (net::ERR_FAILED, ...).
    recorded_error: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return "preflight" if self.prediction.preflight else "simple"

    @property
    def outcome(self) -> str:
        if not self.answered:
            return "failed"
        return self.prediction.outcome

    @property
    def failed_check(self) -> str | None:
        return self.prediction.blocked_by if self.answered else None


@dataclass
class HarReport:
    """The archive's cross-origin requests, and what the reader could not use."""

    browser: str
    recorded_by: str
    items: list[HarItem] = field(default_factory=list)
    entries: int = 0
    skipped: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return label_of(self.browser)


def read_har(
    data: bytes | str, *, max_bytes: int = MAX_BYTES, max_entries: int = MAX_ENTRIES
) -> HarReport:
    """Read an archive; HarError with the reason when it is not one."""
    size = len(data)
    if size > max_bytes:
        raise HarError(f"the archive is {size:,} bytes; at most {max_bytes:,} are read")
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise HarError("the archive is not UTF-8 text (a HAR file is JSON)") from None
    try:
        doc = json.loads(data)
    except RecursionError:
        raise HarError("the archive is nested too deeply to be a HAR file") from None
    except json.JSONDecodeError as exc:
        raise HarError(f"the archive is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    except ValueError as exc:
        raise HarError(f"the archive is not usable JSON: {exc}") from None
    problem = invalid_text(doc)
    if problem is not None:
        raise HarError(f"the archive's {problem.field} {problem.message}")
    log = doc.get("log") if isinstance(doc, dict) else None
    if not isinstance(log, dict):
        raise HarError('not a HAR file: it has no “log” object (HAR 1.2: {"log": {...}})')
    entries = log.get("entries")
    if not isinstance(entries, list):
        raise HarError("not a HAR file: its log has no “entries” list")
    if len(entries) > max_entries:
        raise HarError(f"the archive has {len(entries):,} entries; at most {max_entries:,}")
    browser, recorded_by = _recorder(log)
    report = HarReport(browser, recorded_by, entries=len(entries))
    if browser == "chromium" and "unknown" in recorded_by:
        report.notes.append(
            "the archive does not say which browser recorded it; predicted as Chromium"
        )
    parsed = [_entry(item) for item in entries]
    report.skipped = sum(1 for e in parsed if e is None)
    pages = _pages(log)
    documents = [e for e in parsed if e is not None and e.resource_type == "document"]
    used: set[int] = set()
    for index, entry in enumerate(parsed):
        if entry is None or index in used or entry.is_preflight:
            continue
        page = _page_origin(entry, pages, documents)
        if page is None or serialize_origin(entry.url) in (None, page):
            continue
        if not entry.is_cors():
            continue
        preflight_index = _preflight_for(parsed, index, entry)
        preflight = None if preflight_index is None else parsed[preflight_index]
        if preflight_index is not None:
            used.add(preflight_index)
        if len(report.items) >= MAX_ITEMS:
            report.notes.append(f"only the first {MAX_ITEMS} cross-origin requests are listed")
            break
        report.items.append(_item(index, entry, preflight, page, browser))
    for index, entry in enumerate(parsed):
        # A preflight whose request is not in the archive: the browser stopped there.
        if entry is None or not entry.is_preflight or index in used:
            continue
        page = _page_origin(entry, pages, documents)
        if page is None or len(report.items) >= MAX_ITEMS:
            continue
        report.items.append(_lone_preflight(index, entry, page, browser))
    report.items.sort(key=lambda item: item.index)
    return report


# --- entries ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    method: str
    url: str
    headers: tuple[Header, ...]
    status: int
    response_headers: tuple[Header, ...]
    resource_type: str
    error: str | None
    body_size: int | None
    pageref: str | None

    def header(self, name: str) -> str | None:
        return get(name, self.headers)

    @property
    def is_preflight(self) -> bool:
        return self.resource_type == "preflight" or (
            self.method == "OPTIONS" and self.header(REQUEST_METHOD) is not None
        )

    def is_cors(self) -> bool:
        mode = self.header("Sec-Fetch-Mode")
        if mode is not None:
            return mode == "cors"
        if self.resource_type:
            return self.resource_type in CORS_RESOURCE_TYPES
        return self.header(ORIGIN) is not None

    @property
    def answered(self) -> bool:
        return MIN_STATUS <= self.status <= MAX_STATUS


def _text(value: object, limit: int = MAX_TEXT) -> str | None:
    return value[:limit] if isinstance(value, str) else None


def _headers(value: object) -> tuple[Header, ...]:
    if not isinstance(value, list):
        return ()
    found: list[Header] = []
    for item in value[:MAX_HEADERS_PER_MESSAGE]:
        if not isinstance(item, dict):
            continue
        name, text = _text(item.get("name"), 256), _text(item.get("value"))
        if name and text is not None and not name.startswith(":"):
            found.append((name, text))
    return tuple(found)


def _entry(item: object) -> _Entry | None:
    if not isinstance(item, dict):
        return None
    request, response = item.get("request"), item.get("response")
    if not isinstance(request, dict):
        return None
    method, url = _text(request.get("method"), 64), _text(request.get("url"), 4096)
    if not method or not url or serialize_origin(url) is None:
        return None
    response = response if isinstance(response, dict) else {}
    status = response.get("status")
    if isinstance(status, bool) or not isinstance(status, int):
        status = 0
    post = request.get("postData")
    body_size = None
    if isinstance(post, dict):
        text = post.get("text")
        body_size = len(text) if isinstance(text, str) else 0
    elif isinstance(request.get("bodySize"), int) and request["bodySize"] > 0:
        body_size = request["bodySize"]
    error = _text(item.get("_error"), 200) or _text(response.get("_failureText"), 200)
    if error is None and status <= 0:
        error = _text(response.get("_error"), 200)
    return _Entry(
        method=method,
        url=url,
        headers=_headers(request.get("headers")),
        status=status,
        response_headers=_headers(response.get("headers")),
        resource_type=(_text(item.get("_resourceType"), 32) or "").lower(),
        error=error,
        body_size=body_size,
        pageref=_text(item.get("pageref"), 256),
    )


def _recorder(log: Mapping[str, Any]) -> tuple[str, str]:
    names = []
    for key in ("browser", "creator"):
        part = log.get(key)
        if isinstance(part, dict):
            name = _text(part.get("name"), 100) or ""
            version = _text(part.get("version"), 100) or ""
            names.append(f"{name} {version}".strip())
    text = " ".join(names).lower()
    # Chrome's DevTools call themselves "WebInspector"; Safari's "WebKit Web Inspector".
    if "firefox" in text or "gecko" in text:
        browser = "firefox"
    elif any(k in text for k in ("chrom", "webinspector", "edge", "opera", "brave")):
        browser = "chromium"
    elif "safari" in text or "webkit" in text:
        browser = "webkit"
    else:
        return "chromium", " / ".join(n for n in names if n) or "unknown"
    return browser, " / ".join(n for n in names if n)


def _pages(log: Mapping[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    pages = log.get("pages")
    if not isinstance(pages, list):
        return found
    for page in pages[:1000]:
        if not isinstance(page, dict):
            continue
        page_id, title = _text(page.get("id"), 256), _text(page.get("title"), 4096)
        origin = serialize_origin(title) if title else None
        if page_id and origin:
            found[page_id] = origin
    return found


def _page_origin(
    entry: _Entry, pages: Mapping[str, str], documents: Sequence[_Entry]
) -> str | None:
    origin = entry.header(ORIGIN)
    if origin and (origin == "null" or serialize_origin(origin) == origin):
        return origin
    referer = entry.header("Referer")
    if referer and serialize_origin(referer):
        return serialize_origin(referer)
    if entry.pageref and entry.pageref in pages:
        return pages[entry.pageref]
    for document in documents:
        if document.pageref == entry.pageref or entry.pageref is None:
            return serialize_origin(document.url)
    return None


def _preflight_for(entries: Sequence[_Entry | None], index: int, entry: _Entry) -> int | None:
    """The preflight entry just before the request: same URL, asking for its method."""
    for back in range(index - 1, max(-1, index - 200), -1):
        other = entries[back]
        if other is None or not other.is_preflight or other.url != entry.url:
            continue
        if (other.header(REQUEST_METHOD) or entry.method) == entry.method:
            return back
    return None


def _request_headers(entry: _Entry, preflight: _Entry | None) -> tuple[list[Header], list[str]]:
    """The headers the page's fetch() set: the recorded ones less what the browser adds."""
    notes: list[str] = []
    kept: list[Header] = []
    for name, value in entry.headers:
        lower = name.lower()
        if lower in BROWSER_ADDED or lower.startswith(("sec-", "proxy-")):
            continue
        if lower == "accept" and value == "*/*":
            continue
        if CACHE_DISABLED.get(lower) == value.lower():
            if "cache" not in " ".join(notes):
                notes.append(
                    "Cache-Control and Pragma: no-cache left out: DevTools adds them when "
                    "“Disable cache” is on"
                )
            continue
        kept.append((name, value))
    asked = None if preflight is None else preflight.header(REQUEST_HEADERS)
    have = {n.lower() for n, _ in kept}
    for name in (asked or "").split(","):
        name = name.strip()
        if name and name.lower() not in have:
            kept.append((name, NOT_RECORDED))
            have.add(name.lower())
            notes.append(f"{name}: the preflight asked for it but the archive has no value for it")
    return kept, notes


def _passing_preflight(
    page: str, method: str, headers: Sequence[Header], include: bool
) -> ServerResponse:
    lines: list[Header] = [(ALLOW_ORIGIN, page)]
    if include:
        lines.append((ALLOW_CREDENTIALS, "true"))
    if not is_cors_safelisted_method(method):
        lines.append((ALLOW_METHODS, method))
    if headers:
        lines.append((ALLOW_HEADERS, ", ".join(n for n, _ in headers)))
    return ServerResponse(204, tuple(lines))


def _item(index: int, entry: _Entry, preflight: _Entry | None, page: str, browser: str) -> HarItem:
    headers, notes = _request_headers(entry, preflight)
    include = entry.header("Cookie") is not None
    if include:
        notes.append(
            "sent with cookies to another origin, so fetch() used credentials: 'include' (the "
            "archive does not record the mode)"
        )
    body = None
    if entry.body_size is not None and entry.method not in ("GET", "HEAD"):
        body = f"(request body of {entry.body_size} bytes, not kept)"
    request = RequestInit(
        method=entry.method,
        headers=tuple(headers),
        credentials="include" if include else "same-origin",
        mode="cors",
        body=body,
    )
    response = (
        ServerResponse(entry.status, entry.response_headers)
        if entry.answered
        else (ServerResponse(200, ()))
    )
    if preflight is not None and preflight.answered:
        preflight_response = ServerResponse(preflight.status, preflight.response_headers)
    else:
        preflight_response = _passing_preflight(
            page, normalize_method(entry.method), headers, include
        )
    scenario = masked(
        Scenario(page, entry.url, request, preflight_response, response, id=f"har-{index}")
    )
    prediction = predict(scenario, browser)
    if prediction.preflight and preflight is None and entry.answered:
        notes.append(
            "the preflight is not in the archive (the browser had it cached, or the tool that "
            "saved it leaves preflights out); the request itself was sent, so it passed"
        )
    if not entry.answered:
        notes.append(
            "the archive holds no answer for this request: the browser blocked it or it failed "
            f"({entry.error or 'no status'}); the archive cannot tell which check. Run "
            "cors-playground check on it to ask the server"
        )
    return HarItem(
        index,
        entry.method,
        entry.url,
        page,
        scenario,
        preflight is not None,
        entry.answered,
        prediction,
        entry.error,
        tuple(notes),
    )


def _lone_preflight(index: int, entry: _Entry, page: str, browser: str) -> HarItem:
    method = entry.header(REQUEST_METHOD) or "GET"
    names = [n.strip() for n in (entry.header(REQUEST_HEADERS) or "").split(",") if n.strip()]
    headers = tuple((n, NOT_RECORDED) for n in names)
    answer = (
        ServerResponse(entry.status, entry.response_headers)
        if entry.answered
        else (ServerResponse(204, ()))
    )
    scenario = masked(
        Scenario(
            page,
            entry.url,
            RequestInit(method=method, headers=headers),
            answer,
            ServerResponse(200, ()),
            id=f"har-{index}",
        )
    )
    notes = ["only the preflight is in the archive: the browser did not send the request itself"]
    if not entry.answered:
        notes.append(f"the preflight got no answer ({entry.error or 'no status'})")
    return HarItem(
        index,
        method,
        entry.url,
        page,
        scenario,
        True,
        entry.answered,
        predict(scenario, browser),
        entry.error,
        tuple(notes),
    )


def har_text(report: HarReport, links: Mapping[int, str | None]) -> str:
    """``cors-playground har``'s report: one block per cross-origin request."""
    out = [
        f"Recorded by {report.recorded_by or 'an unknown tool'}; predicted as {report.label}.",
        f"{report.entries} entries, {len(report.items)} cross-origin request(s)"
        + (
            f", {report.skipped} unreadable entr{'y' if report.skipped == 1 else 'ies'} skipped"
            if report.skipped
            else ""
        )
        + ".",
    ]
    out += [f"Note: {n}" for n in report.notes]
    for item in report.items:
        out.append("")
        outcome = item.outcome
        check = f" — {item.failed_check}" if item.failed_check else ""
        out.append(f"#{item.index} {item.method} {item.url}")
        out.append(f"  page {item.page_origin}; {item.kind}; {outcome.upper()}{check}")
        failed = item.prediction.failed_step if item.answered else None
        if failed is not None and item.prediction.outcome != "allowed":
            out.append(f"  why: {failed.detail}")
        for note in item.notes:
            out.append(f"  note: {note}")
        link = links.get(item.index)
        if link:
            out.append(f"  open: {link}")
    return "\n".join(out) + "\n"


def archive_from_upload(body: bytes, content_type: str) -> bytes:
    """The archive's bytes from an upload: a multipart/form-data form (its ``har`` file
    field), or the archive itself as the body. HarError when the form has no file."""
    if not content_type.lower().startswith("multipart/form-data"):
        return body
    from email.parser import BytesParser
    from email.policy import HTTP

    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    try:
        message = BytesParser(policy=HTTP).parsebytes(head + body)
    except (ValueError, TypeError, IndexError, LookupError) as exc:
        raise HarError(f"the upload is not a readable form: {exc}") from None
    if not message.is_multipart():
        raise HarError("the upload is not a readable form (no parts)")
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") != "har":
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes) and payload:
            return payload
    raise HarError("choose a .har file to upload (the form's file field was empty)")
