"""The archive's schema, changed only through registered migrations.

Each migration is a function registered with ``@migration`` that returns SQL statements;
``migrate(db)`` applies those not yet recorded in ``_migrations``, each with its record in one
transaction, so a migration is applied whole or not at all. Applying them twice equals applying
them once (``tests/test_store_schema.py``). The README documents every table and column: it is
the contract with archivists.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

import sqlite_utils

Migration = Callable[[], list[str]]
MIGRATIONS: list[tuple[str, Migration]] = []


def migration(fn: Migration) -> Migration:
    """Register ``fn`` as the next migration; its name is its identity, never rename one."""
    MIGRATIONS.append((fn.__name__, fn))
    return fn


@migration
def m001_initial() -> list[str]:
    return [
        """CREATE TABLE portals (
            slug TEXT PRIMARY KEY, name TEXT NOT NULL, province TEXT, new_unit TEXT,
            family TEXT, base_url TEXT, unit TEXT, updated_at TEXT)""",
        """CREATE TABLE articles (
            id TEXT PRIMARY KEY, portal TEXT NOT NULL REFERENCES portals(slug), url TEXT NOT NULL,
            title TEXT, category TEXT, published TEXT, published_raw TEXT, views INTEGER,
            views_raw TEXT, author TEXT, source TEXT, lead TEXT, body_text TEXT, body_html TEXT,
            content_hash TEXT NOT NULL, revision INTEGER NOT NULL DEFAULT 1,
            first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, last_run_id INTEGER,
            fetched_url TEXT)""",
        # No index on articles.url: the id is derived from it, and article_urls (keyed by URL) holds
        # every URL of every article. Each index on a hash or URL is a random write per article.
        "CREATE INDEX idx_articles_portal_published ON articles(portal, published)",
        "CREATE INDEX idx_articles_portal_hash ON articles(portal, content_hash)",
        """CREATE TABLE article_urls (
            url TEXT PRIMARY KEY, article_id TEXT NOT NULL REFERENCES articles(id),
            first_seen TEXT NOT NULL)""",
        "CREATE INDEX idx_article_urls_article ON article_urls(article_id)",
        """CREATE TABLE article_revisions (
            article_id TEXT NOT NULL REFERENCES articles(id), revision INTEGER NOT NULL,
            content_hash TEXT NOT NULL, url TEXT, title TEXT, category TEXT, published TEXT,
            published_raw TEXT, author TEXT, source TEXT, lead TEXT, body_text TEXT,
            body_html TEXT, seen_at TEXT NOT NULL, run_id INTEGER,
            PRIMARY KEY (article_id, revision))""",
        """CREATE TABLE view_counts (
            article_id TEXT NOT NULL REFERENCES articles(id), seen_at TEXT NOT NULL,
            views INTEGER NOT NULL, views_raw TEXT, run_id INTEGER)""",
        "CREATE UNIQUE INDEX idx_view_counts_run ON view_counts(article_id, run_id)",
        """CREATE TABLE crawl_runs (
            id INTEGER PRIMARY KEY, portal TEXT NOT NULL, started_at TEXT NOT NULL,
            ended_at TEXT, base_url TEXT, pages INTEGER DEFAULT 0, new INTEGER DEFAULT 0,
            updated INTEGER DEFAULT 0, unchanged INTEGER DEFAULT 0, duplicates INTEGER DEFAULT 0,
            not_articles INTEGER DEFAULT 0, errors INTEGER DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'running', reason TEXT)""",
        "CREATE INDEX idx_crawl_runs_portal ON crawl_runs(portal, started_at)",
    ]


FTS_COLUMNS = ("title", "body")
_FTS_NEW = "archiver_fold(new.title), archiver_fold(new.body_text)"
_FTS_OLD = _FTS_NEW.replace("new.", "old.")


@migration
def m002_search() -> list[str]:
    """Full-text search, diacritic-insensitive the Vietnamese way.

    ``articles_fts`` is a contentless FTS5 index of each article's title and body (the lead is the
    body's first paragraph, not indexed twice) folded by
    ``archiver_fold`` (lower case, no diacritics, đ -> d: FTS5's own ``remove_diacritics`` never
    folds đ); queries are folded the same way, and exact matches of a query typed with diacritics
    are put first by the search code. Triggers keep the index in step with ``articles``; they call
    ``archiver_fold``, which the archiver registers on its connections, so writes to ``articles``
    from other tools fail loudly instead of leaving the index behind.
    """
    cols = ", ".join(FTS_COLUMNS)
    return [
        f"""CREATE VIRTUAL TABLE articles_fts USING fts5({cols}, content='',
            tokenize='unicode61 remove_diacritics 0')""",
        "INSERT INTO articles_fts(articles_fts, rank) VALUES ('rank', 'bm25(10.0, 1.0)')",
        # Merge 8 segments of a level at a time (default 4): fewer rewrites of the index as it grows,
        # so the cost of adding an article stays flat from thousands to millions of articles.
        "INSERT INTO articles_fts(articles_fts, rank) VALUES ('automerge', 8)",
        # Flush at most every 8 MB of pending tokens (default 1 MB): fewer, larger first-level segments.
        "INSERT INTO articles_fts(articles_fts, rank) VALUES ('hashsize', 8388608)",
        f"""CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
            INSERT INTO articles_fts(rowid, {cols}) VALUES (new.rowid, {_FTS_NEW});
        END""",
        f"""CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
            INSERT INTO articles_fts(articles_fts, rowid, {cols}) VALUES ('delete', old.rowid, {_FTS_OLD});
        END""",
        f"""CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, body_text ON articles BEGIN
            INSERT INTO articles_fts(articles_fts, rowid, {cols}) VALUES ('delete', old.rowid, {_FTS_OLD});
            INSERT INTO articles_fts(rowid, {cols}) VALUES (new.rowid, {_FTS_NEW});
        END""",
        # Articles stored before this migration are indexed now.
        f"INSERT INTO articles_fts(rowid, {cols}) SELECT rowid, "
        "archiver_fold(title), archiver_fold(body_text) FROM articles",
        # One row per article with its portal's provinces, for browsing and facets (Datasette).
        """CREATE VIEW article_index AS
           SELECT a.rowid AS article_rowid, a.id, a.portal, p.province, p.new_unit, a.category,
                  substr(a.published, 1, 4) AS year, a.published, a.title, a.author, a.views, a.revision, a.url
           FROM articles a JOIN portals p ON p.slug = a.portal""",
    ]


@migration
def m003_unattended() -> list[str]:
    """Unattended crawls: failed fetches, articles gone from their portal, complete walks."""
    return [
        """CREATE TABLE fetch_errors (
            id INTEGER PRIMARY KEY, run_id INTEGER REFERENCES crawl_runs(id), portal TEXT NOT NULL,
            url TEXT NOT NULL, status INTEGER, error TEXT NOT NULL, attempts INTEGER, at TEXT NOT NULL)""",
        "CREATE INDEX idx_fetch_errors_run ON fetch_errors(run_id)",
        "ALTER TABLE articles ADD COLUMN http_status INTEGER",
        "ALTER TABLE articles ADD COLUMN gone_at TEXT",
        "ALTER TABLE crawl_runs ADD COLUMN mode TEXT",
        "ALTER TABLE crawl_runs ADD COLUMN complete INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE crawl_runs ADD COLUMN gone INTEGER NOT NULL DEFAULT 0",
    ]


@migration
def m004_truthful_runs() -> list[str]:
    """Runs that tell the truth: what was stored and what could not be, what was extracted (fill
    rates per field, to notice a redesign), failures of the store beside failed fetches; every
    URL of an article keeps the date its own page printed."""
    return [
        "ALTER TABLE crawl_runs ADD COLUMN stored INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE crawl_runs ADD COLUMN store_errors INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE crawl_runs ADD COLUMN extracted INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE crawl_runs ADD COLUMN fill TEXT",
        "ALTER TABLE fetch_errors ADD COLUMN stage TEXT NOT NULL DEFAULT 'fetch'",
        "ALTER TABLE article_urls ADD COLUMN published TEXT",
        "ALTER TABLE article_urls ADD COLUMN published_raw TEXT",
        # The canonical URL of each article printed the article's date; other URLs' dates were not kept.
        "UPDATE article_urls SET published = (SELECT a.published FROM articles a WHERE a.url = article_urls.url),"
        " published_raw = (SELECT a.published_raw FROM articles a WHERE a.url = article_urls.url)",
    ]


@migration
def m005_captures() -> list[str]:
    """Keep what was fetched: every response the crawler received is a capture, its bytes in a
    WARC file; every revision says which capture it came from, which extractor made it, and
    why it exists."""
    return [
        """CREATE TABLE captures (
            id INTEGER PRIMARY KEY, portal TEXT NOT NULL, run_id INTEGER, kind TEXT NOT NULL,
            target_uri TEXT NOT NULL, canonical_url TEXT, status INTEGER, fetched_at TEXT NOT NULL,
            source TEXT NOT NULL, content_type TEXT, payload_digest TEXT, record_type TEXT,
            record_id TEXT NOT NULL UNIQUE, warc_file TEXT, warc_offset INTEGER, warc_length INTEGER,
            refers_to TEXT, article_id TEXT)""",
        "CREATE INDEX idx_captures_canonical ON captures(canonical_url, id)",
        "CREATE INDEX idx_captures_article ON captures(article_id, id)",
        "ALTER TABLE article_revisions ADD COLUMN capture_id INTEGER",
        "ALTER TABLE article_revisions ADD COLUMN extractor TEXT",
        "ALTER TABLE article_revisions ADD COLUMN reason TEXT",
        "ALTER TABLE view_counts ADD COLUMN capture_id INTEGER",
        "ALTER TABLE articles ADD COLUMN capture_id INTEGER",
        """CREATE TABLE warc_files (
            path TEXT PRIMARY KEY, portal TEXT NOT NULL, run_id INTEGER, opened_at TEXT NOT NULL,
            closed_at TEXT)""",
    ]


@migration
def m006_discovery() -> list[str]:
    """Portals crawled from their address: what discovery found and spent in each run, and
    whether each portal is live, moved (to where) or gone, with when it was seen so. A change of
    state is a new row; the same state seen again updates ``last_seen`` only."""
    return [
        "ALTER TABLE crawl_runs ADD COLUMN discovery TEXT",
        """CREATE TABLE portal_status (
            id INTEGER PRIMARY KEY, portal TEXT NOT NULL, status TEXT NOT NULL, detail TEXT,
            first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, run_id INTEGER)""",
        "CREATE INDEX idx_portal_status ON portal_status(portal, id)",
    ]


@migration
def m007_wayback() -> list[str]:
    """The Wayback Machine as a source: where each portal's CDX walk stands, so that a run
    killed or rate-limited goes on from there."""
    return [
        """CREATE TABLE wayback_cursors (
            portal TEXT NOT NULL, query TEXT NOT NULL, resume_key TEXT, last_timestamp TEXT,
            complete INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL, PRIMARY KEY (portal, query))""",
        # One view observation per article per run and time: a Wayback run sees several captures.
        "DROP INDEX idx_view_counts_run",
        "CREATE UNIQUE INDEX idx_view_counts_run ON view_counts(article_id, run_id, seen_at)",
    ]


_REVISION_COLUMNS = ("article_id, revision, content_hash, url, title, category, published, published_raw, author, "
                     "source, lead, body_text, body_html, seen_at, run_id, capture_id, extractor, reason")


@migration
def m008_integer_keys() -> list[str]:
    """Flat ingest cost to millions of articles: each article gets an integer ``seq`` in the
    order it was stored, and its revisions, view observations and URLs are indexed by it
    (``article_seq``) instead of the hashed text id, so a new article's rows go to the end of
    those indexes instead of a random page of each. ``article_id`` stays in every table.
    (``seq`` is a column of its own, not the rowid, which VACUUM may renumber.)"""
    return [
        "ALTER TABLE articles ADD COLUMN seq INTEGER",
        "UPDATE articles SET seq = rowid",
        "CREATE UNIQUE INDEX idx_articles_seq ON articles(seq)",
        # The primary key (article_id, revision) was a random index: the table is rebuilt without it.
        """CREATE TABLE article_revisions_m008 (
            article_id TEXT NOT NULL REFERENCES articles(id), revision INTEGER NOT NULL,
            content_hash TEXT NOT NULL, url TEXT, title TEXT, category TEXT, published TEXT,
            published_raw TEXT, author TEXT, source TEXT, lead TEXT, body_text TEXT,
            body_html TEXT, seen_at TEXT NOT NULL, run_id INTEGER, capture_id INTEGER, extractor TEXT,
            reason TEXT, article_seq INTEGER)""",
        f"INSERT INTO article_revisions_m008 ({_REVISION_COLUMNS}, article_seq) SELECT "
        f"{', '.join('r.' + c.strip() for c in _REVISION_COLUMNS.split(','))}, a.seq "
        "FROM article_revisions r LEFT JOIN articles a ON a.id = r.article_id ORDER BY a.seq, r.revision",
        "DROP TABLE article_revisions",
        "ALTER TABLE article_revisions_m008 RENAME TO article_revisions",
        "CREATE UNIQUE INDEX idx_article_revisions ON article_revisions(article_seq, revision)",
        "ALTER TABLE view_counts ADD COLUMN article_seq INTEGER",
        "UPDATE view_counts SET article_seq = (SELECT seq FROM articles WHERE id = view_counts.article_id)",
        "DROP INDEX idx_view_counts_run",
        "CREATE UNIQUE INDEX idx_view_counts_run ON view_counts(article_seq, run_id, seen_at)",
        "ALTER TABLE article_urls ADD COLUMN article_seq INTEGER",
        "UPDATE article_urls SET article_seq = (SELECT seq FROM articles WHERE id = article_urls.article_id)",
        "DROP INDEX idx_article_urls_article",
        "CREATE INDEX idx_article_urls_article ON article_urls(article_seq)",
    ]


@migration
def m009_attachments() -> list[str]:
    """The documents behind the news: each file an article links to (a decree, a plan, a report),
    one row per version (a changed file at the same URL is a new version, the old one kept), and
    which articles link to it (a file can belong to many)."""
    return [
        """CREATE TABLE attachments (
            id INTEGER PRIMARY KEY, url TEXT NOT NULL, version INTEGER NOT NULL, final_url TEXT,
            name_shown TEXT, name_served TEXT, mime_served TEXT, mime_sniffed TEXT, bytes INTEGER,
            sha256 TEXT NOT NULL, pages INTEGER, doc_number TEXT, doc_date TEXT, text TEXT, text_how TEXT,
            capture_id INTEGER, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, UNIQUE (url, version))""",
        "CREATE INDEX idx_attachments_sha256 ON attachments(sha256)",
        """CREATE TABLE article_attachments (
            article_id TEXT NOT NULL REFERENCES articles(id), url TEXT NOT NULL, link_text TEXT,
            first_seen TEXT NOT NULL, PRIMARY KEY (article_id, url))""",
        "CREATE INDEX idx_article_attachments_url ON article_attachments(url)",
    ]


@migration
def m010_attachment_search() -> list[str]:
    """Attachment text in the full-text search: ``attachments_fts`` (contentless, folded like
    ``articles_fts``), one entry per version of a file, kept in step by a trigger; a search
    finds the articles that link to a matching file and says the hit is in the attachment."""
    return [
        """CREATE VIRTUAL TABLE attachments_fts USING fts5(text, content='',
            tokenize='unicode61 remove_diacritics 0')""",
        """CREATE TRIGGER attachments_fts_insert AFTER INSERT ON attachments WHEN new.text IS NOT NULL BEGIN
            INSERT INTO attachments_fts(rowid, text) VALUES (new.id, archiver_fold(new.text));
        END""",
        "INSERT INTO attachments_fts(rowid, text) SELECT id, archiver_fold(text) FROM attachments WHERE text IS NOT NULL",
    ]


@migration
def m011_cluster() -> list[str]:
    """A crawl over many workers (``archiver crawl --redis``) and one writer (``archiver ingest
    --redis``): which cluster run is which archive run, how far the writer has applied the
    stream (committed with the rows it gave: a writer killed mid-batch applies nothing twice),
    and each worker's progress in a run."""
    return [
        "CREATE TABLE cluster_runs (token TEXT PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES crawl_runs(id))",
        "CREATE TABLE cluster_cursor (stream TEXT PRIMARY KEY, last_id TEXT NOT NULL, updated_at TEXT NOT NULL)",
        """CREATE TABLE run_workers (run_id INTEGER NOT NULL REFERENCES crawl_runs(id), worker TEXT NOT NULL,
            status TEXT NOT NULL, pages INTEGER NOT NULL DEFAULT 0, articles INTEGER NOT NULL DEFAULT 0,
            errors INTEGER NOT NULL DEFAULT 0, reason TEXT, stats TEXT, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,
            PRIMARY KEY (run_id, worker))""",
    ]


# The full-text indexes' definitions (m012). The comment names the table each index is of, in the
# form sqlite-utils and Datasette look for (``content="articles"``): ``sqlite-utils search
# archive.db articles dang`` finds the index and joins it on rowid, which is how it is keyed.
ARTICLES_FTS = """CREATE VIRTUAL TABLE articles_fts USING fts5(title, body, content='',
    tokenize='unicode61 remove_diacritics 0' /* index of content="articles": rowid = articles.rowid, folded text */)"""
ATTACHMENTS_FTS = """CREATE VIRTUAL TABLE attachments_fts USING fts5(text, content='',
    tokenize='unicode61 remove_diacritics 0' /* index of content="attachments": rowid = attachments.id, folded text */)"""
# What is waiting to reach the full-text indexes (see ``sync_search``). Plain SQL: any tool can write.
SEARCH_QUEUE_TRIGGERS = [
    """CREATE TRIGGER search_queue_article_insert AFTER INSERT ON articles BEGIN
        INSERT INTO search_queue (tbl, row, op) VALUES ('articles', new.rowid, 'insert');
    END""",
    """CREATE TRIGGER search_queue_article_update AFTER UPDATE OF title, body_text ON articles BEGIN
        INSERT INTO search_queue (tbl, row, op, old_a, old_b) VALUES ('articles', old.rowid, 'update', old.title, old.body_text);
    END""",
    """CREATE TRIGGER search_queue_article_delete AFTER DELETE ON articles BEGIN
        INSERT INTO search_queue (tbl, row, op, old_a, old_b) VALUES ('articles', old.rowid, 'delete', old.title, old.body_text);
    END""",
    """CREATE TRIGGER search_queue_attachment_insert AFTER INSERT ON attachments BEGIN
        INSERT INTO search_queue (tbl, row, op) VALUES ('attachments', new.id, 'insert');
    END""",
    """CREATE TRIGGER search_queue_attachment_update AFTER UPDATE OF text ON attachments BEGIN
        INSERT INTO search_queue (tbl, row, op, old_a) VALUES ('attachments', old.id, 'update', old.text);
    END""",
    """CREATE TRIGGER search_queue_attachment_delete AFTER DELETE ON attachments BEGIN
        INSERT INTO search_queue (tbl, row, op, old_a) VALUES ('attachments', old.id, 'delete', old.text);
    END""",
]


@migration
def m012_open_writes() -> list[str]:
    """Other tools can write the archive. The triggers of m002/m010 called ``archiver_fold``, a
    function only the archiver's connections have, so an UPDATE or DELETE from sqlite-utils,
    Datasette or the sqlite3 shell failed ("no such function"). Now plain-SQL triggers record
    each change of indexed text in ``search_queue`` (with the text that was indexed before, which
    a contentless index needs to remove an entry), and the archiver brings the indexes up to date
    from it before each of its commits and when it opens the archive for writing
    (``sync_search``). The indexes are rebuilt once, with a definition sqlite-utils recognises."""
    return [
        "DROP TRIGGER IF EXISTS articles_fts_insert",
        "DROP TRIGGER IF EXISTS articles_fts_delete",
        "DROP TRIGGER IF EXISTS articles_fts_update",
        "DROP TRIGGER IF EXISTS attachments_fts_insert",
        "DROP TABLE articles_fts",
        ARTICLES_FTS,
        "INSERT INTO articles_fts(articles_fts, rank) VALUES ('rank', 'bm25(10.0, 1.0)')",
        "INSERT INTO articles_fts(articles_fts, rank) VALUES ('automerge', 8)",
        "INSERT INTO articles_fts(articles_fts, rank) VALUES ('hashsize', 8388608)",
        "INSERT INTO articles_fts(rowid, title, body) SELECT rowid, archiver_fold(title), archiver_fold(body_text) "
        "FROM articles",
        "DROP TABLE attachments_fts",
        ATTACHMENTS_FTS,
        "INSERT INTO attachments_fts(rowid, text) SELECT id, archiver_fold(text) FROM attachments WHERE text IS NOT NULL",
        """CREATE TABLE search_queue (
            id INTEGER PRIMARY KEY, tbl TEXT NOT NULL, row INTEGER NOT NULL, op TEXT NOT NULL, old_a TEXT, old_b TEXT)""",
        *SEARCH_QUEUE_TRIGGERS,
        # The browsing view gains each article's latest capture: the reading room links its archived copy.
        "DROP VIEW article_index",
        """CREATE VIEW article_index AS
           SELECT a.rowid AS article_rowid, a.id, a.portal, p.province, p.new_unit, a.category,
                  substr(a.published, 1, 4) AS year, a.published, a.title, a.author, a.views, a.revision, a.url,
                  a.capture_id
           FROM articles a JOIN portals p ON p.slug = a.portal""",
    ]


# The first change of a row since the last sync tells what its index entry holds: nothing (an
# insert) or the old text it carries (an update or a delete). The row as it is now is what to index.
_FIRST = "SELECT min(id) FROM search_queue WHERE tbl = '{t}' GROUP BY row"
SYNC_SEARCH = [
    "INSERT INTO articles_fts(articles_fts, rowid, title, body) SELECT 'delete', row, archiver_fold(old_a), "
    "archiver_fold(old_b) FROM search_queue WHERE op != 'insert' AND id IN (" + _FIRST.format(t="articles") + ")",
    "INSERT INTO articles_fts(rowid, title, body) SELECT rowid, archiver_fold(title), archiver_fold(body_text) "
    "FROM articles WHERE rowid IN (SELECT row FROM search_queue WHERE tbl = 'articles')",
    "INSERT INTO attachments_fts(attachments_fts, rowid, text) SELECT 'delete', row, archiver_fold(old_a) "
    "FROM search_queue WHERE op != 'insert' AND old_a IS NOT NULL AND id IN (" + _FIRST.format(t="attachments") + ")",
    "INSERT INTO attachments_fts(rowid, text) SELECT id, archiver_fold(text) FROM attachments "
    "WHERE text IS NOT NULL AND id IN (SELECT row FROM search_queue WHERE tbl = 'attachments')",
    "DELETE FROM search_queue",
]


def sync_search(conn: sqlite3.Connection) -> int:
    """Bring the full-text indexes up to date with ``search_queue``, inside the caller's
    transaction (or in one of its own); return how many changes were applied. Cheap when there
    is nothing to do: one look at an empty table."""
    if conn.execute("SELECT 1 FROM search_queue LIMIT 1").fetchone() is None:
        return 0
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN IMMEDIATE")
    try:
        n = conn.execute("SELECT count(*) FROM search_queue").fetchone()[0]
        for statement in SYNC_SEARCH:
            conn.execute(statement)
        if own:
            conn.execute("COMMIT")
    except BaseException:
        if own:
            conn.rollback()
        raise
    return int(n)


def register_functions(conn: sqlite3.Connection) -> None:
    """SQL functions the schema's triggers use."""
    from archiver.normalize.text import fold

    conn.create_function("archiver_fold", 1, fold, deterministic=True)


def migrate(db: sqlite_utils.Database, *, until: str | None = None) -> list[str]:
    """Apply pending migrations (up to and including ``until``, for tests of upgrades); return
    the names applied (empty when up to date).

    Each migration runs in a ``BEGIN IMMEDIATE`` transaction that re-reads what is applied, so two
    processes opening an old archive at once apply each migration once: the second waits for the
    first (the connection's busy timeout) and finds it done."""
    conn = db.conn
    register_functions(conn)
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='_migrations'").fetchone() is None:
        conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        conn.commit()
    done = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
    applied = []
    for name, fn in MIGRATIONS:
        if name not in done:
            conn.execute("BEGIN IMMEDIATE")
            try:
                if conn.execute("SELECT 1 FROM _migrations WHERE name = ?", (name,)).fetchone() is None:
                    for statement in fn():
                        conn.execute(statement)
                    conn.execute(
                        "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                        (name, datetime.now(UTC).isoformat(timespec="seconds")),
                    )
                    applied.append(name)
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
        if name == until:
            break
    return applied


def pending(conn: sqlite3.Connection) -> list[str]:
    """Migrations not applied to the archive on ``conn`` (read only)."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='_migrations'").fetchone() is None:
        return [name for name, _ in MIGRATIONS]
    done = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
    return [name for name, _ in MIGRATIONS if name not in done]
