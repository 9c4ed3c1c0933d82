"""The Scrapy side of a crawl over many workers (``archiver crawl PORTAL… --redis URL``).

* ``ClusterScheduler``: scrapy-redis' scheduler on the portal run's shared queue and duplicate
  filter, persistent (a worker that stops never flushes them); a request taken from the queue is
  recorded in flight in the same Redis step (``archiver.cluster.POP``) and given back to the
  queue if its worker dies before finishing it.
* ``ClusterDupeFilter``: scrapy-redis' filter with Scrapy's own request fingerprints (its own
  fingerprints differ from Scrapy's: ``?b=1&a=2`` and ``?a=2&b=1`` are one page to both, but
  the bytes stored differ, and a worker must agree with a single-process crawl).
* ``ClusterDoneMiddleware``: a request is finished once its callback's output is handed on;
  its end in flight is sent with the messages that output made (``RemoteWriter``).
* ``ClusterPolitenessMiddleware``: per-host limits for the whole cluster (a shared gate in Redis:
  at most ``CONCURRENT_REQUESTS_PER_DOMAIN`` requests to a host at once, starts at least
  ``DOWNLOAD_DELAY`` or the host's robots.txt ``Crawl-delay`` apart), not per process.
* ``SharedSet``: the spider's per-run sets (URLs requested, links seen, documents fetched),
  shared by the run's workers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

from archiver.cluster import run_key

log = logging.getLogger(__name__)

INFLIGHT = "cluster_inflight"  # meta: the request's field in the run's in-flight hash
CLAIMS = "cluster_claims"  # meta: the claims made in Redis when the request is queued


def _ctx(crawler: Any) -> Any:
    ctx = getattr(crawler, "archiver", None)
    if ctx is None or getattr(ctx, "cluster", None) is None:
        raise RuntimeError("the cluster's components run only in a worker (archiver crawl --redis)")
    return ctx


class Claims:
    """The claims a worker's spider has made since its last request (the ``SharedSet``s given them):
    they travel with the request they are for and are made in Redis in the step that queues it
    (``Cluster.enqueue``), so that no URL is ever claimed without being queued."""

    def __init__(self) -> None:
        self.pending: list[tuple[str, str, str]] = []
        self.sets: dict[str, SharedSet] = {}  # part: the set whose claims these are

    def take(self) -> list[tuple[str, str, str]]:
        taken, self.pending = self.pending, []
        return taken

    def forget(self, taken: list[tuple[str, str, str]]) -> None:
        """Claims whose request was not made after all (the page cap): not claimed either."""
        for _, part, value in taken:
            self.sets[part].local.discard(value)


class SharedSet:
    """A set of strings shared by a run's workers (a Redis set). ``claim`` is atomic; a deferred
    set's claims are made when the request they came with is queued (``Claims``), and the
    worker remembers them meanwhile."""

    def __init__(self, cluster: Any, token: str, part: str, claims: Claims | None = None) -> None:
        self.cluster, self.token, self.part, self.claims = cluster, token, part, claims
        self.local: set[str] = set()
        if claims is not None:
            claims.sets[part] = self

    def _defer(self, mode: str, value: str) -> None:
        assert self.claims is not None
        self.local.add(value)
        self.claims.pending.append((mode, self.part, value))

    def claim(self, value: str) -> bool:
        if self.claims is None:
            return self.cluster.claim(self.token, self.part, value)
        if value in self:
            return False
        self._defer("claim", value)
        return True

    def add(self, value: str) -> None:
        if self.claims is None:
            self.cluster.claim(self.token, self.part, value)
        elif value not in self.local:
            self._defer("add", value)

    def discard(self, value: str) -> None:
        self.local.discard(value)
        if self.claims is not None:
            self.claims.pending = [c for c in self.claims.pending if c[1:] != (self.part, value)]
        self.cluster.unclaim(self.token, self.part, value)

    def __contains__(self, value: object) -> bool:
        return isinstance(value, str) and (value in self.local or self.cluster.has(self.token, self.part, value))

    def __len__(self) -> int:
        return int(self.cluster.redis.scard(run_key(self.token, self.part)))


class ClusterDupeFilter(RFPDupeFilter):
    def __init__(self, server: Any, key: str, fingerprinter: Any) -> None:
        super().__init__(server, key)
        self.fingerprinter = fingerprinter

    def request_fingerprint(self, request: Request) -> str:
        return self.fingerprinter.fingerprint(request).hex()

    def close(self, reason: str = "") -> None:
        """Persistent: the writer deletes a run's fingerprints when the run is over."""


class ClusterQueue(PriorityQueue):
    def pop(self, timeout: int = 0) -> Request | None:
        ctx = _ctx(self.spider.crawler)
        got = ctx.cluster.pop(ctx.run.token)
        if got is None:
            return None
        inflight, data = got
        request = self._decode_request(data)
        request.meta[INFLIGHT] = inflight
        return request


class ClusterScheduler(Scheduler):
    @classmethod
    def from_crawler(cls, crawler: Any) -> ClusterScheduler:
        ctx = _ctx(crawler)
        token = ctx.run.token
        dupefilter = ClusterDupeFilter(ctx.cluster.redis, run_key(token, "dupefilter"), crawler.request_fingerprinter)
        scheduler = cls(server=ctx.cluster.redis, persist=True, queue_key=run_key(token, "requests"),
                        queue_cls="spiders.cluster.ClusterQueue", dupefilter=dupefilter)  # fmt: skip
        scheduler.stats = crawler.stats
        scheduler.ctx = ctx
        return scheduler

    def enqueue_request(self, request: Request) -> bool:
        # A redirect or a retry of a request taken from the queue carries its field in flight:
        # once the new request is queued, the old one is done.
        parent = request.meta.pop(INFLIGHT, None)
        claims = request.meta.pop(CLAIMS, None) or ()
        fingerprint = "" if request.dont_filter else self.df.request_fingerprint(request)
        got = self.ctx.cluster.enqueue(self.ctx.run.token, self.queue._encode_request(request), -request.priority,
                                       fingerprint, [tuple(c) for c in claims])  # fmt: skip
        added = got == 1
        if got == 0:
            self.df.log(request, self.spider)
        elif got < 0:
            self.stats.inc_value("archiver/cluster/claimed_elsewhere")
        else:
            self.stats.inc_value("scheduler/enqueued/redis")
        if parent:
            self.ctx.writer.complete(self.ctx.run.token, parent)
        return added

    def next_request(self) -> Request | None:
        request = self.queue.pop()
        if request is not None:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request


def done(crawler: Any, request: Any) -> None:
    """The request taken from the queue is finished (its output handed on)."""
    inflight = request.meta.get(INFLIGHT) if request is not None else None
    if inflight:
        ctx = _ctx(crawler)
        ctx.writer.complete(ctx.run.token, inflight)


class ClusterDoneMiddleware:
    """Spider middleware: the request whose callback (or errback) output this is, finished."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> ClusterDoneMiddleware:
        return cls(crawler)

    def process_spider_output(self, response: Any, result: Iterable[Any], spider: Any = None) -> Iterator[Any]:
        for out in result:
            if isinstance(out, Request):
                out.meta.pop(INFLIGHT, None)
            yield out
        done(self.crawler, response.request)

    async def process_spider_output_async(self, response: Any, result: AsyncIterator[Any],
                                          spider: Any = None) -> AsyncIterator[Any]:  # fmt: skip
        async for out in result:
            if isinstance(out, Request):
                out.meta.pop(INFLIGHT, None)
            yield out
        done(self.crawler, response.request)

    def process_spider_exception(self, response: Any, exception: BaseException, spider: Any = None) -> None:
        done(self.crawler, response.request)


class _GatedSlot:
    """A downloader slot whose starts the cluster's gate spaces: no delay of its own after it."""

    __slots__ = ()

    def download_delay(self) -> float:
        return 0.0


_GATED: dict[type, type] = {}


def _gated(cls: type) -> type:
    """``cls`` (Scrapy's ``Slot``, a slotted dataclass in recent Scrapy) with ``_GatedSlot``'s delay: the
    same layout, so that a slot can take it as its class."""
    if cls not in _GATED:
        _GATED[cls] = type(f"Gated{cls.__name__}", (_GatedSlot, cls), {"__slots__": ()})
    return _GATED[cls]


class ClusterPolitenessMiddleware:
    """Downloader middleware: the host's limits held for the whole cluster (``Cluster.gate``)."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.delay = settings.getfloat("DOWNLOAD_DELAY", 0.0)
        self.concurrency = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN", 8)
        self.hold = settings.getfloat("DOWNLOAD_TIMEOUT", 180.0) + 30.0
        self.count = 0

    @classmethod
    def from_crawler(cls, crawler: Any) -> ClusterPolitenessMiddleware:
        mw = cls(crawler)
        # Whatever becomes of it (a response, a retry, a redirect, an error), a request leaves
        # the downloader once: its place at the host is given up then.
        crawler.signals.connect(mw.left, signal=signals.request_left_downloader)
        crawler.signals.connect(mw.reached, signal=signals.request_reached_downloader)
        return mw

    def reached(self, request: Request, spider: Any = None) -> None:
        """The gate spaces the starts: the local slot adds no delay of its own after it (its delay,
        AutoThrottle's included, is what the gate reads in ``interval``)."""
        engine = getattr(self.crawler, "engine", None)
        slot = engine.downloader.slots.get(request.meta.get("download_slot")) if engine is not None else None
        if slot is not None and not isinstance(slot, _GatedSlot):
            slot.__class__ = _gated(type(slot))

    def left(self, request: Request, spider: Any = None) -> None:
        self._release(request)

    def interval(self, request: Request) -> float:
        engine = getattr(self.crawler, "engine", None)
        delay = self.delay
        slot_key = request.meta.get("download_slot") or urlsplit(request.url).hostname
        slot = engine.downloader.slots.get(slot_key) if engine is not None and engine.downloader else None
        if slot is not None:
            delay = max(delay, float(getattr(slot, "delay", 0.0) or 0.0))
        return max(delay, float(request.meta.get("crawl_delay") or 0.0))

    async def process_request(self, request: Request, spider: Any = None) -> None:
        from scrapy.utils.defer import maybe_deferred_to_future
        from twisted.internet import reactor
        from twisted.internet.task import deferLater

        ctx = _ctx(self.crawler)
        netloc = urlsplit(request.url).netloc.lower()
        self.count += 1
        holder = f"{ctx.cluster.worker}|{self.count}"
        waited = 0.0
        while True:
            wait = ctx.cluster.gate(netloc, self.interval(request), self.concurrency, holder, self.hold)
            if wait <= 0:
                break
            waited += wait
            await maybe_deferred_to_future(deferLater(reactor, wait, lambda: None))
        if waited:
            self.crawler.stats.inc_value("archiver/cluster/politeness_waits")
        request.meta["cluster_holder"] = (netloc, holder)

    def _release(self, request: Request) -> None:
        held = request.meta.pop("cluster_holder", None)
        if held:
            _ctx(self.crawler).cluster.release(*held)

    def process_exception(self, request: Request, exception: BaseException, spider: Any = None) -> None:
        self._release(request)  # a later middleware refused it: it never reached the downloader


class ClusterWorker:
    """Extension of a worker's crawler: its lease renewed, dead workers' requests given back to
    the queue, its progress sent, and its run closed once the run's queue has been empty (and
    nothing in flight anywhere) for ``ARCHIVER_REDIS_IDLE_SECONDS``."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.last_busy = time.monotonic()
        self.last_progress = 0.0
        self.loops: list[Any] = []
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.idle, signal=signals.spider_idle)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Any) -> ClusterWorker:
        return cls(crawler)

    def opened(self, spider: Any) -> None:
        from twisted.internet import task

        ctx = _ctx(self.crawler)
        kick = task.LoopingCall(self.kick)
        kick.start(0.25, now=False)
        beat = task.LoopingCall(self.beat)
        beat.start(max(0.2, ctx.cluster.lease.seconds / 3), now=True)
        self.loops = [kick, beat]

    def kick(self) -> None:
        """Ask the engine for the next request: the queue may have been filled by another worker
        (Scrapy's own heartbeat asks every 5 seconds only)."""
        engine = getattr(self.crawler, "engine", None)
        slot = getattr(engine, "_slot", None)
        if slot is not None and engine is not None and engine.running:
            slot.nextcall.schedule()

    def beat(self) -> None:
        import redis

        ctx = _ctx(self.crawler)
        try:
            ctx.cluster.renew()
            given = ctx.cluster.requeue_dead(ctx.run.token)
            if given:
                self.crawler.stats.inc_value("archiver/cluster/requeued", given)
                log.warning("%s: %d request(s) of a dead worker given back to the queue", ctx.run.portal, given)
            if not ctx.run.opened and ctx.cluster.take_over_seeding(ctx.run.token):
                self.seed()
            now = time.monotonic()
            if now - self.last_progress >= 5.0:
                self.last_progress = now
                ctx.writer.progress(ctx.run, self.crawler.stats.get_stats())
            ctx.writer.tick()
        except redis.RedisError as exc:
            log.warning("%s: Redis did not answer (%s)", ctx.run.portal, exc)

    def seed(self) -> None:
        """The run's opener died before queuing its start pages: this worker queues them."""
        ctx, spider, engine = _ctx(self.crawler), self.crawler.spider, self.crawler.engine
        log.warning("%s: the run's opener left before queuing its start pages; queuing them", ctx.run.portal)
        for req in spider.seed_requests(again=True):
            engine.crawl(req)
        ctx.cluster.seeded(ctx.run.token)
        self.crawler.stats.inc_value("archiver/cluster/seeded_for_opener")

    def idle(self, spider: Any) -> None:
        ctx = _ctx(self.crawler)
        ctx.writer.flush()
        try:
            if not ctx.writer.pending and not ctx.writer.done:
                dropped = ctx.cluster.drop_own(ctx.run.token)
                if dropped:
                    self.crawler.stats.inc_value("archiver/cluster/untracked", dropped)
            queued, inflight = ctx.cluster.pending(ctx.run.token)
            seeded = ctx.cluster.is_seeded(ctx.run.token)
        except Exception as exc:  # noqa: BLE001 - Redis gone: the worker waits, its lease runs out
            log.warning("%s: Redis did not answer (%s)", ctx.run.portal, exc)
            raise DontCloseSpider from None
        now = time.monotonic()
        if queued or inflight or not seeded:  # an opener still queuing its start pages (or dead: see beat)
            self.last_busy = now
            raise DontCloseSpider
        if ctx.writer.failed or getattr(spider, "stopping", False):
            return
        if now - self.last_busy < ctx.cluster.lease.idle:
            raise DontCloseSpider

    def closed(self, spider: Any, reason: str) -> None:
        for loop in self.loops:
            if loop.running:
                loop.stop()
