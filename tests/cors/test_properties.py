"""Properties of the engine over arbitrary input (hypothesis)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from app.cors import PROFILES, Scenario, predict
from app.cors.headers import (
    FORBIDDEN_REQUEST_HEADER_NAMES,
    is_cors_safelisted_request_header,
    is_forbidden_request_header,
)
from app.cors.methods import is_forbidden_method, normalize_method
from app.cors.profiles import get_profile
from app.cors.syntax import TOKEN_CHARS

ORIGIN = "http://localhost:8000"
token = st.text(alphabet=sorted(TOKEN_CHARS), min_size=1, max_size=12)
any_text = st.text(max_size=140)
header_value = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=140),
    st.sampled_from(["bytes=0-", "bytes=-5", "text/plain", "application/json", "x" * 129, "on"]),
)
header_name = st.one_of(
    token,
    st.sampled_from(["Accept", "Content-Type", "Range", "Authorization", "Accept-Language",
                     "User-Agent", "DPR", "X-HTTP-Method-Override", "Cookie", "Sec-X"]),
)  # fmt: skip
browsers = st.sampled_from(sorted(PROFILES))


def doc(method, headers, credentials, mode, body, preflight, response):
    return {
        "origin": ORIGIN,
        "url": "http://localhost:8001/r/1",
        "request": {"method": method, "headers": headers, "credentials": credentials,
                    "mode": mode, "body": body},
        "preflight_response": {"status": preflight[0], "headers": preflight[1]},
        "response": {"status": response[0], "headers": response[1]},
    }  # fmt: skip


answers = st.tuples(
    st.integers(200, 599), st.lists(st.tuples(any_text, any_text).map(list), max_size=6)
)


@settings(max_examples=300, deadline=None)
@given(
    method=any_text,
    headers=st.lists(st.tuples(any_text, any_text).map(list), max_size=6),
    credentials=st.sampled_from(["omit", "same-origin", "include"]),
    mode=st.sampled_from(["cors", "no-cors"]),
    body=st.one_of(st.none(), any_text),
    preflight=answers,
    response=answers,
    browser=browsers,
)
def test_engine_never_raises(method, headers, credentials, mode, body, preflight, response,
                             browser) -> None:  # fmt: skip
    scenario = Scenario.from_json(
        doc(method, headers, credentials, mode, body, preflight, response)
    )
    prediction = predict(scenario, browser)
    assert prediction.outcome in ("allowed", "blocked", "opaque", "error")
    assert (prediction.outcome == "blocked") == (prediction.blocked_by is not None)
    prediction.to_json()


valid_method = token.filter(lambda m: not is_forbidden_method(m))


@settings(max_examples=300, deadline=None)
@given(
    method=valid_method,
    headers=st.lists(st.tuples(header_name, header_value), max_size=5),
    credentials=st.sampled_from(["omit", "same-origin", "include"]),
    body=st.one_of(st.none(), st.just("x")),
    browser=browsers,
)
def test_a_policy_built_to_allow_the_request_lets_it_through(
    method, headers, credentials, body, browser
) -> None:
    normalized = normalize_method(method)
    if normalized in ("GET", "HEAD"):
        body = None
    allow = [("Access-Control-Allow-Origin", ORIGIN)]
    if credentials == "include":
        allow.append(("Access-Control-Allow-Credentials", "true"))
    names = ", ".join(n for n, _ in headers) or "x-none"
    preflight = [*allow, ("Access-Control-Allow-Methods", normalized),
                 ("Access-Control-Allow-Headers", names)]  # fmt: skip
    scenario = Scenario.from_json(
        doc(method, [list(h) for h in headers], credentials, "cors", body,
            (204, [list(h) for h in preflight]), (200, [list(h) for h in allow]))
    )  # fmt: skip
    prediction = predict(scenario, browser)
    assert prediction.outcome == "allowed", prediction.failed_step


@settings(max_examples=300, deadline=None)
@given(
    method=valid_method,
    headers=st.lists(st.tuples(header_name, header_value), max_size=6),
    browser=browsers,
)
def test_access_control_request_headers_is_lowercase_sorted_and_unsafe_only(
    method, headers, browser
) -> None:
    profile = get_profile(browser)
    request_headers = [list(h) for h in headers]
    document = doc(method, request_headers, "omit", "cors", None, (204, []), (200, []))
    prediction = predict(Scenario.from_json(document), browser)
    if prediction.preflight_request is None:
        return
    value = prediction.preflight_request.header("Access-Control-Request-Headers")
    if value is None:
        return
    names = value.split(",")
    assert names == sorted(names)
    if not profile.repeats_request_header_names:
        assert len(names) == len(set(names))
    assert all(n == n.lower() for n in names)
    for name in names:
        assert name not in FORBIDDEN_REQUEST_HEADER_NAMES
        sent = [(n, v.strip(" \t")) for n, v in headers if n.lower() == name]
        assert not all(is_forbidden_request_header(n, v, profile) for n, v in sent)
    total = sum(len(v.strip(" \t")) for _, v in headers)
    if total <= 1024 and not profile.combines_duplicate_request_headers:
        for name in names:
            values = [v.strip(" \t") for n, v in headers if n.lower() == name]
            assert not all(is_cors_safelisted_request_header(name, v, profile) for v in values)
