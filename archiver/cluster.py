"""A crawl over many processes and machines, sharing one Redis: the Redis side of it.

Workers (``archiver crawl PORTAL… --redis URL``) share, per portal run, scrapy-redis' request
queue and duplicate filter; they never open the archive. What a worker would have written goes,
as messages, into one Redis stream that the single writer (``archiver ingest --redis URL``)
applies to the archive in stream order. Everything here is plain Redis (a few Lua scripts for
what must be atomic); the Scrapy components are in ``spiders/cluster.py``.

Keys (all under ``archiver:``):

* ``portal:<slug>:run`` the token of the portal's open cluster run; ``runs`` the open tokens;
* ``run:<token>`` what the run is (portal, mode, origin); ``run:<token>:workers`` who joined;
* ``run:<token>:requests`` the queue (scrapy-redis' priority queue, a sorted set),
  ``run:<token>:dupefilter`` the fingerprints seen (Scrapy's own fingerprinter),
  ``run:<token>:inflight`` the requests taken from the queue and not finished (field
  ``worker|n|score``, value the request): given back to the queue when the worker's lease ends;
* ``run:<token>:claimed`` / ``:links`` / ``:documents`` the spider's per-run sets, shared;
  ``run:<token>:pages`` the pages spent of ``ARCHIVER_MAX_PAGES``;
* ``worker:<name>`` a live worker's lease (expires ``ARCHIVER_REDIS_LEASE_SECONDS`` after its last
  renewal); ``worker:<name>:warc`` the WARC files it has open;
* ``host:<netloc>:next`` / ``host:<netloc>:holders`` the cluster's politeness per host;
* ``stream`` the messages to the writer; ``state:*`` what the archive holds, published by the
  writer for the workers (known URLs, revisit lists, complete walks, documents, payload digests).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from archiver.exceptions import ArchiverError, UsageError

log = logging.getLogger(__name__)

PREFIX = "archiver"
STREAM = f"{PREFIX}:stream"
RUNS = f"{PREFIX}:runs"
WORKERS = f"{PREFIX}:workers"
READY = f"{PREFIX}:state:ready"


class ClusterError(ArchiverError):
    """Redis cannot be reached, or answers something the cluster cannot use."""


def redacted(url: str) -> str:
    """The Redis URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password:
        host = parts.hostname or ""
        netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def check_url(url: str) -> str:
    """A Redis URL (``redis://HOST:PORT/DB``, ``rediss://…``, ``unix:///path.sock``), else UsageError."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss", "unix") or (parts.scheme != "unix" and not parts.hostname):
        raise UsageError(f"--redis {redacted(url)}: expected redis://HOST:PORT/DB (or rediss://, unix://)")
    if parts.scheme != "unix" and parts.path.strip("/") and not parts.path.strip("/").isdigit():
        raise UsageError(f"--redis {redacted(url)}: the database is a number (redis://HOST:PORT/0)")
    return url


def connect(url: str, timeout: float = 5.0) -> Any:
    """A client of the Redis at ``url``, checked with a PING: ClusterError (one line) if none answers."""
    import redis

    check_url(url)
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=max(timeout, 30.0),
                                      health_check_interval=30)  # fmt: skip
        client.ping()
        info: Any = client.info("server")
        version = str(info.get("redis_version", "0"))
    except redis.RedisError as exc:
        raise ClusterError(f"--redis {redacted(url)}: cannot reach Redis ({exc})") from None
    if tuple(int(p) for p in version.split(".")[:2] if p.isdigit()) < (6, 2):
        raise ClusterError(f"--redis {redacted(url)}: Redis {version} is too old (6.2 or newer is needed)")
    return client


def worker_name() -> str:
    """A worker's default name: host and process id (``--worker NAME`` gives a stable one)."""
    return f"{socket.gethostname()}-{os.getpid()}"


def check_worker_name(name: str) -> str:
    if not name or any(c in name for c in "|: /\\") or len(name) > 100:
        raise UsageError(f"--worker {name!r}: a name of letters, digits, '-', '_' or '.' (no '|', ':', '/', space)")
    return name


# -- keys ---------------------------------------------------------------------------------------
def run_key(token: str, part: str = "") -> str:
    return f"{PREFIX}:run:{token}" + (f":{part}" if part else "")


def portal_key(slug: str) -> str:
    return f"{PREFIX}:portal:{slug}:run"


def lease_key(worker: str) -> str:
    return f"{PREFIX}:worker:{worker}"


LEASE_PREFIX = f"{PREFIX}:worker:"
RUN_PARTS = ("requests", "dupefilter", "inflight", "claimed", "links", "documents", "pages", "workers", "seeded")


def state_key(part: str, slug: str = "") -> str:
    return f"{PREFIX}:state:{slug + ':' if slug else ''}{part}"


# -- Lua: what must be atomic --------------------------------------------------------------------
# Join the portal's open run, or open one (its "open" message first in the stream).
JOIN = """
local t = redis.call('GET', KEYS[1])
local created = 0
if not t then
  t = ARGV[1]
  redis.call('SET', KEYS[1], t)
  redis.call('SADD', KEYS[2], t)
  redis.call('HSET', 'archiver:run:' .. t, 'portal', ARGV[3], 'opened_by', ARGV[2], 'meta', ARGV[4])
  redis.call('XADD', KEYS[3], '*', 'k', 'open', 'r', t, 'w', ARGV[2], 'p', ARGV[3], 'd', ARGV[4])
  created = 1
end
redis.call('SADD', 'archiver:run:' .. t .. ':workers', ARGV[2])
return {t, created}
"""
# Take the queue's first request and record it in flight, in one step (a kill between the two
# would lose it).
POP = """
local r = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #r == 0 then return false end
redis.call('ZREM', KEYS[1], r[1])
local f = ARGV[1] .. '|' .. ARGV[2] .. '|' .. r[2]
redis.call('HSET', KEYS[2], f, r[1])
return {f, r[1]}
"""
# Queue a request and make its claims in one step: the run's duplicate filter (ARGV[1], a
# fingerprint, or '' for a request never filtered) and its shared sets (ARGV[5..]: mode, part,
# value): a worker killed between a claim and the push would leave a URL claimed that nobody
# fetches. Refused when the fingerprint was seen (0) or when every 'claim' value was taken
# already (-1: another worker queued it); 'add' values are added whatever they were.
ENQUEUE = """
if ARGV[1] ~= '' and redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return 0 end
local claims, taken = 0, 0
for i = 5, #ARGV, 3 do
  if ARGV[i] == 'claim' then
    claims = claims + 1
    taken = taken + redis.call('SISMEMBER', ARGV[4] .. ARGV[i + 1], ARGV[i + 2])
  end
end
if claims > 0 and taken == claims then return -1 end
if ARGV[1] ~= '' then redis.call('SADD', KEYS[2], ARGV[1]) end
for i = 5, #ARGV, 3 do redis.call('SADD', ARGV[4] .. ARGV[i + 1], ARGV[i + 2]) end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
return 1
"""
# Give back to the queue every request in flight whose worker's lease has ended.
REQUEUE = """
local n = 0
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local f = all[i]
  local w = string.match(f, '^([^|]*)|')
  if w and (redis.call('EXISTS', ARGV[1] .. w) == 0 or w == ARGV[2]) then
    local score = string.match(f, '|([^|]*)$')
    redis.call('ZADD', KEYS[2], score, all[i + 1])
    redis.call('HDEL', KEYS[1], f)
    n = n + 1
  end
end
return n
"""
# A run is over when its queue is empty, nothing is in flight and no worker that joined it is
# alive; then it is closed (no worker can join it any more).
CLOSE = """
if redis.call('ZCARD', KEYS[2]) > 0 or redis.call('HLEN', KEYS[3]) > 0 then return 0 end
for _, w in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[2] .. w) == 1 then return 0 end
end
if redis.call('GET', KEYS[4]) == ARGV[1] then redis.call('DEL', KEYS[4]) end
redis.call('SREM', KEYS[5], ARGV[1])
return 1
"""
# Politeness for the whole cluster: a request to a host may start when fewer than ``concurrency``
# requests to it are running (each holder a lease) and ``interval`` after the last start.
# Returns 0 (go: the holder is recorded) or the milliseconds to wait.
GATE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local conc = tonumber(ARGV[3])
if conc > 0 and redis.call('ZCARD', KEYS[2]) >= conc then return 25 end
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
if nxt > now then return math.max(1, nxt - now) end
redis.call('SET', KEYS[1], now + tonumber(ARGV[2]), 'PX', math.max(1000, tonumber(ARGV[2]) * 10))
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[5]), ARGV[4])
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[5]) * 2)
return 0
"""


# -- messages ------------------------------------------------------------------------------------
def _types() -> dict[str, type]:
    from archiver import items
    from archiver.ingest import Ingested

    names = ("Article", "GoneArticle", "FetchError", "RecordedCapture", "WaybackCursor", "WarcFileEvent",
             "AttachmentLink", "AttachmentFile")  # fmt: skip
    out: dict[str, type] = {n: getattr(items, n) for n in names}
    out["Ingested"] = Ingested
    return out


def _enc(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"$t": type(value).__name__, **{f.name: _enc(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, bytes):
        return {"$b": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {str(k): _enc(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_enc(v) for v in value]
    return value


def _dec(value: Any, types: dict[str, type]) -> Any:
    if isinstance(value, dict):
        if "$t" in value:
            cls = types.get(value["$t"])
            if cls is None:
                raise ValueError(f"unknown item type {value['$t']!r}")
            names = {f.name for f in dataclasses.fields(cls)}
            return cls(**{k: _dec(v, types) for k, v in value.items() if k in names})
        if "$dt" in value and len(value) == 1:
            return datetime.fromisoformat(value["$dt"])
        if "$d" in value and len(value) == 1:
            return date.fromisoformat(value["$d"])
        if "$b" in value and len(value) == 1:
            return base64.b64decode(value["$b"])
        return {k: _dec(v, types) for k, v in value.items()}
    if isinstance(value, list):
        return [_dec(v, types) for v in value]
    return value


def encode(obj: Any) -> str:
    """An item as the JSON a message carries (dataclasses by name, dates, bytes)."""
    return json.dumps(_enc(obj), ensure_ascii=False, separators=(",", ":"))


def decode(text: str | bytes) -> Any:
    """The item ``encode`` made; ValueError if it is not one."""
    return _dec(json.loads(text), _types())


# -- the worker's side ---------------------------------------------------------------------------
@dataclass
class Lease:
    """Settings of the cluster a worker and the writer agree on."""

    seconds: float = 30.0  # a worker not heard from for this long is dead: its requests go back
    idle: float = 10.0  # a worker closes a portal's run after its queue has been empty this long


class Cluster:
    """One process's handle on the cluster: its name, its lease, the shared keys."""

    def __init__(self, client: Any, worker: str, url: str = "", lease: Lease | None = None) -> None:
        self.redis = client
        self.worker = worker
        self.url = url
        self.lease = lease or Lease()
        self.counter = 0
        self._scripts: dict[str, Any] = {}

    def script(self, name: str) -> Any:
        if name not in self._scripts:
            self._scripts[name] = self.redis.register_script(globals()[name])
        return self._scripts[name]

    # leases
    def renew(self, info: dict[str, Any] | None = None) -> None:
        payload = json.dumps(dict(info or {}, pid=os.getpid(), host=socket.gethostname(), at=time.time()))
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(lease_key(self.worker), payload, px=int(self.lease.seconds * 1000))
        pipe.sadd(WORKERS, self.worker)
        pipe.execute()

    def leave(self) -> None:
        """This worker is gone (a clean exit): its lease ends now."""
        self.redis.delete(lease_key(self.worker))

    # runs
    def join(self, slug: str, meta: dict[str, Any]) -> tuple[str, bool]:
        """The token of the portal's open run (opened now if none: True)."""
        token = uuid.uuid4().hex[:16]
        got = self.script("JOIN")(keys=[portal_key(slug), RUNS, STREAM],
                                  args=[token, self.worker, slug, json.dumps(meta, ensure_ascii=False)])  # fmt: skip
        return _s(got[0]), bool(int(got[1]))

    def claim(self, token: str, part: str, value: str) -> bool:
        """Add ``value`` to the run's shared set ``part``: True if it was not there (this process
        goes on with it; another one that asks later is told no)."""
        return bool(self.redis.sadd(run_key(token, part), value))

    def has(self, token: str, part: str, value: str) -> bool:
        return bool(self.redis.sismember(run_key(token, part), value))

    def unclaim(self, token: str, part: str, value: str) -> None:
        self.redis.srem(run_key(token, part), value)

    def spend(self, token: str, cap: int) -> bool:
        """One page of the run's cluster-wide cap: False once it is spent."""
        return int(self.redis.incr(run_key(token, "pages"))) <= cap

    def pending(self, token: str) -> tuple[int, int]:
        """(requests queued, requests in flight) of a run."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.zcard(run_key(token, "requests"))
        pipe.hlen(run_key(token, "inflight"))
        queued, inflight = pipe.execute()
        return int(queued), int(inflight)

    def pop(self, token: str) -> tuple[str, bytes] | None:
        """The run's next request (encoded) and its in-flight field, or None."""
        self.counter += 1
        got = self.script("POP")(keys=[run_key(token, "requests"), run_key(token, "inflight")],
                                 args=[self.worker, f"{self.counter}"])  # fmt: skip
        if not got:
            return None
        return _s(got[0]), got[1]

    def enqueue(self, token: str, data: bytes, score: float, fingerprint: str = "",
                claims: list[tuple[str, str, str]] | tuple[()] = ()) -> int:  # fmt: skip
        """Queue an encoded request with its claims (mode ``claim``/``add``, part, value), in one
        step: 1 queued, 0 refused by the duplicate filter, -1 every claim taken already."""
        args: list[Any] = [fingerprint, score, data, run_key(token) + ":"]
        for mode, part, value in claims:
            args += [mode, part, value]
        return int(self.script("ENQUEUE")(keys=[run_key(token, "requests"), run_key(token, "dupefilter")], args=args))

    def seeded(self, token: str) -> None:
        """The run's start pages are all queued (by its opener or by a worker that took over)."""
        self.redis.set(run_key(token, "seeded"), self.worker)

    def is_seeded(self, token: str) -> bool:
        return bool(self.redis.exists(run_key(token, "seeded")))

    def take_over_seeding(self, token: str) -> bool:
        """True (once per run) when the run's opener died before its start pages were all queued:
        this worker queues them (what was queued already is refused by the claims)."""
        if self.redis.exists(run_key(token, "seeded")):
            return False
        opener = _s(self.redis.hget(run_key(token), "opened_by") or "")
        if not opener or opener == self.worker or self.redis.exists(lease_key(opener)):
            return False
        return bool(self.redis.set(run_key(token, "seeded"), f"{self.worker} (after {opener})", nx=True))

    def requeue_dead(self, token: str, also: str = "") -> int:
        """Give back to the queue what dead workers (and ``also``) had in flight."""
        return int(self.script("REQUEUE")(keys=[run_key(token, "inflight"), run_key(token, "requests")],
                                          args=[LEASE_PREFIX, also or "\x00"]))  # fmt: skip

    def drop_own(self, token: str) -> int:
        """Forget this worker's entries in flight (its engine is idle: whatever they were, their
        output has been handed on and sent)."""
        mine = [f for f in self.redis.hkeys(run_key(token, "inflight")) if _s(f).startswith(self.worker + "|")]
        return int(self.redis.hdel(run_key(token, "inflight"), *mine)) if mine else 0

    def open_runs(self) -> list[str]:
        return sorted(_s(t) for t in self.redis.smembers(RUNS))

    def run_info(self, token: str) -> dict[str, str]:
        return {_s(k): _s(v) for k, v in self.redis.hgetall(run_key(token)).items()}

    def close_if_done(self, token: str, slug: str) -> bool:
        return bool(self.script("CLOSE")(keys=[run_key(token, "workers"), run_key(token, "requests"),
                                               run_key(token, "inflight"), portal_key(slug), RUNS],
                                         args=[token, LEASE_PREFIX]))  # fmt: skip

    def forget(self, token: str) -> None:
        """A closed run's shared keys, deleted."""
        self.redis.delete(run_key(token), *(run_key(token, p) for p in RUN_PARTS))

    # politeness
    def gate(self, netloc: str, interval: float, concurrency: int, holder: str, hold: float) -> float:
        """0 when a request to ``netloc`` may start now (``holder`` is then counted running until
        ``release`` or ``hold`` seconds), else the seconds to wait before asking again."""
        wait = self.script("GATE")(keys=[f"{PREFIX}:host:{netloc}:next", f"{PREFIX}:host:{netloc}:holders"],
                                   args=[0, int(interval * 1000), concurrency, holder, int(hold * 1000)])  # fmt: skip
        return int(wait) / 1000.0

    def release(self, netloc: str, holder: str) -> None:
        self.redis.zrem(f"{PREFIX}:host:{netloc}:holders", holder)

    # what the archive holds (published by the writer)
    def ready(self) -> bool:
        return bool(self.redis.exists(READY))

    def plan(self, slug: str, full: bool) -> Any:
        from archiver.runs import Plan

        pipe = self.redis.pipeline(transaction=False)
        pipe.smembers(state_key("known", slug))
        pipe.lrange(state_key("revisit", slug), 0, -1)
        pipe.exists(state_key("walked", slug))
        pipe.smembers(state_key("documents"))
        known, revisit, walked, documents = pipe.execute()
        return Plan(known={_s(u) for u in known}, revisit=[] if full else [_s(u) for u in revisit],
                    walked_before=bool(walked), documents=set() if full else {_s(u) for u in documents})  # fmt: skip

    def last_payload(self, canonical: str) -> dict[str, Any] | None:
        raw = self.redis.hget(state_key("payload"), canonical)
        return json.loads(raw) if raw else None

    def last_complete_run(self, slug: str) -> dict[str, Any] | None:
        raw = self.redis.get(state_key("last_complete", slug))
        return json.loads(raw) if raw else None


def claim(collection: Any, value: str) -> bool:
    """Add ``value`` to a run's set (a ``set``, or a ``SharedSet`` of the cluster, atomically):
    True if it was not there."""
    if hasattr(collection, "claim"):
        return bool(collection.claim(value))
    if value in collection:
        return False
    collection.add(value)
    return True


def _s(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


@dataclass
class ClusterRun:
    """A portal's run as a worker sees it: the shared token, and what it counts itself."""

    token: str
    portal: str
    province: str | None = None
    opened: bool = False  # this worker opened the run (it seeds the start pages)
    id: int = 0
    counts: Any = None
    finished: bool = False
    after_merger: int = 0

    def __post_init__(self) -> None:
        if self.counts is None:
            from archiver.runs import RunCounts

            self.counts = RunCounts()


class ClusterArchive:
    """What a worker may ask of the archive it feeds (published in Redis by the writer)."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster

    def last_payload(self, canonical: str) -> dict[str, Any] | None:
        return self.cluster.last_payload(canonical)

    def last_complete_run(self, portal: str) -> dict[str, Any] | None:
        return self.cluster.last_complete_run(portal)


class RemoteWriter:
    """A worker's stand-in for the archive's ``Writer``: items become messages in the stream,
    sent in one Redis transaction every second (or ``batch_size`` items) together with the
    end of the requests whose output they are: a worker killed before the transaction loses
    neither, its requests go back to the queue and are fetched again. WARC records are synced
    to disk first (``before_commit``), so a message never names bytes that are not kept."""

    def __init__(self, cluster: Cluster, *, batch_size: int = 50, interval: float = 1.0, retry_for: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.cluster = cluster
        self.archive = ClusterArchive(cluster)
        self.batch_size = max(1, batch_size)
        self.interval = interval
        self.retry_for = retry_for
        self.clock = clock
        self.pending: list[dict[str, str]] = []
        self.done: dict[str, list[str]] = {}
        self.failed: str | None = None
        self.on_failure: list[Callable[[str], None]] = []
        self.before_commit: list[Callable[[], None]] = []
        self.last_commit = clock()
        self.failing_since: float | None = None

    def message(self, kind: str, run: ClusterRun, data: Any, **extra: str) -> None:
        self.pending.append({"k": kind, "r": run.token, "w": self.cluster.worker, "p": run.portal,
                             "d": data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), **extra})  # fmt: skip

    def add(self, run: ClusterRun, item: Any, pages: int | None = None) -> None:
        if pages is not None:
            run.counts.pages = pages
        if self.failed:
            return
        from archiver.ingest import Ingested

        extra = {}
        if isinstance(item, Ingested):
            extra["digest"] = getattr(item, "digest", None) or ""
        self.message("item", run, encode(item), **extra)
        if len(self.pending) >= self.batch_size:
            self.flush()

    def complete(self, token: str, inflight: str) -> None:
        """A request taken from the queue is finished: its entry in flight ends with the next send."""
        self.done.setdefault(token, []).append(inflight)

    def tick(self) -> None:
        if (self.pending or self.done) and self.clock() - self.last_commit >= self.interval:
            self.flush()

    def flush(self, *, block: bool = False) -> bool:
        import redis

        while (self.pending or self.done) and not self.failed:
            try:
                for hook in self.before_commit:
                    hook()
                pipe = self.cluster.redis.pipeline(transaction=True)
                for msg in self.pending:
                    pipe.xadd(STREAM, msg)  # type: ignore[arg-type]
                for token, fields in self.done.items():
                    if fields:
                        pipe.hdel(run_key(token, "inflight"), *fields)
                pipe.execute()
            except (redis.RedisError, OSError, ArchiverError) as exc:
                now = self.clock()
                self.failing_since = self.failing_since or now
                if now - self.failing_since >= self.retry_for:
                    self._give_up(f"cannot send to Redis for {self.retry_for:.0f} s ({exc})")
                    return False
                log.warning("cannot send %d message(s) to Redis (%s); retrying", len(self.pending), exc)
                if not block:
                    return False
                time.sleep(1.0)
                continue
            self.pending, self.done = [], {}
            self.last_commit = self.clock()
            self.failing_since = None
        return not self.pending and not self.failed

    def fail(self, why: str) -> None:
        self._give_up(why)

    def _give_up(self, why: str) -> None:
        if self.failed:
            return
        self.failed = why
        log.error("storing stopped: %s", why)
        for callback in self.on_failure:
            callback(why)

    def worker_done(self, run: ClusterRun, stats: dict[str, Any], reason: str, **report: Any) -> None:
        """This worker leaves the run: its counts and what it alone knows, then its membership."""
        self.message("done", run, {"stats": _plain(stats), "reason": reason, **_plain(report)})
        self.flush(block=True)
        # What it still had in flight (a stop before the end) goes back to the queue.
        self.cluster.requeue_dead(run.token, also=self.cluster.worker)
        self.cluster.redis.srem(run_key(run.token, "workers"), self.cluster.worker)
        run.finished = True

    def progress(self, run: ClusterRun, stats: dict[str, Any]) -> None:
        self.message("progress", run, {"stats": _plain(stats)})

    def close(self) -> None:
        self.flush(block=not self.failed)


def _plain(value: Any) -> Any:
    """Stats and reports as JSON can carry them (dates as text)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


@dataclass
class WorkerStatus:
    """A worker's progress in a run, as ``archiver runs`` shows it (``run_workers``)."""

    run_id: int
    worker: str
    status: str  # active, done, lost
    pages: int = 0
    articles: int = 0
    errors: int = 0
    reason: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)
