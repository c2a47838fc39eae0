"""app/web/events.py: bounded subscriber queues; a slow subscriber drops, never blocks."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import pytest

from app.web.events import EventBus, TooManySubscribers, event_stream
from app.web.server import BackgroundServer
from tests.streams import EventReader
from tests.web.conftest import new_session


def test_a_slow_subscriber_drops_events_and_the_publisher_never_waits() -> None:
    async def scenario() -> None:
        bus = EventBus(queue_size=4)
        slow = bus.subscribe("t")
        fast = bus.subscribe("t")
        delivered = []
        for i in range(10):
            bus.publish("t", "e", lambda i=i: f"<p>{i}</p>")
            event = await fast.get()
            assert event is not None
            delivered.append(event.html)
        assert len(delivered) == 10
        assert slow.queue.qsize() == 4 and slow.dropped == 6

    asyncio.run(scenario())


def test_events_render_once_and_only_with_subscribers() -> None:
    async def scenario() -> None:
        bus = EventBus()
        calls = []

        def render() -> str:
            calls.append(1)
            return "x"

        assert bus.publish("t", "e", render) == 0 and calls == []
        a, b = bus.subscribe("t"), bus.subscribe("t")
        assert bus.publish("t", "e", render) == 2 and calls == [1]
        first, second = await a.get(), await b.get()
        assert first is second

    asyncio.run(scenario())


def test_topics_are_isolated() -> None:
    async def scenario() -> None:
        bus = EventBus()
        mine, other = bus.subscribe("runs:a"), bus.subscribe("runs:b")
        bus.publish("runs:a", "e", lambda: "mine")
        assert (await mine.get()).html == "mine"  # type: ignore[union-attr]
        assert other.queue.empty()

    asyncio.run(scenario())


def test_close_ends_every_stream_even_a_full_one() -> None:
    async def scenario() -> None:
        bus = EventBus(queue_size=2)
        full = bus.subscribe("t")
        for _ in range(5):
            bus.publish("t", "e", lambda: "x")
        bus.close()
        seen = [await full.get(), await full.get()]
        assert seen[-1] is None
        late = bus.subscribe("t")
        assert await late.get() is None

    asyncio.run(scenario())


def test_subscribers_per_topic_are_bounded() -> None:
    async def scenario() -> None:
        bus = EventBus(subscribers_per_topic=2)
        subs = [bus.subscribe("t"), bus.subscribe("t")]
        with pytest.raises(TooManySubscribers):
            bus.subscribe("t")
        bus.unsubscribe(subs[0])
        bus.subscribe("t")
        assert bus.subscriber_count("t") == 2

    asyncio.run(scenario())


def test_a_stalled_subscriber_is_bounded_in_bytes_and_catches_up_with_a_whole_event() -> None:
    """Large events fill a byte budget long before the count: past it, events are dropped for
    that subscriber only (as past the count); once it has read its queue, the next event
    arrives whole, even one larger than the budget (a run's whole card)."""

    async def scenario() -> None:
        card = "<article>" + "x" * 10_000 + "</article>"
        bus = EventBus(queue_size=64, queue_bytes=25_000)
        stalled = bus.subscribe("t")
        reading = bus.subscribe("t")
        for i in range(10):
            assert bus.publish("t", "run", lambda i=i: f"{card}{i}") >= 1
            assert (await reading.get()) is not None
            assert stalled.queued_bytes <= 25_000
        assert stalled.queue.qsize() == 2 and stalled.dropped == 8
        assert reading.dropped == 0
        while not stalled.queue.empty():
            await stalled.get()
        assert stalled.queued_bytes == 0
        huge = "<article>" + "y" * 100_000 + "</article>"
        bus.publish("t", "run", lambda: huge)
        event = await stalled.get()
        assert event is not None and event.html == huge

    asyncio.run(scenario())


# --- resuming a stream over HTTP ------------------------------------------------------------


def read_events(url: str, headers: dict[str, str] | None = None) -> list[dict[str, str]]:
    """The events of a stream up to its resume mark: the ``ready`` event of a named stream, or
    an event that is an id alone (each event as its fields)."""
    events: list[dict[str, str]] = []
    fields: dict[str, str] = {}
    with (
        httpx.Client(timeout=5) as client,
        client.stream("GET", url, headers=headers or {}) as stream,
    ):
        assert stream.status_code == 200, stream.read()
        for line in stream.iter_lines():
            if line:
                name, _, value = line.partition(": ")
                if name == "data" and "data" in fields:
                    fields["data"] += "\n" + value
                elif name:  # not a comment
                    fields[name] = value
                continue
            fields.pop("retry", None)
            if fields:
                events.append(fields)
                if fields.get("event") == "ready" or set(fields) == {"id"}:
                    return events
                fields = {}
    raise AssertionError(f"the stream ended before its resume mark: {events}")


def test_a_resumed_stream_first_sends_what_changed_meanwhile(backend: dict[str, Any]) -> None:
    """A page that closed its stream while hidden reopens it with the last id it had
    (``?since=``, or Last-Event-ID from the browser's own reconnection): the runs' cards and
    the console's exchanges that changed meanwhile come first, each once and in order."""
    with BackgroundServer(**backend) as live, httpx.Client(timeout=5) as client:
        sid = new_session(client, live)
        runs_url = f"{live.site_url}/sessions/{sid}/events"
        console_url = f"{live.api_url}/console/{sid}/events"

        def start_run() -> dict[str, str]:
            answer = client.post(f"{live.site_url}/api/runs", json={}, params={"session": sid})
            assert answer.status_code == 201
            created: dict[str, str] = answer.json()
            return created

        first = start_run()
        client.get(first["target"])
        fresh = read_events(runs_url)
        assert [e["event"] for e in fresh] == ["ready"]  # a new stream has no backlog
        last = fresh[-1]["id"]
        assert [set(e) for e in read_events(console_url)] == [{"id"}]

        # Meanwhile (the page hidden): a new run answers twice, the first run once more.
        second = start_run()
        client.get(second["target"])
        client.get(second["target"])
        client.get(first["target"])

        for resumed in (
            read_events(f"{runs_url}?since={last}"),
            read_events(runs_url, {"Last-Event-ID": last}),
        ):
            cards = [e for e in resumed if e.get("event") == "run"]
            assert [second["run_id"] in c["data"] for c in cards] == [True, False]
            assert 'data-version="2"' in cards[0]["data"] and first["run_id"] in cards[1]["data"]
            ids = [int(e["id"]) for e in resumed]
            assert ids == sorted(ids) and resumed[-1]["event"] == "ready"
            assert int(resumed[0]["id"]) > int(last)

        missed = read_events(f"{console_url}?since={last}")
        entries = [e["data"] for e in missed if "data" in e]
        assert [second["run_id"] in d for d in entries] == [True, True, False]
        up_to_date = read_events(f"{runs_url}?since={resumed[-1]['id']}")
        assert [e["event"] for e in up_to_date] == ["ready"]


# --- what a leg costs on the wire ------------------------------------------------------------


def test_a_leg_arrives_as_a_small_delta_and_the_whole_card_once_the_run_is_done(
    backend: dict[str, Any],
) -> None:
    """A leg reaching the API origin sends that leg to the session's pages (its exchange and
    the card's legs summary), not the whole card; the result sends the whole card once."""
    with BackgroundServer(**backend) as live, httpx.Client(timeout=5) as client:
        run = client.post(f"{live.site_url}/api/runs", json={"request": {"method": "GET"}}).json()
        url = f"{live.site_url}/sessions/{run['session']}/events"
        events: list[tuple[str, str]] = []
        connected = threading.Event()

        def listen() -> None:
            with httpx.Client(timeout=5) as reader, reader.stream("GET", url) as stream:
                name, data = "", []
                for line in stream.iter_lines():
                    if line.startswith(": connected"):
                        connected.set()
                    elif line.startswith("event: "):
                        name = line[7:]
                    elif line.startswith("data: "):
                        data.append(line[6:])
                    elif not line:
                        if name in ("leg", "run"):
                            events.append((name, "\n".join(data)))
                        if name == "run":
                            return
                        name, data = "", []

        thread = threading.Thread(target=listen, daemon=True)
        thread.start()
        assert connected.wait(5)
        assert client.get(run["target"]).status_code == 200
        result = {"outcome": "blocked", "status": None, "headers": [], "error": "TypeError"}
        assert client.post(f"{live.site_url}/runs/{run['run_id']}/result", json=result).is_success
        thread.join(5)
        assert [name for name, _ in events] == ["leg", "run"]
        leg, card = events[0][1], events[1][1]
        assert f'data-run-id="{run["run_id"]}"' in leg and 'data-kind="actual"' in leg
        assert 'class="exchange"' in leg and "<summary>" in leg
        assert len(leg) < 4096 < len(card), (len(leg), len(card))


def test_legs_past_the_run_s_limit_send_its_card_a_few_times_not_once_each(
    backend: dict[str, Any],
) -> None:
    """A page looping fetch() to its run: each leg past the limit is answered and counted,
    and the card that counts them is drawn at most every quarter second, ending with the
    final count (not once per request)."""
    with (
        BackgroundServer(exchanges_per_run=2, **backend) as live,
        httpx.Client(timeout=5) as client,
    ):
        run = client.post(f"{live.site_url}/api/runs", json={"request": {"method": "GET"}}).json()
        final = "40 more requests to this run were answered but not recorded"
        reader = EventReader(
            f"{live.site_url}/sessions/{run['session']}/events",
            lambda events: any(final in data for _, data in events),
        )
        assert reader.ready.wait(5)
        for _ in range(42):
            assert client.get(run["target"]).status_code == 200
        assert reader.ended.wait(5), reader.names()
        assert reader.names().count("leg") == 2
        cards = [data for name, data in reader.events if name == "run"]
        assert 1 <= len(cards) <= 8, len(cards)  # 40 legs in well under two seconds
        assert final in cards[-1]


def test_an_idle_stream_pings_and_ends_when_the_bus_closes() -> None:
    """``event_stream`` sends its own keep-alive comments (EventStreamResponse writes each
    event as it comes, with no keep-alive task of its own)."""

    async def scenario() -> list[str]:
        bus = EventBus()
        sub = bus.subscribe("t")
        seen: list[str] = []
        async for event in event_stream(sub, named=True, upto=0, ping=0.05):
            seen.append(event.comment or event.event or "")
            if seen[-1] == "ping" and seen.count("ping") == 2:
                bus.publish("t", "run", lambda: "<p>card</p>")
            if seen[-1] == "run":
                bus.close()
        return seen

    seen = asyncio.run(scenario())
    assert seen == ["connected", "ready", "ping", "ping", "run"]


def test_a_stream_is_written_as_server_sent_events(backend: dict[str, Any]) -> None:
    """The wire format of EventStreamResponse: what the page's EventSource reads."""
    with BackgroundServer(**backend) as live, httpx.Client(timeout=5) as client:
        sid = new_session(client, live)
        with client.stream("GET", f"{live.site_url}/sessions/{sid}/events") as stream:
            assert stream.headers["content-type"] == "text/event-stream; charset=utf-8"
            assert stream.headers["cache-control"] == "no-cache"
            lines = []
            for line in stream.iter_lines():
                lines.append(line)
                if line.startswith("id: "):
                    break
    assert lines == [": connected", "retry: 2000", "", "event: ready", "data: ", lines[-1]]
