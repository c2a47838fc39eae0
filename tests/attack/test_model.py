"""The attack model as data: how each policy answers each origin, what the engine says the
attacker's script may read, which changes stop the attack or only move the problem, the
login cookies and the bounds of what is kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.attack import (
    ATTEMPTS,
    BY_ATTEMPT,
    BY_CASE,
    CASES,
    AttackStore,
    Policy,
    Stage,
    attempt_scenario,
    policy_from_form,
    room_scenarios,
    site_scenario,
)
from app.attack.fixes import alternatives, current
from app.attack.store import MAX_LOG, MAX_ROUNDS, Report
from app.attack.verdict import Evidence, judge, round_verdict
from app.cors import predict
from app.runs.errors import BadRequest
from app.runs.origins import OriginPair
from tests.helpers import assert_imports_only_stdlib_and

PACKAGE = Path(__file__).resolve().parents[2] / "app" / "attack"
SAME = Stage.of(OriginPair.of("localhost", 8000, 8001), 8002)
CROSS = Stage.of(OriginPair.of("localhost", 8000, 8001), 8002, "cross")
LAN = Stage.of(OriginPair.of("laptop.local", 8000, 8001), 8002, "cross")
BROWSERS = ("chromium", "firefox", "webkit")


def test_the_package_is_pure() -> None:
    assert_imports_only_stdlib_and(PACKAGE, "app.cors", "app.runs", "app.attack")


def test_the_attacker_lives_on_a_third_port_of_the_same_or_the_other_loopback_name() -> None:
    assert SAME.attacker == "http://localhost:8002" and SAME.relation == "same-site"
    assert CROSS.attacker == "http://127.0.0.1:8002" and CROSS.relation == "cross-site"
    # From a LAN address the other name would be each attendee's own computer.
    assert LAN.attacker == "http://laptop.local:8002" and LAN.where == "same"
    assert SAME.account_url("a" * 24, "r" * 22).startswith("http://localhost:8001/victim/")


@pytest.mark.parametrize(
    ("case", "readable"),
    [
        ("reflect", {"page", "sandbox", "anonymous"}),
        ("null", {"sandbox"}),
        ("prefix", {"page", "anonymous"}),
        ("suffix", {"page", "anonymous"}),
        ("wildcard", {"anonymous"}),
        ("allow-list", set()),
    ],
)
def test_what_each_case_lets_the_attacker_read_in_every_browser(
    case: str, readable: set[str]
) -> None:
    policy = BY_CASE[case].policy(SAME)
    for browser in BROWSERS:
        found = {
            a.key
            for a in ATTEMPTS
            if predict(attempt_scenario(policy, SAME, a), browser).outcome == "allowed"
        }
        assert found == readable, (case, browser)
    # The legitimate site reads its account with cookies, except under * (never with them).
    site = predict(site_scenario(policy, SAME), "chromium").outcome
    assert site == ("blocked" if case == "wildcard" else "allowed")


def test_policies_answer_the_origin_that_arrived() -> None:
    reflect = BY_CASE["reflect"].policy(SAME)
    assert reflect.answer("http://x.example") == (
        ("Access-Control-Allow-Origin", "http://x.example"),
        ("Access-Control-Allow-Credentials", "true"),
        ("Vary", "Origin"),
    )
    assert reflect.answer(None) == (("Vary", "Origin"),)
    prefix = BY_CASE["prefix"].policy(SAME)
    assert prefix.trusted == "http://localhost"
    assert prefix.allows("http://localhost.attacker.example")
    assert not prefix.allows("http://127.0.0.1:8002")
    suffix = BY_CASE["suffix"].policy(SAME)
    assert suffix.allows("http://evil-localhost:9") and not suffix.allows("null")
    assert BY_CASE["allow-list"].policy(SAME).answer("http://localhost:8002") == (
        ("Vary", "Origin"),
    )
    rows = Policy("rows", rows=(("Access-Control-Allow-Origin", "http://a.example"),))
    assert rows.answer("http://b.example") == (("Access-Control-Allow-Origin", "http://a.example"),)
    assert Policy("any", True).answer("http://b.example")[0] == ("Access-Control-Allow-Origin", "*")


def test_the_exact_allow_list_stops_every_case_and_keeps_the_site_working() -> None:
    for case in CASES:
        verdicts = {a.key: a for a in alternatives(case.policy(SAME), SAME)}
        if case.key == "allow-list":
            assert "exact" not in verdicts  # it is the policy already
            assert current(case.policy(SAME), SAME).verdict == "stops"
            continue
        assert verdicts["exact"].verdict == "stops", case.key
        assert verdicts["exact"].site_works


def test_fixes_that_only_move_the_problem_are_called_so() -> None:
    reflect = BY_CASE["reflect"].policy(SAME)
    found = {a.key: a for a in alternatives(reflect, SAME)}
    assert found["null"].verdict == "moves"  # to the sandboxed frame, which still reads
    assert "sandboxed frame" in found["null"].sentence
    # From the null case itself, allowing null is no change; from prefix it moves the problem.
    prefix = {a.key: a for a in alternatives(BY_CASE["prefix"].policy(SAME), SAME)}
    assert prefix["null"].verdict == "moves"
    assert found["prefix-origin"].verdict == "moves"
    assert "trusted.example.attacker.example" in found["prefix-origin"].sentence
    assert found["wildcard"].verdict == "breaks" and found["no-credentials"].verdict == "breaks"
    # From the other loopback name a dotted suffix check refuses the attacker here, but lets
    # plain http through in production.
    cross = {a.key: a for a in alternatives(BY_CASE["suffix"].policy(CROSS), CROSS)}
    assert cross["suffix-dot"].verdict == "moves"
    assert any(origin == "http://trusted.example" for origin, _ in cross["suffix-dot"].leaks)
    # The prefix and suffix checks trust names an attacker registers.
    assert current(BY_CASE["prefix"].policy(CROSS), CROSS).verdict == "moves"
    leaks = dict(current(BY_CASE["suffix"].policy(SAME), SAME).leaks)
    assert "https://attackertrusted.example" in leaks


def test_the_policy_form_is_checked_field_by_field() -> None:
    policy = policy_from_form(
        {"rule": "list", "allowed": "this, null", "credentials": "1"}, (), SAME
    )
    assert policy == Policy("list", True, allowed=("http://localhost:8000", "null"))
    written = policy_from_form(
        {"rule": "rows"}, [("Access-Control-Allow-Origin", " http://localhost:8002 ")], SAME
    )
    assert written.rows == (("Access-Control-Allow-Origin", "http://localhost:8002"),)
    bad = [
        ({"rule": "everything"}, (), "rule"),
        ({"rule": "list", "allowed": ""}, (), "allowed"),
        ({"rule": "list", "allowed": "http://a.example/"}, (), "allowed"),
        ({"rule": "list", "allowed": "HTTP://A.example"}, (), "allowed"),
        ({"rule": "list", "allowed": " ".join(["null"] * 9)}, (), "allowed"),
        ({"rule": "prefix", "trusted": ""}, (), "trusted"),
        ({"rule": "suffix", "trusted": "é"}, (), "trusted"),
        ({"rule": "suffix", "trusted": "x" * 201}, (), "trusted"),
        ({"rule": "any"}, [("Bad Name", "x")], "rows[0].name"),
        ({"rule": "any"}, [("X-A", "a\nb")], "rows[0].value"),
        ({"rule": "any"}, [("Content-Length", "1")], "rows[0].name"),
        ({"rule": "any"}, [("X-A", "1")] * 9, "rows"),
    ]
    for form, rows, field in bad:
        with pytest.raises(BadRequest) as refused:
            policy_from_form(form, rows, SAME)
        assert refused.value.field == field and refused.value.status == 422, form
    assert policy_from_form({"rule": "list", "allowed": "http://[::1]:8000"}, (), SAME).allowed == (
        "http://[::1]:8000",
    )


def test_the_login_sets_a_cross_site_and_a_same_site_cookie_and_recognises_them() -> None:
    store = AttackStore(max_attacks=2)
    attack = store.start("a" * 24, SAME, BY_CASE["reflect"].policy(SAME), "reflect")
    assert store.start("a" * 24, SAME, Policy("none"), None) is attack  # kept, same secret
    assert attack.secret.startswith("sk-") and not attack.logged_in
    lines = attack.login(secure_allowed=True)
    assert len(lines) == 2
    assert lines[0].endswith("; SameSite=None; Secure") and lines[1].endswith("; SameSite=Lax")
    assert all(f"Path=/victim/{attack.id}/" in line and "HttpOnly" in line for line in lines)
    assert attack.login(secure_allowed=False)[0].endswith("; SameSite=Lax")
    token = attack.token
    assert attack.cookies_carried(f"x=1; {attack.cookie}_lax={token}") == ("same-site",)
    assert attack.cookies_carried(f"{attack.cookie}={token}; {attack.cookie}_lax={token}") == (
        "cross-site",
        "same-site",
    )
    assert attack.cookies_carried(f"{attack.cookie}=old") == ()
    assert attack.logout()[0].startswith(f"{attack.cookie}=;") and not attack.logged_in
    # Two attacks at most: the least recently used leaves.
    store.start("b" * 24, SAME, Policy("none"), None)
    store.start("c" * 24, SAME, Policy("none"), None)
    assert store.get("a" * 24) is None and len(store) == 2


def test_rounds_and_the_attacker_s_log_are_bounded() -> None:
    attack = AttackStore().start("d" * 24, SAME, Policy("none"), None)
    for _ in range(MAX_ROUNDS + 3):
        attack.new_round().runs["page"] = "run"
    assert len(attack.rounds) == MAX_ROUNDS and attack.rounds[-1].number == MAX_ROUNDS + 3
    for n in range(MAX_LOG + 5):
        attack.record(Report(0, 1, f"r{n}", "page", "allowed", 200, "x", None, False))
    assert len(attack.log) == MAX_LOG and attack.log[0].run_id == f"r{MAX_LOG + 4}"


def verdict_of(attempt: str, stage: Stage, evidence: Evidence, logged_in: bool = True) -> str:
    policy = BY_CASE["reflect"].policy(stage)
    chosen = BY_ATTEMPT[attempt]
    expected = policy.answer(chosen.origin(stage))
    view = judge(
        chosen, "run", stage, evidence, logged_in=logged_in, browser="firefox",
        expected_answer=expected,
    )  # fmt: skip
    assert [e.engine for e in view.engines] == list(BROWSERS)
    return view.verdict


def test_verdicts_say_whether_cors_or_a_cookie_policy_stopped_the_attack() -> None:
    allowed = Evidence(arrived=True, status=401, outcome="allowed", read='{"error": "x"}')
    assert verdict_of("page", SAME, Evidence()) == "pending"
    stolen = Evidence(arrived=True, carried=("same-site",), status=200, outcome="allowed",
                      read="sk-1", stolen=True)  # fmt: skip
    assert verdict_of("page", SAME, stolen) == "stolen"
    assert verdict_of("page", SAME, Evidence(arrived=True, outcome="blocked")) == "refused"
    assert verdict_of("anonymous", SAME, allowed) == "anonymous"
    assert verdict_of("page", SAME, allowed, logged_in=False) == "not-logged-in"
    assert verdict_of("sandbox", CROSS, allowed) == "no-cookie"
    judged = judge(
        BY_ATTEMPT["sandbox"], "run", CROSS, allowed, logged_in=True, browser="firefox",
        expected_answer=(),
    )  # fmt: skip
    assert "Total Cookie Protection" in judged.sentence and "not thanks to CORS" in judged.sentence
    views = (judged,)
    assert round_verdict(views).key == "cookie"


def test_room_scenarios_are_the_classic_cases_as_titled_scenarios() -> None:
    pairs = room_scenarios()
    assert len(pairs) == len(CASES) + 1
    titles = [title for title, _ in pairs]
    assert len(set(titles)) == len(titles) and all("`" not in t for t in titles)
    outcomes = {s.id: predict(s).outcome for _, s in pairs}
    assert outcomes == {
        "attack-reflect-page": "allowed",
        "attack-null-sandbox": "allowed",
        "attack-prefix-page": "allowed",
        "attack-suffix-page": "allowed",
        "attack-wildcard-page": "blocked",
        "attack-allow-list-page": "blocked",
        "attack-wildcard-anonymous": "allowed",
    }
    # On the learner's own origins too.
    custom = room_scenarios(CROSS)
    assert custom[0][1].origin == "http://127.0.0.1:8002"


def test_the_attacker_s_log_keeps_a_bounded_part_of_what_was_read() -> None:
    from app.attack.store import MAX_STOLEN_CHARS, stolen_text

    assert stolen_text(None) is None and stolen_text("abc") == "abc"
    cut = stolen_text("x" * (MAX_STOLEN_CHARS + 50))
    assert cut is not None and len(cut) == MAX_STOLEN_CHARS + 1 and cut.endswith("…")
