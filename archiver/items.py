"""The typed records that flow from extraction to the store: the data contract.

``Article`` is what a parsed article page gives; ``ListingPage`` is what a listing page gives.
Both are plain dataclasses: Scrapy pipelines accept them as items (itemadapter supports
dataclasses), and the extractors build them without importing Scrapy.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


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

    @property
    def published_iso(self) -> str | None:
        """ISO 8601: with the +07:00 offset when a time is known, a plain date otherwise."""
        if self.published is None:
            return None
        return self.published.isoformat()

    def problems(self) -> list[str]:
        """Why this is not an archivable article (empty list when it is)."""
        out = []
        if not (self.title or "").strip():
            out.append("no title")
        if not (self.body_text or "").strip():
            out.append("empty body")
        return out

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["published"] = self.published_iso
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
