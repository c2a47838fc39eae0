"""Everything the page shows to explain and fix one scenario, computed once per scenario and
browser: the failed check with its Fetch Standard and MDN links and the console text, the fix,
and the fixed policy for each library."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from app.cors import PROFILES, Scenario, Step, predict
from app.cors.engines import ENGINES
from app.fix.configs import LibraryConfig, library_configs
from app.fix.messages import MDN_PAGES, ConsoleMessages, console_messages, mdn_url
from app.fix.policy import Policy, policy_for
from app.fix.search import Fix, find_fix
from app.fix.sequence import status_line


@dataclass(frozen=True)
class Failure:
    """The check that failed in the learner's browser, and where to read about it."""

    check: str
    detail: str
    spec: str
    blocked_by: str | None
    mdn: str | None
    mdn_page: str | None
    # What the learner's browser prints, then what the others print.
    console: ConsoleMessages | None
    other_consoles: tuple[ConsoleMessages, ...]


@dataclass(frozen=True)
class Understanding:
    browser: str
    browser_label: str
    failure: Failure | None
    fix: Fix
    policy: Policy | None
    configs: tuple[LibraryConfig, ...]

    def status(self, code: str) -> str:
        """A status as its line: 204 → 204 No Content."""
        return status_line(int(code)) if code.isdigit() else code

    def engines(self, names: tuple[str, ...]) -> str:
        """Engine names as words: "Firefox and the Fetch Standard"."""
        labels = [PROFILES[n].label if n in PROFILES else n for n in names]
        if len(labels) < 2:
            return "".join(labels)
        return ", ".join(labels[:-1]) + " and " + labels[-1]


def failure_of(
    failed: Step, blocked: str | None, consoles: Sequence[ConsoleMessages], profile: str
) -> Failure:
    """The failed check, its references and each browser's console text (``profile``'s own
    apart from the others')."""
    return Failure(
        check=failed.check,
        detail=failed.detail,
        spec=failed.spec,
        blocked_by=blocked,
        mdn=mdn_url(blocked),
        mdn_page=MDN_PAGES.get(blocked or ""),
        console=next((c for c in consoles if c.browser == profile), None),
        other_consoles=tuple(c for c in consoles if c.browser != profile),
    )


@lru_cache(maxsize=512)
def understand(scenario: Scenario, browser: str) -> Understanding:
    """The explanation and the fix of ``scenario`` as ``browser`` (a profile name) runs it."""
    profile = browser if browser in PROFILES else "chromium"
    predictions = {engine: predict(scenario, engine) for engine in ENGINES}
    mine = predictions[profile]
    failure = None
    failed = mine.failed_step
    if failed is not None and mine.outcome in ("blocked", "error"):
        consoles = console_messages(scenario, predictions)
        blocked = mine.blocked_by if mine.outcome == "blocked" else None
        failure = failure_of(failed, blocked, consoles, profile)
    fix = find_fix(scenario, profile)
    policy = policy_for(fix)
    configs = () if policy is None else library_configs(policy)
    return Understanding(profile, PROFILES[profile].label, failure, fix, policy, configs)
