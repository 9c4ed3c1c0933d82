"""Datasette for archivists: the archive read-only, described, searchable, faceted.

``archiver serve`` writes a metadata file (titles and descriptions of tables and columns,
full-text search, facets, canned queries) and starts Datasette on it. Datasette is an optional
extra: ``pip install 'vn-portal-archiver[serve]'``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from archiver.exceptions import ArchiverError
from archiver.store.queries import EXPORT_FIELDS

TABLES = {
    "portals": "One row per portal profile crawled, with its old province and its unit since 1 July 2025.",
    "articles": "One row per article, holding its latest revision.",
    "article_index": "Articles with their portal's provinces and year: the table to browse and facet.",
    "article_revisions": "Every version of every article; nothing stored is overwritten without its earlier version here.",
    "article_urls": "Every canonical URL an article was reached under.",
    "view_counts": "View counts as observations in time, one per article per crawl.",
    "crawl_runs": "One row per portal per crawl.",
    "captures": "Every response recorded in WARC: where its bytes are. /-/capture/<id> replays it (sandboxed).",
    "warc_files": "The WARC files of the archive.",
    "fetch_errors": "URLs that failed for good in a run (stage fetch or store).",
    "attachments": "The documents behind the news (decrees, plans, reports): one row per version of each file, with "
    "its type as served and as sniffed, SHA-256, document number and date, text and how it was read.",
    "article_attachments": "Which article links to which document (a document can belong to many articles).",
    "run_workers": "A crawl over Redis: each worker's part in a portal's run (active, done, lost), pages, articles.",
    "cluster_runs": "A crawl over Redis: which archive run each cluster run is.",
}
# Bookkeeping a visitor has no use for: hidden from the table list (still reachable by URL and SQL).
HIDDEN = ("_migrations", "articles_fts", "attachments_fts", "cluster_cursor", "search_queue")
CANNED = {
    "search": {
        "title": "Search, as the CLI searches",
        "description": "The CLI's search: words with or without diacritics (bao ve an ninh, Đảng bộ), all required; "
        "\"a phrase\", prefix*, OR between two terms; portal (slugs), province (old, or the unit since 2025), "
        "since and until (YYYY, YYYY-MM or YYYY-MM-DD) narrow it; ranked by relevance, exact matches first. "
        "The reading room's page: /-/search.",
        "sql": "SELECT h.value ->> 'n' AS n, h.value ->> 'published' AS published, h.value ->> 'portal' AS portal, "
        "h.value ->> 'province' AS province, h.value ->> 'new_unit' AS new_unit, h.value ->> 'title' AS title, "
        "h.value ->> 'snippet' AS snippet, h.value ->> 'attachment' AS found_in_document, h.value ->> 'id' AS id, "
        "h.value ->> 'url' AS url, h.value ->> 'error' AS error "
        "FROM json_each(archiver_search(:q, :portal, :province, :since, :until)) h ORDER BY h.key",
    },
    "articles_per_month": {
        "title": "Articles per month per portal",
        "sql": "SELECT portal, substr(published, 1, 7) AS month, count(*) AS articles FROM articles "
        "WHERE published IS NOT NULL GROUP BY portal, month ORDER BY portal, month",
    },
    "most_viewed": {
        "title": "Most viewed articles per portal",
        "sql": "SELECT portal, views, substr(published, 1, 10) AS published, title, url FROM ("
        "SELECT *, row_number() OVER (PARTITION BY portal ORDER BY views DESC) AS n FROM articles WHERE views IS NOT NULL"
        ") WHERE n <= 10 ORDER BY portal, views DESC",
    },
    "articles_with_revisions": {
        "title": "Articles whose text changed after they were first archived",
        "sql": "SELECT a.portal, a.revision, a.title, a.url, min(r.seen_at) AS first_version, max(r.seen_at) AS last_version "
        "FROM articles a JOIN article_revisions r ON r.article_seq = a.seq WHERE a.revision > 1 "
        "GROUP BY a.id ORDER BY last_version DESC",
    },
    "documents": {
        "title": "Attached documents (decrees, plans, reports) and the articles linking to them",
        "description": "The latest version of each document; search its text with or without diacritics "
        "(:q empty lists them all).",
        "sql": "SELECT d.doc_number, d.doc_date, d.name_served, d.mime_sniffed, d.pages, d.bytes, d.text_how, d.url, "
        "a.title AS article, a.url AS article_url FROM attachments d "
        "JOIN article_attachments l ON l.url = d.url JOIN articles a ON a.id = l.article_id "
        "WHERE d.version = (SELECT max(version) FROM attachments WHERE url = d.url) "
        "AND (:q = '' OR d.id IN (SELECT rowid FROM attachments_fts WHERE attachments_fts MATCH archiver_fold(:q))) "
        "ORDER BY d.doc_date DESC, d.url LIMIT 200",
    },
}


# What a visitor sees first (``/`` opens article_index): how to read and search the archive.
INDEX_HTML = (
    "Every archived article with its portal's province (before and since the 1 July 2025 merger). Click a title "
    "to read the article as archived (its archived copy, documents, view counts and revisions). "
    '<form action="/-/search" method="get" class="reading-search"><input type="search" name="q" size="40" '
    'placeholder="Search the archive: bao ve an ninh, Đảng bộ, &quot;chuyển đổi số&quot;"> '
    '<button type="submit">Search</button></form>'
)


def metadata(db_name: str) -> dict[str, Any]:
    # Descriptions of the columns articles has (the export's computed fields are not columns of it).
    cols = {k: v for k, v in EXPORT_FIELDS.items() if k not in ("province", "new_unit", "revision_reason")}
    # The table search box folds what it is given (the archiver_fold plugin, as the CLI); the canned query
    # "search" folds what it is given, diacritics or not.
    search = {"fts_table": "articles_fts", "searchmode": "escaped"}
    return {
        "title": "Vietnamese provincial government news archive",
        "description": "Articles of provincial portals, normalised and deduplicated, with their revisions and "
        "view counts. Search with or without diacritics with the canned query 'search' (bao ve an ninh, Đảng); "
        "the tables' search box too (bao ve or bảo vệ, dang or Đảng).",
        "source": "vn-portal-archiver",
        "databases": {
            db_name: {
                "tables": {
                    "articles": {"description": TABLES["articles"], "columns": cols, "facets": ["portal", "category"],
                                 "sort_desc": "published", **search, "fts_pk": "rowid"},
                    "article_index": {"description_html": INDEX_HTML,
                                      "facets": ["portal", "province", "new_unit", "category", "year"],
                                      "sort_desc": "published", **search, "fts_pk": "article_rowid"},
                    **{t: {"description": d} for t, d in TABLES.items() if t not in ("articles", "article_index")},
                    **{t: {"hidden": True} for t in HIDDEN},
                },
                "queries": CANNED,
            }
        },
    }  # fmt: skip


def command(db: Path, metadata_path: Path, host: str, port: int, immutable: bool = False) -> list[str]:
    plugins = Path(__file__).parent / "datasette_plugins"
    # An archive on a read-only medium is served immutable (SQLite cannot create its -shm file there).
    target = ["--immutable", str(db)] if immutable else [str(db)]
    templates = Path(__file__).parent / "datasette_templates"
    # Cells longer than 240 characters are cut in tables (a body is read on its article page, not in a cell).
    return [sys.executable, "-m", "datasette", "serve", *target, "--metadata", str(metadata_path), "--host", host,
            "--port", str(port), "--setting", "sql_time_limit_ms", "5000", "--setting", "truncate_cells_html", "240",
            "--plugins-dir", str(plugins), "--template-dir", str(templates)]  # fmt: skip


def serve(db: Path, host: str = "127.0.0.1", port: int = 8001) -> int:
    try:
        import datasette  # noqa: F401
    except ImportError:
        raise ArchiverError("archiver serve needs Datasette: pip install 'vn-portal-archiver[serve]'") from None
    import os
    import tempfile

    writable = os.access(db, os.W_OK) and os.access(db.parent, os.W_OK)
    text = json.dumps(metadata(db.stem), ensure_ascii=False, indent=1)
    with tempfile.TemporaryDirectory(prefix="archiver-serve-") as tmp:
        # Beside the archive when it can be written (an archivist may reuse it), else in a temporary directory.
        meta = db.with_name(db.stem + ".datasette.json") if writable else Path(tmp) / (db.stem + ".datasette.json")
        try:
            meta.write_text(text, encoding="utf-8")
        except OSError:
            meta = Path(tmp) / (db.stem + ".datasette.json")
            meta.write_text(text, encoding="utf-8")
        return _run_forwarding_signals(command(db, meta, host, port, immutable=not writable))


def _run_forwarding_signals(cmd: list[str]) -> int:
    """Run Datasette as a child and pass SIGTERM / SIGINT on to it: stopping ``archiver serve``
    stops the server, never leaving it running on its own."""
    import signal

    child = subprocess.Popen(cmd)

    def forward(signum: int, _frame: Any) -> None:
        if child.poll() is None:
            child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    try:
        while True:
            try:
                return child.wait()
            except InterruptedError:
                continue
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if child.poll() is None:
            child.kill()
            child.wait()
