"""The archive's schema, changed only through registered migrations.

Each migration is a function registered with ``@migration`` that returns SQL statements;
``migrate(db)`` applies those not yet recorded in ``_migrations``, each with its record in one
transaction, so a migration is applied whole or not at all. Applying them twice equals applying
them once (``tests/test_store_schema.py``). The README documents every table and column: it is
the contract with archivists.
"""

from __future__ import annotations

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
        "CREATE UNIQUE INDEX idx_articles_url ON articles(url)",
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
        "CREATE INDEX idx_view_counts_seen ON view_counts(article_id, seen_at)",
        """CREATE TABLE crawl_runs (
            id INTEGER PRIMARY KEY, portal TEXT NOT NULL, started_at TEXT NOT NULL,
            ended_at TEXT, base_url TEXT, pages INTEGER DEFAULT 0, new INTEGER DEFAULT 0,
            updated INTEGER DEFAULT 0, unchanged INTEGER DEFAULT 0, duplicates INTEGER DEFAULT 0,
            not_articles INTEGER DEFAULT 0, errors INTEGER DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'running', reason TEXT)""",
        "CREATE INDEX idx_crawl_runs_portal ON crawl_runs(portal, started_at)",
    ]


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply pending migrations; return the names applied (empty when up to date)."""
    conn = db.conn
    conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    conn.commit()
    done = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
    applied = []
    for name, fn in MIGRATIONS:
        if name in done:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in fn():
                conn.execute(statement)
            conn.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                (name, datetime.now(UTC).isoformat(timespec="seconds")),
            )
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        applied.append(name)
    return applied
