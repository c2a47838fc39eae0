"""Each learner's attack, bounded: the secret, the login, the policy, the rounds of the attack
and the attacker's log.

An attack belongs to one lab session (its id is unguessable and is also the run store's session
holding the attack's runs). The secret is made when the attack starts, and a login gives a new
token, sent back as a cookie; nothing else identifies the learner. Everything is bounded: the
number of attacks (least recently used out first, idle ones expire), the rounds each keeps,
and the attacker's log entries and their size.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

from app.attack.policy import Policy
from app.attack.stage import Stage
from app.runs.lru import ExpiringLRU

DEFAULT_MAX_ATTACKS = 1000
DEFAULT_TTL = 6 * 3600.0
MAX_ROUNDS = 12
MAX_LOG = 20
# What the attacker's log keeps of what its script read (the account is about 120 characters),
# and of an error message.
MAX_STOLEN_CHARS = 600
MAX_ERROR_CHARS = 200
LOGIN_MAX_AGE = 3600
# The two login cookies: one that may go to other sites (browsers require Secure for it, and
# accept Secure on http only for localhost and loopback addresses), one for the same site.
CROSS_SITE_COOKIE = "; SameSite=None; Secure"
SAME_SITE_COOKIE = "; SameSite=Lax"


def new_secret() -> str:
    """The account's secret: what the attacker wants (new for every attack)."""
    return "sk-" + secrets.token_hex(8)


def cookie_name(attack_id: str) -> str:
    return "victim_" + hashlib.sha256(attack_id.encode()).hexdigest()[:8]


@dataclass(frozen=True)
class Report:
    """One entry of the attacker's log: what its script got for one attempt."""

    at: float
    round: int
    run_id: str
    attempt: str
    outcome: str
    status: int | None
    read: str | None  # what the script could read of the answer, cut to MAX_STOLEN_CHARS
    error: str | None
    stolen: bool  # the secret is in what it read


@dataclass
class Round:
    """One launch of the attack (the first, or a replay): the policy it met and its runs."""

    number: int
    at: float
    policy: Policy
    stage: Stage
    runs: dict[str, str] = field(default_factory=dict)  # attempt key -> run id
    logged_in: bool = False  # the learner had logged in when it started


@dataclass(eq=False)
class Attack:
    """One learner's attack lab."""

    id: str
    secret: str
    stage: Stage
    policy: Policy
    case: str | None  # the preset the policy came from (None: written by hand)
    token: str | None = None  # the login cookie's value, once logged in
    logins: int = 0
    # Every token given out (the newest last), so a request is known to carry a login cookie
    # of this attack even after a later login.
    tokens: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_ROUNDS))
    # The lab page on the learner's site (where the login goes back to).
    home: str = ""
    # The attack lesson that last set the policy (opening another one sets its own).
    lesson: str = ""
    rounds: deque[Round] = field(default_factory=lambda: deque(maxlen=MAX_ROUNDS))
    log: deque[Report] = field(default_factory=lambda: deque(maxlen=MAX_LOG))
    site_runs: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_ROUNDS))
    rounds_started: int = 0

    @property
    def cookie(self) -> str:
        return cookie_name(self.id)

    @property
    def logged_in(self) -> bool:
        return self.token is not None

    def login(self, secure_allowed: bool) -> tuple[str, ...]:
        """A new login: its Set-Cookie lines (the cross-site one only where Secure can be
        set, on a loopback host)."""
        self.token = secrets.token_hex(12)
        self.tokens.append(self.token)
        self.logins += 1
        path = f"/victim/{self.id}/"
        base = f"{self.token}; Path={path}; Max-Age={LOGIN_MAX_AGE}; HttpOnly"
        lines = [f"{self.cookie}_lax={base}{SAME_SITE_COOKIE}"]
        if secure_allowed:
            lines.insert(0, f"{self.cookie}={base}{CROSS_SITE_COOKIE}")
        return tuple(lines)

    def logout(self) -> tuple[str, ...]:
        self.token = None
        path = f"/victim/{self.id}/"
        return (
            f"{self.cookie}=; Path={path}; Max-Age=0{CROSS_SITE_COOKIE}",
            f"{self.cookie}_lax=; Path={path}; Max-Age=0{SAME_SITE_COOKIE}",
        )

    def cookies_carried(self, cookie_header: str | None) -> tuple[str, ...]:
        """Which of the login cookies a request carried (with a token this attack gave out):
        "cross-site" (SameSite=None), "same-site" (SameSite=Lax)."""
        if not cookie_header or not self.tokens:
            return ()
        pairs: dict[str, str] = {}
        for part in cookie_header.split(";"):
            name, _, value = part.strip().partition("=")
            pairs.setdefault(name, value)
        found = []
        if pairs.get(self.cookie) in self.tokens:
            found.append("cross-site")
        if pairs.get(f"{self.cookie}_lax") in self.tokens:
            found.append("same-site")
        return tuple(found)

    def new_round(self, now: float | None = None) -> Round:
        self.rounds_started += 1
        found = Round(
            self.rounds_started,
            time.time() if now is None else now,
            self.policy,
            self.stage,
            logged_in=self.logged_in,
        )
        self.rounds.append(found)
        return found

    def round(self, number: int) -> Round | None:
        return next((r for r in self.rounds if r.number == number), None)

    def round_of(self, run_id: str) -> tuple[Round, str] | None:
        """The round that made ``run_id`` and the attempt it was."""
        for found in self.rounds:
            for attempt, rid in found.runs.items():
                if rid == run_id:
                    return found, attempt
        return None

    def record(self, report: Report) -> None:
        self.log.appendleft(report)

    def reported(self, run_id: str) -> Report | None:
        return next((r for r in self.log if r.run_id == run_id), None)


def stolen_text(read: str | None, limit: int = MAX_STOLEN_CHARS) -> str | None:
    """What the attacker's log keeps of what its script read (or of an error)."""
    if read is None:
        return None
    return read if len(read) <= limit else read[:limit] + "…"


class AttackStore:
    """Attacks by id, bounded in number; idle ones expire."""

    def __init__(
        self,
        *,
        max_attacks: int = DEFAULT_MAX_ATTACKS,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._attacks: ExpiringLRU[Attack] = ExpiringLRU(capacity=max_attacks, ttl=ttl, clock=clock)

    def __len__(self) -> int:
        return len(self._attacks)

    def get(self, attack_id: str) -> Attack | None:
        return self._attacks.get(attack_id)

    def start(self, attack_id: str, stage: Stage, policy: Policy, case: str | None) -> Attack:
        """The attack with this id, made (with a new secret) when there is none."""
        found = self._attacks.get(attack_id)
        if found is not None:
            return found
        return self._attacks.put(attack_id, Attack(attack_id, new_secret(), stage, policy, case))


class AttackBook(Protocol):
    """Attacks as the web layer sees them: every call awaited, so a store shared by several
    processes stands in for the in-memory one. An attack changes only inside ``editing``."""

    async def get(self, attack_id: str) -> Attack | None: ...

    async def start(
        self, attack_id: str, stage: Stage, policy: Policy, case: str | None
    ) -> Attack: ...

    def editing(self, attack_id: str) -> AbstractAsyncContextManager[Attack | None]:
        """The attack (None when there is none), kept as it is when the block ends."""
        ...

    async def count(self) -> int: ...


class MemoryAttacks:
    """The embedded default: one process's :class:`AttackStore`."""

    def __init__(self, memory: AttackStore) -> None:
        self.memory = memory

    async def get(self, attack_id: str) -> Attack | None:
        return self.memory.get(attack_id)

    async def start(self, attack_id: str, stage: Stage, policy: Policy, case: str | None) -> Attack:
        return self.memory.start(attack_id, stage, policy, case)

    @asynccontextmanager
    async def editing(self, attack_id: str) -> AsyncIterator[Attack | None]:
        yield self.memory.get(attack_id)

    async def count(self) -> int:
        return len(self.memory)
