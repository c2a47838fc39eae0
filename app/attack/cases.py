"""The classic misconfigurations, as data, and what the attacker's page tries against them.

Each case is a policy for the victim API, made for a stage (the site's own origin goes into
it), with the words the lab shows. The attacker's page makes three attempts against whatever
the policy is: a credentialed ``fetch()`` from its own page, the same from a sandboxed frame
(whose origin is ``null``), and one without credentials. Each attempt is also a scenario the
engine predicts, so the lab explains per browser why the read was allowed or refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.attack.policy import Policy, exact, trusted_prefix
from app.attack.stage import Stage
from app.cors import RequestInit, Scenario, ServerResponse
from app.cors.names import CONTENT_TYPE

# What every answer of the account endpoint carries besides the policy's lines.
ACCOUNT_HEADERS: tuple[tuple[str, str], ...] = (
    (CONTENT_TYPE, "application/json"),
    ("Cache-Control", "no-store"),
)


@dataclass(frozen=True)
class Attempt:
    """One way the attacker's script asks the victim API for the learner's account."""

    key: str
    label: str
    sandboxed: bool  # from a sandboxed frame: its origin is opaque, so Origin: null
    credentials: str  # the fetch() credentials mode

    def origin(self, stage: Stage) -> str:
        return "null" if self.sandboxed else stage.attacker


ATTEMPTS: tuple[Attempt, ...] = (
    Attempt("page", "from the attacker's page, with your cookies", False, "include"),
    Attempt(
        "sandbox",
        "from a sandboxed frame on the attacker's page (Origin: null), with your cookies",
        True,
        "include",
    ),
    Attempt("anonymous", "from the attacker's page, without cookies", False, "omit"),
)
BY_ATTEMPT = {attempt.key: attempt for attempt in ATTEMPTS}


@dataclass(frozen=True)
class Case:
    """A classic server configuration: its policy on a stage and what the lab says of it.

    Sentences may hold ``{site}``, ``{api}``, ``{attacker}``, ``{host}`` and ``{trusted}``,
    filled in by ``text``, and `backticks` for code.
    """

    key: str
    title: str
    setup: str
    make: Callable[[Stage], Policy]
    # The attempt that shows the case best (a room's question, a lesson's run).
    attempt: str
    # Why it is dangerous (None for a configuration that is not).
    danger: str | None
    # How the same check is beaten in production, with names an attacker can get.
    production: str

    def policy(self, stage: Stage) -> Policy:
        return self.make(stage)

    def text(self, sentence: str, stage: Stage) -> str:
        policy = self.policy(stage)
        values = {
            "{site}": stage.site,
            "{api}": stage.api,
            "{attacker}": stage.attacker,
            "{host}": stage.host,
            "{trusted}": policy.trusted,
        }
        for key, value in values.items():
            sentence = sentence.replace(key, value)
        return sentence


CASES: tuple[Case, ...] = (
    Case(
        "reflect",
        "Any origin, reflected, with credentials",
        "The API copies whatever `Origin` arrives into `Access-Control-Allow-Origin` and adds "
        "`Access-Control-Allow-Credentials: true`: a popular way to make CORS errors go away.",
        lambda stage: Policy("reflect", True),
        "page",
        "Every website can read this API's answers with the visitor's cookies: the check "
        "passes for the attacker's origin exactly as for yours.",
        "In production the same server hands the account to `https://attacker.example`.",
    ),
    Case(
        "null",
        "Trusting the `null` origin",
        "The API allows `{site}` and `null`, with credentials, so that local files can call it "
        "during development.",
        lambda stage: Policy("list", True, allowed=(stage.site, "null")),
        "sandbox",
        "`null` is not one origin: any website can make a sandboxed frame whose requests say "
        "`Origin: null`, and the check passes for it.",
        'In production any site can embed `<iframe sandbox="allow-scripts">` and read the '
        "account from inside it.",
    ),
    Case(
        "prefix",
        "Prefix matching",
        "The API trusts every origin that starts with `{trusted}`: the site's scheme and host, "
        "without the port, so that every development port works.",
        lambda stage: Policy("prefix", True, trusted=trusted_prefix(stage)),
        "page",
        "A prefix check trusts every origin that starts the same way: here the attacker's page "
        "on another port of `{host}`.",
        'In production the check `startswith("https://trusted.example")` also passes '
        "`https://trusted.example.attacker.example`, a name anyone can register.",
    ),
    Case(
        "suffix",
        "Suffix matching",
        "The API trusts every origin whose host name ends with `{trusted}`, meant for the site "
        "and its subdomains, and ignores the port.",
        lambda stage: Policy("suffix", True, trusted=stage.host),
        "page",
        "A suffix check without the scheme, the port and a dot trusts more than the site: here "
        "the attacker's page on another port of `{host}`.",
        'In production the check `endswith("trusted.example")` also passes '
        "`https://attackertrusted.example`, a name anyone can register.",
    ),
    Case(
        "wildcard",
        "`*` without credentials",
        "The API answers `Access-Control-Allow-Origin: *` and no "
        "`Access-Control-Allow-Credentials`: the answer is public, for any page.",
        lambda stage: Policy("any", False),
        "page",
        None,
        "Any page reads it, but never with the visitor's cookies: only what a stranger would get.",
    ),
    Case(
        "allow-list",
        "An exact allow-list",
        "The API allows exactly `{site}`, with credentials, and answers every other origin "
        "without `Access-Control-Allow-Origin` (and with `Vary: Origin`).",
        exact,
        "page",
        None,
        "In production it allows `https://trusted.example` and nothing else.",
    ),
)
BY_CASE = {case.key: case for case in CASES}
DANGEROUS = tuple(case.key for case in CASES if case.danger is not None)


def account_scenario(
    policy: Policy, origin: str, url: str, credentials: str, scenario_id: str | None = None
) -> Scenario:
    """The account request from ``origin`` as the engine sees it: a GET (no preflight) with
    ``credentials``, answered by ``policy`` as the API answers that origin."""
    lines = policy.answer(origin)
    return Scenario(
        origin=origin,
        url=url,
        request=RequestInit("GET", (), credentials, "cors", None),
        preflight_response=ServerResponse(204, lines),
        response=ServerResponse(200, (*lines, *ACCOUNT_HEADERS)),
        id=scenario_id,
    )


def attempt_scenario(
    policy: Policy, stage: Stage, attempt: Attempt, url: str | None = None
) -> Scenario:
    """An attempt of the attacker's page against ``policy``."""
    return account_scenario(
        policy,
        attempt.origin(stage),
        url or f"{stage.api}/victim/account",
        attempt.credentials,
        f"attack-{attempt.key}",
    )


def site_scenario(policy: Policy, stage: Stage, url: str | None = None) -> Scenario:
    """The learner's own site reading the account with cookies: what must keep working."""
    return account_scenario(
        policy, stage.site, url or f"{stage.api}/victim/account", "include", "attack-site"
    )


DEFAULT_STAGE = Stage("http://localhost:8000", "http://localhost:8001", "http://localhost:8002")


#: The attacks a room can ask about, as (case, attempt): each case with the attempt that shows
#: it best, and `*` once more without cookies. A room names one by ``room_key``.
ROOM_ATTACKS: tuple[tuple[str, str], ...] = (
    *((case.key, case.attempt) for case in CASES),
    ("wildcard", "anonymous"),
)


def room_key(case: str, attempt: str) -> str:
    """The name of a room's attack question: ``reflect-page``, ``wildcard-anonymous``..."""
    return f"{case}-{attempt}"


ROOM_KEYS = {room_key(case, attempt): (case, attempt) for case, attempt in ROOM_ATTACKS}


def room_title(case: Case, attempt: Attempt, stage: Stage) -> str:
    """A room question's title for ``attempt`` against ``case`` (no backticks)."""
    if attempt.sandboxed:
        where = "a sandboxed frame on the attacker's page"
    else:
        where = f"the attacker's page at {stage.attacker}"
    cookies = "with your cookies" if attempt.credentials == "include" else "without cookies"
    return f"{case.title}: {where} asks for your account {cookies}".replace("`", "")


def room_scenarios(stage: Stage = DEFAULT_STAGE) -> list[tuple[str, Scenario]]:
    """The classic misconfigurations as (title, scenario) pairs for a room's questions: each is
    the attacker's request for the learner's account, answered as the misconfigured API
    answers it (the engine predicts what each browser lets the attacker's script read)."""
    found: list[tuple[str, Scenario]] = []
    for case_key, attempt_key in ROOM_ATTACKS:
        case, attempt = BY_CASE[case_key], BY_ATTEMPT[attempt_key]
        scenario = attempt_scenario(case.policy(stage), stage, attempt)
        found.append((room_title(case, attempt, stage), _named(scenario, case.key, attempt.key)))
    return found


def _named(scenario: Scenario, case: str, attempt: str) -> Scenario:
    return Scenario(
        scenario.origin,
        scenario.url,
        scenario.request,
        scenario.preflight_response,
        scenario.response,
        f"attack-{case}-{attempt}",
    )
