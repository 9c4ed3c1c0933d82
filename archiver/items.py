"""The typed records that flow from a fetch to the store: the data contract.

``Capture`` is one HTTP response as received (from the live portal, a mirror, a WARC file or the
Wayback Machine); ``Article`` is what a parsed article page gives; ``ListingPage`` is what a
listing page gives.
Both are plain dataclasses: Scrapy pipelines accept them as items (itemadapter supports
dataclasses), and the extractors build them without importing Scrapy.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class Capture:
    """One HTTP response as received, and where its bytes are kept.

    ``headers`` and ``body`` are a matched pair: the body is encoded as the headers'
    ``Content-Encoding`` says (none, when the crawler decoded it); ``content()`` gives the entity
    body decoded. ``source`` is ``live`` (the portal), ``mirror`` (a copy the crawl was pointed
    at), ``warc`` (read back from a WARC file) or ``wayback``. ``warc_file`` (relative to the
    archive's directory), ``warc_offset`` and ``record_id`` say where the response record is.
    """

    url: str  # requested
    final_url: str  # after redirects
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    fetched_at: str  # ISO 8601, UTC
    source: str = "live"
    warc_file: str | None = None
    warc_offset: int | None = None
    record_id: str | None = None
    payload_digest: str | None = None

    def header(self, name: str) -> str | None:
        low = name.lower()
        for k, v in self.headers:
            if k.lower() == low:
                return v
        return None

    @property
    def content_type(self) -> str | None:
        return self.header("Content-Type")

    def content(self) -> bytes:
        """The entity body with its Content-Encoding (gzip, deflate, br) undone. Never raises on
        page bytes: an encoding that cannot be undone gives the bytes as they are."""
        encoding = (self.header("Content-Encoding") or "").strip().lower()
        body = self.body
        for enc in [e.strip() for e in encoding.split(",") if e.strip()][::-1]:
            try:
                if enc in ("gzip", "x-gzip"):
                    import gzip

                    body = gzip.decompress(body)
                elif enc == "deflate":
                    import zlib

                    try:
                        body = zlib.decompress(body)
                    except zlib.error:
                        body = zlib.decompress(body, -zlib.MAX_WBITS)
                elif enc == "br":
                    import brotli  # type: ignore[import-not-found]

                    body = brotli.decompress(body)
            except Exception:  # noqa: BLE001 - a body that does not decode is kept as received
                return body
        return body


@dataclass
class Article:
    """One article page, normalised.

    ``published`` is an aware ``datetime`` (Asia/Ho_Chi_Minh) when the page shows a time, a
    ``date`` when it shows only a day, ``None`` when no date could be read; ``published_raw``
    keeps the string it was read from. ``views_raw`` likewise keeps the view-count string.
    """

    url: str
    title: str | None = None
    category: str | None = None
    published: datetime | date | None = None
    published_raw: str | None = None
    views: int | None = None
    views_raw: str | None = None
    author: str | None = None
    source: str | None = None
    lead: str | None = None
    body_text: str = ""
    body_html: str = ""
    # Filled in by the spider / pipelines, not by the extractor:
    portal: str | None = None
    canonical_url: str | None = None
    fetched_url: str | None = None
    fetched_at: str | None = None
    profile: str | None = None
    # (URL, link text) of each document the article links to, in its body or its attachment block.
    documents: list[tuple[str, str | None]] = field(default_factory=list)
    # Which selector or rule produced each field (``archiver extract`` shows it; not stored).
    rules: dict[str, str] = field(default_factory=dict)

    @property
    def published_iso(self) -> str | None:
        """ISO 8601: with the +07:00 offset when a time is known, a plain date otherwise."""
        if self.published is None:
            return None
        return self.published.isoformat()

    def problems(self) -> list[str]:
        """Why this is not an archivable article (empty list when it is): only a page without a
        body is not one; a missing title or date is a field the archive keeps empty."""
        return [] if (self.body_text or "").strip() else ["empty body"]

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["published"] = self.published_iso
        d.pop("rules", None)
        return d


@dataclass
class ListingPage:
    """A listing (category) page: the article links on it and the listing pages it leads to."""

    url: str
    category: str | None = None
    article_urls: list[str] = field(default_factory=list)
    next_urls: list[str] = field(default_factory=list)


@dataclass
class GoneArticle:
    """An archived article its portal now answers 404 or 410 for: marked gone, never deleted."""

    portal: str
    canonical_url: str
    status: int


@dataclass
class FetchError:
    """A URL that could not be fetched for good (after retries): recorded in ``fetch_errors``."""

    url: str
    status: int | None
    error: str
    attempts: int = 1


@dataclass(frozen=True)
class RecordedCapture:
    """A response written to a WARC file, as the archive indexes it (``captures``)."""

    portal: str
    kind: str  # article, listing, robots, other
    target_uri: str
    canonical_url: str | None
    status: int
    fetched_at: str
    source: str
    content_type: str | None
    payload_digest: str | None
    record_type: str  # response or revisit
    record_id: str
    warc_file: str
    warc_offset: int
    warc_length: int
    refers_to: str | None = None


@dataclass(frozen=True)
class WaybackCursor:
    """Where a portal's CDX walk stands: the resume key of the next page (None: the walk is done)
    and the newest capture timestamp seen."""

    portal: str
    query: str
    resume_key: str | None
    last_timestamp: str | None
    complete: bool


@dataclass(frozen=True)
class WarcFileEvent:
    """A WARC file opened (or closed cleanly) by a run: files never closed are repaired."""

    path: str
    portal: str
    closed: bool = False


@dataclass(frozen=True)
class AttachmentLink:
    """An article (its canonical URL) links to a document (its canonical URL), with the link's text."""

    article_url: str
    url: str
    text: str | None


@dataclass(frozen=True)
class AttachmentFile:
    """A fetched document: its ``attachments`` row (``archiver.attachments.describe``) and the
    WARC record holding its bytes."""

    row: dict[str, Any]
    record_id: str | None
