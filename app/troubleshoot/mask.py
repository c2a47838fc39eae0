"""Credentials out, playground limits in: what a recorded exchange may keep and show.

Cookie, Authorization (and their proxy and Set-Cookie cousins) carry secrets and never matter
to a CORS check beyond being present, so their values are masked before anything is kept,
printed or put in a link. A real server's answer is then fitted to what the composer accepts
(no framing headers, at most 32 lines, the CORS headers first) so it opens in the playground.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from app.cors import Scenario, ServerResponse
from app.runs.validation import FRAMING_HEADERS, MAX_HEADERS, check_headers, check_scenario

Header = tuple[str, str]
MASK = "[masked]"
SECRET_REQUEST_HEADERS = frozenset({"cookie", "cookie2", "authorization", "proxy-authorization"})
SECRET_RESPONSE_HEADERS = frozenset({"set-cookie", "set-cookie2"})


def mask_value(name: str, value: str) -> str:
    """A secret header's value without the secret: the scheme of an Authorization stays
    (``Bearer ‹masked›``), and a cookie's names stay (``session=‹masked›; theme=‹masked›``)."""
    lower = name.lower()
    if lower in ("authorization", "proxy-authorization"):
        scheme, _, rest = value.strip().partition(" ")
        return f"{scheme} {MASK}" if rest and scheme.isalnum() else MASK
    if lower in ("cookie", "cookie2"):
        names = [part.split("=", 1)[0].strip() for part in value.split(";") if "=" in part]
        return "; ".join(f"{n}={MASK}" for n in names if n) or MASK
    if lower in SECRET_RESPONSE_HEADERS:
        first, _, attributes = value.partition(";")
        cookie = first.split("=", 1)[0].strip()
        return f"{cookie}={MASK}" + (f";{attributes}" if attributes else "")
    return value


def mask_headers(headers: Sequence[Header], secret: frozenset[str]) -> tuple[Header, ...]:
    return tuple(
        (name, mask_value(name, value) if name.lower() in secret else value)
        for name, value in headers
    )


def masked(scenario: Scenario) -> Scenario:
    """The scenario with every credential's value masked (request and both answers)."""
    return replace(
        scenario,
        request=replace(
            scenario.request,
            headers=mask_headers(scenario.request.headers, SECRET_REQUEST_HEADERS),
        ),
        preflight_response=_mask_answer(scenario.preflight_response),
        response=_mask_answer(scenario.response),
    )


def _mask_answer(answer: ServerResponse) -> ServerResponse:
    return replace(answer, headers=mask_headers(answer.headers, SECRET_RESPONSE_HEADERS))


def playable(scenario: Scenario) -> tuple[Scenario | None, tuple[str, ...]]:
    """The scenario fitted to the composer's limits, and what was left out to fit; None when
    it still does not fit (then it cannot be opened in the playground)."""
    notes: list[str] = []
    answers = {}
    for part in ("preflight_response", "response"):
        answer: ServerResponse = getattr(scenario, part)
        kept, dropped = _fit(answer.headers)
        if dropped:
            notes.append(
                f"{part.replace('_', ' ')}: left out {', '.join(dropped)} (framing, too long or "
                f"past {MAX_HEADERS} lines; no CORS check reads them)"
            )
        answers[part] = replace(answer, headers=kept)
    fitted = replace(
        scenario,
        preflight_response=answers["preflight_response"],
        response=answers["response"],
    )
    checked = check_scenario(fitted)
    if checked.scenario is None:
        first = checked.errors[0]
        return None, (*notes, f"cannot be opened in the playground: {first.field}: {first.message}")
    return checked.scenario, tuple(notes)


def _fit(headers: Sequence[Header]) -> tuple[tuple[Header, ...], list[str]]:
    dropped: list[str] = []
    usable: list[Header] = []
    for name, value in headers:
        if name.lower() in FRAMING_HEADERS:
            dropped.append(name)
            continue
        _, errors, _ = check_headers([(name, value)], "h", response=True)
        if errors:
            dropped.append(name)
            continue
        usable.append((name, value))
    if len(usable) > MAX_HEADERS:
        cors = [i for i, (n, _) in enumerate(usable) if n.lower().startswith("access-control-")]
        others = [i for i in range(len(usable)) if i not in set(cors)]
        keep = set(cors[:MAX_HEADERS] + others[: max(0, MAX_HEADERS - len(cors))])
        dropped += [n for i, (n, _) in enumerate(usable) if i not in keep]
        usable = [h for i, h in enumerate(usable) if i in keep]
    return tuple(usable), dropped
