"""Validate everything a learner (or a stranger) types before it is stored, sent or answered.

Each problem is reported against the field it came from (``request.headers[2].value``), in words
a learner understands; the page shows it next to the field and the JSON API returns it with a
4xx. What the API origin will answer must also be sendable by h11, which resets the connection
on header values it cannot send; checking here keeps that from ever happening.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from app.cors import (
    FetchSequence,
    RequestInit,
    Scenario,
    ScenarioError,
    SequenceItem,
    ServerResponse,
)
from app.cors.scenario import CREDENTIALS_MODES, REQUEST_MODES

Header = tuple[str, str]

MAX_HEADERS = 32
MAX_NAME_LENGTH = 128
MAX_VALUE_LENGTH = 2048
MAX_HEADER_BLOCK = 16 * 1024
MAX_BODY_BYTES = 64 * 1024
MAX_METHOD_LENGTH = 32
MAX_ID_LENGTH = 120
MAX_URL_LENGTH = 2048

# RFC 9110 token: the characters allowed in a method and in a header name.
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
TOKEN_CHARS = "letters, digits and ! # $ % & ' * + - . ^ _ ` | ~"
HTTP_SPACES = " \t"
# Framing is the server's job: these would contradict the body the API origin sends.
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding"})

TRIM_NOTE = (
    "surrounding spaces removed: they are not part of a header value "
    "(HTTP and the browser drop them too)"
)


@dataclass(frozen=True)
class FieldMessage:
    """A message about one field, addressed by its path in the scenario JSON."""

    field: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


@dataclass
class Checked:
    """The outcome of validation: a scenario when there were no errors, and the notes."""

    scenario: Scenario | None
    errors: list[FieldMessage] = field(default_factory=list)
    notes: list[FieldMessage] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.scenario is not None and not self.errors

    def errors_by_field(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for error in self.errors:
            out.setdefault(error.field, error.message)
        return out

    def notes_by_field(self) -> dict[str, str]:
        return {note.field: note.message for note in self.notes}

    def to_json(self) -> dict[str, Any]:
        first = self.errors[0] if self.errors else None
        return {
            "error": None if first is None else first.to_json(),
            "errors": [e.to_json() for e in self.errors],
            "notes": [n.to_json() for n in self.notes],
        }


def _describe_char(ch: str) -> str:
    names = {"\r": "a carriage return (CR)", "\n": "a line feed (LF)", "\0": "a NUL byte"}
    if ch in names:
        return names[ch]
    if ch == "\t":
        return "a tab"
    if ch == " ":
        return "a space"
    if ord(ch) < 0x20 or ord(ch) == 0x7F:
        return f"the control character \\x{ord(ch):02x}"
    return f"‘{ch}’ (U+{ord(ch):04X})"


def check_token(value: str, where: str, what: str) -> str | None:
    """None if ``value`` is a token; else the sentence explaining the first bad character."""
    if TOKEN.fullmatch(value):
        return None
    bad = next(ch for ch in value if not TOKEN.fullmatch(ch))
    return f"{what} must be a token ({TOKEN_CHARS}); this one contains {_describe_char(bad)}"


# Tab, visible ASCII, space and Latin-1 beyond ASCII: what a header value may hold.
_PLAIN_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")


def check_header_value(value: str, where: str) -> tuple[str, FieldMessage | None, bool]:
    """Return (trimmed value, error or None, whether spaces were trimmed)."""
    # Most values are plain: only one with another character needs the walk that names it.
    for ch in "" if _PLAIN_VALUE.fullmatch(value) else value:
        code = ord(ch)
        if ch in "\r\n\0":
            return (
                value,
                FieldMessage(
                    where,
                    f"a header value cannot contain {_describe_char(ch)}: it would end the header "
                    "line (header injection); fetch() refuses it and so does the server",
                ),
                False,
            )
        if (code < 0x20 and ch != "\t") or code == 0x7F:
            return (
                value,
                FieldMessage(
                    where,
                    f"a header value cannot contain {_describe_char(ch)}: control characters are "
                    "not allowed in HTTP field values",
                ),
                False,
            )
        if code > 0xFF:
            return (
                value,
                FieldMessage(
                    where,
                    f"{_describe_char(ch)} is not Latin-1: HTTP header values are bytes and "
                    "fetch() only accepts characters up to U+00FF (percent-encode or use ASCII)",
                ),
                False,
            )
    trimmed = value.strip(HTTP_SPACES)
    if len(trimmed) > MAX_VALUE_LENGTH:
        return (
            trimmed,
            FieldMessage(
                where, f"too long ({len(trimmed)} characters); at most {MAX_VALUE_LENGTH}"
            ),
            False,
        )
    return trimmed, None, trimmed != value


def check_headers(
    headers: Sequence[Header],
    where: str,
    *,
    indexes: Sequence[int] | None = None,
    response: bool = False,
) -> tuple[tuple[Header, ...], list[FieldMessage], list[FieldMessage]]:
    """Check a header list; return the cleaned list, errors and notes."""
    errors: list[FieldMessage] = []
    notes: list[FieldMessage] = []
    if len(headers) > MAX_HEADERS:
        errors.append(
            FieldMessage(where, f"too many headers ({len(headers)}); at most {MAX_HEADERS}")
        )
        return tuple(headers), errors, notes
    cleaned: list[Header] = []
    total = 0
    for position, (name, value) in enumerate(headers):
        index = indexes[position] if indexes is not None else position
        row = f"{where}[{index}]"
        if not name.strip(HTTP_SPACES):
            errors.append(FieldMessage(f"{row}.name", "a header needs a name"))
            continue
        if name != name.strip(HTTP_SPACES):
            name = name.strip(HTTP_SPACES)
            notes.append(FieldMessage(f"{row}.name", "surrounding spaces removed from the name"))
        if len(name) > MAX_NAME_LENGTH:
            errors.append(
                FieldMessage(
                    f"{row}.name", f"too long ({len(name)} characters); at most {MAX_NAME_LENGTH}"
                )
            )
            continue
        problem = check_token(name, f"{row}.name", "a header name")
        if problem:
            errors.append(FieldMessage(f"{row}.name", problem))
            continue
        if response and name.lower() in FRAMING_HEADERS:
            errors.append(
                FieldMessage(
                    f"{row}.name",
                    f"{name} is framing, not policy: the API origin sets it from the body it "
                    "sends; remove this row",
                )
            )
            continue
        value, error, trimmed = check_header_value(value, f"{row}.value")
        if error:
            errors.append(error)
            continue
        if trimmed:
            notes.append(FieldMessage(f"{row}.value", TRIM_NOTE))
        total += len(name) + len(value) + 4
        cleaned.append((name, value))
    if total > MAX_HEADER_BLOCK:
        errors.append(
            FieldMessage(where, f"headers too large ({total} bytes); at most {MAX_HEADER_BLOCK}")
        )
    return tuple(cleaned), errors, notes


def check_method(method: str) -> tuple[str, FieldMessage | None, FieldMessage | None]:
    """Return (method, error, note). Forbidden methods pass: fetch() refusing them is a lesson."""
    note = None
    if method != method.strip(HTTP_SPACES):
        method = method.strip(HTTP_SPACES)
        note = FieldMessage("request.method", "surrounding spaces removed from the method")
    if not method:
        return method, FieldMessage("request.method", "a method is required (GET if unsure)"), note
    if len(method) > MAX_METHOD_LENGTH:
        return (
            method,
            FieldMessage(
                "request.method",
                f"too long ({len(method)} characters); at most {MAX_METHOD_LENGTH}",
            ),
            note,
        )
    problem = check_token(method, "request.method", "a method")
    if problem:
        return method, FieldMessage("request.method", problem), note
    return method, None, note


def check_scenario(
    scenario: Scenario,
    *,
    indexes: dict[str, Sequence[int]] | None = None,
    check_target: bool = True,
) -> Checked:
    """Deep checks on a structurally valid scenario; returns the cleaned scenario or errors."""
    indexes = indexes or {}
    errors: list[FieldMessage] = []
    notes: list[FieldMessage] = []
    if scenario.id is not None and len(scenario.id) > MAX_ID_LENGTH:
        errors.append(FieldMessage("id", f"too long; at most {MAX_ID_LENGTH} characters"))
    if check_target:
        for name in ("origin", "url"):
            value: str = getattr(scenario, name)
            if len(value) > MAX_URL_LENGTH:
                errors.append(FieldMessage(name, f"too long; at most {MAX_URL_LENGTH} characters"))
    method, error, note = check_method(scenario.request.method)
    errors.extend(x for x in (error,) if x)
    notes.extend(x for x in (note,) if x)
    request_headers, errs, nts = check_headers(
        scenario.request.headers, "request.headers", indexes=indexes.get("request.headers")
    )
    errors += errs
    notes += nts
    body = scenario.request.body
    if body is not None:
        size = len(body.encode("utf-8", "surrogatepass"))
        if size > MAX_BODY_BYTES:
            errors.append(
                FieldMessage("request.body", f"too large ({size} bytes); at most {MAX_BODY_BYTES}")
            )
    answers: dict[str, ServerResponse] = {}
    for part in ("preflight_response", "response"):
        answer: ServerResponse = getattr(scenario, part)
        headers, errs, nts = check_headers(
            answer.headers,
            f"{part}.headers",
            indexes=indexes.get(f"{part}.headers"),
            response=True,
        )
        errors += errs
        notes += nts
        answers[part] = replace(answer, headers=headers)
    hops = []
    for number, hop in enumerate(scenario.hops):
        where = f"hops[{number}]"
        if len(hop.url) > MAX_URL_LENGTH:
            errors.append(
                FieldMessage(f"{where}.url", f"too long; at most {MAX_URL_LENGTH} characters")
            )
        cleaned_answers = []
        for part in ("preflight_response", "response"):
            answer = getattr(hop, part)
            headers, errs, nts = check_headers(
                answer.headers, f"{where}.{part}.headers", response=True
            )
            errors += errs
            notes += nts
            cleaned_answers.append(replace(answer, headers=headers))
        cleaned_hop = replace(
            hop, preflight_response=cleaned_answers[0], response=cleaned_answers[1]
        )
        hops.append(cleaned_hop)
    if errors:
        return Checked(None, errors, notes)
    cleaned = replace(
        scenario,
        request=replace(scenario.request, method=method, headers=request_headers),
        preflight_response=answers["preflight_response"],
        response=answers["response"],
        hops=tuple(hops),
    )
    return Checked(cleaned, errors, notes)


def scenario_from_json(
    doc: object, *, default_origin: str, default_url: str, check_target: bool = True
) -> Checked:
    """Read and check a scenario document (the JSON API and share links)."""
    try:
        scenario = Scenario.from_json(doc, default_origin=default_origin, default_url=default_url)
    except ScenarioError as exc:
        return Checked(None, [FieldMessage(exc.field, exc.message)])
    except (TypeError, ValueError, RecursionError) as exc:  # defensive: never a 500
        return Checked(None, [FieldMessage("scenario", f"not a scenario: {exc}")])
    return check_scenario(scenario, check_target=check_target)


@dataclass
class CheckedSequence:
    """A checked sequence: the sequence when there were no errors, and the notes."""

    sequence: FetchSequence | None
    errors: list[FieldMessage] = field(default_factory=list)
    notes: list[FieldMessage] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return Checked(None, self.errors, self.notes).to_json()


def sequence_from_json(
    doc: object, *, default_origin: str, default_url: str, check_target: bool = True
) -> CheckedSequence:
    """Read and check a sequence document (``{"sequence": [...]}``), each fetch's scenario as
    ``scenario_from_json`` checks it; fields are named ``sequence[1].scenario.request...``."""
    try:
        sequence = FetchSequence.from_json(
            doc, default_origin=default_origin, default_url=default_url
        )
    except ScenarioError as exc:
        return CheckedSequence(None, [FieldMessage(exc.field, exc.message)])
    except (TypeError, ValueError, RecursionError) as exc:  # defensive: never a 500
        return CheckedSequence(None, [FieldMessage("sequence", f"not a sequence: {exc}")])
    if sequence.id is not None and len(sequence.id) > MAX_ID_LENGTH:
        return CheckedSequence(
            None, [FieldMessage("id", f"too long; at most {MAX_ID_LENGTH} characters")]
        )
    items = []
    errors: list[FieldMessage] = []
    notes: list[FieldMessage] = []
    for index, item in enumerate(sequence.items):
        checked = check_scenario(item.scenario, check_target=check_target)
        prefix = f"sequence[{index}].scenario."
        errors += [FieldMessage(prefix + m.field, m.message) for m in checked.errors]
        notes += [FieldMessage(prefix + m.field, m.message) for m in checked.notes]
        if checked.scenario is not None:
            items.append(SequenceItem(item.at, checked.scenario))
    if errors:
        return CheckedSequence(None, errors, notes)
    return CheckedSequence(FetchSequence(tuple(items), sequence.id), errors, notes)


def is_sequence_document(doc: object) -> bool:
    """Whether a JSON document is a sequence (it has a ``sequence`` key)."""
    return isinstance(doc, dict) and "sequence" in doc


def _rows(form: FormData, name_key: str, value_key: str) -> tuple[list[Header], list[int]]:
    names = form.getall(name_key)
    values = form.getall(value_key)
    rows: list[Header] = []
    indexes: list[int] = []
    for index in range(max(len(names), len(values))):
        name = names[index] if index < len(names) else ""
        value = values[index] if index < len(values) else ""
        if not name.strip() and not value.strip():
            continue  # an empty row the learner has not filled in yet
        rows.append((name, value))
        indexes.append(index)
    return rows, indexes


def _status(form: FormData, key: str, where: str, errors: list[FieldMessage]) -> int:
    raw = form.get(key, "").strip()
    if not raw:
        return 200
    if not raw.isascii() or not raw.isdigit() or len(raw) > 3:
        errors.append(FieldMessage(where, "must be a number from 200 to 599"))
        return 200
    return int(raw)


class FormData:
    """Decoded ``application/x-www-form-urlencoded`` fields, in order, duplicates kept."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self.pairs = list(pairs)

    def get(self, key: str, default: str = "") -> str:
        return next((v for k, v in self.pairs if k == key), default)

    def getall(self, key: str) -> list[str]:
        return [v for k, v in self.pairs if k == key]


def scenario_from_form(form: FormData, *, origin: str, url: str) -> Checked:
    """Build and check a scenario from the composer form."""
    errors: list[FieldMessage] = []
    request_rows, request_idx = _rows(form, "rq_name", "rq_value")
    preflight_rows, preflight_idx = _rows(form, "pf_name", "pf_value")
    response_rows, response_idx = _rows(form, "rs_name", "rs_value")
    credentials = form.get("credentials", "same-origin")
    if credentials not in CREDENTIALS_MODES:
        errors.append(
            FieldMessage("request.credentials", f"must be one of {', '.join(CREDENTIALS_MODES)}")
        )
        credentials = "same-origin"
    mode = form.get("mode", "cors")
    if mode not in REQUEST_MODES:
        errors.append(FieldMessage("request.mode", f"must be one of {', '.join(REQUEST_MODES)}"))
        mode = "cors"
    preflight_status = _status(form, "pf_status", "preflight_response.status", errors)
    response_status = _status(form, "rs_status", "response.status", errors)
    scenario_id = form.get("scenario_id", "").strip() or None
    try:
        scenario = Scenario(
            origin=origin,
            url=url,
            request=RequestInit(
                method=form.get("method", "GET"),
                headers=tuple(request_rows),
                credentials=credentials,
                mode=mode,
                body=form.get("body") if form.get("has_body") else None,
            ),
            preflight_response=ServerResponse(preflight_status, tuple(preflight_rows)),
            response=ServerResponse(response_status, tuple(response_rows)),
            id=scenario_id,
        )
        # Round-trip through the format's own reader: one source of truth for its rules.
        scenario = Scenario.from_json(scenario.to_json())
    except ScenarioError as exc:
        errors.append(FieldMessage(exc.field, exc.message))
        return Checked(None, errors)
    checked = check_scenario(
        scenario,
        indexes={
            "request.headers": request_idx,
            "preflight_response.headers": preflight_idx,
            "response.headers": response_idx,
        },
        check_target=False,
    )
    checked.errors[:0] = errors
    if errors:
        checked.scenario = None
    return checked


# The composer's label of each field path (the JSON API keeps the paths).
FIELD_LABELS = {
    "request.method": "Method",
    "request.headers": "Request headers",
    "request.body": "Body",
    "request.credentials": "Credentials",
    "request.mode": "Mode",
    "preflight_response.status": "Preflight (OPTIONS) status",
    "preflight_response.headers": "Preflight response headers",
    "response.status": "Actual response status",
    "response.headers": "Actual response headers",
}
ROW_LABELS = {
    "request.headers": "Request header",
    "preflight_response.headers": "Preflight response header",
    "response.headers": "Actual response header",
}
_ROW_PATH = re.compile(r"(?P<list>[a-z_.]+)\[(?P<index>\d+)\]\.(?P<part>name|value)")


def field_label(field_path: str) -> str:
    """What the composer calls a field: ``request.headers[2].value`` → ``Request header 3
    value``, ``preflight_response.status`` → ``Preflight (OPTIONS) status``; a path the
    composer has no field for stays as it is."""
    row = _ROW_PATH.fullmatch(field_path)
    if row and row["list"] in ROW_LABELS:
        return f"{ROW_LABELS[row['list']]} {int(row['index']) + 1} {row['part']}"
    return FIELD_LABELS.get(field_path, field_path)


def dom_id(field_path: str) -> str:
    """HTML id of a field: ``request.headers[2].value`` → ``f-request-headers-2-value``."""
    return "f-" + re.sub(r"[^a-z0-9]+", "-", field_path.lower()).strip("-")


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def invalid_text(doc: object) -> FieldMessage | None:
    """The first string of a JSON document (key or value) that is not Unicode text, such as a
    lone surrogate (``"\\ud800"``): JSON lets them through, UTF-8 cannot carry them, and a page
    that showed one could not be sent."""
    stack: list[tuple[str, object]] = [("", doc)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if not _is_text(value):
                break
        elif isinstance(value, dict):
            for key, item in reversed(list(value.items())):
                if not _is_text(key):
                    return FieldMessage(
                        path or "body", "holds a key that is not valid text (a lone surrogate)"
                    )
                stack.append((f"{path}.{key}" if path else key, item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", item) for i, item in reversed(list(enumerate(value))))
    else:
        return None
    bad = next(c for c in value if not _is_text(c))
    return FieldMessage(
        path or "body",
        f"is not valid text: it holds a lone surrogate (U+{ord(bad):04X}), half of a character "
        "that UTF-8 cannot carry",
    )
