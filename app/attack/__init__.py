"""The attacker's view: a third origin steals what a misconfigured API exposes, and the fix
stops it.

Pure Python on the engine (``app.cors``) and the run model (``app.runs``): the classic
misconfigurations as data (``cases``), the victim API's policy and how it answers each origin
(``policy``), where the attack happens (``stage``), each learner's secret, login, rounds and
the attacker's log (``store``), the verdict on each attempt from what was recorded
(``verdict``), and which changes stop the attack or only move the problem (``fixes``).
The web layer serves it: the victim API on the API origin, the attacker's page on its own
origin, and the lab on the site.
"""

from app.attack.cases import (
    ATTEMPTS,
    BY_ATTEMPT,
    BY_CASE,
    CASES,
    DANGEROUS,
    ROOM_ATTACKS,
    ROOM_KEYS,
    Attempt,
    Case,
    account_scenario,
    attempt_scenario,
    room_key,
    room_scenarios,
    room_title,
    site_scenario,
)
from app.attack.policy import RULES, Policy, exact, policy_from_form
from app.attack.stage import ATTACKER_SITES, Stage
from app.attack.store import Attack, AttackStore, Report, Round

__all__ = [
    "ATTACKER_SITES",
    "ATTEMPTS",
    "BY_ATTEMPT",
    "BY_CASE",
    "CASES",
    "DANGEROUS",
    "ROOM_ATTACKS",
    "ROOM_KEYS",
    "RULES",
    "Attack",
    "AttackStore",
    "Attempt",
    "Case",
    "Policy",
    "Report",
    "Round",
    "Stage",
    "account_scenario",
    "attempt_scenario",
    "exact",
    "policy_from_form",
    "room_key",
    "room_scenarios",
    "room_title",
    "site_scenario",
]
