"""The connection to Redis, its key names and how its failures read."""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import LockError
from redis.exceptions import TimeoutError as RedisTimeoutError

# How long one command may take before the request that needs it gets a 503.
COMMAND_TIMEOUT = 2.0
CONNECT_TIMEOUT = 1.0
# Connections to Redis per process (the pub/sub listener holds one more).
POOL_SIZE = 64
RETRIES = 2
# A lock is held at most this long (a process that dies holding one frees it then), and a
# request waits at most LOCK_WAIT for one.
LOCK_TIMEOUT = 10.0
LOCK_WAIT = 5.0
LOCK_POLL = 0.002
KEY_PREFIX = "cors-playground:"
T = TypeVar("T")

#: What fails when Redis does not answer.
FAILURES = (RedisConnectionError, RedisTimeoutError, OSError)


class RedisUnavailable(RuntimeError):
    """Redis did not answer: the request that needed it is refused with a 503."""

    def __init__(self, where: str, cause: BaseException | None = None) -> None:
        super().__init__(
            f"the playground's shared store (Redis at {where}) is not answering; "
            "try again in a moment"
        )
        self.cause = cause


def where(url: str) -> str:
    """host:port/db of a Redis URL, without its password."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    return f"{host}:{parts.port or 6379}{parts.path or '/0'}"


def dumps(value: Any) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def loads(data: Any) -> Any:
    """What ``dumps`` stored (None for a missing key)."""
    return None if data is None else pickle.loads(data)


def text(value: Any) -> str:
    """A Redis reply as text."""
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass
class _LocalLock:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


@dataclass
class SharedState:
    """One process's client of the shared Redis, with the key prefix of this playground."""

    client: redis.Redis
    url: str
    prefix: str = KEY_PREFIX
    _local: dict[str, _LocalLock] = field(default_factory=dict, repr=False)

    @property
    def where(self) -> str:
        return where(self.url)

    def key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    @asynccontextmanager
    async def locked(self, *parts: str) -> AsyncIterator[None]:
        """Hold the lock named by ``parts`` for the block (across processes). Waiters of one
        process queue on a local lock first, so at most one per process polls Redis."""
        name = self.key("lock", *parts)
        local = self._local.setdefault(name, _LocalLock())
        local.users += 1
        try:
            async with local.lock, self._redis_lock(name):
                yield
        finally:
            local.users -= 1
            if not local.users:
                del self._local[name]

    @asynccontextmanager
    async def _redis_lock(self, name: str) -> AsyncIterator[None]:
        lock = self.client.lock(
            name,
            timeout=LOCK_TIMEOUT,
            sleep=LOCK_POLL,
            blocking_timeout=LOCK_WAIT,
            raise_on_release_error=False,
        )
        try:
            acquired = await lock.acquire()
        except LockError as error:
            raise RedisUnavailable(self.where, error) from error
        if not acquired:
            raise RedisUnavailable(self.where, TimeoutError("a lock was held for too long"))
        try:
            yield
        finally:
            try:
                await lock.release()
            except (LockError, *FAILURES):
                pass  # it expires by itself

    async def call(self, work: Callable[[], Awaitable[T]]) -> T:
        """``work()``, with Redis not answering turned into :class:`RedisUnavailable`."""
        try:
            return await work()
        except FAILURES as error:
            raise RedisUnavailable(self.where, error) from error

    async def ping(self) -> None:
        """Check that Redis answers (:class:`RedisUnavailable` otherwise)."""
        await self.call(self.client.ping)

    async def close(self) -> None:
        await self.client.aclose()


def connect(url: str, prefix: str = KEY_PREFIX) -> SharedState:
    """A client for ``url`` (``redis://HOST:PORT/DB``); connects on first use. At most
    ``POOL_SIZE`` connections: a request that finds them all busy waits for one (at most
    ``COMMAND_TIMEOUT``) instead of opening more."""
    pool = redis.BlockingConnectionPool.from_url(
        url,
        max_connections=POOL_SIZE,
        timeout=COMMAND_TIMEOUT,
        socket_timeout=COMMAND_TIMEOUT,
        socket_connect_timeout=CONNECT_TIMEOUT,
        health_check_interval=30,
        # A connection from before a Redis restart fails once: try that command again on a
        # new one (twice at most, quickly) before calling Redis away.
        retry=Retry(ExponentialBackoff(cap=0.05, base=0.01), RETRIES),
        retry_on_error=[RedisConnectionError],
    )
    return SharedState(redis.Redis(connection_pool=pool), url, prefix)
