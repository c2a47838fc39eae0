"""One bounded store with expiry, used for sessions and for lesson progress: at most
``capacity`` entries, the least recently used leaves first, and an entry idle for longer
than ``ttl`` seconds is forgotten."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

V = TypeVar("V")


class ExpiringLRU(Generic[V]):
    """Values by string key, least recently used first; ``on_evict`` hears of every value
    that leaves (evicted, expired or removed)."""

    def __init__(
        self,
        *,
        capacity: int,
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
        on_evict: Callable[[str, V], None] | None = None,
    ) -> None:
        self.capacity = capacity
        self.ttl = ttl
        self.clock = clock
        self.on_evict = on_evict
        self._entries: OrderedDict[str, tuple[float, V]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[str]:
        """The keys, least recently used first."""
        return iter(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def get(self, key: str) -> V | None:
        """The live value for ``key``, marked as just used."""
        now = self.clock()
        self.expire(now)
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries[key] = (now, entry[1])
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: str, value: V) -> V:
        """Keep ``value`` as the most recently used, making room first."""
        now = self.clock()
        self.expire(now)
        if key in self._entries:
            self.remove(key)
        while len(self._entries) >= self.capacity:
            self._evict_oldest()
        self._entries[key] = (now, value)
        return value

    def remove(self, key: str) -> V | None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return None
        if self.on_evict is not None:
            self.on_evict(key, entry[1])
        return entry[1]

    def expire(self, now: float | None = None) -> None:
        """Forget every entry idle for longer than the time to live."""
        now = self.clock() if now is None else now
        while self._entries:
            last_used, _ = next(iter(self._entries.values()))
            if now - last_used <= self.ttl:
                return
            self._evict_oldest()

    def _evict_oldest(self) -> None:
        key, (_, value) = self._entries.popitem(last=False)
        if self.on_evict is not None:
            self.on_evict(key, value)
