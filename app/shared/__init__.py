"""State shared by several playground processes, on Redis (``serve --redis URL``).

The in-memory stores in ``app.runs``, ``app.lessons`` and ``app.attack`` are the embedded
default; the classes here implement the same awaited interfaces on a Redis server, so any
number of processes (``--workers N``, or replicas behind a reverse proxy) serve the same
sessions, runs, lesson progress, attacks and live events. Every bound of the in-memory stores
holds here too (counts, bytes and idle expiry, through Redis TTLs), and a Redis that stops
answering is a 503 naming it (``RedisUnavailable``), never a 500 or a hang.

Values are pickled: the Redis server is the playground's own (as a cache's is), never one that
others write to.
"""

from app.shared.connection import RedisUnavailable, SharedState, connect

__all__ = ["RedisUnavailable", "SharedState", "connect"]
