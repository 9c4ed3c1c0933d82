"""What a researcher can export (``archiver export --what …``): five tables, each selected by the
same article filters, each with typed fields, a description of every field and a primary key (the
Table Schema of the export's data package).

* ``articles``: one row per article, its latest revision (the default);
* ``revisions``: every version of the selected articles (the first included);
* ``views``: the view-count series, one observation per article per crawl;
* ``attachments``: every version of the documents the selected articles link to;
* ``portals``: the portals the selected articles come from, with their coverage and whether
  the archive ever walked them completely.

Types are Table Schema's (``string``, ``integer``, ``boolean``, ``date``, ``datetime``); a
``datetime`` is ISO 8601 with its offset (``+00:00`` for the archive's own times, ``+07:00`` as a
portal printed it), a ``date`` is ``YYYY-MM-DD``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from archiver.store.queries import COMPUTED, EXPORT_FIELDS, Filters, QueryError, where


@dataclass(frozen=True)
class Field:
    name: str
    sql: str
    type: str  # Table Schema type
    description: str


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    source: str  # FROM … WHERE {cond}: the articles alias is ``a``
    order: str
    default_without: tuple[str, ...] = ()

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def default(self) -> list[str]:
        return [n for n in self.names if n not in self.default_without]

    def pick(self, wanted: list[str] | None) -> list[str]:
        """The fields to export: ``wanted`` checked against this table's, else the default ones."""
        if not wanted:
            return self.default
        unknown = [w for w in wanted if w not in self.names]
        if unknown:
            raise QueryError(f"unknown field(s) {', '.join(unknown)} for --what {self.name}; fields: {', '.join(self.names)}")
        return wanted


_TYPES = {"views": "integer", "revision": "integer", "first_seen": "datetime", "last_seen": "datetime",
          "published_date": "date", "published_utc": "datetime"}  # fmt: skip
# The printed date as a day, and as an instant in UTC when the page shows a time (never guessed for a day).
_DAY = "CASE WHEN a.published IS NOT NULL THEN substr(a.published, 1, 10) END"
_UTC = "CASE WHEN length(a.published) > 10 THEN strftime('%Y-%m-%dT%H:%M:%SZ', a.published) END"
_ARTICLE_SQL = {**COMPUTED, "province": "p.province", "new_unit": "p.new_unit", "published_date": _DAY,
                "published_utc": _UTC}  # fmt: skip
_ARTICLE_DESC = {**EXPORT_FIELDS,
                 "published_date": "The publication day (YYYY-MM-DD), whether or not the page shows a time.",
                 "published_utc": "The publication instant in UTC when the page shows a time; empty for a day alone."}  # fmt: skip
_ARTICLE_ORDER = [*EXPORT_FIELDS][: list(EXPORT_FIELDS).index("published_raw")] + ["published_date", "published_utc"]
_ARTICLE_ORDER += [f for f in EXPORT_FIELDS if f not in _ARTICLE_ORDER]

ARTICLES = Dataset(
    name="articles", title="Articles (latest revision)",
    fields=tuple(Field(n, _ARTICLE_SQL.get(n, f"a.{n}"), _TYPES.get(n, "string"), _ARTICLE_DESC[n]) for n in _ARTICLE_ORDER),
    key=("id",), source="FROM articles a JOIN portals p ON p.slug = a.portal WHERE {cond}",
    order="a.portal, a.published, a.rowid", default_without=("body_html",),
)  # fmt: skip

REVISIONS = Dataset(
    name="revisions", title="Every revision of the articles",
    fields=(
        Field("article_id", "r.article_id", "string", "The article (its id in the articles table)."),
        Field("revision", "r.revision", "integer", "1, 2, …: the article's versions in the order they were seen."),
        Field("reason", "r.reason", "string", "Why this version exists: first, source (the portal changed the page), "
              "reextract (a newer extractor read the same page), archived (an older Wayback capture), unknown."),
        Field("seen_at", "r.seen_at", "datetime", "When this version was first seen (UTC): the time of its capture."),
        Field("content_hash", "r.content_hash", "string", "SHA-256 of this version's title and body text."),
        Field("portal", "a.portal", "string", EXPORT_FIELDS["portal"]),
        Field("url", "r.url", "string", "URL this version was read from."),
        # the version's own fields, as the articles table has them
        *(Field(n, f"r.{n}", "string", EXPORT_FIELDS[n]) for n in ("title", "category", "published", "published_raw",
                                                                   "author", "source", "lead", "body_text", "body_html")),
        Field("run_id", "r.run_id", "integer", "The crawl run that saw it (empty for a re-extraction)."),
        Field("capture_id", "r.capture_id", "integer", "The capture (WARC record) it was extracted from."),
        Field("extractor", "r.extractor", "string", "The extractor that made it (version and profile digest)."),
    ),
    key=("article_id", "revision"),
    source="FROM article_revisions r JOIN articles a ON a.seq = r.article_seq WHERE {cond}",
    order="a.portal, a.published, a.rowid, r.revision", default_without=("body_html",),
)  # fmt: skip

VIEWS = Dataset(
    name="views", title="View counts over time",
    fields=(
        Field("article_id", "v.article_id", "string", "The article (its id in the articles table)."),
        Field("portal", "a.portal", "string", EXPORT_FIELDS["portal"]),
        Field("seen_at", "v.seen_at", "datetime", "When the count was read (UTC): the time of the capture."),
        Field("views", "v.views", "integer", "The view count the page showed then."),
        Field("views_raw", "v.views_raw", "string", "The string the count was read from."),
        Field("run_id", "v.run_id", "integer", "The crawl run that read it."),
        Field("capture_id", "v.capture_id", "integer", "The capture (WARC record) it was read from."),
    ),
    key=("article_id", "seen_at", "run_id"),
    source="FROM view_counts v JOIN articles a ON a.seq = v.article_seq WHERE {cond}",
    order="a.portal, a.published, a.rowid, v.seen_at, v.run_id",
)  # fmt: skip

ATTACHMENTS = Dataset(
    name="attachments", title="Documents the articles link to (every version)",
    fields=(
        Field("id", "d.id", "integer", "The document version's id (attachments.id)."),
        Field("url", "d.url", "string", "The document's URL (as linked)."),
        Field("version", "d.version", "integer", "1, 2, …: a changed file at the same URL is a new version."),
        Field("article_ids", "(SELECT group_concat(l2.article_id, ' ') FROM (SELECT l2.article_id FROM "
              "article_attachments l2 WHERE l2.url = d.url ORDER BY l2.article_id) l2)", "string",
              "The articles linking to it (ids, space-separated)."),
        Field("final_url", "d.final_url", "string", "Where the URL led, after redirects."),
        Field("name_shown", "d.name_shown", "string", "The link's text."),
        Field("name_served", "d.name_served", "string", "The file name the server gave (Content-Disposition), else the URL's."),
        Field("mime_served", "d.mime_served", "string", "The type the server said."),
        Field("mime_sniffed", "d.mime_sniffed", "string", "What the bytes are, whatever the name says."),
        Field("bytes", "d.bytes", "integer", "Size of the file."),
        Field("sha256", "d.sha256", "string", "SHA-256 of the file."),
        Field("pages", "d.pages", "integer", "Pages (PDF)."),
        Field("doc_number", "d.doc_number", "string", "The document's number (04/CT-UBND), from its link or its text."),
        Field("doc_date", "d.doc_date", "date", "The document's date, from its link or its text."),
        Field("text", "d.text", "string", "The document's text, NFC (legacy encodings repaired)."),
        Field("text_how", "d.text_how", "string", "How the text was read (pypdf, python-docx, ocr: tesseract vie, "
              "no text layer, not extracted: …, refused: …)."),
        Field("capture_id", "d.capture_id", "integer", "The capture (WARC record) holding the file."),
        Field("first_seen", "d.first_seen", "datetime", "When the archive first stored this version (UTC)."),
        Field("last_seen", "d.last_seen", "datetime", "When a crawl last saw this version (UTC)."),
    ),
    key=("id",),
    source="FROM attachments d WHERE d.url IN (SELECT l.url FROM article_attachments l JOIN articles a "
           "ON a.id = l.article_id WHERE {cond})",
    order="d.url, d.version",
)  # fmt: skip

_PORTAL_ARTICLES = "(SELECT {agg} FROM articles a WHERE a.portal = p.slug AND {{cond}})"
PORTALS = Dataset(
    name="portals", title="The portals the articles come from",
    fields=(
        Field("slug", "p.slug", "string", "The portal's key everywhere (its profile's name)."),
        Field("name", "p.name", "string", "The portal's name."),
        Field("province", "p.province", "string", "Old province (before 1 July 2025)."),
        Field("new_unit", "p.new_unit", "string", "The provincial unit the old province belongs to since 1 July 2025."),
        Field("unit", "p.unit", "string", "province, department, district or commune."),
        Field("family", "p.family", "string", "CMS family of its profile (discovery: none)."),
        Field("base_url", "p.base_url", "string", "The portal's address."),
        Field("articles", _PORTAL_ARTICLES.format(agg="count(*)"), "integer", "Articles selected from it."),
        Field("undated", _PORTAL_ARTICLES.format(agg="sum(a.published IS NULL)"), "integer",
              "Of those, articles whose date could not be read (published is empty; never guessed)."),
        Field("first_published", _PORTAL_ARTICLES.format(agg="min(substr(a.published, 1, 10))"), "date",
              "The earliest publication day among them."),
        Field("last_published", _PORTAL_ARTICLES.format(agg="max(substr(a.published, 1, 10))"), "date",
              "The latest publication day among them."),
        Field("first_crawled", _PORTAL_ARTICLES.format(agg="min(a.first_seen)"), "datetime",
              "When the first of them was archived (UTC)."),
        Field("last_crawled", _PORTAL_ARTICLES.format(agg="max(a.last_seen)"), "datetime",
              "When a crawl last saw one of them (UTC)."),
        Field("complete_walk", "EXISTS (SELECT 1 FROM crawl_runs c WHERE c.portal = p.slug AND c.complete = 1)",
              "boolean", "Whether a crawl ever walked all its listings to their end (else the archive may miss articles)."),
        Field("last_status", "(SELECT s.status FROM portal_status s WHERE s.portal = p.slug ORDER BY s.id DESC LIMIT 1)",
              "string", "How the portal was last seen: live, moved or gone (empty: not recorded)."),
    ),
    key=("slug",),
    source="FROM portals p WHERE p.slug IN (SELECT DISTINCT a.portal FROM articles a WHERE {cond})",
    order="p.slug",
)  # fmt: skip

DATASETS = {d.name: d for d in (ARTICLES, REVISIONS, VIEWS, ATTACHMENTS, PORTALS)}
WHAT = tuple(DATASETS)


def dataset(name: str) -> Dataset:
    try:
        return DATASETS[name]
    except KeyError:
        raise QueryError(f"--what {name}: unknown; one of {', '.join(WHAT)}") from None


def iter_rows(conn: sqlite3.Connection, ds: Dataset, f: Filters, fields: list[str], batch: int = 1000
              ) -> Iterator[tuple[Any, ...]]:  # fmt: skip
    """The rows of ``ds`` for the articles ``f`` selects, in ``fields``, streamed (constant memory)."""
    cond, params = where(conn, f)
    cols = []
    n = 0
    for name in fields:
        sql = ds.field(name).sql
        if "{cond}" in sql:  # a per-portal aggregate over the selected articles
            sql = sql.replace("{cond}", cond)
            n += 1
        cols.append(sql)
    args = params * n + params  # the aggregates' conditions come first in the statement, then the source's
    sql = f"SELECT {', '.join(cols)} {ds.source.format(cond=cond)} ORDER BY {ds.order}"
    cur = conn.execute(sql, args)
    booleans = [i for i, name in enumerate(fields) if ds.field(name).type == "boolean"]
    while True:
        rows = cur.fetchmany(batch)
        if not rows:
            return
        if booleans:
            rows = [tuple(bool(v) if i in booleans and v is not None else v for i, v in enumerate(r)) for r in rows]
        yield from rows
