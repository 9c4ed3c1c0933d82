"""A worker of a crawl over Redis (``archiver crawl PORTAL… --redis URL``): the same spiders,
middlewares and safety rules as a crawl on one machine, with scrapy-redis' scheduler on a shared
queue; it writes its own WARC files (``warc/<worker>/<portal>/`` beside the archive, shared
storage in production) and sends everything else to the cluster's one writer
(``archiver ingest --redis``). It never opens the archive.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from archiver.cluster import Cluster, ClusterError, ClusterRun, Lease, RemoteWriter, connect, redacted
from archiver.crawl import CrawlContext, _close_all, _quiet_tracebacks, _Stopper, make_settings, warc_dir
from archiver.exceptions import UsageError
from archiver.ingest import Ingestor
from archiver.items import WarcFileEvent
from archiver.normalize import parse_datetime
from archiver.profiles import Profile
from archiver.site import Site

log = logging.getLogger(__name__)

# What a worker adds to a crawl's settings.
CLUSTER_SETTINGS: dict[str, Any] = {
    "SCHEDULER": "spiders.cluster.ClusterScheduler",
    "SCHEDULER_PERSIST": True,  # a worker that stops never flushes the shared queue
}


def worker_settings(settings: Any) -> None:
    for key, value in CLUSTER_SETTINGS.items():
        settings.set(key, value, priority="cmdline")
    for name, key, order in (("SPIDER_MIDDLEWARES", "spiders.cluster.ClusterDoneMiddleware", 10),
                             ("DOWNLOADER_MIDDLEWARES", "spiders.cluster.ClusterPolitenessMiddleware", 120),
                             ("EXTENSIONS", "spiders.cluster.ClusterWorker", 500)):  # fmt: skip
        merged = dict(settings.getdict(name))
        merged[key] = order
        settings.set(name, merged, priority="cmdline")


def wait_for_writer(cluster: Cluster, seconds: float) -> None:
    """The writer publishes what the archive holds before workers may start (an incremental run
    skips it); wait for it up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while not cluster.ready():
        if time.monotonic() >= deadline:
            raise ClusterError(f"--redis {redacted(cluster.url)}: no writer has published the archive's state in "
                               f"{seconds:.0f} s: start `archiver ingest --redis {redacted(cluster.url)}` first "
                               "(ARCHIVER_REDIS_WAIT_SECONDS)")  # fmt: skip
        time.sleep(0.2)


def open_worker_warc(cluster: Cluster, writer: RemoteWriter, run: ClusterRun, profile: Profile, settings: Any,
                     db: str | Path) -> Any:  # fmt: skip
    """The worker's WARC store for the portal (``warc/<worker>/``), after repairing the files
    this worker's name left open when it was killed."""
    from archiver.capture.warc import WarcStore, repair

    root = warc_dir(settings, db)
    if root is None:
        return None
    open_set = f"archiver:worker:{cluster.worker}:warc"
    store = WarcStore(root / cluster.worker, profile.slug, base=Path(db).parent,
                      max_bytes=settings.getint("ARCHIVER_WARC_MAX_MB", 1000) * 2**20,
                      operator=settings.get("ARCHIVER_CONTACT_URL") or "",
                      gzip_level=settings.getint("ARCHIVER_WARC_GZIP_LEVEL", 6),
                      compressor=settings.get("ARCHIVER_WARC_COMPRESSOR") or "isal")  # fmt: skip
    for raw in cluster.redis.smembers(open_set):
        rel = raw.decode("utf-8")
        path = Path(rel) if Path(rel).is_absolute() else Path(db).parent / rel
        if path.parent != store.dir:
            continue  # another portal's file: repaired when that portal is crawled
        if path.exists():
            removed = repair(path)
            if removed:
                log.warning("%s: cut %d bytes of a record a killed worker left half-written", rel, removed)
            writer.add(run, WarcFileEvent(rel, profile.slug))
            writer.add(run, WarcFileEvent(rel, profile.slug, closed=True))
        cluster.redis.srem(open_set, rel)

    def opened(path: Path) -> None:
        rel = store.relative(path)
        cluster.redis.sadd(open_set, rel)
        writer.add(run, WarcFileEvent(rel, profile.slug))

    store.on_open = _on_loop(opened)
    original_close = store.close

    def close() -> None:
        path = store.path
        original_close()
        if path is not None:
            cluster.redis.srem(open_set, store.relative(path))

    store.close = close  # type: ignore[method-assign]
    writer.before_commit.append(store.sync)
    return store


def _on_loop(fn: Any) -> Any:
    from archiver.crawl import _on_event_loop

    return _on_event_loop(fn)


def worker_context(cluster: Cluster, writer: RemoteWriter, profile: Profile, settings: Any, db: str | Path,
                   base_url: str | None, full: bool, arg: str) -> CrawlContext:  # fmt: skip
    """Join (or open) the portal's cluster run and give its crawl what it needs."""
    site = Site.of(profile, base_url)
    mode = "full" if full else "incremental"
    token, opened = cluster.join(profile.slug, {"arg": arg, "mode": mode, "base_url": site.fetch_origin,
                                                "started_by": cluster.worker})  # fmt: skip
    run = ClusterRun(token, profile.slug, getattr(profile, "province", None), opened=opened)
    plan = cluster.plan(profile.slug, full)
    store = open_worker_warc(cluster, writer, run, profile, settings, db)
    fixed = settings.get("ARCHIVER_NOW")
    now = parse_datetime(fixed) if fixed else None
    from datetime import datetime

    ingestor = Ingestor(site, now=now if isinstance(now, datetime) else None, history=None, warc=store)
    ingestor.on_warc_error = writer.fail
    log.info("%s: %s cluster run %s", profile.slug, "opened" if opened else "joined", token)
    return CrawlContext(writer, run, profile, plan, site, ingestor, store, cluster=cluster)  # type: ignore[arg-type]


def run_workers(profiles: list[Profile], db: str | Path, redis_url: str, *, args: list[str] | None = None,
                worker: str | None = None, base_url: str | None = None, max_pages: int | None = None,
                log_level: str = "WARNING", overrides: dict[str, Any] | None = None, full: bool = True,
                log_file: str | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Crawl each portal as one worker of its cluster run; return what this worker did in each
    (the runs themselves are recorded by the writer)."""
    from scrapy.crawler import CrawlerProcess
    from twisted.internet import task

    from archiver.cluster import worker_name
    from spiders.portal import PortalSpider

    for p in profiles:
        if p.discovered:
            raise UsageError(f"{p.slug}: a portal without a profile is crawled by discovery, on one machine "
                             "(archiver crawl URL without --redis); `archiver learn` then writes its profile")  # fmt: skip
    settings = make_settings(db, max_pages=max_pages, log_level=log_level, overrides=overrides, full=full,
                             log_file=log_file)  # fmt: skip
    worker_settings(settings)
    lease = Lease(settings.getfloat("ARCHIVER_REDIS_LEASE_SECONDS", 30.0),
                  settings.getfloat("ARCHIVER_REDIS_IDLE_SECONDS", 10.0))  # fmt: skip
    cluster = Cluster(connect(redis_url), worker or worker_name(), redis_url, lease)
    wait_for_writer(cluster, settings.getfloat("ARCHIVER_REDIS_WAIT_SECONDS", 60.0))
    cluster.renew()
    writer = RemoteWriter(cluster, batch_size=settings.getint("ARCHIVER_BATCH_SIZE", 50),
                          retry_for=settings.getfloat("ARCHIVER_STORE_RETRY_SECONDS", 300.0))  # fmt: skip
    process = CrawlerProcess(settings)
    _quiet_tracebacks(log_level)
    crawlers: list[Any] = []
    contexts: list[CrawlContext] = []
    try:
        for i, profile in enumerate(profiles):
            ctx = worker_context(cluster, writer, profile, settings, db, base_url, full,
                                 (args or [])[i] if args and i < len(args) else profile.slug)  # fmt: skip
            crawler = process.create_crawler(PortalSpider)
            crawler.archiver = ctx  # type: ignore[attr-defined]
            crawlers.append(crawler)
            contexts.append(ctx)
            process.crawl(crawler, profile=profile, base_url=base_url or "")
        writer.on_failure.append(lambda why: _close_all(crawlers, "store_failed"))
        ticker = task.LoopingCall(writer.tick)
        stopper = _Stopper(process, crawlers, settings.getfloat("ARCHIVER_SHUTDOWN_GRACE", 5.0))
        from twisted.internet import reactor

        reactor.callWhenRunning(ticker.start, 1.0, False)  # type: ignore[attr-defined]
        reactor.callWhenRunning(stopper.install)  # type: ignore[attr-defined]
        process.start(install_signal_handlers=False)
        stopper.after()
        if ticker.running:
            ticker.stop()
        rows = []
        for ctx, crawler in zip(contexts, crawlers, strict=True):
            run: Any = ctx.run  # a ClusterRun
            if not run.finished:  # a hard stop: what it had in flight goes back to the queue
                ctx.close_warc()
                writer.flush(block=not writer.failed)
                try:
                    cluster.requeue_dead(run.token, also=cluster.worker)
                    cluster.redis.srem(f"archiver:run:{run.token}:workers", cluster.worker)
                except Exception as exc:  # noqa: BLE001 - Redis gone: the lease runs out, the writer requeues
                    log.warning("%s: could not give back the requests in flight (%s)", ctx.run.portal, exc)
            stats = crawler.stats.get_stats() if crawler.stats else {}
            get = lambda k, s=stats: int(s.get(k) or 0)  # noqa: E731
            rows.append({"portal": run.portal, "run": run.token, "worker": cluster.worker,
                         "opened": run.opened, "status": "failed" if writer.failed else "left",
                         "reason": writer.failed or stopper.reason or stats.get("finish_reason"),
                         "pages": get("archiver/pages/listing") + get("archiver/pages/article"),
                         "articles": get("archiver/validate/ok"), "errors": get("archiver/fetch/errors"),
                         "requeued": get("archiver/cluster/requeued")})  # fmt: skip
        return rows
    finally:
        try:
            writer.close()
            cluster.leave()
        except Exception as exc:  # noqa: BLE001 - Redis gone at the end: the lease runs out by itself
            log.warning("could not say goodbye to Redis (%s)", exc)
