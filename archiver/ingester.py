"""The cluster's one writer (``archiver ingest --redis URL``): applies the workers' messages to
the archive in stream order, and closes each portal's run once every worker has left it.

Exactly once: the id of the last message applied is committed in the same transaction as the
rows it gave (``cluster_cursor``), so a writer killed mid-batch applies, when restarted, what
was not committed and nothing twice; an article that reaches it twice (a request fetched again
after its worker died) is stored once, as it would be in one process. Entries are removed from
the stream once committed.

It also keeps, in Redis, what workers need to know of the archive (``Cluster.plan``): the known
URLs of each portal, what an incremental run revisits, whether a portal had a complete walk,
the documents held, and each URL's last payload digest (for WARC revisit records); published
when it starts and updated as it commits.
"""

from __future__ import annotations

import json
import logging
import signal
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from archiver.cluster import (
    READY,
    STREAM,
    WORKERS,
    Cluster,
    ClusterError,
    WorkerStatus,
    connect,
    decode,
    lease_key,
    redacted,
    state_key,
)
from archiver.ingest import Ingested, Ingestor, archive_history
from archiver.items import AttachmentFile, Capture, RecordedCapture
from archiver.profiles import Profile, get_portal
from archiver.runs import RunCounts, close_run
from archiver.site import Site
from archiver.store.writer import Run, Writer

log = logging.getLogger(__name__)

COUNT_FIELDS = ("pages", "new", "updated", "unchanged", "duplicates", "not_articles", "errors", "gone", "store_errors")


@dataclass
class OpenRun:
    """A cluster run the writer has opened in the archive."""

    token: str
    run: Run
    profile: Profile
    ingestor: Ingestor
    seen: set[str] = field(default_factory=set)
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)  # by worker: its last stats
    done: dict[str, dict[str, Any]] = field(default_factory=dict)  # by worker: what it said on leaving
    opened_by: str = ""


class ClusterIngester:
    def __init__(self, db: str | Path, redis_url: str, *, batch_size: int = 200, interval: float = 2.0,
                 revisit_days: int = 14, retry_for: float = 300.0, cache_mb: int = 256) -> None:  # fmt: skip
        import os
        import socket

        self.db = Path(db)
        self.cluster = Cluster(connect(redis_url), f"writer-{socket.gethostname()}-{os.getpid()}", redis_url)
        self.redis = self.cluster.redis
        self.writer = Writer(db, batch_size=batch_size, interval=interval, retry_for=retry_for, cache_mb=cache_mb)
        self.archive = self.writer.archive
        self.revisit_days = revisit_days
        self.applied = self.archive.stream_cursor(STREAM)
        self.committed = self.applied
        self.writer.before_commit.append(self._save_cursor)
        self.writer.on_outcome.append(self._outcome)
        self.runs: dict[str, OpenRun] = {}
        self.updates: list[tuple[str, str, str, str]] = []  # (op, key, field, value) for Redis after commits
        self.stop_reason: str | None = None
        self._pending_cursor: str | None = None  # the cursor the last batch committed
        self.messages = 0
        self.skipped = 0

    # -- the archive's state, for the workers --------------------------------------------------------
    def publish(self, portals: list[str] | None = None) -> None:
        """What the archive holds, for every portal in it (or ``portals``), then the ready flag."""
        since = (datetime.now(UTC) - timedelta(days=self.revisit_days)).isoformat()
        slugs = portals if portals is not None else [r["slug"] for r in self.archive.query("SELECT slug FROM portals")]
        for slug in slugs:
            known = sorted(self.archive.known_urls(slug))
            pipe = self.redis.pipeline(transaction=True)
            pipe.delete(state_key("known", slug), state_key("revisit", slug))
            for i in range(0, len(known), 5000):
                pipe.sadd(state_key("known", slug), *known[i:i + 5000])
            revisit = self.archive.recent_urls(slug, since)
            for i in range(0, len(revisit), 5000):
                pipe.rpush(state_key("revisit", slug), *revisit[i:i + 5000])
            if self.archive.had_complete_walk(slug):
                pipe.set(state_key("walked", slug), "1")
            last = self.archive.last_complete_run(slug)
            if last is not None:
                pipe.set(state_key("last_complete", slug), json.dumps(last))
            pipe.execute()
        if portals is None:
            docs = sorted(self.archive.attachment_urls())
            pipe = self.redis.pipeline(transaction=True)
            pipe.delete(state_key("documents"))
            for i in range(0, len(docs), 5000):
                pipe.sadd(state_key("documents"), *docs[i:i + 5000])
            rows = self.archive.payload_index()
            for i in range(0, len(rows), 5000):
                pipe.hset(state_key("payload"), mapping={
                    url: json.dumps({"digest": d, "record_id": rid, "target_uri": t, "fetched_at": at})
                    for url, d, rid, t, at in rows[i:i + 5000]})  # fmt: skip
            pipe.set(READY, json.dumps({"archive": self.db.name, "at": time.time()}))
            pipe.execute()

    def _outcome(self, run: Run, item: Any, outcome: str) -> None:
        """After a commit: what workers should now know."""
        if isinstance(item, Ingested) and outcome in ("new", "updated", "unchanged", "duplicate"):
            if item.article.canonical_url:
                self.updates.append(("sadd", state_key("known", run.portal), item.article.canonical_url, ""))
        elif isinstance(item, RecordedCapture) and item.record_type == "response" and item.payload_digest \
                and item.canonical_url:  # fmt: skip
            value = json.dumps({"digest": item.payload_digest, "record_id": item.record_id,
                                "target_uri": item.target_uri, "fetched_at": item.fetched_at})  # fmt: skip
            self.updates.append(("hset", state_key("payload"), item.canonical_url, value))
        elif isinstance(item, AttachmentFile) and item.row.get("url"):
            self.updates.append(("sadd", state_key("documents"), str(item.row["url"]), ""))

    def _send_updates(self) -> None:
        if not self.updates:
            return
        pipe = self.redis.pipeline(transaction=False)
        for op, key, fld, value in self.updates:
            if op == "sadd":
                pipe.sadd(key, fld)
            else:
                pipe.hset(key, fld, value)
        pipe.execute()
        self.updates = []

    def _save_cursor(self) -> None:
        self.archive.save_stream_cursor(STREAM, self.applied)
        self._pending_cursor = self.applied

    # -- messages ------------------------------------------------------------------------------------
    def commit(self) -> None:
        """Write what is pending (with the cursor), then trim the stream to what is committed."""
        self._pending_cursor = None
        if self.writer.pending:
            self.writer.flush(block=True)
            if self._pending_cursor is not None and not self.writer.pending:
                self.committed = self._pending_cursor
        elif self.applied != self.committed:
            # Only messages that change no row (progress): the cursor alone.
            conn = self.archive.conn
            conn.execute("BEGIN IMMEDIATE")
            self.archive.save_stream_cursor(STREAM, self.applied)
            conn.execute("COMMIT")
            self.committed = self.applied
        self._send_updates()
        if self.committed != "0-0":
            self.redis.xtrim(STREAM, minid=self.committed, approximate=False)

    def read(self, block_ms: int = 500, count: int = 500) -> int:
        """Apply the messages after the last one applied; return how many."""
        got = self.redis.xread({STREAM: self.applied}, count=count, block=block_ms if block_ms > 0 else None)
        n = 0
        for _stream, entries in got or []:
            for msg_id, fields in entries:
                msg = {k.decode(): v.decode("utf-8") for k, v in fields.items()}
                self.applied = msg_id.decode()
                self.apply(msg)
                n += 1
        self.messages += n
        return n

    def apply(self, msg: dict[str, str]) -> None:
        kind, token, worker = msg.get("k"), msg.get("r", ""), msg.get("w", "")
        if kind == "open":
            self.open(token, worker, json.loads(msg.get("d") or "{}"), msg.get("p"))
            return
        run = self.runs.get(token) or self.restore(token)
        if run is None:
            self.skipped += 1
            log.warning("a message of an unknown cluster run %s (%s) skipped", token, kind)
            return
        if kind == "item":
            item = decode(msg["d"])
            if isinstance(item, Ingested):
                key = Ingestor._key(item.article, _stub(item))
                if key in run.seen:
                    return  # fetched twice (its worker died after sending it): stored once
                run.seen.add(key)
                item = Ingested(item.article, item.record_id, item.extractor,
                                run.ingestor.reason(item.article, _stub(item)), item.source, item.digest)  # fmt: skip
            self.writer.add(run.run, item)
        elif kind in ("progress", "done"):
            data = json.loads(msg.get("d") or "{}")
            stats = data.get("stats") or {}
            run.stats[worker] = stats
            if kind == "done":
                run.done[worker] = data
            get = lambda k: int(stats.get(k) or 0)  # noqa: E731
            self.writer.add(run.run, WorkerStatus(
                run.run.id, worker, "done" if kind == "done" else "active",
                get("archiver/pages/listing") + get("archiver/pages/article") + get("archiver/pages/attachment"),
                get("archiver/validate/ok"), get("archiver/fetch/errors"),
                data.get("reason") if kind == "done" else None, stats))  # fmt: skip

    def open(self, token: str, worker: str, meta: dict[str, Any], slug: str | None) -> None:
        if token in self.runs or self.restore(token) is not None:
            return
        if not slug:
            log.warning("an 'open' message without a portal skipped")
            return
        profile = get_portal(slug)
        self.writer._blocking(lambda: self.archive.upsert_portal(profile))
        run_id = self.writer._blocking(lambda: self.archive.start_run(
            slug, meta.get("base_url"), meta.get("mode") or "full", token=token))  # fmt: skip
        run = Run(int(run_id), slug, getattr(profile, "province", None))
        self.writer.runs[run.id] = run
        self.runs[token] = self._open_run(token, run, profile, worker)
        log.info("%s: run %d opened (cluster run %s, by %s)", slug, run.id, token, worker)

    def _open_run(self, token: str, run: Run, profile: Profile, opened_by: str) -> OpenRun:
        site = Site.of(profile, None)
        ingestor = Ingestor(site, history=archive_history(self.archive, self.db.parent, profile.slug))
        return OpenRun(token, run, profile, ingestor, opened_by=opened_by)

    def restore(self, token: str) -> OpenRun | None:
        """A run opened by an earlier writer process (restarted): its committed counts and its
        workers' last stats from the archive."""
        row = self.archive.cluster_run(token)
        if row is None:
            return None
        profile = get_portal(row["portal"])
        counts = RunCounts(**{f: int(row.get(f) or 0) for f in COUNT_FIELDS})
        run = Run(int(row["id"]), row["portal"], getattr(profile, "province", None), counts=counts,
                  finished=row["status"] != "running")  # fmt: skip
        self.writer.runs[run.id] = run
        opened = self._open_run(token, run, profile, "")
        for w in self.archive.run_workers([run.id]):
            opened.stats[w["worker"]] = json.loads(w["stats"] or "{}")
            if w["status"] == "done":
                opened.done[w["worker"]] = {"reason": w["reason"], "stats": opened.stats[w["worker"]]}
        opened.seen = {u for u in self.archive.run_urls(run.id)}
        self.runs[token] = opened
        return opened

    # -- runs ----------------------------------------------------------------------------------------
    def reap(self) -> None:
        """Requests in flight of dead workers back to their queues; runs that are over closed."""
        for token in self.cluster.open_runs():
            given = self.cluster.requeue_dead(token)
            if given:
                log.warning("cluster run %s: %d request(s) of a dead worker given back to the queue", token, given)
            if token not in self.runs:
                self.restore(token)  # opened before this writer started: it closes it all the same
        for token, run in list(self.runs.items()):
            if run.run.finished:
                self.runs.pop(token)
                continue
            if self.cluster.close_if_done(token, run.run.portal):
                while self.read(block_ms=0):
                    pass  # what its workers sent before they left
                self.finish(run)

    def finish(self, run: OpenRun) -> None:
        merged: dict[str, Any] = {}
        for stats in run.stats.values():
            for k, v in stats.items():
                if isinstance(v, int | float) and not isinstance(v, bool):
                    merged[k] = merged.get(k, 0) + v
                elif k not in merged:
                    merged[k] = v
        reasons = [d.get("reason") or "finished" for d in run.done.values()]
        reason = next((r for r in reasons if r != "finished"), "finished")
        lost = sorted(set(run.stats) - set(run.done))
        members = {w.decode() for w in self.redis.smembers(f"archiver:run:{run.token}:workers")}
        lost = sorted(set(lost) | (members - set(run.done)))
        notes = [f"worker(s) {', '.join(lost)} died; what they had in flight was fetched again"] if lost else []
        if not run.done and not run.stats:
            reason = "shutdown"
        opener = run.done.get(run.opened_by) or next(iter(run.done.values()), {})
        states = [d for d in run.done.values() if d.get("state") in ("moved", "gone")]
        state = states[0] if states else opener
        for w in lost:
            self.writer.add(run.run, WorkerStatus(run.run.id, w, "lost", 0, 0, 0, "its lease ran out"))
        self._pending_cursor = None
        verdict = close_run(self.writer, run.run, run.profile, merged, reason, state=state.get("state") or "live",
                            detail=state.get("detail"), failure=opener.get("failure"),
                            discovery=opener.get("discovery"), notes=notes, warn=log.warning)  # fmt: skip
        if self._pending_cursor is not None:
            self.committed = self._pending_cursor
        self.cluster.forget(run.token)
        self.publish([run.run.portal])
        self.runs.pop(run.token, None)
        log.warning("%s: run %d %s%s", run.run.portal, run.run.id, verdict.status,
                    f" ({verdict.reason})" if verdict.reason else "")  # fmt: skip

    def workers_alive(self) -> list[str]:
        names = sorted(w.decode() for w in self.redis.smembers(WORKERS))
        alive = [w for w in names if self.redis.exists(lease_key(w))]
        gone = set(names) - set(alive)
        if gone:
            self.redis.srem(WORKERS, *gone)
        return alive

    # -- the loop ------------------------------------------------------------------------------------
    def run(self, exit_when_idle: float | None = None) -> int:
        """Apply messages until stopped (SIGTERM, SIGINT) or, with ``exit_when_idle``, until the
        stream has been empty, no run open and no worker alive for that many seconds."""

        def stop(signum: int, _frame: Any) -> None:
            self.stop_reason = f"stopped by {signal.Signals(signum).name}"

        old = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
        self.publish()
        import redis

        idle_since: float | None = None
        last_reap = 0.0
        failing_since: float | None = None
        try:
            while self.stop_reason is None and not self.writer.failed:
                try:
                    n = self.read()
                    self.commit()
                    now = time.monotonic()
                    if now - last_reap >= 0.5:
                        last_reap = now
                        self.reap()
                        self.commit()
                    failing_since = None
                except redis.RedisError as exc:
                    # Redis restarting: what was read and not committed is read again after it.
                    failing_since = failing_since or time.monotonic()
                    if time.monotonic() - failing_since > self.writer.retry_for:
                        raise ClusterError(f"--redis {redacted(self.cluster.url)}: no answer for "
                                           f"{self.writer.retry_for:.0f} s ({exc})") from None  # fmt: skip
                    log.warning("Redis did not answer (%s); retrying", exc)
                    self.writer.flush(block=True)
                    self.committed = self.archive.stream_cursor(STREAM)
                    self.applied = self.committed
                    self.runs.clear()
                    time.sleep(1.0)
                    continue
                if exit_when_idle is None:
                    continue
                busy = n or self.runs or self.cluster.open_runs() or self.workers_alive()
                if busy:
                    idle_since = None
                elif idle_since is None:
                    idle_since = now
                elif now - idle_since >= exit_when_idle:
                    break
        finally:
            for s, handler in old.items():
                signal.signal(s, handler)
            try:
                self.commit()
            finally:
                self.writer.close()
        if self.writer.failed:
            log.error("storing failed: %s", self.writer.failed)
            return 1
        return 0


def _stub(item: Ingested) -> Capture:
    """The little of a capture that deciding a revision's reason needs."""
    art = item.article
    return Capture(url=art.fetched_url or art.url, final_url=art.fetched_url or art.url, status=200, headers=(),
                   body=b"", fetched_at=art.fetched_at or "", source=item.source, record_id=item.record_id,
                   payload_digest=item.digest)  # fmt: skip
