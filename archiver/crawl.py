"""Run crawls from Python (the CLI's ``crawl`` and ``demo``): one Scrapy process, one spider per
portal, and one ``Writer`` for the archive that every portal's items go through.

The runner owns each run from start to end: it opens the run (a ``running`` row), gives the
spider its ``Plan`` and the store pipeline its ``CrawlContext`` (through the crawler, the one way
Scrapy components get configuration), drives the writer's commit timer, stops the crawl within
seconds on SIGTERM, and closes every run that its spider did not close (a crash, a hard stop),
so that no run is left ``running``.
"""

from __future__ import annotations

import difflib
import json
import logging
import signal
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from scrapy.settings import default_settings as scrapy_defaults

from archiver import settings as archiver_settings
from archiver.capture.warc import COMPRESSORS, WarcStore, repair
from archiver.exceptions import UsageError
from archiver.ingest import Ingestor, archive_history
from archiver.items import WarcFileEvent
from archiver.normalize import parse_datetime
from archiver.profiles import Profile
from archiver.runs import Observation, Plan, judge
from archiver.site import Site
from archiver.store.writer import Run, Writer

log = logging.getLogger(__name__)


@dataclass
class CrawlContext:
    """What one portal's crawl is given: the shared writer, its run, its profile and plan, its
    URL space, its WARC files and its ingest path."""

    writer: Writer
    run: Run
    profile: Profile
    plan: Plan
    site: Site
    ingestor: Ingestor
    warc: WarcStore | None = None
    own_writer: bool = False
    cluster: Any = None  # a worker of a crawl over Redis (archiver.cluster.Cluster)

    def close_warc(self) -> None:
        """Close the portal's current WARC file (its records are flushed already)."""
        if self.warc is not None:
            path = self.warc.path
            self.warc.close()
            if path is not None:
                self.writer.add(self.run, WarcFileEvent(self.warc.relative(path), self.run.portal, closed=True))


def warc_dir(settings: Settings, db: str | Path) -> Path | None:
    """Where WARC files go: ARCHIVER_WARC_DIR, else ``warc/`` beside the archive; None when off."""
    if not settings.getbool("ARCHIVER_WARC_ENABLED", True):
        return None
    configured = settings.get("ARCHIVER_WARC_DIR") or ""
    return Path(configured) if configured else Path(db).parent / "warc"


def open_warc(writer: Writer, run: Run, profile: Profile, settings: Settings, db: str | Path) -> WarcStore | None:
    """The portal's WARC store for this run, after repairing files a killed run left half-written."""
    root = warc_dir(settings, db)
    if root is None:
        return None
    store = WarcStore(root, profile.slug, base=Path(db).parent, max_bytes=settings.getint("ARCHIVER_WARC_MAX_MB", 1000)
                      * 2**20, operator=settings.get("ARCHIVER_CONTACT_URL") or "",
                       gzip_level=settings.getint("ARCHIVER_WARC_GZIP_LEVEL", 6),
                       compressor=settings.get("ARCHIVER_WARC_COMPRESSOR") or "isal")  # fmt: skip
    closed = {r["path"] for r in writer.archive.query("SELECT path FROM warc_files WHERE portal = ? AND closed_at "
                                                      "IS NOT NULL", (profile.slug,))}  # fmt: skip
    for path in sorted(store.dir.glob("*.warc.gz")) if store.dir.exists() else []:
        rel = store.relative(path)
        if rel in closed or _writing_elsewhere(path):
            continue
        removed = repair(path)
        if removed:
            log.warning("%s: cut %d bytes of a record a killed crawl left half-written", rel, removed)
        writer.add(run, WarcFileEvent(rel, profile.slug))
        writer.add(run, WarcFileEvent(rel, profile.slug, closed=True))
    store.on_open = _on_event_loop(lambda path: writer.add(run, WarcFileEvent(store.relative(path), profile.slug)))
    writer.before_commit.append(store.sync)
    return store


def _on_event_loop(fn: Any) -> Any:
    """``fn`` run on the event loop's thread (the writer is not thread-safe; WARC records are
    written from a worker thread)."""

    def call(*args: Any) -> None:
        from twisted.python import threadable

        if threadable.isInIOThread():
            fn(*args)
        else:
            from twisted.internet import reactor

            reactor.callFromThread(fn, *args)  # type: ignore[attr-defined]

    return call


def _writing_elsewhere(path: Path) -> bool:
    """A file named for a live process other than this one (another archive sharing the directory)."""
    import os

    parts = path.name.rsplit("-", 1)
    pid = parts[-1].split(".")[0] if len(parts) == 2 else ""
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def make_context(writer: Writer, profile: Profile, settings: Settings, db: str | Path, base_url: str | None,
                 full: bool, wayback: str | None = None) -> CrawlContext:  # fmt: skip
    """Open a portal's run: its plan, its ``running`` row, its WARC store and its ingestor.
    ``wayback``: the run reads the portal's captures from the Wayback Machine at that base URL."""
    plan = plan_for(writer, profile, settings)
    site = Site.of(profile, None if wayback else base_url, archive=wayback)
    run = writer.open_run(profile, wayback or site.fetch_origin, "wayback" if wayback else "full" if full else "incremental")
    store = open_warc(writer, run, profile, settings, db)
    fixed = settings.get("ARCHIVER_NOW")
    now = parse_datetime(fixed) if fixed else None  # else each page is read against its capture time
    ingestor = Ingestor(site, now=now if isinstance(now, datetime) else None,
                        history=archive_history(writer.archive, Path(db).parent, profile.slug), warc=store)  # fmt: skip
    ingestor.on_warc_error = writer.fail
    return CrawlContext(writer, run, profile, plan, site, ingestor, store)


def standalone_context(crawler: Any, profile: Profile, base_url: str | None) -> CrawlContext:
    """A bare ``scrapy crawl portal``: a writer and a run of its own (the archive at ARCHIVER_DB),
    closed by the pipeline when the spider closes."""
    s = crawler.settings
    db = s.get("ARCHIVER_DB")
    writer = Writer(db, batch_size=s.getint("ARCHIVER_BATCH_SIZE", 50),
                    interval=s.getfloat("ARCHIVER_COMMIT_INTERVAL", 30.0),
                    retry_for=s.getfloat("ARCHIVER_STORE_RETRY_SECONDS", 300.0),
                    cache_mb=s.getint("ARCHIVER_CACHE_MB", 256))  # fmt: skip
    ctx = make_context(writer, profile, s, db, base_url, s.getbool("ARCHIVER_FULL", True))
    ctx.own_writer = True
    crawler.archiver = ctx
    return ctx


# -- settings -----------------------------------------------------------------------------------
# Settings given by an option of their own (a -s for them would disagree with the option).
BY_OPTION = {"ARCHIVER_DB": "--db", "ARCHIVER_BASE_URL": "--base-url", "ARCHIVER_MAX_PAGES": "--max-pages",
             "ARCHIVER_FULL": "--full", "LOG_FILE": "--log-file", "LOG_LEVEL": "--log-level"}  # fmt: skip


def known_settings() -> dict[str, Any]:
    """Every setting name a crawl understands, with its default (which gives its type)."""
    names = {n: getattr(scrapy_defaults, n) for n in dir(scrapy_defaults) if n.isupper()}
    names.update({n: getattr(archiver_settings, n) for n in dir(archiver_settings) if n.isupper()})
    return names


def _convert(name: str, raw: str, default: Any) -> Any:
    text = raw.strip()
    if isinstance(default, bool):
        low = text.lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise UsageError(f"-s {name}={raw}: expected true or false")
    if isinstance(default, int):
        try:
            return int(text)
        except ValueError:
            raise UsageError(f"-s {name}={raw}: expected a whole number") from None
    if isinstance(default, float):
        try:
            return float(text)
        except ValueError:
            raise UsageError(f"-s {name}={raw}: expected a number") from None
    if isinstance(default, dict | list):
        if text.startswith(("{", "[")):
            try:
                value = json.loads(text)
            except ValueError as exc:
                raise UsageError(f"-s {name}={raw}: not valid JSON ({exc})") from None
            if not isinstance(value, type(default)):
                raise UsageError(f"-s {name}={raw}: expected a JSON {type(default).__name__}")
            return value
        if isinstance(default, list):
            return [part.strip() for part in text.split(",") if part.strip()]
        raise UsageError(f"-s {name}={raw}: expected a JSON object")
    return raw


def parse_overrides(pairs: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """``-s NAME=VALUE`` pairs, checked: an unknown name is refused with the close ones, a value
    of the wrong type is refused with the type expected."""
    known = known_settings()
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"-s {pair!r}: expected NAME=VALUE")
        if key in BY_OPTION:
            raise UsageError(f"-s {key}: use the option {BY_OPTION[key]} instead")
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=3, cutoff=0.75)
            hint = f"; did you mean {', '.join(close)}?" if close else "; see the settings in README.md"
            raise UsageError(f"-s {key}: unknown setting{hint}")
        out[key] = _convert(key, value, known[key])
        if key in CHOICES and out[key] not in CHOICES[key]:
            raise UsageError(f"-s {key}={value}: expected one of {', '.join(CHOICES[key])}")
    return out


# Settings whose value is one of a few words.
CHOICES = {"ARCHIVER_WARC_COMPRESSOR": COMPRESSORS, "ARCHIVER_ATTACHMENT_OCR": ("auto", "off")}


def user_agent(contact_url: str) -> str:
    """The User-Agent: the project, its version and the operator's contact URL."""
    from archiver import __version__

    return f"vn-portal-archiver/{__version__} (+{contact_url})"


def make_settings(db: str | Path, *, max_pages: int | None = None, log_level: str = "WARNING",
                  overrides: dict[str, Any] | None = None, full: bool = True,
                  log_file: str | None = None) -> Settings:  # fmt: skip
    settings = Settings()
    settings.setmodule("archiver.settings", priority="project")
    settings.set("ARCHIVER_DB", str(db), priority="cmdline")
    settings.set("LOG_LEVEL", log_level, priority="cmdline")
    settings.set("ARCHIVER_FULL", full, priority="cmdline")
    if log_file:
        settings.set("LOG_FILE", log_file, priority="cmdline")
    if max_pages:
        settings.set("ARCHIVER_MAX_PAGES", max_pages, priority="cmdline")
    for key, value in (overrides or {}).items():
        settings.set(key, value, priority="cmdline")
    if "USER_AGENT" not in (overrides or {}):
        # Built from the settings in force: -s ARCHIVER_CONTACT_URL=... changes it.
        settings.set("USER_AGENT", user_agent(settings.get("ARCHIVER_CONTACT_URL")), priority="cmdline")
    slots = dict(settings.getdict("DOWNLOAD_SLOTS"))
    slots.setdefault("wayback-cdx", {"concurrency": 1, "jitter": 0.0,
                                     "delay": 60.0 / max(0.01, settings.getfloat("ARCHIVER_WAYBACK_CDX_PER_MINUTE", 20))})
    slots.setdefault("wayback-replay", {"concurrency": 1, "jitter": 0.0, "delay": 1.0 / max(
        0.01, settings.getfloat("ARCHIVER_WAYBACK_REPLAYS_PER_SECOND", 2))})  # fmt: skip
    settings.set("DOWNLOAD_SLOTS", slots, priority="cmdline")
    runtime = settings.getfloat("ARCHIVER_MAX_RUNTIME", 0)
    if runtime > 0 and "CLOSESPIDER_TIMEOUT" not in (overrides or {}):
        settings.set("CLOSESPIDER_TIMEOUT", runtime, priority="cmdline")
    return settings


def _quiet_tracebacks(level: str) -> None:
    """Log records without tracebacks: a cron log says what failed and where, in one line.
    (``--log-level DEBUG`` keeps them.)"""
    if level == "DEBUG":
        return
    factory = logging.getLogRecordFactory()

    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        if record.exc_info and record.exc_info[1] is not None and record.levelno >= logging.WARNING:
            exc = record.exc_info[1]
            record.msg = f"{record.msg} ({type(exc).__name__}: {str(exc)[:300]})"
        record.exc_info = None
        record.exc_text = None
        return record

    logging.setLogRecordFactory(make)


# -- plans --------------------------------------------------------------------------------------
def plan_for(writer: Writer, profile: Profile, settings: Settings) -> Plan:
    """What an incremental run may skip and must revisit; a full run walks and fetches all."""
    archive = writer.archive
    full = settings.getbool("ARCHIVER_FULL", True)
    fixed = settings.get("ARCHIVER_NOW")
    now = parse_datetime(fixed) if fixed else None
    if not isinstance(now, datetime):
        now = datetime.now(UTC)
    since = (now - timedelta(days=settings.getint("ARCHIVER_REVISIT_DAYS", 14))).isoformat()
    return Plan(
        known=archive.known_urls(profile.slug),
        revisit=[] if full else archive.recent_urls(profile.slug, since),
        walked_before=archive.had_complete_walk(profile.slug),
        documents=set() if full else archive.attachment_urls(),
    )


# -- the run ------------------------------------------------------------------------------------
SOURCES = ("live", "wayback", "auto")


def run_crawls(profiles: list[Profile], db: str | Path, *, base_url: str | None = None,
               max_pages: int | None = None, log_level: str = "WARNING", overrides: dict[str, Any] | None = None,
               full: bool = True, log_file: str | None = None,
               sources: dict[str, str] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Crawl each portal (concurrently, each polite on its own host, each isolated: one failing
    portal does not stop the others) into one archive through one writer; return their run rows.
    ``sources`` gives a portal's source by slug: ``live`` (the default), ``wayback`` (its captures
    in the Wayback Machine), ``auto`` (live, then the Wayback captures of URLs the live crawl did
    not find). Wayback runs go one after another, after the live ones: the service's rate limits
    hold for the whole process. The caller holds the archive's lock."""
    from twisted.internet import defer, task

    from spiders.discover import DiscoverySpider
    from spiders.portal import PortalSpider
    from spiders.progress import ProgressLine
    from spiders.wayback import WaybackSpider

    settings = make_settings(db, max_pages=max_pages, log_level=log_level, overrides=overrides, full=full,
                             log_file=log_file)  # fmt: skip
    writer = Writer(
        db,
        batch_size=settings.getint("ARCHIVER_BATCH_SIZE", 50),
        interval=settings.getfloat("ARCHIVER_COMMIT_INTERVAL", 30.0),
        retry_for=settings.getfloat("ARCHIVER_STORE_RETRY_SECONDS", 300.0),
        cache_mb=settings.getint("ARCHIVER_CACHE_MB", 256),
    )
    process = CrawlerProcess(settings)
    _quiet_tracebacks(log_level)
    contexts: list[CrawlContext] = []
    crawlers = []
    wayback_base = (settings.get("ARCHIVER_WAYBACK_URL") or "https://web.archive.org").rstrip("/")

    stopping: list[_Stopper] = []

    def start_job(profile: Profile, kind: str) -> Any:
        if writer.failed or (stopping and stopping[0].reason):
            log.warning("%s: not started (%s)", profile.slug, stopping[0].reason if stopping and stopping[0].reason
                        else f"storing failed: {writer.failed}")  # fmt: skip
            return defer.succeed(None)
        from_archive = kind != "live"
        ctx = make_context(writer, profile, settings, db, base_url, full, wayback=wayback_base if from_archive else None)
        cls = WaybackSpider if from_archive else DiscoverySpider if profile.discovered else PortalSpider
        crawler = process.create_crawler(cls)
        crawler.archiver = ctx  # type: ignore[attr-defined]  # read by the spider and the store pipeline
        contexts.append(ctx)
        crawlers.append(crawler)
        kwargs: dict[str, Any] = {"profile": profile, "base_url": "" if from_archive else base_url or ""}
        if kind == "wayback-new":
            kwargs["only_new_urls"] = True
        return process.crawl(crawler, **kwargs)

    try:
        chosen = sources or {}
        live = [p for p in profiles if chosen.get(p.slug, "live") in ("live", "auto")]
        archived = [(p, "wayback-new" if chosen.get(p.slug) == "auto" else "wayback") for p in profiles
                    if chosen.get(p.slug, "live") in ("wayback", "auto")]  # fmt: skip
        live_runs = []
        for group in by_host(live, base_url).values():
            # Portals on one host (a province's departments under its domain) go one after another:
            # each crawler keeps its own limits, so together they would double them on that server.
            chain = start_job(group[0], "live")
            for later in group[1:]:
                chain.addBoth(lambda _r, p=later: start_job(p, "live"))
            chain.addErrback(lambda f: log.error("a portal's run failed to start: %s", f.getErrorMessage()))
            live_runs.append(chain)

        def wayback_runs(_: Any = None) -> Any:
            chain: Any = defer.succeed(None)
            for p, kind in archived:
                chain.addCallback(lambda _r, p=p, kind=kind: start_job(p, kind))
                chain.addErrback(lambda f: log.error("a Wayback run failed to start: %s", f.getErrorMessage()))
            return chain

        if archived:
            if live_runs:
                defer.DeferredList(live_runs).addCallback(wayback_runs)
            else:
                wayback_runs()
        writer.on_failure.append(lambda why: _close_all(crawlers, "store_failed"))
        ticker = task.LoopingCall(writer.tick)
        lag = _LoopLag()
        progress = ProgressLine.for_process(crawlers, settings)
        stopper = _Stopper(process, crawlers, settings.getfloat("ARCHIVER_SHUTDOWN_GRACE", 5.0))
        stopping.append(stopper)
        from twisted.internet import reactor

        reactor.callWhenRunning(ticker.start, 1.0, False)  # type: ignore[attr-defined]
        reactor.callWhenRunning(lag.start)  # type: ignore[attr-defined]
        reactor.callWhenRunning(stopper.install)  # type: ignore[attr-defined]
        if progress is not None:
            reactor.callWhenRunning(progress.start)  # type: ignore[attr-defined]
        process.start(install_signal_handlers=False)
        lag.stop()
        stopper.after()
        if progress is not None:
            progress.stop()
        if ticker.running:
            ticker.stop()
        for ctx in contexts:
            if not ctx.run.finished:
                ctx.close_warc()
                _close_unfinished(ctx, stopper.reason or "the crawl ended before the portal's run was closed")
        rows = []
        for ctx in contexts:
            found = list(writer.archive.query("SELECT * FROM crawl_runs WHERE id = ?", (ctx.run.id,)))
            row = found[0] if found else {"portal": ctx.run.portal, "status": "failed",
                                          "reason": "the end of the run could not be recorded"}  # fmt: skip
            if writer.failed and row.get("status") in ("ok", "running", None):
                row = dict(row, status="failed", reason=f"storing failed ({writer.failed})")
            rows.append(row)
        return rows
    finally:
        writer.close()


def by_host(profiles: list[Profile], base_url: str | None = None) -> dict[str, list[Profile]]:
    """Profiles grouped by the host (and port) they are fetched from, in their order."""
    from urllib.parse import urlsplit

    groups: dict[str, list[Profile]] = {}
    for p in profiles:
        origin = base_url or p.base_url or ""
        groups.setdefault(urlsplit(origin).netloc.lower() or p.slug, []).append(p)
    return groups


class _LoopLag:
    """How long the event loop was blocked: a tick every ``every`` seconds, each late by the time
    something held the loop. Logged at the end of the crawl (INFO), read by ``bench.crawl``."""

    def __init__(self, every: float = 0.05) -> None:
        import time

        self.every = every
        self.clock = time.monotonic
        self.late = 0.0
        self.started = self.last = 0.0
        self.loop: Any = None

    def start(self) -> None:
        from twisted.internet import task

        self.started = self.last = self.clock()
        self.loop = task.LoopingCall(self.tick)
        self.loop.start(self.every, now=False)

    def tick(self) -> None:
        now = self.clock()
        self.late += max(0.0, now - self.last - self.every)
        self.last = now

    def stop(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        wall = self.clock() - self.started if self.started else 0.0
        if wall > 0:
            log.info("event loop blocked %.1f%% of %.1f s (ticks late by %.1f s in all)", 100 * self.late / wall,
                     wall, self.late)  # fmt: skip


def _close_all(crawlers: list[Any], reason: str) -> None:
    from scrapy.utils.defer import deferred_from_coro

    for crawler in crawlers:
        engine = getattr(crawler, "engine", None)
        if engine is not None and engine.spider is not None and engine.running:
            deferred_from_coro(engine.close_spider_async(reason=reason))


def _close_unfinished(ctx: CrawlContext, why: str) -> None:
    """A run its spider did not close (hard stop after SIGTERM, a crash): interrupted, with what
    it committed."""
    counts = ctx.run.counts
    obs = Observation(close_reason="shutdown", pages=counts.pages)
    verdict = judge(obs, counts, store_failure=ctx.writer.failed)
    reason = why if verdict.status == "interrupted" else verdict.reason
    ctx.writer.finish_run(ctx.run, counts, verdict.status, reason, False)


class _Stopper:
    """SIGTERM / SIGINT: stop gracefully (every run closed as ``interrupted``, what was extracted
    committed); if in-flight downloads hold the crawl past ``grace`` seconds, or on a second
    signal, stop at once (the runner then closes the runs)."""

    def __init__(self, process: CrawlerProcess, crawlers: list[Any], grace: float) -> None:
        self.process = process
        self.crawlers = crawlers
        self.grace = grace
        self.reason: str | None = None
        self.signals = 0
        self.crashed = False

    def install(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self.handle)

    def handle(self, signum: int, _frame: Any) -> None:
        from twisted.internet import reactor

        self.signals += 1
        name = signal.Signals(signum).name
        self.reason = f"stopped by {name}"
        if self.signals == 1:
            reactor.callFromThread(self.graceful, name)  # type: ignore[attr-defined]
        else:
            reactor.callFromThread(self.hard)  # type: ignore[attr-defined]

    def graceful(self, name: str) -> None:
        from twisted.internet import reactor

        log.warning("%s received: closing every portal's run (at most %.0f s)", name, self.grace)
        _close_all(self.crawlers, "shutdown")
        reactor.callLater(self.grace, self.hard)  # type: ignore[attr-defined,arg-type]  # the installed reactor

    def hard(self) -> None:
        """Leave the event loop now. ``reactor.stop()`` would first wait for Scrapy's shutdown
        trigger, which waits for in-flight downloads; ``crash()`` fires no shutdown event. The
        runner then commits what is pending and closes the runs; the process exits after it."""
        from twisted.internet import reactor

        if reactor.running:  # type: ignore[attr-defined]
            log.warning("stopping now: %d portal run(s) still closing", sum(
                1 for c in self.crawlers if getattr(c, "archiver", None) and not c.archiver.run.finished))  # fmt: skip
            self.crashed = True
            reactor.crash()  # type: ignore[attr-defined,misc]  # the installed reactor

    def after(self) -> None:
        """After a hard stop: end the reactor's worker threads (a normal shutdown would), or the
        interpreter waits for them at exit."""
        if not self.crashed:
            return
        from twisted.internet import reactor

        pool = getattr(reactor, "threadpool", None)
        if pool is not None:
            pool.stop()
