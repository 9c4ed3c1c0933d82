"""One writer per archive, whatever the number of portals crawled at once.

Every portal of a crawl hands its items (articles, gone articles, failed fetches) to one
``Writer``: one connection, one transaction policy. Items are buffered in memory and written in
one short ``BEGIN IMMEDIATE`` transaction per batch, every ``batch_size`` items or every
``interval`` seconds, whichever comes first; the write lock is held for milliseconds, never while
a portal is being fetched, so portals never contend for it.

A store error never loses an article silently:

* an item that cannot be stored (a value SQLite cannot hold, a constraint) is rolled back alone
  (a savepoint per item), recorded in ``fetch_errors`` with stage ``store`` and counted in its
  run's ``store_errors``; the rest of the batch is written;
* a batch that cannot be written (database locked by another process, disk full, I/O error) is
  rolled back whole and kept; it is retried with backoff for up to ``retry_for`` seconds; if it
  still fails, storing stops (``failed`` says why), the items not written are counted as store
  errors of their runs, and ``on_failure`` is called so that the crawl stops. Those articles are
  not in the archive, so the next run fetches them again;
* a run's counters count only what was committed, and are written in the batch's own transaction
  (a killed run's row shows what it had committed).

Scrapy-free: the crawl runner drives ``tick()`` from its event loop.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archiver.exceptions import ArchiverError
from archiver.items import (
    Article,
    AttachmentFile,
    AttachmentLink,
    FetchError,
    GoneArticle,
    RecordedCapture,
    WarcFileEvent,
    WaybackCursor,
)
from archiver.provinces import MERGER_DAY, merged_province
from archiver.runs import RunCounts
from archiver.store.archive import Archive, utcnow

log = logging.getLogger(__name__)

# Errors of a whole batch (the database, the disk), retried; anything else is the item's own.
BATCH_ERRORS = (sqlite3.OperationalError, sqlite3.DatabaseError, OSError, MemoryError)
# Seconds a run's final row may wait for a locked archive (at least ARCHIVER_STORE_RETRY_SECONDS).
FINISH_WAIT = 60.0
PER_ITEM_ERRORS = (sqlite3.IntegrityError, sqlite3.InterfaceError, sqlite3.DataError, sqlite3.ProgrammingError)


@dataclass
class Run:
    """One portal's run as the writer keeps it."""

    id: int
    portal: str
    province: str | None = None
    counts: RunCounts = field(default_factory=RunCounts)  # committed
    first_store_error: str | None = None
    after_merger: int = 0  # new articles dated on or after the merger on a merged province's portal
    finished: bool = False


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".strip()


class Writer:
    def __init__(self, path: str | Path, *, batch_size: int = 50, interval: float = 30.0, retry_for: float = 300.0,
                 cache_mb: int = 256, busy_timeout: float = 5.0, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:  # fmt: skip
        self.archive = Archive(path, cache_mb=cache_mb, busy_timeout=busy_timeout)
        self.batch_size = max(1, batch_size)
        self.interval = interval
        self.retry_for = retry_for
        self.clock = clock
        self.sleep = sleep
        self.pending: list[tuple[Run, Any]] = []
        self.runs: dict[int, Run] = {}
        self.failed: str | None = None  # why storing stopped for good
        self.on_failure: list[Callable[[str], None]] = []
        self.on_outcome: list[Callable[[Run, Any, str], None]] = []  # after a commit, per item
        # Called before each commit: what the batch refers to (WARC records) is made durable first.
        self.before_commit: list[Callable[[], None]] = []
        self.last_commit = clock()
        self.failing_since: float | None = None
        self.attempts = 0
        self.next_attempt = 0.0

    # -- runs ------------------------------------------------------------------------------
    def open_run(self, profile: Any, base_url: str, mode: str) -> Run:
        """Record the portal and a ``running`` row (committed at once: a dead process leaves it,
        and the next run marks it ``killed``)."""
        self._blocking(lambda: self.archive.upsert_portal(profile))
        run_id = self._blocking(lambda: self.archive.start_run(profile.slug, base_url, mode))
        run = Run(int(run_id), profile.slug, getattr(profile, "province", None))
        self.runs[run.id] = run
        return run

    def finish_run(self, run: Run, counts: RunCounts, status: str, reason: str | None, complete: bool,
                   extracted: int = 0, fill: dict[str, int] | None = None, *, discovery: dict[str, Any] | None = None,
                   state: tuple[str, str | None] | None = None) -> bool:  # fmt: skip
        """Write the run's final row (after flushing what is pending), what discovery found and
        the portal's state; False if even that failed."""
        self.flush(block=True)
        run.finished = True
        try:
            # The run's own row is worth waiting for longer: without it the run would read "running".
            self._blocking(lambda: self.archive.finish_run(run.id, counts, status, reason, complete, extracted, fill),
                           budget=max(self.retry_for, FINISH_WAIT))  # fmt: skip
            if discovery is not None:
                self._blocking(lambda: self.archive.record_discovery(run.id, discovery))
            if state is not None:
                self._blocking(lambda: self.archive.record_status(run.portal, state[0], state[1], run.id))
            return True
        except BATCH_ERRORS as exc:
            log.error("%s: could not record the end of run %d (%s)", run.portal, run.id, _describe(exc))
            self._rollback()
            return False

    # -- items -----------------------------------------------------------------------------
    def add(self, run: Run, item: Any, pages: int | None = None) -> None:
        """Queue an item (Article, GoneArticle, FetchError) of ``run``; writes when a batch is due."""
        if pages is not None:
            run.counts.pages = pages
        if self.failed:
            if _is_article(item):
                run.counts.store_errors += 1
            return
        self.pending.append((run, item))
        if len(self.pending) >= self.batch_size or self.clock() - self.last_commit >= self.interval:
            self.flush()

    def tick(self) -> None:
        """Called every second or so by the crawl's event loop: write a batch that is due."""
        if self.pending and (self.clock() - self.last_commit >= self.interval or self.failing_since is not None):
            self.flush()

    def flush(self, *, block: bool = False) -> bool:
        """Write what is pending in one transaction. On a batch error: roll back, keep the batch,
        retry later (``block``: wait and retry now) until ``retry_for`` runs out. True when nothing
        is left pending and storing has not stopped."""
        while self.pending and not self.failed:
            now = self.clock()
            if now < self.next_attempt:
                if not block:
                    return False
                self.sleep(self.next_attempt - now)
            try:
                self._write(self.pending)
            except BATCH_ERRORS as exc:
                self._rollback()
                self._failure(exc)
                continue
            self.pending = []
            self.last_commit = self.clock()
            if self.failing_since is not None:
                log.warning("the archive is writable again after %.0f s; nothing was lost",
                            self.last_commit - self.failing_since)  # fmt: skip
            self.failing_since, self.attempts, self.next_attempt = None, 0, 0.0
        return not self.pending and not self.failed

    def _failure(self, exc: BaseException) -> None:
        now = self.clock()
        if self.failing_since is None:
            self.failing_since = now
        self.attempts += 1
        waited = now - self.failing_since
        if waited >= self.retry_for:
            self._give_up(f"{_describe(exc)}, for {waited:.0f} s")
            return
        wait = min(30.0, 0.5 * 2 ** (self.attempts - 1), max(0.1, self.retry_for - waited))
        log.warning("cannot write to the archive %s (%s); %d item(s) kept, retrying in %.1f s",
                    self.archive.path, _describe(exc), len(self.pending), wait)  # fmt: skip
        self.next_attempt = now + wait

    def fail(self, why: str) -> None:
        """Stop storing (a WARC file cannot be written): what is pending is not stored, runs fail."""
        if not self.failed:
            self._give_up(why)

    def _give_up(self, why: str) -> None:
        self.failed = why
        lost = 0
        for run, item in self.pending:
            if _is_article(item):
                run.counts.store_errors += 1
                lost += 1
        self.pending = []
        log.error("storing stopped: %s; %d item(s) not stored (the next run fetches them again)", why, lost)
        for callback in self.on_failure:
            callback(why)

    def _rollback(self) -> None:
        try:
            self.archive.conn.rollback()
        except sqlite3.Error:
            pass

    def _write(self, batch: list[tuple[Run, Any]]) -> None:
        conn = self.archive.conn
        if conn.in_transaction:
            conn.rollback()
        conn.execute("BEGIN IMMEDIATE")
        results: list[tuple[Run, Any, str]] = []
        for run, item in batch:
            conn.execute("SAVEPOINT item")
            try:
                outcome = self._apply(run, item)
                conn.execute("RELEASE item")
            except BATCH_ERRORS as exc:
                if isinstance(exc, PER_ITEM_ERRORS):
                    outcome = self._item_failed(run, item, exc)
                else:
                    raise
            except (OverflowError, ValueError, TypeError, RecursionError) as exc:
                outcome = self._item_failed(run, item, exc)
            results.append((run, item, outcome))
        counts = {run.id: _copy(run.counts) for run, _, _ in results}
        for run, _item, outcome in results:
            _count(counts[run.id], outcome)
        for run_id, c in counts.items():
            self.archive.progress(run_id, c)
        for hook in self.before_commit:
            try:
                hook()
            except ArchiverError as exc:  # a WARC file that cannot be synced: the batch waits, retried
                raise OSError(str(exc)) from None
        self.archive.sync_search()  # the batch's articles and documents reach the search indexes with it
        conn.execute("COMMIT")
        for run, item, outcome in results:  # committed: now they count
            _count(run.counts, outcome)
            for callback in self.on_outcome:
                callback(run, item, outcome)
            art = getattr(item, "article", item)
            if outcome == "new" and isinstance(art, Article) and merged_province(run.province or ""):
                if (art.published_iso or "") >= MERGER_DAY:
                    run.after_merger += 1

    def _item_failed(self, run: Run, item: Any, exc: BaseException) -> str:
        conn = self.archive.conn
        conn.execute("ROLLBACK TO item")
        conn.execute("RELEASE item")
        inner = getattr(item, "article", item)
        url = str(getattr(inner, "canonical_url", None) or getattr(inner, "url", None) or getattr(item, "target_uri", "?"))
        reason = _describe(exc)[:300]
        log.error("%s: could not store %s (%s)", run.portal, url, reason)
        if run.first_store_error is None:
            run.first_store_error = f"{url} ({reason})"
        self.archive.record_errors(run.id, run.portal, [(url, None, reason, 1)], stage="store")
        return "store_error" if _is_article(item) else "noop"

    def _apply(self, run: Run, item: Any) -> str:
        from archiver.cluster import WorkerStatus
        from archiver.ingest import Ingested, Reextracted

        if isinstance(item, Ingested):
            art = item.article
            return self.archive.save_article(art, run_id=run.id, seen_at=art.fetched_at,
                                             capture_id=self.archive.capture_id(item.record_id),
                                             extractor=item.extractor, reason=item.reason,
                                             archived=item.source == "wayback")  # fmt: skip
        if isinstance(item, WaybackCursor):
            self.archive.save_cursor(item)
            return "noop"
        if isinstance(item, RecordedCapture):
            self.archive.add_capture(dict(vars(item)) | {"run_id": run.id})
            return "capture"
        if isinstance(item, Reextracted):
            return self.archive.reextract(item.article_id, item.article, capture_id=item.capture_id,
                                          extractor=item.extractor)  # fmt: skip
        if isinstance(item, WarcFileEvent):
            self.archive.warc_file_event(item.path, item.portal, run.id, closed=item.closed)
            return "noop"
        if isinstance(item, Article):
            return self.archive.save_article(item, run_id=run.id, seen_at=item.fetched_at)
        if isinstance(item, GoneArticle):
            return "gone" if self.archive.mark_gone(item.portal, item.canonical_url, item.status) else "noop"
        if isinstance(item, AttachmentLink):
            article = self.archive.article_of_url(item.article_url)
            if article is not None:
                self.archive.link_attachment(article, item.url, item.text)
            return "noop"
        if isinstance(item, AttachmentFile):
            self.archive.save_attachment(item.row, capture_id=self.archive.capture_id(item.record_id))
            return "noop"
        if isinstance(item, WorkerStatus):
            self.archive.worker_status(run.id, item.worker, item.status, item.pages, item.articles, item.errors,
                                       item.reason, item.stats)  # fmt: skip
            return "noop"
        if isinstance(item, FetchError):
            self.archive.record_errors(run.id, run.portal, [(item.url, item.status, item.error, item.attempts)])
            return "error"
        raise TypeError(f"not an item the archive stores: {type(item).__name__}")

    def _blocking(self, fn: Callable[[], Any], budget: float | None = None) -> Any:
        """Run a small write now, retrying a locked or busy archive for up to ``budget`` seconds
        (``retry_for`` by default)."""
        start = self.clock()
        attempt = 0
        budget = self.retry_for if budget is None else budget
        while True:
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                self._rollback()
                attempt += 1
                if self.clock() - start >= budget or "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                self.sleep(min(30.0, 0.5 * 2 ** (attempt - 1)))

    # -- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        self.flush(block=True)
        try:
            # Leave no WAL behind: a copy of the file alone is then the whole archive.
            self.archive.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error:
            pass
        try:
            self.archive.close()
        except sqlite3.Error as exc:
            log.error("closing the archive %s: %s", self.archive.path, _describe(exc))

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _is_article(item: Any) -> bool:
    """Items whose loss is an article not stored (captures and file events are bookkeeping)."""
    return isinstance(item, Article) or isinstance(getattr(item, "article", None), Article)


def _copy(c: RunCounts) -> RunCounts:
    return RunCounts(**vars(c))


def _count(c: RunCounts, outcome: str) -> None:
    if outcome == "store_error":
        c.store_errors += 1
    elif outcome == "duplicate":
        c.duplicates += 1
    elif outcome in ("new", "updated", "unchanged"):
        setattr(c, outcome, getattr(c, outcome) + 1)
    elif outcome == "gone":
        c.gone += 1
    elif outcome == "error":
        c.errors += 1


__all__ = ["Run", "Writer", "utcnow"]
