"""The victim API's CORS policy: how it answers each ``Origin``, as data.

A policy is a rule for ``Access-Control-Allow-Origin`` (reflect every origin, an exact list,
a prefix or suffix check, ``*``, none, or rows written by hand), whether it adds
``Access-Control-Allow-Credentials: true``, and extra rows sent as written. ``answer`` gives
the header lines the API sends to a request from a given origin: the API origin calls it with
the ``Origin`` that really arrived, and the engine's scenarios call it with the origin each
attempt comes from, so both speak of the same server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.attack.stage import Stage
from app.cors.names import ALLOW_CREDENTIALS, ALLOW_ORIGIN, VARY
from app.runs.errors import BadRequest
from app.runs.validation import check_headers

Header = tuple[str, str]

# Each rule: its words for the policy form (the composer's policy builder's presets, plus the
# rules that look at the Origin).
RULES: dict[str, str] = {
    "reflect": "reflect any Origin (copy it into Access-Control-Allow-Origin)",
    "list": "an exact list of origins",
    "prefix": "every origin that starts with…",
    "suffix": "every origin whose host name ends with…",
    "any": "* (any origin, never with credentials)",
    "none": "none (no Access-Control-Allow-Origin)",
    "rows": "only the rows written below, as written",
}
MAX_LISTED = 8
MAX_TRUSTED = 200
MAX_ROWS = 8


@dataclass(frozen=True)
class Policy:
    """How the victim API answers a request's ``Origin``."""

    rule: str
    credentials: bool = False
    # "list": the origins allowed, exactly as compared (``null`` may be one of them).
    allowed: tuple[str, ...] = ()
    # "prefix" / "suffix": the text the origin (or its host name) is compared with.
    trusted: str = ""
    # Sent as written after the rule's lines (for "rows", the whole CORS answer).
    rows: tuple[Header, ...] = ()

    def allows(self, origin: str | None) -> bool:
        """Whether the rule answers ``origin`` with an ``Access-Control-Allow-Origin`` line."""
        return bool(self.origin_value(origin))

    def origin_value(self, origin: str | None) -> str | None:
        """The ``Access-Control-Allow-Origin`` value the rule sends to ``origin`` (None: none)."""
        if self.rule == "any":
            return "*"
        if origin is None:
            return None
        if self.rule == "reflect":
            return origin
        if self.rule == "list":
            return origin if origin in self.allowed else None
        if self.rule == "prefix":
            return origin if self.trusted and origin.startswith(self.trusted) else None
        if self.rule == "suffix":
            host = _host(origin)
            return origin if self.trusted and host and host.endswith(self.trusted) else None
        if self.rule == "suffix-dot":
            host = _host(origin)
            exact = host == self.trusted
            below = host.endswith("." + self.trusted)
            return origin if self.trusted and host and (exact or below) else None
        return None

    def answer(self, origin: str | None) -> tuple[Header, ...]:
        """The CORS header lines the API sends to a request that carried ``Origin: origin``
        (None: no Origin header)."""
        lines: list[Header] = []
        value = self.origin_value(origin)
        if value is not None:
            lines.append((ALLOW_ORIGIN, value))
            if self.credentials:
                lines.append((ALLOW_CREDENTIALS, "true"))
        if self.rule in ("reflect", "list", "prefix", "suffix", "suffix-dot"):
            # The answer depends on the Origin: caches must keep the answers apart.
            lines.append((VARY, "Origin"))
        lines.extend(self.rows)
        return tuple(lines)

    def describe(self) -> str:
        """The policy in one sentence, as the lab shows it."""
        if self.rule == "list":
            listed = ", ".join(f"`{o}`" for o in self.allowed) or "no origin"
            words = f"allows exactly {listed}"
        elif self.rule == "prefix":
            words = f"allows every origin that starts with `{self.trusted}`"
        elif self.rule == "suffix":
            words = f"allows every origin whose host name ends with `{self.trusted}`"
        elif self.rule == "suffix-dot":
            words = f"allows `{self.trusted}` and every host name that ends with `.{self.trusted}`"
        elif self.rule == "reflect":
            words = "copies any `Origin` into `Access-Control-Allow-Origin`"
        elif self.rule == "any":
            words = "answers `Access-Control-Allow-Origin: *`"
        elif self.rule == "rows":
            words = "sends only the rows written by hand"
        else:
            words = "sends no `Access-Control-Allow-Origin`"
        if self.credentials and self.rule not in ("none", "rows"):
            words += ", with `Access-Control-Allow-Credentials: true`"
        if self.rows and self.rule != "rows":
            words += ", and " + ", ".join(f"`{n}: {v}`" for n, v in self.rows)
        elif self.rule == "rows":
            rows = ", ".join(f"`{n}: {v}`" for n, v in self.rows) or "none"
            words += f": {rows}"
        return words


def _host(origin: str) -> str:
    if origin == "null":
        return ""
    try:
        return (urlsplit(origin).hostname or "").lower()
    except ValueError:
        return ""


def exact(stage: Stage, credentials: bool = True) -> Policy:
    """The policy that trusts the learner's site only: the fix."""
    return Policy("list", credentials, allowed=(stage.site,))


def trusted_prefix(stage: Stage) -> str:
    """The prefix a developer writes for the site: its scheme and host, without the port
    ("so that it works on every port in development")."""
    parts = urlsplit(stage.site)
    return f"{parts.scheme}://{parts.hostname}"


# --- the policy form ----------------------------------------------------------------------


def _field(form: Mapping[str, str], name: str, limit: int) -> str:
    value = form.get(name, "").strip()
    if len(value) > limit:
        raise BadRequest(422, f"{name} is too long; at most {limit} characters", name)
    return value


def policy_from_form(form: Mapping[str, str], rows: Sequence[Header], stage: Stage) -> Policy:
    """The policy the lab's form describes; refused (422, naming the field) when it is not one.

    ``rule`` is one of RULES; ``credentials`` is "1" or absent; ``allowed`` (for "list") is
    origins separated by spaces, commas or new lines, ``this`` standing for the site; ``trusted``
    (for "prefix" and "suffix") the text compared; ``rows`` the extra header lines.
    """
    rule = form.get("rule", "")
    if rule not in RULES:
        raise BadRequest(422, f"rule must be one of {', '.join(RULES)}", "rule")
    credentials = form.get("credentials", "") == "1"
    allowed: tuple[str, ...] = ()
    trusted = ""
    if rule == "list":
        words = _field(form, "allowed", 2048).replace(",", " ").split()
        if not words:
            raise BadRequest(422, "list at least one origin (this: the site's origin)", "allowed")
        if len(words) > MAX_LISTED:
            raise BadRequest(422, f"at most {MAX_LISTED} origins", "allowed")
        allowed = tuple(stage.site if w == "this" else w for w in words)
        for item in allowed:
            if not _is_origin_text(item):
                raise BadRequest(
                    422,
                    f"{item!r} is not a serialized origin (scheme://host[:port], or null)",
                    "allowed",
                )
    elif rule in ("prefix", "suffix"):
        trusted = _field(form, "trusted", MAX_TRUSTED)
        if not trusted:
            raise BadRequest(422, f"say what the {rule} check compares", "trusted")
        if not trusted.isascii() or not trusted.isprintable():
            raise BadRequest(422, "the compared text must be printable ASCII", "trusted")
    if len(rows) > MAX_ROWS:
        raise BadRequest(422, f"at most {MAX_ROWS} extra rows", "rows")
    cleaned, errors, _notes = check_headers(list(rows), "rows", response=True)
    if errors:
        raise BadRequest(422, f"{errors[0].field}: {errors[0].message}", errors[0].field)
    return Policy(rule, credentials, allowed, trusted, cleaned)


def _is_origin_text(value: str) -> bool:
    if value == "null":
        return True
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return False
    host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
    rebuilt = f"{parts.scheme}://{host}" + ("" if port is None else f":{port}")
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and value.isascii()
        and rebuilt == value.lower()
        and value == value.lower()
    )
