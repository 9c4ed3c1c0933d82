"""Reading the archive: filters shared by search, export and the CLI, full-text search, history.

The only other module (with ``archive.py`` and ``schema.py``) that knows SQL.
"""

from __future__ import annotations

import re
import shlex
import sqlite3
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from archiver.exceptions import ArchiverError
from archiver.normalize.text import fold


class QueryError(ArchiverError):
    """A search query or filter the archive cannot run: the message says what to fix."""


@dataclass
class Filters:
    """Which articles: by portal slugs, province (old province or the unit since 2025),
    publication dates (inclusive, ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``) and category."""

    portals: list[str] = field(default_factory=list)
    province: str | None = None
    since: str | None = None
    until: str | None = None
    category: str | None = None

    def describe(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v}


_PARTIAL_DATE = re.compile(r"\d{4}(?:-\d{2}(?:-\d{2})?)?")


def _check_date(name: str, value: str | None) -> None:
    if value is None:
        return
    if not _PARTIAL_DATE.fullmatch(value):
        raise QueryError(f"--{name} {value!r}: expected YYYY, YYYY-MM or YYYY-MM-DD")
    parts = [int(p) for p in value.split("-")]
    try:
        date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
    except ValueError:
        raise QueryError(f"--{name} {value!r}: not a date") from None


def _province_key(name: str) -> str:
    return re.sub(r"^(tinh|thanh pho|tp\.?)\s+", "", fold(name).strip())


def portals_of_province(conn: sqlite3.Connection, province: str) -> list[str]:
    """Portal slugs whose old province, or whose unit since 1 July 2025, is ``province``."""
    key = _province_key(province)
    rows = conn.execute("SELECT slug, province, new_unit FROM portals").fetchall()
    return [slug for slug, old, new in rows if key in (_province_key(old or ""), _province_key(new or ""))]


def where(conn: sqlite3.Connection, f: Filters, alias: str = "a") -> tuple[str, list[Any]]:
    """SQL condition and parameters selecting the articles ``f`` describes."""
    _check_date("since", f.since)
    _check_date("until", f.until)
    clauses, params = [], []
    portals = list(f.portals)
    if f.province:
        found = portals_of_province(conn, f.province)
        if not found:
            known = sorted({r[0] for r in conn.execute("SELECT province FROM portals") if r[0]})
            raise QueryError(
                f"no portal of province {f.province!r} in this archive; provinces: {', '.join(known) or '(none)'}"
            )
        portals = [p for p in portals if p in found] if portals else found
        if not portals:
            portals = ["\x00"]  # portal and province filters exclude each other: nothing matches
    if portals:
        clauses.append(f"{alias}.portal IN ({', '.join('?' * len(portals))})")
        params += portals
    if f.since:
        clauses.append(f"substr({alias}.published, 1, {len(f.since)}) >= ?")
        params.append(f.since)
    if f.until:
        clauses.append(f"substr({alias}.published, 1, {len(f.until)}) <= ?")
        params.append(f.until)
    if f.category:
        clauses.append(f"archiver_fold({alias}.category) = ?")
        params.append(fold(f.category))
    return (" AND ".join(clauses) or "1"), params


# --- full-text search ---------------------------------------------------------------------------
def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _terms(query: str) -> list[str]:
    """Split a query into words, "phrases", prefix* and OR; unbalanced quotes are an error."""
    q = unicodedata.normalize("NFC", query).strip()
    if not q:
        raise QueryError("empty search query")
    if q.count('"') % 2:
        raise QueryError(f"malformed query {query!r}: a quotation mark is not closed")
    try:
        return shlex.split(q.replace("'", "\u2019"), posix=True)
    except ValueError as exc:
        raise QueryError(f"malformed query {query!r}: {exc}") from None


@dataclass
class ParsedQuery:
    """A user query as FTS5 sees it (folded), and what an exact match must contain."""

    match: str  # FTS5 MATCH expression over the folded index
    words: list[str]  # folded words, for highlighting
    exact: list[list[str]] | None  # AND of OR-groups of phrases as typed; None: typed without diacritics


# Longer queries are refused: the cost of a full-text query grows with its terms (a 100 KB query
# ran for minutes), and no one types more.
MAX_QUERY_CHARS = 500
MAX_QUERY_TERMS = 32


def parse_query(query: str) -> ParsedQuery:
    """Every word or phrase must appear (AND), ``OR`` between two terms accepts either, ``word*``
    is a prefix. Query and index are folded alike (no diacritics, đ -> d). At most
    ``MAX_QUERY_CHARS`` characters and ``MAX_QUERY_TERMS`` terms."""
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"query of {len(query)} characters: at most {MAX_QUERY_CHARS}")
    groups: list[list[tuple[str, bool]]] = []  # (phrase as typed, lower case; prefix?)
    pending_or = False
    for token in _terms(query):
        if token == "OR" and groups:
            pending_or = True
            continue
        prefix = token.endswith("*")
        tokens = re.findall(r"[^\W_]+", token.rstrip("*"))
        if not tokens:
            continue
        phrase = (" ".join(t.lower() for t in tokens), prefix)
        if pending_or:
            groups[-1].append(phrase)
            pending_or = False
        else:
            groups.append([phrase])
    if not groups:
        raise QueryError(f"malformed query {query!r}: no word to search for")
    terms = sum(len(p.split()) for group in groups for p, _ in group)
    if terms > MAX_QUERY_TERMS:
        raise QueryError(f"query of {terms} words: at most {MAX_QUERY_TERMS}")
    parts = []
    for group in groups:
        alts = [_quote(fold(p)) + (" *" if prefix else "") for p, prefix in group]
        parts.append(alts[0] if len(alts) == 1 else "(" + " OR ".join(alts) + ")")
    words = [w for group in groups for p, _ in group for w in fold(p).split()]
    typed_marks = fold(query) != query.lower()
    exact = [[p for p, prefix in group if not prefix] for group in groups] if typed_marks else None
    return ParsedQuery(" AND ".join(parts), words, exact)


def fts_query(query: str) -> tuple[str, list[str]]:
    """The FTS5 MATCH expression for a user query, and the folded words for highlighting."""
    parsed = parse_query(query)
    return parsed.match, parsed.words


# Relevance is computed for at most this many matches, the most recently archived ones: FTS5 scores
# every match it ranks, and a common word matches a large part of a million articles.
RANK_WINDOW = 1000
# A query typed with diacritics: among this many best hits, those matching as typed come first.
EXACT_POOL = 100
_HIT = "a.rowid, a.id, a.portal, a.published, a.title, a.url, a.lead, a.body_text"


def _is_exact(hit: dict[str, Any], groups: list[list[str]]) -> bool:
    # Stored text is NFC with single spaces; only paragraph breaks need joining.
    text = (
        " ".join(hit[k] or "" for k in ("title", "lead", "body_text")).lower().replace("\n\n", " ").replace("\n", " ")
    )
    return all(any(p in text for p in group) for group in groups if group)


def search(conn: sqlite3.Connection, query: str, f: Filters, limit: int = 20) -> list[dict[str, Any]]:
    """Ranked hits: id, portal, published, title, url, lead, body_text, rank.

    One pass over the RANK_WINDOW most recently archived matches, ranked by BM25 (title weighs
    most); a query typed with diacritics then puts the hits that match it as typed first.
    """
    parsed = parse_query(query)
    cond, params = where(conn, f)
    if cond == "1":
        sql = "SELECT rowid, rank FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rowid DESC LIMIT ?"
        args: list[Any] = [parsed.match, RANK_WINDOW]
    else:
        sql = (f"SELECT s.rowid, s.rank FROM articles_fts s JOIN articles a ON a.rowid = s.rowid "
               f"WHERE articles_fts MATCH ? AND {cond} ORDER BY s.rowid DESC LIMIT ?")  # fmt: skip
        args = [parsed.match, *params, RANK_WINDOW]
    try:
        candidates = conn.execute(sql, args).fetchall()
    except sqlite3.OperationalError as exc:
        if "fts5" in str(exc) or "syntax" in str(exc):
            raise QueryError(f"malformed query {query!r}: {exc}") from None
        raise
    # Articles whose linked documents match: ranked by the document's score, flagged.
    in_file: dict[int, str] = {}
    direct = {c[0] for c in candidates}
    for rowid, rank, url in _attachment_hits(conn, parsed.match, cond, params):
        if rowid not in in_file and rowid not in direct:
            in_file[rowid] = url
            candidates.append((rowid, rank))
    candidates.sort(key=lambda r: r[1])
    best = candidates[: max(limit, EXACT_POOL) if parsed.exact else limit]
    if not best:
        return []
    ranks = dict(best)
    previous, conn.row_factory = conn.row_factory, sqlite3.Row
    try:
        rows = [
            dict(r)
            for r in conn.execute(
                f"SELECT {_HIT} FROM articles a WHERE a.rowid IN ({','.join('?' * len(ranks))})", list(ranks)
            )
        ]
    finally:
        conn.row_factory = previous  # Datasette's connections have a factory of their own
    for r in rows:
        rowid = r.pop("rowid")
        r["rank"] = ranks[rowid]
        r["attachment"] = in_file.get(rowid)  # the hit is in this linked document, not the article's text
        r["exact"] = (_is_exact(r, parsed.exact) or r["attachment"] is not None) if parsed.exact else None
    rows.sort(key=lambda r: (r["exact"] is False, r["rank"]))
    return rows[:limit]


def _attachment_hits(conn: sqlite3.Connection, match: str, cond: str, params: list[Any]) -> list[tuple[int, float, str]]:
    """(article rowid, rank, document URL) of the articles linking to a document that matches."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'attachments_fts'").fetchone() is None:
        return []  # an archive of an older schema on a read-only medium
    sql = (f"SELECT a.rowid, f.rank, d.url FROM attachments_fts f JOIN attachments d ON d.id = f.rowid "
           f"JOIN article_attachments l ON l.url = d.url JOIN articles a ON a.id = l.article_id "
           f"WHERE attachments_fts MATCH ? AND {cond} ORDER BY f.rank LIMIT ?")  # fmt: skip
    return [(int(r[0]), float(r[1]), str(r[2])) for r in conn.execute(sql, [match, *params, RANK_WINDOW])]


def _fold_aligned(text: str) -> str:
    """``fold`` character by character, so that positions in the result are positions in text."""
    return "".join((fold(c) or c)[0] if c.strip() else c for c in text)


def snippet(text: str, words: list[str], width: int = 160, mark: tuple[str, str] = ("[", "]")) -> str:
    """A window of ``text`` around the first query word, the words marked (diacritic-insensitive)."""
    if not text:
        return ""
    text = re.sub(r"\s+", " ", text)
    folded = _fold_aligned(text)
    # The words as a phrase first; then each word on its own.
    phrase = r"(?<!\w)" + r"\W+".join(re.escape(w) for w in words) + r"(?!\w)"
    spans = [(m.start(), m.end()) for m in re.finditer(phrase, folded)] if words else []
    if not spans:
        for w in words:
            spans += [(m.start(), m.end()) for m in re.finditer(r"(?<!\w)" + re.escape(w) + r"(?!\w)", folded)]
    if not spans:
        return text[:width] + ("…" if len(text) > width else "")
    spans.sort()
    first = spans[0][0]
    start = max(0, first - width // 3)
    end = min(len(text), start + width)
    out, pos = [], start
    for s, e in spans:
        if s < pos or e > end:
            continue
        out += [text[pos:s], mark[0], text[s:e], mark[1]]
        pos = e
    out.append(text[pos:end])
    return ("…" if start else "") + "".join(out).replace("\n", " ") + ("…" if end < len(text) else "")


# --- history and export -------------------------------------------------------------------------
def find_article(conn: sqlite3.Connection, ref: str) -> dict[str, Any] | None:
    """An article by id, by canonical URL, or by any URL it was reached under."""
    from archiver.normalize.urls import strip_session

    previous, conn.row_factory = conn.row_factory, sqlite3.Row
    try:
        row = conn.execute("SELECT * FROM articles WHERE id = ?", (ref,)).fetchone()
        if row is None:  # every URL of an article, the canonical one included, is in article_urls
            row = conn.execute(
                "SELECT a.* FROM article_urls u JOIN articles a ON a.id = u.article_id WHERE u.url IN (?, ?)",
                (ref, strip_session(ref)),
            ).fetchone()
        return dict(row) if row else None
    finally:
        conn.row_factory = previous  # Datasette's connections have a factory of their own


def urls_of(conn: sqlite3.Connection, article_id: str) -> list[dict[str, Any]]:
    """Every URL an article was reached under, the canonical one (``articles.url``) first, each
    with the date its own page printed."""
    previous, conn.row_factory = conn.row_factory, sqlite3.Row
    try:
        return [
            dict(r)
            for r in conn.execute(
                "SELECT u.url, u.url = a.url AS canonical, u.first_seen, u.published, u.published_raw "
                "FROM articles a JOIN article_urls u ON u.article_seq = a.seq WHERE a.id = ? "
                "ORDER BY canonical DESC, u.first_seen, u.url",
                (article_id,),
            )
        ]
    finally:
        conn.row_factory = previous  # Datasette's connections have a factory of their own


def captures_of(conn: sqlite3.Connection, article_id: str) -> list[dict[str, Any]]:
    """The captures an article was extracted from, oldest first, with where each one's payload
    is (a revisit's is in the record it refers to)."""
    previous, conn.row_factory = conn.row_factory, sqlite3.Row
    try:
        return [
            dict(r)
            for r in conn.execute(
                "SELECT c.id, c.fetched_at, c.source, c.target_uri, c.status, c.record_type, c.record_id, "
                "coalesce(o.warc_file, c.warc_file) AS payload_file, coalesce(o.warc_offset, c.warc_offset) AS "
                "payload_offset FROM captures c LEFT JOIN captures o ON o.record_id = c.refers_to "
                "WHERE c.article_id = ? ORDER BY c.id",
                (article_id,),
            )
        ]
    finally:
        conn.row_factory = previous  # Datasette's connections have a factory of their own


def history(conn: sqlite3.Connection, article_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(revisions, view-count series) of one article, oldest first."""
    previous, conn.row_factory = conn.row_factory, sqlite3.Row
    try:
        revs = [
            dict(r)
            for r in conn.execute(
                "SELECT r.* FROM articles a JOIN article_revisions r ON r.article_seq = a.seq WHERE a.id = ? "
                "ORDER BY r.revision", (article_id,)
            )
        ]
        views = [
            dict(r)
            for r in conn.execute(
                "SELECT v.seen_at, v.views, v.views_raw, v.run_id FROM articles a JOIN view_counts v ON v.article_seq = a.seq "
                "WHERE a.id = ? ORDER BY v.run_id, v.seen_at",
                (article_id,),
            )
        ]
        return revs, views
    finally:
        conn.row_factory = previous  # Datasette's connections have a factory of their own


EXPORT_FIELDS = {
    "id": "Stable article id: first 16 hex digits of SHA-256 of portal slug and canonical URL.",
    "portal": "Slug of the portal profile the article was crawled from.",
    "province": "Old province (before 1 July 2025) of the portal.",
    "new_unit": "Provincial unit the old province belongs to since 1 July 2025.",
    "url": "Canonical URL of the article.",
    "title": "Title, Unicode NFC.",
    "category": "Category as the portal prints it.",
    "published": "Publication date (YYYY-MM-DD) or date-time with offset (ISO 8601, Asia/Ho_Chi_Minh); empty when unreadable.",
    "published_raw": "The string the publication date was read from.",
    "views": "Latest view count observed (integer), empty when the page shows none.",
    "author": "Byline: names or organisation.",
    "source": "Source credited by the page (Nguồn, Theo, dateline tag).",
    "lead": "Lead paragraph (sapo).",
    "body_text": "Article text, paragraphs separated by a blank line, NFC.",
    "body_html": "Cleaned HTML of the article body (no scripts, absolute URLs).",
    "content_hash": "SHA-256 of title and body text: changes only when the text changes.",
    "revision": "Number of the latest revision (1 for an article never changed).",
    "revision_reason": "Why the latest revision exists: first, source (the portal changed the page), reextract "
    "(the same page read by a newer extractor), unknown.",
    "first_seen": "When the archive first stored the article (UTC).",
    "last_seen": "When a crawl last saw the article (UTC).",
}
# Export fields that are not columns of articles or portals.
COMPUTED = {
    "revision_reason": "(SELECT r.reason FROM article_revisions r WHERE r.article_seq = a.seq AND r.revision = a.revision)",
}
DEFAULT_EXPORT_FIELDS = [f for f in EXPORT_FIELDS if f not in ("body_html",)]


def iter_articles(
    conn: sqlite3.Connection, f: Filters, fields: list[str], batch: int = 1000
) -> Iterator[tuple[Any, ...]]:
    """Rows of the selected fields, streamed in batches (constant memory)."""
    unknown = [x for x in fields if x not in EXPORT_FIELDS]
    if unknown:
        raise QueryError(f"unknown field(s) {', '.join(unknown)}; fields: {', '.join(EXPORT_FIELDS)}")
    cond, params = where(conn, f)
    cols = ", ".join(COMPUTED.get(x) or (f"p.{x}" if x in ("province", "new_unit") else f"a.{x}") for x in fields)
    cur = conn.execute(
        f"SELECT {cols} FROM articles a JOIN portals p ON p.slug = a.portal WHERE {cond} ORDER BY a.portal, a.published, a.rowid",
        params,
    )
    while True:
        rows = cur.fetchmany(batch)
        if not rows:
            return
        yield from rows


def summary(conn: sqlite3.Connection, f: Filters) -> dict[str, Any]:
    """Counts, portals and crawl dates of the selected articles (for dataset cards)."""
    cond, params = where(conn, f)
    previous, conn.row_factory = conn.row_factory, sqlite3.Row
    try:
        portals = [
            dict(r)
            for r in conn.execute(
                f"""SELECT p.slug, p.name, p.province, p.new_unit, p.base_url, count(*) AS articles,
                       min(substr(a.published, 1, 10)) AS first_published, max(substr(a.published, 1, 10)) AS last_published,
                       min(a.first_seen) AS first_crawled, max(a.last_seen) AS last_crawled,
                       sum(a.published IS NULL) AS undated, sum(a.views IS NULL) AS without_views,
                       EXISTS (SELECT 1 FROM crawl_runs c WHERE c.portal = p.slug AND c.complete = 1) AS complete_walk
                    FROM articles a JOIN portals p ON p.slug = a.portal WHERE {cond} GROUP BY p.slug ORDER BY p.slug""",
                params,
            )
        ]
    finally:
        conn.row_factory = previous  # Datasette's connections have a factory of their own
    return {
        "articles": sum(p["articles"] for p in portals),
        "portals": portals,
        "first_crawled": min((p["first_crawled"] for p in portals), default=None),
        "last_crawled": max((p["last_crawled"] for p in portals), default=None),
    }


# --- the reading room ---------------------------------------------------------------------------
def _rows(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[dict[str, Any]]:
    """Rows as dicts, leaving the connection's row factory as it was (Datasette's connections set one)."""
    cur = conn.cursor()
    cur.row_factory = sqlite3.Row  # type: ignore[assignment]
    return [dict(r) for r in cur.execute(sql, params)]


def portal_row(conn: sqlite3.Connection, slug: str) -> dict[str, Any] | None:
    """A portal's row (name, old province, unit since 2025, base URL)."""
    rows = _rows(conn, "SELECT * FROM portals WHERE slug = ?", (slug,))
    return rows[0] if rows else None


def article_attachments(conn: sqlite3.Connection, article_id: str) -> list[dict[str, Any]]:
    """Every file the article links to, with its latest version and the capture holding its bytes
    (``version`` None: not fetched, an off-portal link or a failed fetch)."""
    return _rows(conn,
        "SELECT l.url, l.link_text, a.version, a.name_served, a.mime_sniffed, a.bytes, a.sha256, a.pages, "
        "a.doc_number, a.doc_date, a.text_how, a.first_seen, a.last_seen, a.capture_id FROM article_attachments l "
        "LEFT JOIN attachments a ON a.url = l.url AND a.version = (SELECT max(version) FROM attachments WHERE url = l.url) "
        "WHERE l.article_id = ? ORDER BY l.first_seen, l.url", (article_id,))  # fmt: skip


def archived_copies(conn: sqlite3.Connection, urls: list[str]) -> dict[str, int]:
    """The latest stored capture (id) of each of ``urls`` that the archive fetched with success."""
    found: dict[str, int] = {}
    for i in range(0, len(urls), 500):
        chunk = urls[i : i + 500]
        marks = ",".join("?" * len(chunk))
        wanted = set(chunk)
        for canonical, target, cid in conn.execute(
            f"SELECT canonical_url, target_uri, id FROM captures WHERE status BETWEEN 200 AND 299 "
            f"AND (canonical_url IN ({marks}) OR target_uri IN ({marks})) ORDER BY id", [*chunk, *chunk]):  # fmt: skip
            for url in {canonical, target} & wanted:
                found[url] = int(cid)  # the latest wins
    return found
