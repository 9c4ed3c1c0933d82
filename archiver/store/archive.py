"""Keep it: the only code that knows SQL.

``Archive(path)`` opens (or creates) the SQLite archive in WAL mode and brings its schema up to
date. ``save_article`` decides whether an article is new, a new revision, or unchanged, and
records its view count as an observation; nothing stored is ever overwritten without its
earlier version being kept in ``article_revisions``. Writes are batched: the caller commits
(``commit()``) every N items, not once per item.

Identifiers (documented in the README):

* article id = first 16 hex digits of SHA-256 of ``"<portal>\\n<canonical url>"``;
* content hash = SHA-256 of ``"<title>\\n<body_text>"`` (NFC): it changes only when the
  article's text changes, never with its view count.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlite_utils

from archiver.exceptions import ArchiveError
from archiver.items import Article
from archiver.profiles import Profile
from archiver.runs import RunCounts
from archiver.store.schema import migrate, pending, register_functions, sync_search


def article_id(portal: str, canonical_url: str) -> str:
    """Stable id of an article: hash of portal slug and canonical URL."""
    return hashlib.sha256(f"{portal}\n{canonical_url}".encode()).hexdigest()[:16]


def content_hash(title: str | None, body_text: str | None) -> str:
    text = unicodedata.normalize("NFC", f"{title or ''}\n{body_text or ''}")
    return hashlib.sha256(text.encode()).hexdigest()


def _writable(path: Path) -> bool:
    """Whether SQLite could write the archive and the journal files beside it."""
    return os.access(path, os.W_OK) and os.access(path.parent if str(path.parent) else Path("."), os.W_OK)


def _readonly_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "readonly" in text or "read-only" in text or "unable to open" in text


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


_FIND = """SELECT * FROM (
    SELECT 1 AS how, * FROM articles WHERE id = ?
    UNION ALL SELECT 2, a.* FROM article_urls u JOIN articles a ON a.id = u.article_id WHERE u.url = ?
    UNION ALL SELECT 3, * FROM (SELECT * FROM articles WHERE portal = ? AND content_hash = ? LIMIT 1)
) ORDER BY how LIMIT 1"""

WAL_CHECKPOINT_PAGES = 50_000  # ~200 MB of 4 KB pages

ARTICLE_FIELDS = ("title", "category", "published", "published_raw", "author", "source", "lead",
                  "body_text", "body_html")  # fmt: skip


class Archive:
    """The SQLite archive. Use as a context manager or call ``close()``.

    ``readonly=True`` (every read command) never writes: an archive whose file or directory
    cannot be written (a copy on a read-only medium) is opened with ``mode=ro``, or ``immutable=1``
    when even SQLite's shared-memory file cannot be created beside it; it is never migrated and
    its journal mode is left alone. A writable archive is brought up to date first."""

    def __init__(self, path: str | Path, *, create: bool = True, cache_mb: int = 256, readonly: bool = False,
                 busy_timeout: float = 30.0) -> None:  # fmt: skip
        self.path = Path(path)
        self.readonly = False
        if self.path.is_dir():
            raise ArchiveError(f"{self.path}: is a directory, not an archive file (check --db)")
        if (not create or readonly) and not self.path.exists():
            raise ArchiveError(f"{self.path}: no archive here (run a crawl first, or check --db)")
        if readonly and not _writable(self.path):
            self.conn = self._open_readonly()
            self.db = sqlite_utils.Database(self.conn)
            return
        try:
            if self.path.parent and not self.path.parent.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ArchiveError(f"{self.path}: cannot create its directory ({exc.strerror or exc})") from None
        try:
            conn = sqlite3.connect(str(self.path), timeout=busy_timeout)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            # The indexes on ids, URLs and hashes are written in random order: keep them in memory.
            conn.execute(f"PRAGMA cache_size=-{cache_mb * 1024}")
            # Checkpoint the WAL every WAL_CHECKPOINT_PAGES pages instead of SQLite's 1000 (4 MB): an
            # index page that several batches dirty is copied into the database file once, not
            # once per batch; the WAL is cut back to 64 MB after each checkpoint.
            conn.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
            conn.execute(f"PRAGMA journal_size_limit={64 * 2**20}")
            conn.execute("PRAGMA foreign_keys=ON")
            self.db = sqlite_utils.Database(conn)
            migrate(self.db)
            if not readonly:
                # Changes other tools made (sqlite-utils, Datasette, the sqlite3 shell) reach the search index.
                sync_search(conn)
        except sqlite3.DatabaseError as exc:
            if readonly and _readonly_error(exc):
                self.conn = self._open_readonly()
                self.db = sqlite_utils.Database(self.conn)
                return
            raise ArchiveError(f"{self.path}: not a usable archive database ({exc})") from None
        self.conn = conn
        if readonly:
            conn.execute("PRAGMA query_only=1")

    def _open_readonly(self) -> sqlite3.Connection:
        """Open without writing anything: ``mode=ro``, else ``immutable=1`` (no -shm possible)."""
        self.readonly = True
        uri = "file:" + quote(str(self.path.resolve()))
        last: Exception | None = None
        for flags in ("?mode=ro", "?mode=ro&immutable=1"):
            try:
                conn = sqlite3.connect(uri + flags, uri=True, timeout=5)
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                todo = pending(conn)
                if todo:
                    conn.close()
                    raise ArchiveError(f"{self.path}: an archive of an older schema on a read-only medium (missing "
                                       f"{', '.join(todo)}): copy it to writable storage to upgrade it")  # fmt: skip
                register_functions(conn)
                return conn
            except sqlite3.DatabaseError as exc:
                last = exc
        raise ArchiveError(f"{self.path}: not a usable archive database ({last})") from None

    # -- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        if getattr(self, "_closed", False):
            return
        self._closed = True
        try:
            if not self.readonly:
                if self.conn.in_transaction:
                    self.sync_search()
                self.conn.commit()
        finally:
            self.conn.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def commit(self) -> None:
        self.sync_search()
        self.conn.commit()

    def sync_search(self) -> int:
        """Bring the full-text indexes up to date with what was written (``search_queue``), in the
        current transaction: every commit of the archiver does, so its searches are never behind."""
        return sync_search(self.conn)

    def search_behind(self) -> int:
        """Changes made by other tools and not yet in the full-text indexes (a read-only archive
        cannot apply them; the next crawl or any writing command does)."""
        try:
            return int(self.conn.execute("SELECT count(*) FROM search_queue").fetchone()[0])
        except sqlite3.OperationalError:
            return 0

    # -- portals and runs ------------------------------------------------------------------
    def upsert_portal(self, profile: Profile) -> None:
        self.conn.execute(
            """INSERT INTO portals (slug, name, province, new_unit, family, base_url, unit, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT(slug) DO UPDATE SET name=excluded.name, province=excluded.province,
                 new_unit=excluded.new_unit, family=excluded.family, base_url=excluded.base_url,
                 unit=excluded.unit, updated_at=excluded.updated_at""",
            (profile.slug, profile.name, profile.province, profile.new_unit, profile.family,
             profile.base_url, profile.get("unit"), utcnow()),
        )  # fmt: skip
        self.commit()

    def start_run(self, portal: str, base_url: str | None = None, mode: str = "full", token: str | None = None) -> int:
        """A ``running`` row for the portal's new run (committed at once). ``token``: the run is a
        cluster run (a crawl over Redis), its token kept with it in the same transaction."""
        # A run still marked running was killed (the caller holds the archive's lock).
        self.conn.execute(
            "UPDATE crawl_runs SET status='killed', reason='the crawl process ended without closing the run' "
            "WHERE portal=? AND status='running'",
            (portal,),
        )
        cur = self.conn.execute(
            "INSERT INTO crawl_runs (portal, started_at, base_url, status, mode) VALUES (?, ?, ?, 'running', ?)",
            (portal, utcnow(), base_url, mode),
        )
        run_id = int(cur.lastrowid or 0)
        if token is not None:
            self.conn.execute("INSERT INTO cluster_runs (token, run_id) VALUES (?, ?)", (token, run_id))
        self.commit()
        return run_id

    def finish_run(self, run_id: int, counts: RunCounts, status: str, reason: str | None = None,
                   complete: bool = False, extracted: int = 0, fill: dict[str, int] | None = None) -> None:  # fmt: skip
        self.conn.execute(
            """UPDATE crawl_runs SET ended_at=?, pages=?, new=?, updated=?, unchanged=?, duplicates=?,
               not_articles=?, errors=?, gone=?, stored=?, store_errors=?, status=?, reason=?, complete=?,
               extracted=?, fill=? WHERE id=?""",
            (utcnow(), counts.pages, counts.new, counts.updated, counts.unchanged, counts.duplicates,
             counts.not_articles, counts.errors, counts.gone, counts.stored, counts.store_errors, status, reason,
             int(complete), extracted, json.dumps(fill or {}, sort_keys=True), run_id),
        )  # fmt: skip
        self.commit()

    # -- the cluster's writer ------------------------------------------------------------------
    def cluster_run(self, token: str) -> dict[str, Any] | None:
        """The archive's run of a cluster run (its ``crawl_runs`` row), if opened already."""
        row = self.conn.execute("SELECT r.* FROM cluster_runs c JOIN crawl_runs r ON r.id = c.run_id "
                                "WHERE c.token = ?", (token,)).fetchone()  # fmt: skip
        if row is None:
            return None
        cols = [d[0] for d in self.conn.execute("SELECT * FROM crawl_runs LIMIT 0").description]
        return dict(zip(cols, row, strict=True))

    def stream_cursor(self, stream: str) -> str:
        """The id of the last stream message whose rows are committed ("0-0": none)."""
        row = self.conn.execute("SELECT last_id FROM cluster_cursor WHERE stream = ?", (stream,)).fetchone()
        return str(row[0]) if row else "0-0"

    def save_stream_cursor(self, stream: str, last_id: str) -> None:
        """Inside the caller's transaction: the rows and the cursor commit together."""
        self.conn.execute("INSERT INTO cluster_cursor (stream, last_id, updated_at) VALUES (?, ?, ?) "
                          "ON CONFLICT(stream) DO UPDATE SET last_id=excluded.last_id, updated_at=excluded.updated_at",
                          (stream, last_id, utcnow()))  # fmt: skip

    def worker_status(self, run_id: int, worker: str, status: str, pages: int, articles: int, errors: int,
                      reason: str | None = None, stats: dict[str, Any] | None = None) -> None:  # fmt: skip
        """A worker's progress in a run (inside the caller's transaction): its counts and its crawl
        stats (what the writer judges the run by, kept across a restart of the writer)."""
        now = utcnow()
        self.conn.execute(
            """INSERT INTO run_workers (run_id, worker, status, pages, articles, errors, reason, stats, first_seen,
               last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(run_id, worker) DO UPDATE SET
               status=CASE WHEN run_workers.status = 'done' THEN 'done' ELSE excluded.status END,
               pages=max(run_workers.pages, excluded.pages), articles=max(run_workers.articles, excluded.articles),
               errors=max(run_workers.errors, excluded.errors), reason=coalesce(excluded.reason, run_workers.reason),
               stats=coalesce(excluded.stats, run_workers.stats), last_seen=excluded.last_seen""",
            (run_id, worker, status, pages, articles, errors, reason,
             json.dumps(stats, sort_keys=True) if stats is not None else None, now, now),
        )  # fmt: skip

    def run_workers(self, run_ids: list[int]) -> list[dict[str, Any]]:
        """The workers of cluster runs, by run."""
        if not run_ids:
            return []
        marks = ",".join("?" * len(run_ids))
        cur = self.conn.execute(f"SELECT * FROM run_workers WHERE run_id IN ({marks}) ORDER BY run_id, worker",
                                run_ids)  # fmt: skip
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur]

    def run_urls(self, run_id: int) -> set[str]:
        """Canonical URLs of the articles a run stored (its ``last_run_id``)."""
        return {r[0] for r in self.conn.execute("SELECT url FROM articles WHERE last_run_id = ?", (run_id,))}

    def payload_index(self) -> list[tuple[str, str, str, str, str]]:
        """(canonical URL, digest, record id, target URI, date) of each URL's last payload-holding
        response record: what workers need to write revisit records."""
        return [tuple(r) for r in self.conn.execute(  # type: ignore[misc]
            "SELECT canonical_url, payload_digest, record_id, target_uri, fetched_at FROM captures WHERE id IN "
            "(SELECT max(id) FROM captures WHERE canonical_url IS NOT NULL AND payload_digest IS NOT NULL "
            "AND record_type = 'response' GROUP BY canonical_url)")]

    def record_discovery(self, run_id: int, discovery: dict[str, Any]) -> None:
        self.conn.execute("UPDATE crawl_runs SET discovery = ? WHERE id = ?",
                          (json.dumps(discovery, ensure_ascii=False, sort_keys=True), run_id))  # fmt: skip
        self.commit()

    def record_status(self, portal: str, status: str, detail: str | None, run_id: int | None = None) -> None:
        """The portal seen live, moved or gone now: a new row when that differs from the last
        one, else the last one's ``last_seen`` moved on."""
        now = utcnow()
        last = self.conn.execute("SELECT id, status, detail FROM portal_status WHERE portal = ? ORDER BY id DESC "
                                 "LIMIT 1", (portal,)).fetchone()  # fmt: skip
        if last is not None and last[1] == status and (last[2] or None) == (detail or None):
            self.conn.execute("UPDATE portal_status SET last_seen = ?, run_id = ? WHERE id = ?", (now, run_id, last[0]))
        else:
            self.conn.execute("INSERT INTO portal_status (portal, status, detail, first_seen, last_seen, run_id) "
                              "VALUES (?, ?, ?, ?, ?, ?)", (portal, status, detail, now, now, run_id))  # fmt: skip
        self.commit()

    def portal_states(self) -> list[dict[str, Any]]:
        """Each portal's latest state (live, moved, gone) with when it was first and last seen."""
        return [dict(r) for r in self.query(
            "SELECT portal, status, detail, first_seen, last_seen FROM portal_status WHERE id IN "
            "(SELECT max(id) FROM portal_status GROUP BY portal) ORDER BY portal")]  # fmt: skip

    def progress(self, run_id: int, counts: RunCounts) -> None:
        """Write a run's committed counts so far (inside the caller's transaction): a killed run's
        row shows what it had committed."""
        self.conn.execute(
            """UPDATE crawl_runs SET pages=?, new=?, updated=?, unchanged=?, duplicates=?, errors=?, gone=?,
               stored=?, store_errors=? WHERE id=?""",
            (counts.pages, counts.new, counts.updated, counts.unchanged, counts.duplicates, counts.errors,
             counts.gone, counts.stored, counts.store_errors, run_id),
        )  # fmt: skip

    def record_errors(self, run_id: int, portal: str, errors: list[tuple[str, int | None, str, int]],
                      stage: str = "fetch") -> None:  # fmt: skip
        """One ``fetch_errors`` row per failed URL: (url, HTTP status or None, error, attempts).
        ``stage`` says where it failed: ``fetch`` (the download) or ``store`` (writing it)."""
        at = utcnow()
        self.conn.executemany(
            "INSERT INTO fetch_errors (run_id, portal, url, status, error, attempts, at, stage) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(run_id, portal, url, status, error, attempts, at, stage) for url, status, error, attempts in errors],
        )

    def last_complete_run(self, portal: str) -> dict[str, Any] | None:
        """The portal's last run that walked everything and ended ``ok``: what it extracted and
        how many articles had each field (to notice a redesign)."""
        row = self.conn.execute(
            "SELECT extracted, fill FROM crawl_runs WHERE portal=? AND complete=1 AND status='ok' AND extracted > 0 "
            "ORDER BY id DESC LIMIT 1",
            (portal,),
        ).fetchone()
        if row is None:
            return None
        try:
            fill = json.loads(row[1] or "{}")
        except ValueError:
            fill = {}
        return {"extracted": row[0], "fill": fill}

    def had_complete_walk(self, portal: str) -> bool:
        """Whether an earlier run of the portal walked all its listings to the end."""
        row = self.conn.execute("SELECT 1 FROM crawl_runs WHERE portal=? AND complete=1 LIMIT 1", (portal,)).fetchone()
        return row is not None

    def known_urls(self, portal: str) -> set[str]:
        """Every canonical URL the portal's articles were reached under."""
        return {
            r[0]
            for r in self.conn.execute(
                "SELECT u.url FROM articles a JOIN article_urls u ON u.article_seq = a.seq WHERE a.portal=?", (portal,)
            )
        }

    def recent_urls(self, portal: str, since: str) -> list[str]:
        """URLs of the portal's articles published (or, undated, first seen) on or after ``since``
        and not gone: the ones an incremental crawl revisits."""
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT url FROM articles WHERE portal=? AND gone_at IS NULL AND "
                "(substr(published, 1, 10) >= ? OR (published IS NULL AND first_seen >= ?)) ORDER BY published DESC",
                (portal, since[:10], since),
            )
        ]

    def mark_gone(self, portal: str, url: str, status: int, at: str | None = None) -> bool:
        """The portal answers 404/410 for an archived article: keep it, mark it gone."""
        cur = self.conn.execute(
            "UPDATE articles SET gone_at=coalesce(gone_at, ?), http_status=? WHERE portal=? AND "
            "id IN (SELECT article_id FROM article_urls WHERE url=?)",
            (at or utcnow(), status, portal, url),
        )
        return cur.rowcount > 0

    def recent_runs(self, limit: int = 20, portal: str | None = None) -> list[dict[str, Any]]:
        where = "WHERE portal = ?" if portal else ""
        params: tuple[Any, ...] = (portal, limit) if portal else (limit,)
        return list(self.db.query(f"SELECT * FROM crawl_runs {where} ORDER BY id DESC LIMIT ?", params))

    # -- articles --------------------------------------------------------------------------
    def _find(self, portal: str, aid: str, url: str, chash: str) -> sqlite3.Row | None:
        # By id; by a URL it was reached under before; or the same article under another URL
        # (listed under two categories, moved): same portal, same title and text. One query.
        self.conn.row_factory = sqlite3.Row
        try:
            return self.conn.execute(_FIND, (aid, url, portal, chash)).fetchone()
        finally:
            self.conn.row_factory = None

    def save_article(self, art: Article, *, run_id: int | None = None, seen_at: str | None = None,
                     capture_id: int | None = None, extractor: str | None = None, reason: str = "source",
                     archived: bool = False) -> str:  # fmt: skip
        """Store ``art``; return ``"new"``, ``"updated"`` (new revision), ``"unchanged"`` or
        ``"duplicate"`` (already stored in this run under another URL). ``capture_id`` is the
        capture it was extracted from, ``extractor`` the extractor version, ``reason`` why a
        changed text is a new revision (``source``, ``reextract``, ``unknown``)."""
        if not art.portal or not art.canonical_url:
            raise ValueError("article without portal or canonical_url")
        seen_at = seen_at or utcnow()
        url = art.canonical_url
        aid = article_id(art.portal, url)
        chash = content_hash(art.title, art.body_text)
        values = {f: getattr(art, f) for f in ARTICLE_FIELDS}
        values["published"] = art.published_iso
        row = self._find(art.portal, aid, url, chash)
        if row is None:
            # The next integer key: its rows in the other tables go to the end of their indexes.
            seq = self._next_seq()
            self.conn.execute(
                f"""INSERT INTO articles (id, portal, url, {", ".join(ARTICLE_FIELDS)}, views, views_raw,
                    content_hash, revision, first_seen, last_seen, last_run_id, fetched_url, capture_id, seq)
                    VALUES (?, ?, ?, {", ".join("?" * len(ARTICLE_FIELDS))}, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)""",
                (aid, art.portal, url, *values.values(), art.views, art.views_raw, chash, seen_at, seen_at,
                 run_id, art.fetched_url, capture_id, seq),
            )  # fmt: skip
            key = (aid, seq)
            self._revision(key, 1, chash, url, values, seen_at, run_id, capture_id, extractor, "first")
            self._alias(url, key, seen_at, values)
            self._views(key, art, seen_at, run_id, new=True, capture_id=capture_id)
            self._link_capture(capture_id, aid)
            return "new"
        aid = row["id"]
        key = self._key(row)
        self._alias(url, key, seen_at, values)
        self._link_capture(capture_id, aid)
        if archived and seen_at < row["last_seen"]:
            return self._older(key, row, art, chash, url, values, seen_at, run_id, capture_id, extractor)
        if run_id is not None and row["last_run_id"] == run_id and not archived:
            return "duplicate"
        status = "unchanged"
        if row["content_hash"] != chash:
            revision = int(row["revision"]) + 1
            self._revision(key, revision, chash, url, values, seen_at, run_id, capture_id, extractor, reason)
            self.conn.execute(
                f"""UPDATE articles SET {", ".join(f"{f}=?" for f in ARTICLE_FIELDS)}, content_hash=?,
                    revision=? WHERE id=?""",
                (*values.values(), chash, revision, aid),
            )
            status = "updated"
        else:
            # Fill what an earlier page did not show, never replace what it did.
            for f in ("category", "published", "published_raw", "author", "source"):
                if row[f] is None and values[f] is not None:
                    self.conn.execute(f"UPDATE articles SET {f}=? WHERE id=?", (values[f], aid))
        self.conn.execute(
            "UPDATE articles SET last_seen=?, last_run_id=?, fetched_url=?, gone_at=NULL, http_status=200, "
            "capture_id=coalesce(?, capture_id) WHERE id=?",
            (seen_at, run_id, art.fetched_url, capture_id, aid),
        )
        self._views(key, art, seen_at, run_id, capture_id=capture_id)
        return status

    def _older(self, key: tuple[str, int], row: sqlite3.Row, art: Article, chash: str, url: str, values: dict[str, Any],
               seen_at: str, run_id: int | None, capture_id: int | None, extractor: str | None) -> str:  # fmt: skip
        """An archived capture older than what is stored (the Wayback Machine after a live crawl):
        its view count is an observation at its time; its text, if no revision has it yet, is a
        revision of that time (reason ``archived``) that does not replace the current version."""
        aid = key[0]
        self.conn.execute("UPDATE articles SET first_seen = min(first_seen, ?) WHERE id = ?", (seen_at, aid))
        self._views(key, art, seen_at, run_id, new=True, capture_id=capture_id)  # not the current count
        known = self.conn.execute("SELECT 1 FROM article_revisions WHERE article_seq = ? AND content_hash = ?",
                                  (key[1], chash)).fetchone()  # fmt: skip
        if known is not None:
            return "unchanged"
        revision = int(row["revision"]) + 1
        self._revision(key, revision, chash, url, values, seen_at, run_id, capture_id, extractor, "archived")
        self.conn.execute("UPDATE articles SET revision = ? WHERE id = ?", (revision, aid))
        return "updated"

    def save_cursor(self, c: Any) -> None:
        self.conn.execute(
            """INSERT INTO wayback_cursors (portal, query, resume_key, last_timestamp, complete, updated_at)
               VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(portal, query) DO UPDATE SET resume_key = excluded.resume_key,
               last_timestamp = excluded.last_timestamp, complete = excluded.complete,
               updated_at = excluded.updated_at""",
            (c.portal, c.query, c.resume_key, c.last_timestamp, int(c.complete), utcnow()),
        )  # fmt: skip

    def wayback_cursors(self, portal: str) -> dict[str, dict[str, Any]]:
        return {r["query"]: r for r in self.query("SELECT * FROM wayback_cursors WHERE portal = ?", (portal,))}

    def wayback_seen(self, portal: str) -> set[tuple[str, str]]:
        """(canonical URL, capture time) of the Wayback captures whose article is stored."""
        return {(r[0], r[1]) for r in self.conn.execute(
            "SELECT canonical_url, fetched_at FROM captures WHERE portal = ? AND source = 'wayback' "
            "AND article_id IS NOT NULL", (portal,))}  # fmt: skip

    def reextract(self, aid: str, art: Article, *, capture_id: int | None, extractor: str,
                  seen_at: str | None = None) -> str:  # fmt: skip
        """What the current extractor made of the article's stored capture: a new revision
        (reason ``reextract``) when any field differs from the stored version; ``changed`` or
        ``unchanged``. No view observation, no ``last_seen``: nothing was fetched."""
        self.conn.row_factory = sqlite3.Row
        try:
            row = self.conn.execute("SELECT * FROM articles WHERE id=?", (aid,)).fetchone()
        finally:
            self.conn.row_factory = None
        if row is None:
            raise ValueError(f"no article {aid}")
        values = {f: getattr(art, f) for f in ARTICLE_FIELDS}
        values["published"] = art.published_iso
        if all(values[f] == row[f] for f in ARTICLE_FIELDS):
            return "unchanged"
        chash = content_hash(art.title, art.body_text)
        revision = int(row["revision"]) + 1
        key = self._key(row)
        self._revision(key, revision, chash, row["url"], values, seen_at or utcnow(), None, capture_id,
                       extractor, "reextract")  # fmt: skip
        self.conn.execute(
            f"UPDATE articles SET {', '.join(f'{f}=?' for f in ARTICLE_FIELDS)}, content_hash=?, revision=? WHERE id=?",
            (*values.values(), chash, revision, aid),
        )
        return "changed"

    # -- attachments -------------------------------------------------------------------------
    def save_attachment(self, row: dict[str, Any], *, seen_at: str | None = None,
                        capture_id: int | None = None) -> str:  # fmt: skip
        """Store a fetched file (``archiver.attachments.describe``): ``"new"`` (first version),
        ``"updated"`` (the file at that URL changed: a new version, the old one kept) or
        ``"unchanged"`` (same bytes again: ``last_seen`` moves on)."""
        seen_at = seen_at or utcnow()
        last = self.conn.execute("SELECT id, version, sha256 FROM attachments WHERE url = ? ORDER BY version DESC "
                                 "LIMIT 1", (row["url"],)).fetchone()  # fmt: skip
        if last is not None and last[2] == row["sha256"]:
            self.conn.execute("UPDATE attachments SET last_seen = ? WHERE id = ?", (seen_at, last[0]))
            return "unchanged"
        values = dict(row, version=(last[1] + 1) if last else 1, capture_id=capture_id, first_seen=seen_at,
                      last_seen=seen_at)  # fmt: skip
        cols = list(values)
        self.conn.execute(f"INSERT INTO attachments ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                          [values[c] for c in cols])  # fmt: skip
        return "updated" if last else "new"

    def attachment_urls(self) -> set[str]:
        """The URL of every document the archive holds a version of."""
        return {r[0] for r in self.conn.execute("SELECT DISTINCT url FROM attachments")}

    def article_of_url(self, url: str) -> str | None:
        """The id of the article reached under the canonical ``url``, if stored."""
        found = self.conn.execute("SELECT article_id FROM article_urls WHERE url = ?", (url,)).fetchone()
        return str(found[0]) if found else None

    def link_attachment(self, article: str, url: str, link_text: str | None, seen_at: str | None = None) -> None:
        """The article (its id) links to the file at ``url`` (kept once, with the first link text)."""
        self.conn.execute("INSERT OR IGNORE INTO article_attachments (article_id, url, link_text, first_seen) "
                          "VALUES (?, ?, ?, ?)", (article, url, link_text, seen_at or utcnow()))  # fmt: skip

    def attachments_of(self, article: str) -> list[dict[str, Any]]:
        """Every file the article links to, with its latest version (``version`` None: not fetched,
        an off-portal link or a failed fetch)."""
        from archiver.store.queries import article_attachments

        return article_attachments(self.conn, article)

    # -- captures ----------------------------------------------------------------------------
    def add_capture(self, row: dict[str, Any]) -> int:
        cols = list(row)
        cur = self.conn.execute(
            f"INSERT OR IGNORE INTO captures ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [row[c] for c in cols],
        )
        return int(cur.lastrowid or 0)

    def capture_id(self, record_id: str | None) -> int | None:
        if not record_id:
            return None
        found = self.conn.execute("SELECT id FROM captures WHERE record_id=?", (record_id,)).fetchone()
        return int(found[0]) if found else None

    def _link_capture(self, capture_id: int | None, aid: str) -> None:
        if capture_id is not None:
            self.conn.execute("UPDATE captures SET article_id=? WHERE id=?", (aid, capture_id))

    def last_payload(self, canonical: str) -> dict[str, Any] | None:
        """The URL's last capture that holds (or refers to) a payload: digest, record id, target
        URI and date of the record holding it (a revisit refers to it)."""
        row = self.conn.execute(
            "SELECT payload_digest, record_id, target_uri, fetched_at, record_type, refers_to FROM captures "
            "WHERE canonical_url=? AND payload_digest IS NOT NULL ORDER BY id DESC LIMIT 1",
            (canonical,),
        ).fetchone()
        if row is None:
            return None
        digest, record_id, target, fetched, rtype, refers = row
        if rtype == "revisit" and refers:
            original = self.conn.execute(
                "SELECT record_id, target_uri, fetched_at FROM captures WHERE record_id=?", (refers,)
            ).fetchone()
            if original is None:
                return None
            record_id, target, fetched = original
        return {"digest": digest, "record_id": record_id, "target_uri": target, "fetched_at": fetched}

    def payload_location(self, capture_id: int) -> tuple[str | None, int | None, str | None]:
        """(warc file, offset, payload digest) of the record holding a capture's payload."""
        row = self.conn.execute(
            "SELECT warc_file, warc_offset, payload_digest, record_type, refers_to FROM captures WHERE id=?",
            (capture_id,),
        ).fetchone()
        if row is None:
            return None, None, None
        warc_file, offset, digest, rtype, refers = row
        if rtype == "revisit" and refers:
            original = self.conn.execute(
                "SELECT warc_file, warc_offset FROM captures WHERE record_id=?", (refers,)
            ).fetchone()
            if original is None:
                return None, None, digest
            warc_file, offset = original
        return warc_file, offset, digest

    def latest_revision(self, portal: str, canonical: str) -> dict[str, Any] | None:
        """The stored latest revision of the article reached under ``canonical``: its content
        hash, extractor and capture."""
        row = self.conn.execute(
            "SELECT a.id, a.content_hash, r.extractor, r.capture_id FROM article_urls u "
            "JOIN articles a ON a.id = u.article_id "
            "JOIN article_revisions r ON r.article_seq = a.seq AND r.revision = a.revision "
            "WHERE u.url=? AND a.portal=?",
            (canonical, portal),
        ).fetchone()
        if row is None:
            return None
        return {"id": row[0], "content_hash": row[1], "extractor": row[2], "capture_id": row[3]}

    def warc_file_event(self, path: str, portal: str, run_id: int | None, *, closed: bool) -> None:
        if closed:
            self.conn.execute("UPDATE warc_files SET closed_at=? WHERE path=?", (utcnow(), path))
        else:
            self.conn.execute(
                "INSERT OR IGNORE INTO warc_files (path, portal, run_id, opened_at) VALUES (?, ?, ?, ?)",
                (path, portal, run_id, utcnow()),
            )

    def _next_seq(self) -> int:
        return int(self.conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM articles").fetchone()[0])

    def _key(self, row: sqlite3.Row) -> tuple[str, int]:
        """(id, seq) of a stored article; an article another tool inserted without a seq gets one."""
        if row["seq"] is not None:
            return row["id"], int(row["seq"])
        seq = self._next_seq()
        self.conn.execute("UPDATE articles SET seq = ? WHERE id = ?", (seq, row["id"]))
        return row["id"], seq

    # ``key`` is (article id, seq): rows carry both; the indexes are on seq.
    def _revision(self, key: tuple[str, int], n: int, chash: str, url: str, values: dict[str, Any], seen_at: str,
                  run_id: int | None, capture_id: int | None = None, extractor: str | None = None,
                  reason: str | None = None) -> None:  # fmt: skip
        self.conn.execute(
            f"""INSERT INTO article_revisions (article_id, article_seq, revision, content_hash, url,
                {", ".join(values)}, seen_at, run_id, capture_id, extractor, reason)
                VALUES (?, ?, ?, ?, ?, {", ".join("?" * len(values))}, ?, ?, ?, ?, ?)""",
            (*key, n, chash, url, *values.values(), seen_at, run_id, capture_id, extractor, reason),
        )

    def _alias(self, url: str, key: tuple[str, int], seen_at: str, values: dict[str, Any]) -> None:
        """Every URL an article was reached under, with the date its own page printed (two URLs
        with the same text but different dates are one article; neither date is lost)."""
        self.conn.execute(
            "INSERT OR IGNORE INTO article_urls (url, article_id, article_seq, first_seen, published, published_raw) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (url, *key, seen_at, values["published"], values["published_raw"]),
        )

    def _views(self, key: tuple[str, int], art: Article, seen_at: str, run_id: int | None, new: bool = False,
               capture_id: int | None = None) -> None:  # fmt: skip
        if art.views is None:
            return
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO view_counts (article_id, article_seq, seen_at, views, views_raw, run_id, capture_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (*key, seen_at, art.views, art.views_raw, run_id, capture_id),
        )
        if cur.rowcount and not new:
            self.conn.execute("UPDATE articles SET views=?, views_raw=? WHERE id=?",
                              (art.views, art.views_raw, key[0]))  # fmt: skip

    # -- reading ---------------------------------------------------------------------------
    def query(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> Iterator[dict[str, Any]]:
        yield from self.db.query(sql, params)

    def count(self, table: str) -> int:
        return int(self.conn.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0])

    def portal_stats(self) -> list[dict[str, Any]]:
        """Per portal: articles, date range, view observations, last run (for ``archiver stats``).
        Grouped scans, one per table: fast on a million articles."""
        rows = {
            r["portal"]: r
            for r in self.db.query("SELECT slug AS portal, name, province, new_unit FROM portals ORDER BY slug")
        }
        for r in rows.values():
            r.update(
                articles=0,
                first_published=None,
                last_published=None,
                view_observations=0,
                last_run=None,
                last_status=None,
            )
        for r in self.db.query(
            "SELECT portal, count(*) AS articles, min(substr(published, 1, 10)) AS first_published, "
            "max(substr(published, 1, 10)) AS last_published FROM articles GROUP BY portal"
        ):
            rows.get(r["portal"], {}).update(r)
        for r in self.db.query(
            "SELECT a.portal, count(*) AS view_observations FROM view_counts v JOIN articles a ON a.id = v.article_id "
            "GROUP BY a.portal"
        ):
            rows.get(r["portal"], {}).update(r)
        for r in self.db.query(
            "SELECT portal, started_at AS last_run, status AS last_status FROM crawl_runs "
            "WHERE id IN (SELECT max(id) FROM crawl_runs GROUP BY portal)"
        ):
            rows.get(r["portal"], {}).update(r)
        return list(rows.values())
